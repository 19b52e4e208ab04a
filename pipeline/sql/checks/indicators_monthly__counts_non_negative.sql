-- Counts and rates are never negative, and rates are at most 100 %.
select area_code, month, indicator, value
from marts.indicators_monthly
where value < 0 or (indicator like '%_pct' and value > 100)
order by all
