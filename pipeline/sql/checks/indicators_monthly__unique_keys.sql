-- Keys are unique: one value per area, month and indicator.
select area_code, month, indicator, count(*) as n
from marts.indicators_monthly
group by all
having count(*) > 1
