-- A group's counts equal the sum of its members' counts (pilot_area = Σ its municipalities)
-- wherever every member has a number.
with

members as (
    select * from staging.area_members
),

group_sizes as (
    select area_code, count(*) as n_members from members group by area_code
),

counts as (
    select * from marts.indicators_monthly where indicator not like '%_pct'
),

summed as (
    select m.area_code, c.month, c.indicator, sum(c.value) as members_sum,
        count(c.value) as n_values
    from members as m
    join counts as c on c.area_code = m.municipality_code
    group by all
)

select s.area_code, s.month, s.indicator, g.value as group_value, s.members_sum
from summed as s
join group_sizes as z using (area_code)
join counts as g using (area_code, month, indicator)
where s.n_values = z.n_members and g.value is distinct from s.members_sum
order by all
