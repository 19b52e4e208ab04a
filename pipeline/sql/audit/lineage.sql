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

-- StatFin cells in force: the newest file (LAST-UPDATED) where downloads overlap, totals and
-- breakdowns alike, 12r5 and 12u4 together.
create or replace view audit.statfin_cells_in_force as
with

cells as (
    select '12r5' as dataset, * from raw.statfin_12r5
    union all by name
    select '12u4' as dataset, * from raw.statfin_12u4
),

ranked as (
    select
        c.*,
        row_number() over (
            partition by c.dataset, c.area_code, c.sex, c.age_group, c.month, c.content_code
            order by f.last_updated desc nulls last, c.file desc
        ) as vintage_rank
    from cells as c
    join raw.statfin_files as f using (load_id, file, file_sha256)
)

select * exclude (vintage_rank) from ranked where vintage_rank = 1;

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
