-- Lineage for auditors: from a published number back to the raw cells it came from.
--
--   select * from audit.lineage('pilot_area', 'long_term_unemployed', '2023-06-01');
--   select * from audit.lineage_municipal_share('KU564', 2024);
--
-- Each row is one raw cell in force (staging.stg_file_versions' rule where several
-- downloads hold it): its source, municipality, month, measure, value or symbol, file and
-- place in the file.

-- StatFin cells in force, totals and breakdowns alike, 12r5 and 12u4 together: where
-- downloads overlap, the best-ranked version (staging.stg_file_versions, the one rule).
-- Every cell of a table's best file is in force; a cell of an older file only where no
-- better-ranked file of that table has the cell (a download of fewer months or areas
-- leaves the older ones in force). A table loaded from one file only (the usual case) is
-- read as it is: a whole-country 12u4 has 28 M cells, so cells are compared one by one only
-- for the tables that have several files.
create or replace view audit.statfin_cells_in_force as
with

file_order as (
    select
        dataset,
        file,
        file_sha256,
        version_rank as file_rank,
        count(*) over (partition by dataset) as files_of_dataset
    from staging.stg_file_versions
    where family = 'statfin'
),

one_file as (
    select '12r5' as dataset, * from raw.statfin_12r5
    where (select count(*) from raw.statfin_files where dataset = '12r5') = 1
    union all by name
    select '12u4' as dataset, * from raw.statfin_12u4
    where (select count(*) from raw.statfin_files where dataset = '12u4') = 1
),

several_files as not materialized (
    select c.*, o.file_rank
    from (
        select '12r5' as dataset, * from raw.statfin_12r5
        union all by name
        select '12u4' as dataset, * from raw.statfin_12u4
    ) as c
    join file_order as o using (dataset, file, file_sha256)
    where o.files_of_dataset > 1
),

newest_wins as (
    select * exclude (file_rank) from several_files as older
    where older.file_rank = 1
        or not exists (
            select 1 from several_files as newer
            where newer.dataset = older.dataset
                and newer.file_rank < older.file_rank
                and newer.area_code is not distinct from older.area_code
                and newer.sex is not distinct from older.sex
                and newer.age_group is not distinct from older.age_group
                and newer.month is not distinct from older.month
                and newer.content_code is not distinct from older.content_code
        )
)

select * from one_file
union all by name
select * from newest_wins;

comment on view audit.statfin_cells_in_force is 'One row per StatFin cell in force (12r5 and 12u4; newest file wins), with its file and PX cell.';

-- The raw cells behind one published value of marts.indicators_monthly: the cells of the
-- source it was taken from (its `source` column), of the indicator's raw measure, or of both
-- parts of a rate (a part taken k months earlier at that month), for the area's members.
create or replace macro audit.lineage(p_area, p_indicator, p_month) as table
with

published as (
    select source
    from marts.indicators_monthly
    where area_code = p_area and indicator = p_indicator and month = cast(p_month as date)
),

members as (
    select municipality_code from staging.area_members where area_code = p_area
    union all
    select p_area where p_area like 'KU%'
),

-- The indicator itself, or a rate's parts with their lags (marts.indicator_parts).
wanted as (
    select indicator as part, 0 as lag_months
    from marts.indicator_catalogue
    where indicator = p_indicator and kind <> 'rate'
    union all
    select part, lag_months
    from marts.indicator_parts
    where indicator = p_indicator
)

select
    p_indicator as indicator,
    r.source,
    r.area_code as municipality_code,
    r.month,
    r.indicator as part,
    r.measure,
    r.value,
    r.symbol,
    r.file,
    r.place
from wanted as w
join marts.indicator_raw_values as r
    on r.indicator = w.part
    and r.role = 'value'
    and r.source = (select source from published)
    and r.month = cast(cast(p_month as date) - to_months(w.lag_months) as date)
where r.area_code in (select municipality_code from members)
order by r.source, r.measure, r.month, r.area_code;

-- The Kela rows (in force) behind a municipality's (or a group's) yearly municipal share.
create or replace macro audit.lineage_municipal_share(p_area, p_year) as table
with

members as (
    select municipality_code from staging.area_members where area_code = p_area
    union all
    select p_area where p_area like 'KU%'
)

select
    k.municipality_code,
    year(k.month) * 100 + month(k.month) as vuosikuukausi,
    k.kunta_osuus_eur,
    k.maksettu_eur,
    k.saaja_lkm,
    k.file,
    k.place
from staging.stg_kela_municipal_share as k
where year(k.month) = p_year
    and k.day_class = 'Yhteensä'
    and k.municipality_code in (select municipality_code from members)
order by k.municipality_code, k.month;
