-- One row per TEM report cell in force: report × municipality × month × breakdown × measure,
-- from the best-ranked file version that has the cell (staging.stg_file_versions). A
-- breakdown (TTV15's reasons) is taken whole from the best version that has the area, month
-- and measure: an older version's reason that a newer one renamed or dropped is not kept
-- beside it (its spells would be counted twice).
with

cells as (
    select * from raw.tem_report_cells
),

versions as (
    select * from staging.stg_file_versions where family = 'tem'
),

in_force as (
    select cells.*, versions.vintage as extracted_on
    from cells
    join versions
        on versions.dataset = cells.report
        and versions.file = cells.file
        and versions.file_sha256 = cells.file_sha256
    qualify dense_rank() over (
        partition by cells.report, cells.area, cells.month, cells.measure
        order by versions.version_rank
    ) = 1
),

final as (
    select
        report,
        marts.municipality_code(area) as municipality_code,
        substr(area, strpos(area, ' ') + 1) as municipality_name,
        make_date(cast(left(month, 4) as integer), cast(right(month, 2) as integer), 1) as month,
        breakdown,
        measure,
        value,
        symbol,
        cast(extracted_on as date) as extracted_on,
        file,
        place
    from in_force
)

select * from final
order by report, municipality_code, month, breakdown, measure
