-- One row per indicator × source × municipality × month (× breakdown): the raw value each
-- stock or flow is read from, as the catalogue says (marts.indicator_sources: which measure
-- of which source dataset), with its cell. Also the rates a source publishes itself (role
-- 'published'), which a check compares with ours. The one place the catalogue meets the
-- source values: the marts, lineage and coverage read this.
with

catalogue as (
    select * from marts.indicator_catalogue
),

indicator_sources as (
    select * from marts.indicator_sources where measure is not null
),

sources as (
    select * from marts.sources
),

source_values as (
    select * from staging.stg_source_values
),

final as (
    select
        s.indicator,
        s.role,
        s.source_id,
        s.source,
        s.precedence,
        v.area_code,
        v.month,
        -- a breakdown the indicator is published by (TTV15's reason); NULL for the total
        case when c.breakdown is not null then v.breakdown end as breakdown,
        v.measure,
        v.value,
        v.symbol,
        v.file,
        v.place
    from indicator_sources as s
    join catalogue as c using (indicator)
    join sources as src using (source_id)
    join source_values as v
        on v.family = src.family
        and v.dataset = src.dataset
        and v.measure = s.measure
        and (c.breakdown is not null or v.breakdown is not distinct from s.breakdown)
    where v.area_code like 'KU%'
)

select * from final
order by indicator, role, precedence, area_code, month, breakdown
