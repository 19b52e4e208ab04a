-- Every StatFin PX file in force lists every month between its first and last: the cube is dense by construction (every area has every month and content the file lists), so a missing month can only be missing from the list.
with

versions as (
    select file, file_sha256 from raw.file_versions where family = 'statfin' and in_force
),

months as (
    select
        x.file,
        cast(left(x.code, 4) as integer) * 12 + cast(right(x.code, 2) as integer) - 1 as month_index
    from raw.statfin_values as x
    join raw.statfin_files as f using (file_key)
    join versions as v on v.file = f.file and v.file_sha256 = f.file_sha256
    where x.column_name = 'month' and regexp_full_match(x.code, '\d{4}M(0[1-9]|1[0-2])')
),

periods as (
    select file, min(month_index) as first_index, max(month_index) as last_index
    from months
    group by file
),

expected as (
    select file, unnest(range(first_index, last_index + 1)) as month_index from periods
)

select
    e.file,
    printf('%04dM%02d', e.month_index // 12, e.month_index % 12 + 1) as month,
    'not among the months of the file' as problem
from expected as e
anti join months as m using (file, month_index)
order by e.file, e.month_index
