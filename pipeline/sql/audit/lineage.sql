-- Lineage for auditors: from a published number back to the raw cells it came from.
--
--   select * from audit.lineage('pilot_area', 'long_term_unemployed', '2023-06-01');
--   select * from audit.lineage_municipal_share('KU564', 2024);
--
-- Each row is one raw cell in force (the newest download where several hold it): its
-- source, municipality, month, measure, value or symbol, file and place in the file.

-- Which raw measures each indicator is computed from; month_offset -3 = three months before.
create or replace table audit.indicator_sources as
select * from (values
    ('jobseekers', 'tem', '1208', 'Työnhakijat', 0),
    ('unemployed', 'tem', '1208', 'Työttömät työnhakijat', 0),
    ('long_term_unemployed', 'tem', '1208', 'Pitkäaikaistyöttömät', 0),
    ('pilot_clients', 'tem', '1208', 'Kuntakokeilun asiakkaat', 0),
    ('ltu_in_services', 'tem', '4253', 'Palveluissa olevat pitkäaikaistyöttömät', 0),
    ('ltu_activation_rate_pct', 'tem', '4253', 'Palveluissa olevat pitkäaikaistyöttömät', 0),
    ('ltu_activation_rate_pct', 'tem', '4253', 'Pitkäaikaistyöttömät', 0),
    ('spells_started', 'tem', '1356', 'Alkaneet työttömyysjaksot', 0),
    ('inflow_3m', 'tem', '1356', 'Virta yli 3 kk työttömyyteen', 0),
    ('inflow_6m', 'tem', '1356', 'Virta yli 6 kk työttömyyteen', 0),
    ('inflow_12m', 'tem', '1356', 'Virta yli 12 kk työttömyyteen', 0),
    ('inflow_3m_ratio_pct', 'tem', '1356', 'Virta yli 3 kk työttömyyteen', 0),
    ('inflow_3m_ratio_pct', 'tem', '1356', 'Alkaneet työttömyysjaksot', -3),
    ('inflow_6m_ratio_pct', 'tem', '1356', 'Virta yli 6 kk työttömyyteen', 0),
    ('inflow_6m_ratio_pct', 'tem', '1356', 'Alkaneet työttömyysjaksot', -6),
    ('inflow_12m_ratio_pct', 'tem', '1356', 'Virta yli 12 kk työttömyyteen', 0),
    ('inflow_12m_ratio_pct', 'tem', '1356', 'Alkaneet työttömyysjaksot', -12),
    ('in_services', 'statfin', '12u4', 'PALVELUISSAYHTEENSA', 0),
    ('activation_rate_pct', 'statfin', '12u4', 'PALVELUISSAYHTEENSA', 0),
    ('activation_rate_pct', 'statfin', '12u4', 'TYOTTOMATLOPUSSA', 0),
    ('unemployment_rate_pct', 'statfin', '12r5', 'TYOTTOMATLOPUSSA', 0),
    ('unemployment_rate_pct', 'statfin', '12r5', 'TYOVOIMATK', 0),
    ('vacancies', 'statfin', '12r5', 'AVPAIKATLOPUSSA', 0)
) as t(indicator, family, dataset, measure, month_offset);

comment on table audit.indicator_sources is 'One row per indicator and raw measure it is computed from (marts.indicators_monthly): the lineage map used by audit.lineage().';

-- StatFin cells in force: the newest file where downloads overlap (staging's order: the
-- version the raw folder holds now, then LAST-UPDATED, then load time, then file name), totals and breakdowns alike, 12r5 and 12u4
-- together. Every cell of a table's newest file is in force; a cell of an older file only
-- where no newer file of that table has the cell (a download of fewer months or areas
-- leaves the older ones in force). A table loaded from one file only (the usual case) is
-- read as it is: a whole-country 12u4 has 28 M cells, so cells are compared one by one only
-- for the tables that have several files.
create or replace view audit.statfin_cells_in_force as
with

file_order as (
    select
        f.dataset,
        f.load_id,
        f.file,
        f.file_sha256,
        row_number() over (
            partition by f.dataset
            order by coalesce(v.in_force, false) desc, f.last_updated desc nulls last,
                f.loaded_at desc, f.file desc
        ) as file_rank,
        count(*) over (partition by f.dataset) as files_of_dataset
    from raw.statfin_files as f
    left join raw.file_versions as v
        on v.family = 'statfin' and v.file = f.file and v.file_sha256 = f.file_sha256
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
    join file_order as o using (dataset, load_id, file, file_sha256)
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

create or replace macro audit.lineage(p_area, p_indicator, p_month) as table
with

members as (
    select municipality_code from staging.area_members where area_code = p_area
    union all
    select p_area where p_area like 'KU%'
),

sources as (
    select * from audit.indicator_sources where indicator = p_indicator
),

tem as (
    select
        s.indicator,
        'TEM ' || c.report as source,
        c.municipality_code,
        c.month,
        c.measure,
        c.value,
        c.symbol,
        c.file,
        c.place
    from sources as s
    join staging.stg_tem_cells as c
        on s.family = 'tem' and c.report = s.dataset and c.measure = s.measure
        and c.month = cast(cast(p_month as date) + to_months(s.month_offset) as date)
    where c.municipality_code in (select municipality_code from members)
),

statfin as (
    select
        s.indicator,
        'StatFin ' || c.dataset as source,
        c.area_code as municipality_code,
        cast(strptime(c.month, '%YM%m') as date) as month,
        c.content_code as measure,
        c.value,
        c.symbol,
        c.file,
        c.place
    from sources as s
    join audit.statfin_cells_in_force as c
        on s.family = 'statfin' and c.dataset = s.dataset and c.content_code = s.measure
        and c.month = strftime(cast(p_month as date) + to_months(s.month_offset), '%YM%m')
        and coalesce(c.sex, 'SSS') = 'SSS' and coalesce(c.age_group, 'SSS') = 'SSS'
    where c.area_code in (select municipality_code from members)
)

select * from tem
union all
select * from statfin
order by source, measure, month, municipality_code;

-- The Kela rows behind a municipality's (or a group's) yearly municipal share.
create or replace macro audit.lineage_municipal_share(p_area, p_year) as table
with

members as (
    select municipality_code from staging.area_members where area_code = p_area
    union all
    select p_area where p_area like 'KU%'
)

select
    'KU' || lpad(k.kunta_nro, 3, '0') as municipality_code,
    k.vuosikuukausi,
    k.kunta_osuus_eur,
    k.maksettu_eur,
    k.saaja_lkm,
    k.file,
    k.place
from raw.kela_municipal_share as k
where k.aikatyyppi = 'Kuukausi' and k.vuosi = p_year
    and k.ikaryhma = 'Yhteensä' and k.sukupuoli = 'Yhteensä'
    and k.tyomarkkinatukipaiva_luokka = 'Yhteensä'
    and 'KU' || lpad(k.kunta_nro, 3, '0') in (select municipality_code from members)
order by municipality_code, k.vuosikuukausi;
