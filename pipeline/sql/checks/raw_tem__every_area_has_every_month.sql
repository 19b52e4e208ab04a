-- Every area in a TEM report file has every month of the file's period, each with every measure (TTV15: every reason the file names): a half-copied file or a deleted row is refused, not published as gaps.
-- The files in force (the versions the raw folder holds now); the first rows name the file
-- and the missing area, month (and reason), and which of its cells are missing.
with

versions as (
    select file, file_sha256 from raw.file_versions where family = 'tem' and in_force
),

cells as (
    select c.file, c.report, c.area, c.month, c.breakdown, c.measure
    from raw.tem_report_cells as c
    join versions as v using (file, file_sha256)
),

-- Months as numbers (year × 12 + month − 1), so a period is a range.
periods as (
    select
        file, report,
        min(cast(left(month, 4) as integer) * 12 + cast(right(month, 2) as integer) - 1) as first_index,
        max(cast(left(month, 4) as integer) * 12 + cast(right(month, 2) as integer) - 1) as last_index
    from cells
    group by file, report
),

months as (
    select file, report, unnest(range(first_index, last_index + 1)) as month_index
    from periods
),

areas as (
    select distinct file, report, area from cells
),

measures as (
    select distinct file, report, breakdown, measure from cells
),

expected as (
    select
        a.file, a.report, a.area,
        printf('%04dM%02d', m.month_index // 12, m.month_index % 12 + 1) as month,
        x.breakdown, x.measure
    from areas as a
    join months as m using (file, report)
    join measures as x using (file, report)
)

-- One row per missing data row (area, month and, in TTV15, reason), naming its missing cells.
select
    e.file, e.report, e.area, e.month, e.breakdown,
    case when count(*) = max(n_measures) then 'no row'
        else 'no ' || string_agg(e.measure, ', ' order by e.measure) end as problem
from expected as e
join (select file, report, breakdown, count(*) as n_measures from measures group by all) as n
    on n.file = e.file and n.report = e.report and n.breakdown is not distinct from e.breakdown
where not exists (
    select 1 from cells as c
    where c.file = e.file and c.report = e.report and c.area = e.area and c.month = e.month
        and c.breakdown is not distinct from e.breakdown and c.measure = e.measure
)
group by e.file, e.report, e.area, e.month, e.breakdown
order by e.file, e.area, e.month, e.breakdown
