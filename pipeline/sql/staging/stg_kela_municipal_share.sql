-- Kela's työmarkkinatuen kuntaosuus (municipal share of the labour market subsidy):
-- one row per municipality per billing month, the Yhteensä total with its day classes beside it.

with

source as (

    select k.*, coalesce(v.in_force, false) as in_force
    from raw.kela_municipal_share as k
    left join raw.file_versions as v
        on v.family = 'kela' and v.file = k.file and v.file_sha256 = k.file_sha256

),

-- Kuukausi rows only (Vuosi and Vuosikertymä repeat the same money), real municipalities
-- only: 199 Tuntematon gathers small groups of many municipalities.
monthly as (

    select
        *,
        'KU' || lpad(kunta_nro, 3, '0') as municipality_code,
        make_date(vuosi, kuukausi_nro, 1) as month
    from source
    where aikatyyppi = 'Kuukausi'
        and lpad(kunta_nro, 3, '0') <> '199'
        and ikaryhma = 'Yhteensä'
        and sukupuoli = 'Yhteensä'

),

-- Count each person once: the total is the row with Yhteensä in day class, age and sex.
-- When two loaded files hold the same month: the version of a file that the raw folder
-- holds now (raw.file_versions.in_force) first, then the most recently loaded one.
totals as (

    select *
    from monthly
    where tyomarkkinatukipaiva_luokka = 'Yhteensä'
    qualify row_number() over (
        partition by municipality_code, month
        order by in_force desc, loaded_at desc, file desc
    ) = 1

),

-- The three day classes side by side (the reader lets a file hold one row of each); a class
-- under 4 recipients is published only in 199 Tuntematon, so it is NULL here.
day_classes as (

    select
        load_id,
        file,
        municipality_code,
        month,
        any_value(saaja_lkm) filter (where tyomarkkinatukipaiva_luokka = '300-499') as recipients_300_499,
        any_value(saaja_lkm) filter (where tyomarkkinatukipaiva_luokka = '500-999') as recipients_500_999,
        any_value(saaja_lkm) filter (where tyomarkkinatukipaiva_luokka = '1000 tai yli') as recipients_1000_plus,
        any_value(maksettu_eur) filter (where tyomarkkinatukipaiva_luokka = '300-499') as paid_300_499_eur,
        any_value(maksettu_eur) filter (where tyomarkkinatukipaiva_luokka = '500-999') as paid_500_999_eur,
        any_value(maksettu_eur) filter (where tyomarkkinatukipaiva_luokka = '1000 tai yli') as paid_1000_plus_eur,
        any_value(kunta_osuus_eur) filter (where tyomarkkinatukipaiva_luokka = '300-499') as share_300_499_eur,
        any_value(kunta_osuus_eur) filter (where tyomarkkinatukipaiva_luokka = '500-999') as share_500_999_eur,
        any_value(kunta_osuus_eur) filter (where tyomarkkinatukipaiva_luokka = '1000 tai yli') as share_1000_plus_eur
    from monthly
    where tyomarkkinatukipaiva_luokka in ('300-499', '500-999', '1000 tai yli')
    group by load_id, file, municipality_code, month

),

final as (

    select
        totals.municipality_code,
        totals.kunta_nimi as municipality_name,
        totals.month,
        totals.vuosi as year,
        totals.saaja_lkm as recipients,
        totals.korvattu_paiva_lkm as compensated_days,
        totals.maksettu_eur as paid_eur,
        totals.kunta_osuus_eur as municipal_share_eur,
        day_classes.recipients_300_499,
        day_classes.recipients_500_999,
        day_classes.recipients_1000_plus,
        day_classes.paid_300_499_eur,
        day_classes.paid_500_999_eur,
        day_classes.paid_1000_plus_eur,
        day_classes.share_300_499_eur,
        day_classes.share_500_999_eur,
        day_classes.share_1000_plus_eur,
        totals.file,
        totals.place
    from totals
    left join day_classes
        on day_classes.load_id = totals.load_id
        and day_classes.file = totals.file
        and day_classes.municipality_code = totals.municipality_code
        and day_classes.month = totals.month

)

select * from final
