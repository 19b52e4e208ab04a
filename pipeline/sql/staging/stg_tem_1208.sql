-- One row per municipality per month: TEM report 1208, jobseekers and pilot clients at month end.
with

cells as (
    select * from staging.stg_tem_cells where report = '1208'
),

final as (
    select
        municipality_code,
        any_value(municipality_name) as municipality_name,
        month,
        max(value) filter (where measure = 'Kuntakokeilun asiakkaat') as pilot_clients,
        max(symbol) filter (where measure = 'Kuntakokeilun asiakkaat') as pilot_clients_symbol,
        max(value) filter (where measure = 'Työnhakijat') as jobseekers,
        max(value) filter (where measure = 'Työttömät työnhakijat') as unemployed,
        max(value) filter (where measure = 'Pitkäaikaistyöttömät') as long_term_unemployed,
        max(symbol) filter (where measure = 'Pitkäaikaistyöttömät') as long_term_unemployed_symbol
    from cells
    group by municipality_code, month
)

select * from final
order by municipality_code, month
