-- One row per area per period per reason: long-term unemployment spells that ended, and each
-- reason's share of all that ended in the period. Periods: months ('2023-01'), years ('2023')
-- and the pilot as a whole ('2021-2024'). The catalogue's indicator published by reason
-- (marts.indicator_catalogue.breakdown = 'reason') gives the measure and source. Masked
-- cells ('...') cannot be added: they are left out of the sums and counted in masked_cells,
-- so a sum with masked cells is a floor. Groups: the one rule (the sum over members).
with

members as (
    select * from staging.area_members
),

group_sizes as (
    select area_code, count(*) as members_total from members group by area_code
),

-- The catalogue's indicator published by reason, from its sources' raw values.
municipal as (
    select
        r.area_code,
        r.month,
        r.breakdown as reason,
        r.value as spells_ended,
        r.source,
        1 as members_total
    from marts.indicator_raw_values as r
    join marts.indicator_catalogue as c using (indicator)
    where c.breakdown = 'reason' and r.role = 'value'
),

grouped as (
    select m.area_code, e.month, e.reason, e.spells_ended, e.source, g.members_total,
        m.municipality_code
    from members as m
    join group_sizes as g using (area_code)
    join municipal as e on e.area_code = m.municipality_code
),

all_areas as (
    select *, area_code as municipality_code from municipal
    union all by name
    select * from grouped
),

by_period as (
    select area_code, 'month' as period_type, strftime(month, '%Y-%m') as period, reason,
        sum(spells_ended) as spells, count(*) - count(spells_ended) as masked_cells,
        count(distinct municipality_code) as members_covered,
        any_value(members_total) as members_total, any_value(source) as source
    from all_areas
    group by all
    union all
    select area_code, 'year', cast(year(month) as varchar), reason,
        sum(spells_ended), count(*) - count(spells_ended),
        count(distinct municipality_code), any_value(members_total), any_value(source)
    from all_areas
    group by all
    union all
    select area_code, 'pilot', '2021-2024', reason,
        sum(spells_ended), count(*) - count(spells_ended),
        count(distinct municipality_code), any_value(members_total), any_value(source)
    from all_areas
    where year(month) between 2021 and 2024
    group by all
),

final as (
    select
        area_code,
        period_type,
        period,
        reason,
        spells::double as spells,
        marts.pct(spells, sum(spells) over (partition by area_code, period_type, period))
            as share_pct,
        masked_cells,
        source,
        cast(members_covered as integer) as members_covered,
        cast(members_total as integer) as members_total
    from by_period
)

select * from final
order by area_code, period_type, period, reason
