-- Työmarkkinatuen kuntaosuus (municipal share of the labour market subsidy) per year:
-- one row per municipality per year, and one per area (e.g. the pilot area) per year.

with

monthly as (

    select * from staging.stg_kela_municipal_share

),

area_members as (

    select * from staging.area_members

),

municipality_months as (

    select
        municipality_code,
        municipality_name as name,
        false as is_area,
        year,
        month,
        municipal_share_eur,
        share_300_499_eur,
        share_500_999_eur,
        share_1000_plus_eur,
        paid_eur,
        recipients,
        municipality_code as member_code
    from monthly

),

-- An area's month is the sum of its members' months (members without data add nothing).
area_months as (

    select
        area_members.area_code as municipality_code,
        any_value(area_members.area_name) as name,
        true as is_area,
        municipality_months.year,
        municipality_months.month,
        sum(municipality_months.municipal_share_eur) as municipal_share_eur,
        sum(municipality_months.share_300_499_eur) as share_300_499_eur,
        sum(municipality_months.share_500_999_eur) as share_500_999_eur,
        sum(municipality_months.share_1000_plus_eur) as share_1000_plus_eur,
        sum(municipality_months.paid_eur) as paid_eur,
        sum(municipality_months.recipients) as recipients,
        null as member_code
    from municipality_months
    inner join area_members
        on area_members.municipality_code = municipality_months.municipality_code
    group by area_members.area_code, municipality_months.year, municipality_months.month

),

area_members_covered as (

    select
        area_members.area_code as municipality_code,
        municipality_months.year,
        count(distinct municipality_months.municipality_code) as municipalities_covered
    from municipality_months
    inner join area_members
        on area_members.municipality_code = municipality_months.municipality_code
    group by area_members.area_code, municipality_months.year

),

all_months as (

    select * from municipality_months
    union all by name
    select * from area_months

),

-- Day classes under 4 recipients are published only in 199 Tuntematon, so the 50 % and 70 %
-- bands sum what is published and can fall short of the total.
yearly as (

    select
        municipality_code,
        arg_max(name, month) as name,
        is_area,
        year,
        sum(municipal_share_eur) as municipal_share_eur,
        case
            when count(share_300_499_eur) + count(share_500_999_eur) > 0
                then coalesce(sum(share_300_499_eur), 0) + coalesce(sum(share_500_999_eur), 0)
        end as share_50_eur,
        sum(share_1000_plus_eur) as share_70_eur,
        sum(paid_eur) as paid_eur,
        avg(recipients) as recipients_monthly_mean,
        count(*) as months_covered,
        cast(sum(municipal_share_eur) / count(*) as decimal(18, 2)) as municipal_share_monthly_mean_eur
    from all_months
    group by municipality_code, is_area, year

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
    window w as (partition by municipality_code order by year)

),

-- A municipality in several areas (the pilot area and a 2025 employment area) is compared
-- with the pilot area, which section 2.5 is about; otherwise with its first area by code.
home_area as (

    select
        municipality_code,
        coalesce(max(area_code) filter (where area_code = 'pilot_area'), min(area_code))
            as area_code
    from area_members
    group by municipality_code

),

area_totals as (

    select
        municipality_code as area_code,
        year,
        municipal_share_eur as area_share_eur
    from yearly
    where is_area

),

final as (

    select
        changes.municipality_code,
        changes.name,
        changes.is_area,
        changes.year,
        changes.municipal_share_eur,
        changes.share_50_eur,
        changes.share_70_eur,
        changes.paid_eur,
        changes.recipients_monthly_mean,
        changes.months_covered,
        coalesce(area_members_covered.municipalities_covered, 1) as municipalities_covered,
        changes.municipal_share_monthly_mean_eur,
        changes.change_eur,
        cast(changes.change_pct as double) as change_pct,
        cast(
            100 * changes.municipal_share_eur / nullif(area_totals.area_share_eur, 0) as double
        ) as share_of_area_pct
    from changes
    left join home_area
        on home_area.municipality_code = changes.municipality_code
        and not changes.is_area
    left join area_totals
        on area_totals.area_code = home_area.area_code
        and area_totals.year = changes.year
    left join area_members_covered
        on area_members_covered.municipality_code = changes.municipality_code
        and area_members_covered.year = changes.year
        and changes.is_area

)

select * from final
order by is_area, municipality_code, year
