-- A group's count equals the sum of its members' published counts (pilot_area = Σ its
-- municipalities) wherever it covers every member and each member's count comes from the
-- group's source.
with

members as (
    select * from staging.area_members
),

counts as (
    select m.*
    from marts.indicators_monthly as m
    join marts.indicator_catalogue as c using (indicator)
    where c.kind <> 'rate'
),

groups as (
    select * from counts where area_code in (select area_code from members)
        and value is not null and members_covered = members_total
),

summed as (
    select g.area_code, g.month, g.indicator, marts.exact_sum(c.value) as members_sum,
        count(c.value) filter (where c.source = g.source) as from_group_source
    from groups as g
    join members as m on m.area_code = g.area_code
    join counts as c
        on c.area_code = m.municipality_code and c.month = g.month
        and c.indicator = g.indicator
    group by all
)

select g.area_code, g.month, g.indicator, g.value as group_value, s.members_sum
from groups as g
join summed as s using (area_code, month, indicator)
where s.from_group_source = g.members_total and g.value is distinct from s.members_sum
order by all
