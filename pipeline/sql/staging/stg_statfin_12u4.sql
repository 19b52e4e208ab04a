-- One row per area and month: StatFin table 12u4, unemployed jobseekers and those in
-- services on the count day, and the published activation rate, for all sexes and ages
-- (sex and age group 'SSS'; the files' versions in force first, then the newest
-- file wins).
--
-- The file breaks every area down by sex × age group (a whole-country file: 28 M cells);
-- the indicators use the totals only, so the totals are picked from the cells first
-- (1 in 36) and only they are ranked and pivoted. The full breakdown stays in the view
-- raw.statfin_12u4 (one row per cell) and audit.statfin_cells_in_force.
with

cells as (
    select * from raw.statfin_12u4
    -- A file without a sex or an age-group variable counts everyone.
    where coalesce(sex, 'SSS') = 'SSS' and coalesce(age_group, 'SSS') = 'SSS'
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
            partition by cells.area_code, cells.sex, cells.age_group, cells.month,
                cells.content_code
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
        sex,
        age_group,
        make_date(cast(left(month, 4) as integer), cast(right(month, 2) as integer), 1) as month,
        max(value) filter (where content_code = 'TYOTTOMATLOPUSSA') as unemployed,
        max(value) filter (where content_code = 'PALVELUISSAYHTEENSA') as in_services,
        max(value) filter (where content_code = 'AKTASTE') as activation_rate_pct_published,
        max(value) filter (where content_code = 'TVKOULUTUSLOP') as in_labour_market_training,
        max(value) filter (where content_code = 'VALMENNUSLOP') as in_coaching,
        max(value) filter (where content_code = 'TYOLLISTETTYLOP') as in_subsidised_work,
        max(value) filter (where content_code = 'KOKEILULOP') as in_work_trial,
        max(value) filter (where content_code = 'VUORVAPLOP') as in_job_alternation,
        max(value) filter (where content_code = 'KUNTTYOLOP') as in_rehabilitative_work,
        max(value) filter (where content_code = 'OMAEHTLOP') as in_self_motivated_study
    from current
    group by area_code, sex, age_group, month
)

select * from final
order by area_code, sex, age_group, month
