-- One row per area (municipality or group of municipalities) per month: every count the
-- indicators are computed from, side by side. A group's count is the sum of its members'
-- counts, given only when every member has a number for that month.
with

tem_1208 as (
    select * from staging.stg_tem_1208
),

tem_1356 as (
    select * from staging.stg_tem_1356
),

tem_4253 as (
    select * from staging.stg_tem_4253
),

statfin_12r5 as (
    select * from staging.stg_statfin_12r5 where area_code like 'KU%'
),

statfin_12u4 as (
    select * from staging.stg_statfin_12u4
    where area_code like 'KU%' and sex = 'SSS' and age_group = 'SSS'
),

members as (
    select * from staging.area_members
),

spine as (
    select municipality_code as area_code, month from tem_1208
    union
    select municipality_code, month from tem_1356
    union
    select municipality_code, month from tem_4253
    union
    select area_code, month from statfin_12r5
    union
    select area_code, month from statfin_12u4
),

municipal as (
    select
        s.area_code,
        s.month,
        j.jobseekers,
        j.unemployed,
        j.long_term_unemployed,
        j.pilot_clients,
        a.ltu_in_services,
        a.long_term_unemployed as ltu_4253,
        f.spells_started,
        f.inflow_3m,
        f.inflow_6m,
        f.inflow_12m,
        r.labour_force,
        r.unemployed as unemployed_12r5,
        r.vacancies,
        u.in_services,
        u.unemployed as unemployed_12u4
    from spine as s
    left join tem_1208 as j on j.municipality_code = s.area_code and j.month = s.month
    left join tem_4253 as a on a.municipality_code = s.area_code and a.month = s.month
    left join tem_1356 as f on f.municipality_code = s.area_code and f.month = s.month
    left join statfin_12r5 as r on r.area_code = s.area_code and r.month = s.month
    left join statfin_12u4 as u on u.area_code = s.area_code and u.month = s.month
),

group_sizes as (
    select area_code, count(*) as n_members from members group by area_code
),

grouped as (
    select
        m.area_code,
        c.month,
        -- Σ over members, or NULL when any member lacks a number (never a partial sum)
        case when count(c.jobseekers) = g.n_members then sum(c.jobseekers) end as jobseekers,
        case when count(c.unemployed) = g.n_members then sum(c.unemployed) end as unemployed,
        case when count(c.long_term_unemployed) = g.n_members then sum(c.long_term_unemployed) end
            as long_term_unemployed,
        case when count(c.pilot_clients) = g.n_members then sum(c.pilot_clients) end as pilot_clients,
        case when count(c.ltu_in_services) = g.n_members then sum(c.ltu_in_services) end
            as ltu_in_services,
        case when count(c.ltu_4253) = g.n_members then sum(c.ltu_4253) end as ltu_4253,
        case when count(c.spells_started) = g.n_members then sum(c.spells_started) end as spells_started,
        case when count(c.inflow_3m) = g.n_members then sum(c.inflow_3m) end as inflow_3m,
        case when count(c.inflow_6m) = g.n_members then sum(c.inflow_6m) end as inflow_6m,
        case when count(c.inflow_12m) = g.n_members then sum(c.inflow_12m) end as inflow_12m,
        case when count(c.labour_force) = g.n_members then sum(c.labour_force) end as labour_force,
        case when count(c.unemployed_12r5) = g.n_members then sum(c.unemployed_12r5) end
            as unemployed_12r5,
        case when count(c.vacancies) = g.n_members then sum(c.vacancies) end as vacancies,
        case when count(c.in_services) = g.n_members then sum(c.in_services) end as in_services,
        case when count(c.unemployed_12u4) = g.n_members then sum(c.unemployed_12u4) end
            as unemployed_12u4
    from members as m
    join group_sizes as g using (area_code)
    join municipal as c on c.area_code = m.municipality_code
    group by m.area_code, c.month, g.n_members
),

counts as (
    select 'municipality' as area_type, * from municipal
    union all
    select 'group', * from grouped
),

-- The spells that started k months before (k = 3, 6, 12), across year ends; NULL when that
-- month is not in the data.
final as (
    select
        c.*,
        b3.spells_started as started_3m_before,
        b6.spells_started as started_6m_before,
        b12.spells_started as started_12m_before
    from counts as c
    left join counts as b3
        on b3.area_code = c.area_code and b3.month = cast(c.month - interval 3 month as date)
    left join counts as b6
        on b6.area_code = c.area_code and b6.month = cast(c.month - interval 6 month as date)
    left join counts as b12
        on b12.area_code = c.area_code and b12.month = cast(c.month - interval 12 month as date)
)

select * from final
order by area_code, month
