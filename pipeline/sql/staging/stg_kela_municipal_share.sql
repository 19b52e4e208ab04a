-- Kela's työmarkkinatuen kuntaosuus (municipal share of the labour market subsidy): one row
-- per municipality per billing month per day class (tyomarkkinatukipaiva_luokka: Yhteensä and
-- the classes), for all ages and both sexes, in Kela's own column names.
with

source as (
    select * from raw.kela_municipal_share
),

versions as (
    select * from staging.stg_file_versions where family = 'kela'
),

-- Kuukausi rows only (Vuosi and Vuosikertymä repeat the same money); everyone (ikaryhma and
-- sukupuoli Yhteensä) so that each person counts once; real municipalities only: 199
-- Tuntematon gathers the small groups of many municipalities.
monthly as (
    select
        source.*,
        marts.municipality_code(kunta_nro) as municipality_code,
        make_date(vuosi, kuukausi_nro, 1) as month,
        versions.version_rank
    from source
    join versions
        on versions.file = source.file and versions.file_sha256 = source.file_sha256
    where aikatyyppi = 'Kuukausi'
        and ikaryhma = 'Yhteensä'
        and sukupuoli = 'Yhteensä'
        and marts.municipality_code(kunta_nro) <> 'KU199'
),

in_force as (
    select *
    from monthly
    qualify row_number() over (
        partition by municipality_code, month, tyomarkkinatukipaiva_luokka
        order by version_rank
    ) = 1
),

final as (
    select
        municipality_code,
        kunta_nimi as municipality_name,
        month,
        vuosi as year,
        tyomarkkinatukipaiva_luokka as day_class,
        saaja_lkm,
        korvattu_paiva_lkm,
        maksettu_eur,
        kunta_osuus_eur,
        saaja_lkm_symbol,
        korvattu_paiva_lkm_symbol,
        maksettu_eur_symbol,
        kunta_osuus_eur_symbol,
        file,
        place
    from in_force
)

select * from final
order by municipality_code, month, day_class
