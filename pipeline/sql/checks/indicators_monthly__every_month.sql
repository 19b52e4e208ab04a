-- Every area has every month of the data for every indicator (no gaps, no missing area).
with

months as (
    select distinct month from marts.indicators_monthly
),

areas as (
    select distinct area_code, indicator from marts.indicators_monthly
),

expected as (
    select * from areas cross join months
)

select e.area_code, e.indicator, e.month
from expected as e
anti join marts.indicators_monthly as i using (area_code, indicator, month)
order by all
