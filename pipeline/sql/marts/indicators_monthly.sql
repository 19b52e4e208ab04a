-- One row per area (municipality or group of municipalities) per month per indicator.
-- Counts are published as they are; every rate is computed from counts with the formulas of
-- sql/macros.sql, the same way for a municipality and a group (never a mean of rates).
with

counts as (
    select * from marts.area_month_counts
),

final as (
    select *
    from (
        select
            area_code,
            month,
            jobseekers,
            unemployed,
            long_term_unemployed,
            pilot_clients,
            ltu_in_services,
            -- pitkäaikaistyöttömien aktivointiaste (TEM 4253)
            marts.activation_rate_pct(ltu_in_services, ltu_4253) as ltu_activation_rate_pct,
            spells_started,
            inflow_3m,
            inflow_6m,
            inflow_12m,
            -- virta yli k kk työttömyyteen / k kk aiemmin alkaneet työttömyysjaksot
            marts.pct(inflow_3m, started_3m_before) as inflow_3m_ratio_pct,
            marts.pct(inflow_6m, started_6m_before) as inflow_6m_ratio_pct,
            marts.pct(inflow_12m, started_12m_before) as inflow_12m_ratio_pct,
            in_services,
            -- aktivointiaste (StatFin 12u4)
            marts.activation_rate_pct(in_services, unemployed_12u4) as activation_rate_pct,
            -- työttömyysaste: työttömät työnhakijat / työvoima (StatFin 12r5)
            marts.pct(unemployed_12r5, labour_force) as unemployment_rate_pct,
            vacancies
        from counts
    )
    unpivot include nulls (value for indicator in (columns(* exclude (area_code, month))))
),

sources as (
    select * from (values
        ('jobseekers', 'TEM 1208'), ('unemployed', 'TEM 1208'),
        ('long_term_unemployed', 'TEM 1208'), ('pilot_clients', 'TEM 1208'),
        ('ltu_in_services', 'TEM 4253'), ('ltu_activation_rate_pct', 'TEM 4253'),
        ('spells_started', 'TEM 1356'), ('inflow_3m', 'TEM 1356'), ('inflow_6m', 'TEM 1356'),
        ('inflow_12m', 'TEM 1356'), ('inflow_3m_ratio_pct', 'TEM 1356'),
        ('inflow_6m_ratio_pct', 'TEM 1356'), ('inflow_12m_ratio_pct', 'TEM 1356'),
        ('in_services', 'StatFin 12u4'), ('activation_rate_pct', 'StatFin 12u4'),
        ('unemployment_rate_pct', 'StatFin 12r5'), ('vacancies', 'StatFin 12r5')
    ) as t(indicator, source)
)

select final.area_code, final.month, final.indicator, final.value::double as value,
    sources.source
from final
join sources using (indicator)
order by area_code, indicator, month
