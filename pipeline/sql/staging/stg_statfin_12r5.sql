-- One row per area per month: StatFin table 12r5, jobseekers, unemployed, labour force,
-- long-term unemployed and open vacancies at the end of the month (the files' versions in
-- force first, then the newest file wins).
with

cells as (
    select * from raw.statfin_12r5
),

files as (
    -- in_force: the version of its file that the raw folder holds now (raw.file_versions).
    select f.load_id, f.file, f.file_sha256, f.last_updated, coalesce(v.in_force, false) as in_force
    from raw.statfin_files as f
    left join raw.file_versions as v
        on v.family = 'statfin' and v.file = f.file and v.file_sha256 = f.file_sha256
),

ranked as (
    select
        cells.*,
        row_number() over (
            partition by cells.area_code, cells.month, cells.content_code
            order by files.in_force desc, files.last_updated desc nulls last,
                cells.loaded_at desc, cells.file desc
        ) as vintage_rank
    from cells
    join files using (load_id, file, file_sha256)
),

current as (
    select * from ranked where vintage_rank = 1
),

final as (
    select
        area_code,
        make_date(cast(left(month, 4) as integer), cast(right(month, 2) as integer), 1) as month,
        max(value) filter (where content_code = 'HAKIJALOPUSSA') as jobseekers,
        max(value) filter (where content_code = 'TYOTTOMATLOPUSSA') as unemployed,
        max(value) filter (where content_code = 'TYOVOIMATK') as labour_force,
        max(value) filter (where content_code = 'TYOTOSUUS') as unemployment_rate_pct_published,
        max(value) filter (where content_code = 'PITKAAIKAISTYOTTOMAT') as long_term_unemployed,
        max(value) filter (where content_code = 'AVPAIKATLOPUSSA') as vacancies
    from current
    group by area_code, month
)

select * from final
order by area_code, month
