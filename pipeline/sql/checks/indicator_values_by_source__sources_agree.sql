-- The same indicator agrees across sources: where two of its sources (TEM 1208 and StatFin
-- 12r5, TEM 4253 and 1208 …) both have a count for a municipality and month, they are equal.
select
    a.area_code,
    a.month,
    a.indicator,
    a.source,
    a.value,
    b.source as other_source,
    b.value as other_value
from marts.indicator_values_by_source as a
join marts.indicator_values_by_source as b
    on b.area_code = a.area_code
    and b.month = a.month
    and b.indicator = a.indicator
    and b.precedence > a.precedence
join marts.indicator_catalogue as c on c.indicator = a.indicator
where a.area_type = 'municipality'
    and c.kind <> 'rate'
    and a.value <> b.value
order by all
