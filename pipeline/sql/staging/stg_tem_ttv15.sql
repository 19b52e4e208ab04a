-- One row per municipality per month per reason: TEM report TTV15, long-term unemployment
-- spells that ended, by the reason they ended (reasons as the data names them).
with

cells as (
    select * from staging.stg_tem_cells where report = 'TTV15'
),

final as (
    select
        municipality_code,
        municipality_name,
        month,
        breakdown as reason,
        value as spells_ended,
        symbol as spells_ended_symbol,
        file,
        place
    from cells
    where measure = 'Päättyneet jaksot'
)

select * from final
order by municipality_code, month, reason
