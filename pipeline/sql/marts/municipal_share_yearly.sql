-- Työmarkkinatuen kuntaosuus (municipal share of the labour market subsidy) per year: one
-- row per municipality per year, and one per area (e.g. the pilot area) per year, from the
-- catalogue's Kela indicators in marts.indicators_monthly (an area's month is the sum over
-- its members, the one rule for groups), with the 50 % and 70 % bands and the change from
-- the previous year (section 2.5 of the report).
with

monthly as (
    select * from marts.indicators_monthly
),

kela_names as (
    select municipality_code, year, arg_max(municipality_name, month) as name
    from staging.stg_kela_municipal_share
    where day_class = 'Yhteensä'
    group by all
),

area_names as (
    select area_code, any_value(area_name) as name
    from staging.area_members
    group by area_code
),

-- The Kela indicators side by side, one row per area and billing month.
months as (
    select
        area_code,
        month,
        max(value) filter (where indicator = 'municipal_share_eur') as municipal_share_eur,
        max(value) filter (where indicator = 'municipal_share_300_499_eur') as share_300_499_eur,
        max(value) filter (where indicator = 'municipal_share_500_999_eur') as share_500_999_eur,
        max(value) filter (where indicator = 'municipal_share_1000_plus_eur')
            as share_1000_plus_eur,
        max(value) filter (where indicator = 'subsidy_paid_eur') as paid_eur,
        max(value) filter (where indicator = 'subsidy_recipients') as recipients,
        max(members_covered) filter (where indicator = 'municipal_share_eur')
            as members_covered,
        max(members_total) as members_total
    from monthly
    group by area_code, month
),

-- Day classes under 4 recipients are published only in 199 Tuntematon, so the 50 % and 70 %
-- bands sum what is published and can fall short of the total.
yearly as (
    select
        area_code,
        area_code not like 'KU%' as is_area,
        year(month) as year,
        cast(marts.exact_sum(municipal_share_eur) as decimal(18, 2)) as municipal_share_eur,
        case
            when count(share_300_499_eur) + count(share_500_999_eur) > 0
                then cast(coalesce(marts.exact_sum(share_300_499_eur), 0)
                          + coalesce(marts.exact_sum(share_500_999_eur), 0) as decimal(18, 2))
        end as share_50_eur,
        cast(marts.exact_sum(share_1000_plus_eur) as decimal(18, 2)) as share_70_eur,
        cast(marts.exact_sum(paid_eur) as decimal(18, 2)) as paid_eur,
        marts.exact_mean(recipients) as recipients_monthly_mean,
        count(municipal_share_eur) as months_covered,
        max(members_covered) as municipalities_covered,
        cast(marts.exact_mean(municipal_share_eur) as decimal(18, 2))
            as municipal_share_monthly_mean_eur
    from months
    where municipal_share_eur is not null
    group by area_code, year(month)
),

-- A change is only stated between consecutive years that cover the same number of months.
changes as (
    select
        *,
        case
            when lag(year) over w = year - 1 and lag(months_covered) over w = months_covered
                then municipal_share_eur - lag(municipal_share_eur) over w
        end as change_eur,
        case
            when lag(year) over w = year - 1 and lag(months_covered) over w = months_covered
                and lag(municipal_share_eur) over w <> 0
                then 100 * (municipal_share_eur - lag(municipal_share_eur) over w)
                    / lag(municipal_share_eur) over w
        end as change_pct
    from yearly
    window w as (partition by area_code order by year)
),

-- A municipality in several areas (the pilot area and a 2025 employment area) is compared
-- with the pilot area, which section 2.5 is about; otherwise with its first area by code.
home_area as (
    select
        municipality_code,
        coalesce(max(area_code) filter (where area_code = 'pilot_area'), min(area_code))
            as area_code
    from staging.area_members
    group by municipality_code
),

final as (
    select
        c.area_code as municipality_code,
        coalesce(k.name, a.name) as name,
        c.is_area,
        c.year,
        c.municipal_share_eur,
        c.share_50_eur,
        c.share_70_eur,
        c.paid_eur,
        c.recipients_monthly_mean,
        c.months_covered,
        c.municipalities_covered,
        c.municipal_share_monthly_mean_eur,
        c.change_eur,
        cast(c.change_pct as double) as change_pct,
        cast(100 * c.municipal_share_eur / nullif(t.municipal_share_eur, 0) as double)
            as share_of_area_pct
    from changes as c
    left join kela_names as k on k.municipality_code = c.area_code and k.year = c.year
    left join area_names as a on a.area_code = c.area_code
    left join home_area as h on h.municipality_code = c.area_code and not c.is_area
    left join yearly as t on t.area_code = h.area_code and t.year = c.year
)

select * from final
order by is_area, municipality_code, year
