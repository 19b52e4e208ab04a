-- One row per area (municipality or group of municipalities) per month per indicator.
-- A group's counts are the sums of its members' counts; its rates are computed from those
-- sums with the same formula as a municipality's, never as a mean of municipal rates.
with

tem_1208 as (
    select * from staging.stg_tem_1208
),

tem_4253 as (
    select * from staging.stg_tem_4253
),

members as (
    select * from staging.area_members
),

municipal_counts as (
    select
        coalesce(j.municipality_code, s.municipality_code) as area_code,
        coalesce(j.month, s.month) as month,
        j.long_term_unemployed,
        s.ltu_in_services,
        s.long_term_unemployed as ltu_4253
    from tem_1208 as j
    full join tem_4253 as s using (municipality_code, month)
),

group_sizes as (
    select area_code, count(*) as n_members from members group by area_code
),

-- A group's sum is reported only when every member has a number for that month.
group_counts as (
    select
        m.area_code,
        c.month,
        case when count(c.long_term_unemployed) = any_value(g.n_members)
            then sum(c.long_term_unemployed) end as long_term_unemployed,
        case when count(c.ltu_in_services) = any_value(g.n_members)
            then sum(c.ltu_in_services) end as ltu_in_services,
        case when count(c.ltu_4253) = any_value(g.n_members)
            then sum(c.ltu_4253) end as ltu_4253
    from members as m
    join group_sizes as g using (area_code)
    join municipal_counts as c on c.area_code = m.municipality_code
    group by m.area_code, c.month
),

counts as (
    select * from municipal_counts
    union all
    select * from group_counts
),

final as (
    select area_code, month, 'long_term_unemployed' as indicator,
        long_term_unemployed::double as value
    from counts
    union all
    select area_code, month, 'ltu_in_services', ltu_in_services::double
    from counts
    union all
    -- aktivointiaste: 100 × palveluissa / (pitkäaikaistyöttömät + palveluissa)
    select area_code, month, 'ltu_activation_rate_pct',
        100.0 * ltu_in_services / nullif(ltu_4253 + ltu_in_services, 0)
    from counts
)

select * from final
order by area_code, indicator, month
