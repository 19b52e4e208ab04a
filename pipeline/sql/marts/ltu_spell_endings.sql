-- One row per area per period per reason: long-term unemployment spells that ended, and each
-- reason's share of all that ended in the period. Periods: months ('2023-01'), years ('2023')
-- and the pilot as a whole ('2021-2024'). Masked cells ('...') cannot be added: they are
-- left out of the sums and counted in masked_cells, so a sum with masked cells is a floor.
with

endings as (
    select * from staging.stg_tem_ttv15
),

members as (
    select * from staging.area_members
),

municipal as (
    select municipality_code as area_code, month, reason, spells_ended
    from endings
),

grouped as (
    select m.area_code, e.month, e.reason, e.spells_ended
    from members as m
    join municipal as e on e.area_code = m.municipality_code
),

all_areas as (
    select * from municipal
    union all
    select * from grouped
),

by_period as (
    select area_code, 'month' as period_type, strftime(month, '%Y-%m') as period, reason,
        sum(spells_ended) as spells, count(*) - count(spells_ended) as masked_cells
    from all_areas
    group by all
    union all
    select area_code, 'year', cast(year(month) as varchar), reason,
        sum(spells_ended), count(*) - count(spells_ended)
    from all_areas
    group by all
    union all
    select area_code, 'pilot', '2021-2024', reason,
        sum(spells_ended), count(*) - count(spells_ended)
    from all_areas
    where year(month) between 2021 and 2024
    group by all
),

final as (
    select
        area_code,
        period_type,
        period,
        reason,
        spells::double as spells,
        marts.pct(spells, sum(spells) over (partition by area_code, period_type, period))
            as share_pct,
        masked_cells
    from by_period
)

select * from final
order by area_code, period_type, period, reason
