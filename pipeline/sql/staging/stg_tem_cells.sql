-- One row per TEM report cell in force: report × municipality × month × breakdown × measure,
-- from the newest extraction ('Poimittu' date) when several downloads hold the same cell.
with

cells as (
    select * from raw.tem_report_cells
),

files as (
    select load_id, file, file_sha256, extracted_on from raw.tem_report_files
),

ranked as (
    select
        cells.*,
        files.extracted_on,
        row_number() over (
            partition by cells.report, cells.area, cells.month, cells.breakdown, cells.measure
            order by files.extracted_on desc nulls last, cells.loaded_at desc, cells.file desc
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
