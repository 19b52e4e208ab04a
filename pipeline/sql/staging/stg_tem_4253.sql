-- One row per municipality per month: TEM report 4253, long-term unemployed in services.
with

cells as (
    select * from staging.stg_tem_cells where report = '4253'
),

final as (
    select
        municipality_code,
        any_value(municipality_name) as municipality_name,
        month,
        max(value) filter (where measure = 'Pitkäaikaistyöttömät') as long_term_unemployed,
        max(value) filter (where measure = 'Palveluissa olevat pitkäaikaistyöttömät')
            as ltu_in_services,
        max(symbol) filter (where measure = 'Palveluissa olevat pitkäaikaistyöttömät')
            as ltu_in_services_symbol,
        max(value) filter (where measure = 'Pitkäaikaistyöttömien aktivointiaste (%)')
            as ltu_activation_rate_pct_published
    from cells
    group by municipality_code, month
)

select * from final
order by municipality_code, month
