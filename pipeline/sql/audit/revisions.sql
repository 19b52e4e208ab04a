-- What a revised download changed: every value that differs between two consecutive
-- vintages of the same cell (TEM reports, StatFin tables, Kela rows). A vintage is one
-- loaded version of a file; they are ordered as staging orders them (the extraction or
-- update date the file states, then the load time), and staging uses the newest.
--
--   select * from audit.revisions where source = 'TEM 1208' order by month;
create or replace view audit.revisions as
with

tem as (
    select
        'TEM ' || c.report as source,
        'KU' || split_part(c.area, ' ', 1) as area_code,
        cast(strptime(c.month, '%YM%m') as date) as month,
        c.measure || coalesce(' / ' || c.breakdown, '') as measure,
        c.value,
        c.symbol,
        c.file,
        c.place,
        f.extracted_on as vintage_date,
        c.loaded_at
    from raw.tem_report_cells as c
    join raw.tem_report_files as f using (load_id, file, file_sha256)
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
        cast(try_strptime(f.last_updated, '%Y%m%d %H:%M') as date) as vintage_date,
        c.loaded_at
    from (
        select '12r5' as dataset, * from raw.statfin_12r5
        union all by name
        select '12u4' as dataset, * from raw.statfin_12u4
    ) as c
    join raw.statfin_files as f using (load_id, file, file_sha256)
),

kela as (
    select
        'Kela' as source,
        'KU' || lpad(kunta_nro, 3, '0') as area_code,
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
