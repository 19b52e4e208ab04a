-- A rate a source also publishes (TEM 4253's LTU activation rate, StatFin's AKTASTE and
-- TYOTOSUUS; marts.indicator_sources role 'published') agrees with ours computed from the
-- same source's counts, to half a unit of the decimals it is published with; the published
-- rate's raw file and place beside it.
with

published as (
    select indicator, source, area_code, month, value as published, file, place
    from marts.indicator_raw_values
    where role = 'published' and value is not null
)

select
    p.area_code,
    p.month,
    p.indicator,
    p.source,
    p.published,
    r.value as recomputed,
    p.file,   -- the published rate's raw cell
    p.place
from published as p
join marts.indicator_values_by_source as r
    on r.area_code = p.area_code
    and r.month = p.month
    and r.indicator = p.indicator
    and r.source = p.source
join marts.indicator_catalogue as c on c.indicator = p.indicator
where r.area_type = 'municipality'
    and abs(r.value - p.published) > 0.5 * pow(10, -c.decimals) + 1e-9  -- plus float noise
order by all
