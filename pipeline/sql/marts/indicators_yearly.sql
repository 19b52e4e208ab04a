-- One row per area per year per indicator. Stocks: the mean of the year's months. Flows:
-- the year's sum. Inflow ratios: the mean of the twelve monthly ratios, and (_pooled) Σ inflows
-- / Σ spells started k months earlier. Rates of stocks: the ratio of the yearly means
-- (Statistics Finland's method), never the mean of monthly rates.
with

counts as (
    select * from marts.area_month_counts
),

monthly as (
    select * from marts.indicators_monthly
),

yearly_counts as (
    select
        area_code,
        year(month) as year,
        avg(jobseekers) as jobseekers,
        avg(unemployed) as unemployed,
        avg(long_term_unemployed) as long_term_unemployed,
        avg(pilot_clients) as pilot_clients,
        avg(ltu_in_services) as ltu_in_services,
        avg(ltu_4253) as ltu_4253,
        avg(in_services) as in_services,
        avg(unemployed_12u4) as unemployed_12u4,
        avg(unemployed_12r5) as unemployed_12r5,
        avg(labour_force) as labour_force,
        avg(vacancies) as vacancies,
        sum(spells_started) as spells_started,
        sum(inflow_3m) as inflow_3m,
        sum(inflow_6m) as inflow_6m,
        sum(inflow_12m) as inflow_12m,
        -- pooled ratios use only months where both the inflow and the lagged starts exist
        marts.pct(sum(inflow_3m) filter (where started_3m_before is not null),
                  sum(started_3m_before) filter (where inflow_3m is not null))
            as inflow_3m_ratio_pct_pooled,
        marts.pct(sum(inflow_6m) filter (where started_6m_before is not null),
                  sum(started_6m_before) filter (where inflow_6m is not null))
            as inflow_6m_ratio_pct_pooled,
        marts.pct(sum(inflow_12m) filter (where started_12m_before is not null),
                  sum(started_12m_before) filter (where inflow_12m is not null))
            as inflow_12m_ratio_pct_pooled
    from counts
    group by area_code, year(month)
),

yearly_values as (
    select *
    from (
        select
            area_code,
            year,
            jobseekers,
            unemployed,
            long_term_unemployed,
            pilot_clients,
            ltu_in_services,
            marts.activation_rate_pct(ltu_in_services, ltu_4253) as ltu_activation_rate_pct,
            spells_started,
            inflow_3m,
            inflow_6m,
            inflow_12m,
            inflow_3m_ratio_pct_pooled,
            inflow_6m_ratio_pct_pooled,
            inflow_12m_ratio_pct_pooled,
            in_services,
            marts.activation_rate_pct(in_services, unemployed_12u4) as activation_rate_pct,
            marts.pct(unemployed_12r5, labour_force) as unemployment_rate_pct,
            vacancies
        from yearly_counts
    )
    unpivot include nulls (value for indicator in (columns(* exclude (area_code, year))))
),

-- Months behind each yearly value: those with a number for the indicator (for a rate, the
-- months with the rate itself).
coverage as (
    select area_code, year(month) as year, indicator, count(value) as months_covered
    from monthly
    group by all
),

mean_of_monthly_ratios as (
    select area_code, year(month) as year, indicator, avg(value) as value,
        count(value) as months_covered
    from monthly
    where indicator in ('inflow_3m_ratio_pct', 'inflow_6m_ratio_pct', 'inflow_12m_ratio_pct')
    group by all
),

final as (
    select
        y.area_code,
        y.year,
        y.indicator,
        y.value::double as value,
        coalesce(c.months_covered, p.months_covered) as months_covered
    from yearly_values as y
    left join coverage as c using (area_code, year, indicator)
    left join coverage as p
        on p.area_code = y.area_code and p.year = y.year
        and p.indicator = replace(y.indicator, '_pooled', '')
    union all
    select area_code, year, indicator, value::double, months_covered
    from mean_of_monthly_ratios
)

select * from final
order by area_code, indicator, year
