-- One row per municipality per month: TEM report 1356, unemployment spells started and the
-- inflow into over 3, 6 and 12 months' unemployment.
with

cells as (
    select * from staging.stg_tem_cells where report = '1356'
),

final as (
    select
        municipality_code,
        any_value(municipality_name) as municipality_name,
        month,
        max(value) filter (where measure = 'Alkaneet työttömyysjaksot') as spells_started,
        max(value) filter (where measure = 'Virta yli 3 kk työttömyyteen') as inflow_3m,
        max(value) filter (where measure = 'Virta yli 6 kk työttömyyteen') as inflow_6m,
        max(value) filter (where measure = 'Virta yli 12 kk työttömyyteen') as inflow_12m
    from cells
    group by municipality_code, month
)

select * from final
order by municipality_code, month
