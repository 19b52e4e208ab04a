-- Long-term unemployed ≤ unemployed for every area and month (groups included).
with

wide as (
    select
        area_code,
        month,
        max(value) filter (where indicator = 'long_term_unemployed') as long_term_unemployed,
        max(value) filter (where indicator = 'unemployed') as unemployed
    from marts.indicators_monthly
    group by all
)

select * from wide
where long_term_unemployed > unemployed
order by all
