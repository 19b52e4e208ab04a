-- One row per StatFin cell in force for the totals the indicators read: table (12r5, 12u4)
-- × area × month × content code, from the best-ranked file version that has the cell
-- (staging.stg_file_versions). 12u4 breaks every area down by sex × age group (a whole-country
-- file: 28 M cells); its totals ('SSS', or no such variable) are picked first, so only 1 cell
-- in 36 is ranked. The breakdowns stay cell by cell in raw.statfin_12u4.
with

cells as (
    select '12r5' as dataset, area_code, month, content_code, value, symbol, file,
        file_sha256, place
    from raw.statfin_12r5
    union all
    select '12u4' as dataset, area_code, month, content_code, value, symbol, file,
        file_sha256, place
    from raw.statfin_12u4
    where coalesce(sex, 'SSS') = 'SSS' and coalesce(age_group, 'SSS') = 'SSS'
),

versions as (
    select * from staging.stg_file_versions where family = 'statfin'
),

in_force as (
    select cells.*
    from cells
    join versions
        on versions.dataset = cells.dataset
        and versions.file = cells.file
        and versions.file_sha256 = cells.file_sha256
    qualify row_number() over (
        partition by cells.dataset, cells.area_code, cells.month, cells.content_code
        order by versions.version_rank
    ) = 1
),

final as (
    select
        dataset,
        marts.municipality_code(area_code) as area_code,
        make_date(cast(left(month, 4) as integer), cast(right(month, 2) as integer), 1) as month,
        content_code,
        value,
        symbol,
        file,
        place
    from in_force
)

select * from final
order by dataset, area_code, month, content_code
