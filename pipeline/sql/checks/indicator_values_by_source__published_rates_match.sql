-- A rate a source also publishes (TEM 4253's LTU activation rate, StatFin's AKTASTE and
-- TYOTOSUUS; marts.indicator_sources role 'published') agrees with ours computed from the
-- same source's counts, to half a unit of the decimals it is published with.
with

published as (
    select s.indicator, s.source, v.area_code, v.month, v.value as published
    from marts.indicator_sources as s
    join marts.sources as src using (source_id)
    join staging.stg_source_values as v
        on v.family = src.family
        and v.dataset = src.dataset
        and v.measure = s.measure
        and v.breakdown is not distinct from s.breakdown
    where s.role = 'published' and v.value is not null
)

select
    p.area_code,
    p.month,
    p.indicator,
    p.source,
    p.published,
    r.value as recomputed
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
