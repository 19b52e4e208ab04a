-- One row per area (municipality or group of municipalities) per month per indicator: the
-- value of the first source in the indicator's catalogue order that has one (for a group:
-- the source covering most members, then the first in order), with that source beside it.
-- Every area has a row for every month and indicator; the value is NULL where no source has
-- one, and audit.coverage says why.
with

candidates as (
    select * from marts.indicator_values_by_source
),

catalogue as (
    select * from marts.indicator_catalogue where monthly and breakdown is null
),

areas as (
    select distinct area_code, area_type from candidates
),

months as (
    select distinct month from candidates
),

-- The area's members: 1 for a municipality; a group's from the catalogue-independent list.
members as (
    select area_code, count(*) as members_total from staging.area_members group by area_code
),

spine as (
    select a.area_code, a.area_type, m.month, c.indicator
    from areas as a
    cross join months as m
    cross join catalogue as c
),

chosen as (
    select *
    from candidates
    where value is not null
    qualify row_number() over (
        partition by area_code, month, indicator
        order by members_covered desc, precedence
    ) = 1
),

final as (
    select
        s.area_code,
        s.month,
        s.indicator,
        c.value,
        c.source,
        coalesce(c.members_covered, 0) as members_covered,
        coalesce(mb.members_total, 1) as members_total
    from spine as s
    left join chosen as c using (area_code, month, indicator)
    left join members as mb on mb.area_code = s.area_code and s.area_type = 'group'
)

select * from final
order by area_code, indicator, month
