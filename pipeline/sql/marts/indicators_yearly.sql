-- One row per area per year per indicator, by the indicator's yearly rule in the catalogue
-- (marts.indicator_catalogue.yearly): mean (stocks: the mean of the months), sum (flows),
-- mean_of_months (a rate as the mean of its monthly values), parts (a rate as its formula
-- over the year's parts — the mean of a stock, the sum of a flow — over the months that have
-- both, from the one source covering most months; never a mean of rates).
with

catalogue as (
    select * from marts.indicator_catalogue
),

parts as (
    select * from marts.indicator_parts
),

monthly as (
    select * from marts.indicators_monthly
),

candidates as (
    select * from marts.indicator_values_by_source
),

-- Stocks, flows and rates averaged over months: from the published monthly values.
from_months as (
    select
        m.area_code,
        year(m.month) as year,
        m.indicator,
        case c.yearly
            when 'sum' then marts.exact_sum(m.value)
            when 'mean' then marts.exact_mean(m.value)
            else avg(m.value)  -- mean_of_months: a mean of rates, as the report takes it
        end as value,
        count(m.value) as months_covered,
        string_agg(distinct m.source, ', ' order by m.source) as source,
        min(m.members_covered) filter (where m.value is not null) as members_covered,
        max(m.members_total) as members_total
    from monthly as m
    join catalogue as c using (indicator)
    where c.yearly in ('mean', 'sum', 'mean_of_months')
    group by m.area_code, year(m.month), m.indicator, c.yearly
),

-- Rates from their yearly parts, per source; the source with most months wins.
rate_parts as (
    select
        v.area_code,
        year(v.month) as year,
        v.indicator,
        v.source,
        v.precedence,
        any_value(c.formula) as formula,
        case any_value(k1.kind)
            when 'stock' then marts.exact_mean(v.part1) else marts.exact_sum(v.part1)
        end as part1,
        case any_value(k2.kind)
            when 'stock' then marts.exact_mean(v.part2) else marts.exact_sum(v.part2)
        end as part2,
        count(*) as months_covered,
        min(v.members_covered) as members_covered,
        max(v.members_total) as members_total
    from candidates as v
    join catalogue as c using (indicator)
    join parts as p1 on p1.indicator = v.indicator and p1.position = 1
    join parts as p2 on p2.indicator = v.indicator and p2.position = 2
    join catalogue as k1 on k1.indicator = p1.part
    join catalogue as k2 on k2.indicator = p2.part
    where c.yearly = 'parts' and v.part1 is not null and v.part2 is not null
    group by v.area_code, year(v.month), v.indicator, v.source, v.precedence
),

from_parts as (
    select
        area_code,
        year,
        indicator,
        marts.rate(formula, part1, part2) as value,
        months_covered,
        source,
        members_covered,
        members_total
    from rate_parts
    qualify row_number() over (
        partition by area_code, year, indicator
        order by months_covered desc, members_covered desc, precedence
    ) = 1
),

-- Every area and year the monthly mart has, for every rate built from parts (NULL when no
-- source had both parts in any month).
parts_spine as (
    select distinct m.area_code, year(m.month) as year, c.indicator,
        max(m.members_total) over (partition by m.area_code) as members_total
    from monthly as m
    cross join catalogue as c
    where c.yearly = 'parts'
),

final as (
    select area_code, year, indicator, cast(value as double) as value,
        months_covered, source, coalesce(members_covered, 0) as members_covered,
        members_total
    from from_months
    union all
    select s.area_code, s.year, s.indicator, cast(p.value as double),
        coalesce(p.months_covered, 0), p.source, coalesce(p.members_covered, 0),
        s.members_total
    from parts_spine as s
    left join from_parts as p using (area_code, year, indicator)
)

select * from final
order by area_code, indicator, year
