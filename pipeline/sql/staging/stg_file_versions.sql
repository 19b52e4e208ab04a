-- One row per stored version of a raw file, ranked among the versions that hold the same
-- dataset (a TEM report, a StatFin table, Kela's municipal share). This is the one rule for
-- which version counts where downloads overlap, used by every source's staging model:
--   1. the version the raw folder holds now (raw.file_versions.in_force),
--   2. then the newest vintage (TEM's 'Poimittu' date, StatFin's LAST-UPDATED),
--   3. then the most recently loaded, then the file name.
-- A model keeps, for each of its cells, the cell of the best-ranked version that has it, so
-- a download of fewer months or areas leaves the older versions' other cells in force.
with

versions as (
    select * from raw.file_versions
),

tem as (
    select 'tem' as family, report as dataset, file, file_sha256, loaded_at,
        cast(extracted_on as timestamp) as vintage
    from raw.tem_report_files
),

statfin as (
    select 'statfin' as family, dataset, file, file_sha256, loaded_at,
        -- PX: LAST-UPDATED '20250120 08:00'; PxWeb json(-stat2): '2026-07-21T05:00:00Z'
        -- (also written '05.00.00')
        try_strptime(last_updated, ['%Y%m%d %H:%M', '%Y-%m-%dT%H:%M:%SZ',
                                    '%Y-%m-%dT%H.%M.%SZ', '%Y-%m-%dT%H:%M:%S']) as vintage
    from raw.statfin_files
),

-- Kela's files are its rows' files (the CSV says nothing of when it was extracted).
kela as (
    select 'kela' as family, 'kuntaosuus' as dataset, file, file_sha256,
        min(loaded_at) as loaded_at, cast(null as timestamp) as vintage
    from raw.kela_municipal_share
    group by file, file_sha256
),

files as (
    select * from tem
    union all
    select * from statfin
    union all
    select * from kela
),

final as (
    select
        f.family,
        f.dataset,
        f.file,
        f.file_sha256,
        coalesce(v.in_force, false) as in_force,
        f.vintage,
        coalesce(v.loaded_at, f.loaded_at) as loaded_at,
        row_number() over (
            partition by f.family, f.dataset
            order by coalesce(v.in_force, false) desc, f.vintage desc nulls last,
                coalesce(v.loaded_at, f.loaded_at) desc, f.file desc, f.file_sha256
        ) as version_rank
    from files as f
    left join versions as v
        on v.family = f.family and v.file = f.file and v.file_sha256 = f.file_sha256
)

select * from final
order by family, dataset, version_rank
