-- One row per TEM report cell in force: report × municipality × month × breakdown × measure,
-- when several downloads hold the same cell: the version of a file that the raw folder holds
-- now (raw.file_versions.in_force) first, then the newest extraction ('Poimittu' date).
with

cells as (
    select * from raw.tem_report_cells
),

files as (
    -- in_force: the version of its file that the raw folder holds now (raw.file_versions).
    select f.load_id, f.file, f.file_sha256, f.extracted_on, coalesce(v.in_force, false) as in_force
    from raw.tem_report_files as f
    left join raw.file_versions as v
        on v.family = 'tem' and v.file = f.file and v.file_sha256 = f.file_sha256
),

ranked as (
    select
        cells.*,
        files.extracted_on,
        row_number() over (
            partition by cells.report, cells.area, cells.month, cells.breakdown, cells.measure
            order by files.in_force desc, files.extracted_on desc nulls last,
                cells.loaded_at desc, cells.file desc
        ) as vintage_rank
    from cells
    join files using (load_id, file, file_sha256)
),

final as (
    select
        report,
        'KU' || split_part(area, ' ', 1) as municipality_code,
        substr(area, strpos(area, ' ') + 1) as municipality_name,
        make_date(cast(left(month, 4) as integer), cast(right(month, 2) as integer), 1) as month,
        breakdown,
        measure,
        value,
        symbol,
        extracted_on,
        file,
        place
    from ranked
    where vintage_rank = 1
)

select * from final
order by report, municipality_code, month, breakdown, measure
