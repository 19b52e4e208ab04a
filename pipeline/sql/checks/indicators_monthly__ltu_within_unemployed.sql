-- Long-term unemployed ≤ unemployed ≤ jobseekers for every area and month (groups included).
with

wide as (
    select
        area_code,
        month,
        max(value) filter (where indicator = 'long_term_unemployed') as long_term_unemployed,
        max(value) filter (where indicator = 'unemployed') as unemployed,
        max(value) filter (where indicator = 'jobseekers') as jobseekers
    from marts.indicators_monthly
    group by all
)

select * from wide
where long_term_unemployed > unemployed or unemployed > jobseekers
order by all
