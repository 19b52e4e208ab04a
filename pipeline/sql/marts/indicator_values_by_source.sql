-- One row per indicator × area × month × source that can give it: every candidate value,
-- before precedence picks one (marts.indicators_monthly). Everything here follows the
-- indicator catalogue (marts.indicator_catalogue, indicator_sources, indicator_parts): no
-- measure, source or formula is named in this file.
--
-- Municipalities: a stock or flow is the source's raw value. Groups of municipalities (the
-- one rule): the sum over the members that have a value in that source, with the members it
-- covers. Rates: the catalogue's formula (marts.rate) over two parts from the same source;
-- for a group, each part summed over the members that have both parts.
with

catalogue as (
    select * from marts.indicator_catalogue
),

indicator_sources as (
    select * from marts.indicator_sources where role = 'value'
),

parts as (
    select * from marts.indicator_parts
),

members as (
    select * from staging.area_members
),

group_sizes as (
    select area_code, count(*) as members_total from members group by area_code
),

-- Each stock and flow from each of its sources, for every municipality the source has.
municipal_base as (
    select r.area_code, r.month, r.indicator, r.source_id, r.source, r.precedence, r.value,
        r.symbol
    from marts.indicator_raw_values as r
    join catalogue as c using (indicator)
    where r.role = 'value' and c.breakdown is null
),

group_base as (
    select
        m.area_code,
        b.month,
        b.indicator,
        b.source_id,
        b.source,
        b.precedence,
        marts.exact_sum(b.value) as value,
        count(b.value) as members_covered,
        count(b.symbol) as members_suppressed,
        string_agg(distinct b.symbol, ' ' order by b.symbol) as symbol,
        any_value(g.members_total) as members_total
    from members as m
    join group_sizes as g using (area_code)
    join municipal_base as b on b.area_code = m.municipality_code
    group by m.area_code, b.month, b.indicator, b.source_id, b.source, b.precedence
),

-- A rate's two parts from one source, each at its lag: the rate for month t takes part k
-- at month t − lag_k.
rates as (
    select
        c.indicator,
        c.formula,
        s.source_id,
        s.source,
        s.precedence,
        p1.part as part1,
        p1.lag_months as lag1,
        p2.part as part2,
        p2.lag_months as lag2
    from catalogue as c
    join indicator_sources as s using (indicator)
    join parts as p1 on p1.indicator = c.indicator and p1.position = 1
    join parts as p2 on p2.indicator = c.indicator and p2.position = 2
    where c.kind = 'rate'
),

municipal_rate_parts as (
    select
        b1.area_code,
        cast(b1.month + to_months(r.lag1) as date) as month,
        r.indicator,
        r.formula,
        r.source_id,
        r.source,
        r.precedence,
        b1.value as part1,
        b2.value as part2,
        coalesce(b1.symbol, b2.symbol) as symbol
    from rates as r
    join municipal_base as b1
        on b1.indicator = r.part1 and b1.source_id = r.source_id
    left join municipal_base as b2
        on b2.area_code = b1.area_code
        and b2.indicator = r.part2
        and b2.source_id = r.source_id
        and b2.month = cast(b1.month + to_months(r.lag1 - r.lag2) as date)
),

group_rate_parts as (
    select
        m.area_code,
        p.month,
        p.indicator,
        p.formula,
        p.source_id,
        p.source,
        p.precedence,
        marts.exact_sum(case when p.part2 is not null then p.part1 end) as part1,
        marts.exact_sum(case when p.part1 is not null then p.part2 end) as part2,
        count(*) filter (where p.part1 is not null and p.part2 is not null)
            as members_covered,
        count(p.symbol) as members_suppressed,
        string_agg(distinct p.symbol, ' ' order by p.symbol) as symbol,
        any_value(g.members_total) as members_total
    from members as m
    join group_sizes as g using (area_code)
    join municipal_rate_parts as p on p.area_code = m.municipality_code
    group by m.area_code, p.month, p.indicator, p.formula, p.source_id, p.source,
        p.precedence
),

all_values as (
    select
        'municipality' as area_type, area_code, month, indicator, source_id, source,
        precedence, value, cast(null as double) as part1, cast(null as double) as part2,
        cast(value is not null as integer) as members_covered,
        cast(symbol is not null as integer) as members_suppressed,
        1 as members_total,
        symbol
    from municipal_base
    union all
    select
        'group', area_code, month, indicator, source_id, source, precedence, value, null,
        null, members_covered, members_suppressed, members_total, symbol
    from group_base
    union all
    select
        'municipality', area_code, month, indicator, source_id, source, precedence,
        marts.rate(formula, part1, part2), part1, part2,
        cast(part1 is not null and part2 is not null as integer),
        cast(symbol is not null as integer), 1, symbol
    from municipal_rate_parts
    union all
    select
        'group', area_code, month, indicator, source_id, source, precedence,
        case when members_covered > 0 then marts.rate(formula, part1, part2) end,
        part1, part2, members_covered, members_suppressed, members_total, symbol
    from group_rate_parts
),

final as (
    select
        area_type,
        area_code,
        month,
        indicator,
        source,
        precedence,
        cast(value as double) as value,
        cast(part1 as double) as part1,
        cast(part2 as double) as part2,
        cast(members_covered as integer) as members_covered,
        cast(members_suppressed as integer) as members_suppressed,
        cast(members_total as integer) as members_total,
        symbol
    from all_values
)

select * from final
order by area_code, indicator, month, precedence
