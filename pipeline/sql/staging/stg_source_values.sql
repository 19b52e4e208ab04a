-- One row per source value in force, in one long shape for every source: family × dataset ×
-- area × month × measure × breakdown, with its value or statistical symbol and the raw cell
-- it came from. The indicator catalogue (marts.indicator_sources) says which measure of
-- which dataset each indicator is read from; the marts join it to this.
with

tem as (
    select * from staging.stg_tem_cells
),

statfin as (
    select * from staging.stg_statfin_cells
),

kela as (
    select * from staging.stg_kela_municipal_share
),

-- Kela's measures are its columns: one row per column, as TEM's are per header.
kela_long as (
    select municipality_code, month, day_class, 'saaja_lkm' as measure,
        cast(saaja_lkm as double) as value, saaja_lkm_symbol as symbol, file, place
    from kela
    union all
    select municipality_code, month, day_class, 'korvattu_paiva_lkm',
        cast(korvattu_paiva_lkm as double), korvattu_paiva_lkm_symbol, file, place
    from kela
    union all
    select municipality_code, month, day_class, 'maksettu_eur',
        cast(maksettu_eur as double), maksettu_eur_symbol, file, place
    from kela
    union all
    select municipality_code, month, day_class, 'kunta_osuus_eur',
        cast(kunta_osuus_eur as double), kunta_osuus_eur_symbol, file, place
    from kela
),

final as (
    select 'tem' as family, report as dataset, municipality_code as area_code, month,
        measure, breakdown, value, symbol, file, place
    from tem
    union all
    select 'statfin', dataset, area_code, month, content_code, null, value, symbol, file,
        place
    from statfin
    union all
    select 'kela', 'kuntaosuus', municipality_code, month, measure, day_class, value,
        symbol, file, place
    from kela_long
)

select * from final
order by family, dataset, area_code, month, measure, breakdown
