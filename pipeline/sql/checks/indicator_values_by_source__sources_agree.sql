-- The same indicator agrees across sources: where two of its sources (TEM 1208 and StatFin
-- 12r5, TEM 4253 and 1208 …) both have a count for a municipality and month, they are equal.
-- Each side comes with its raw file and place (marts.indicator_raw_values), so a failure
-- leads to the cells that disagree.
with

cells as (
    select indicator, source, area_code, month,
        string_agg(distinct file, ', ' order by file) as file,
        string_agg(distinct place, ', ' order by place) as place
    from marts.indicator_raw_values
    where role = 'value'
    group by all
)

select
    a.area_code,
    a.month,
    a.indicator,
    a.source,
    a.value,
    b.source as other_source,
    b.value as other_value,
    ca.file,
    ca.place,
    cb.file as other_file,
    cb.place as other_place
from marts.indicator_values_by_source as a
join marts.indicator_values_by_source as b
    on b.area_code = a.area_code
    and b.month = a.month
    and b.indicator = a.indicator
    and b.precedence > a.precedence
join marts.indicator_catalogue as c on c.indicator = a.indicator
left join cells as ca
    on ca.indicator = a.indicator and ca.source = a.source
    and ca.area_code = a.area_code and ca.month = a.month
left join cells as cb
    on cb.indicator = b.indicator and cb.source = b.source
    and cb.area_code = b.area_code and cb.month = b.month
where a.area_type = 'municipality'
    and c.kind <> 'rate'
    and a.value <> b.value
order by all
