-- What a revised download changed: every value that differs between two consecutive
-- vintages of the same cell (TEM reports, StatFin tables, Kela rows). A vintage is one
-- loaded version of a file; they are ordered in time (the extraction or update date the
-- file states, then the load time). Staging uses the version the raw folder holds now
-- (raw.file_versions.in_force), which is the newest unless an older download was put back.
--
--   select * from audit.revisions where source = 'TEM 1208' order by month;
--
-- Only a source loaded from more than one file version (a TEM report, a StatFin table, Kela)
-- can have a revision: only its cells go through the window. A source loaded from one file
-- version (the usual case) is left out before the window, by its file list
-- (raw.tem_report_files, raw.statfin_files; Kela's versions are its rows' distinct files):
-- a whole-country 12u4 has 28 M cells, and windowing them all took ~50 s (the same idea as
-- audit.statfin_cells_in_force). The readers refuse a file that holds a cell twice, so one
-- version alone has nothing to compare.
create or replace view audit.revisions as
with

-- The file versions of every TEM report and StatFin table loaded from more than one.
tem_files as (
    select load_id, file, file_sha256, extracted_on
    from raw.tem_report_files
    qualify count(*) over (partition by report) > 1
),

statfin_files as (
    select dataset, load_id, file, file_sha256, last_updated
    from raw.statfin_files
    where dataset in ('12r5', '12u4')
    qualify count(*) over (partition by dataset) > 1
),

tem as (
    select
        'TEM ' || c.report as source,
        marts.municipality_code(c.area) as area_code,
        cast(strptime(c.month, '%YM%m') as date) as month,
        c.measure || coalesce(' / ' || c.breakdown, '') as measure,
        c.value,
        c.symbol,
        c.file,
        c.place,
        f.extracted_on as vintage_date,
        c.loaded_at
    from raw.tem_report_cells as c
    join tem_files as f using (load_id, file, file_sha256)
),

statfin as (
    select
        'StatFin ' || c.dataset as source,
        c.area_code,
        cast(strptime(c.month, '%YM%m') as date) as month,
        c.content_code || coalesce(' / ' || nullif(c.sex, 'SSS'), '')
            || coalesce(' / ' || nullif(c.age_group, 'SSS'), '') as measure,
        c.value,
        c.symbol,
        c.file,
        c.place,
        cast(try_strptime(c.file_last_updated, '%Y%m%d %H:%M') as date) as vintage_date,
        c.loaded_at
    from (
        select '12r5' as dataset, c.*, f.last_updated as file_last_updated
        from raw.statfin_12r5 as c
        join statfin_files as f
            on f.dataset = '12r5' and f.load_id = c.load_id and f.file = c.file
            and f.file_sha256 = c.file_sha256
        union all by name
        select '12u4' as dataset, c.*, f.last_updated as file_last_updated
        from raw.statfin_12u4 as c
        join statfin_files as f
            on f.dataset = '12u4' and f.load_id = c.load_id and f.file = c.file
            and f.file_sha256 = c.file_sha256
    ) as c
),

kela as (
    select
        'Kela' as source,
        marts.municipality_code(kunta_nro) as area_code,
        make_date(vuosi, kuukausi_nro, 1) as month,
        'kunta_osuus_eur / ' || aikatyyppi || ' / ' || tyomarkkinatukipaiva_luokka || ' / '
            || ikaryhma || ' / ' || sukupuoli as measure,
        cast(kunta_osuus_eur as double) as value,
        kunta_osuus_eur_symbol as symbol,
        file,
        place,
        cast(null as date) as vintage_date,
        loaded_at
    from raw.kela_municipal_share
    where (select count(*) from (
        select distinct load_id, file, file_sha256 from raw.kela_municipal_share
    )) > 1
),

cells as (
    select * from tem
    union all
    select * from statfin
    union all
    select * from kela
),

ordered as (
    select
        *,
        lag(value) over w as old_value,
        lag(symbol) over w as old_symbol,
        lag(file) over w as old_file,
        lag(place) over w as old_place,
        lag(vintage_date) over w as old_vintage_date,
        lag(loaded_at) over w as old_loaded_at,
        row_number() over w as vintage_no
    from cells
    window w as (
        partition by source, area_code, month, measure
        order by vintage_date nulls first, loaded_at, file
    )
),

final as (
    select
        source,
        area_code,
        month,
        measure,
        old_value,
        value as new_value,
        old_symbol,
        symbol as new_symbol,
        old_file,
        old_place,
        file as new_file,
        place as new_place,
        old_vintage_date,
        vintage_date as new_vintage_date,
        old_loaded_at,
        loaded_at as new_loaded_at
    from ordered
    where vintage_no > 1
        and (old_value is distinct from value or old_symbol is distinct from symbol)
)

select * from final;

comment on view audit.revisions is 'One row per value that changed between two consecutive vintages (loaded versions of a file) of the same cell: source, area, month, measure, old and new value or symbol, and where each came from. Marts use the newest vintage.';
