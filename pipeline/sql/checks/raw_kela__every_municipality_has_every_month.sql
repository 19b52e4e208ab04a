-- Every municipality in a Kela file has its monthly total row (Kuukausi; Yhteensä in age group, sex and day class) for every month of the file's period, with every measure a number or a statistical symbol.
-- The files in force; 199 Tuntematon gathers small groups and need not have every month.
-- The first rows name the file, the municipality, the month and what is missing (with the
-- line when the row is there but a measure is empty).
with

versions as (
    select file, file_sha256 from raw.file_versions where family = 'kela' and in_force
),

monthly as (
    select k.*, k.vuosi * 12 + k.kuukausi_nro - 1 as month_index,
        lpad(k.kunta_nro, 3, '0') as municipality
    from raw.kela_municipal_share as k
    join versions as v using (file, file_sha256)
    where k.aikatyyppi = 'Kuukausi' and lpad(k.kunta_nro, 3, '0') <> '199'
),

periods as (
    select file, min(month_index) as first_index, max(month_index) as last_index
    from monthly
    group by file
),

months as (
    select file, unnest(range(first_index, last_index + 1)) as month_index from periods
),

municipalities as (
    select file, municipality, any_value(kunta_nimi) as kunta_nimi
    from monthly
    group by file, municipality
),

totals as (
    select * from monthly
    where ikaryhma = 'Yhteensä' and sukupuoli = 'Yhteensä' and tyomarkkinatukipaiva_luokka = 'Yhteensä'
),

found as (
    select
        a.file, a.municipality as kunta_nro, a.kunta_nimi,
        (m.month_index // 12) * 100 + m.month_index % 12 + 1 as vuosikuukausi,
        t.line,
        concat_ws(', ',
            case when t.line is not null and t.saaja_lkm is null and t.saaja_lkm_symbol is null then 'saaja_lkm' end,
            case when t.line is not null and t.korvattu_paiva_lkm is null and t.korvattu_paiva_lkm_symbol is null then 'korvattu_paiva_lkm' end,
            case when t.line is not null and t.maksettu_eur is null and t.maksettu_eur_symbol is null then 'maksettu_eur' end,
            case when t.line is not null and t.kunta_osuus_eur is null and t.kunta_osuus_eur_symbol is null then 'kunta_osuus_eur' end
        ) as empty_measures
    from municipalities as a
    join months as m using (file)
    left join totals as t
        on t.file = a.file and t.municipality = a.municipality and t.month_index = m.month_index
)

select
    file, kunta_nro, kunta_nimi, vuosikuukausi,
    case when line is null then 'no total row' else 'empty ' || empty_measures end as problem,
    case when line is null then null else 'line ' || line end as place
from found
where line is null or empty_measures <> ''
order by file, kunta_nro, vuosikuukausi
