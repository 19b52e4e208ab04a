-- StatFin's published unemployment rate (TYOTOSUUS, one decimal) agrees with
-- 100 × unemployed / labour force recomputed from the same file.
select area_code, month, unemployment_rate_pct_published,
    marts.pct(unemployed, labour_force) as recomputed
from staging.stg_statfin_12r5
where abs(unemployment_rate_pct_published - marts.pct(unemployed, labour_force))
    > 0.05 + 1e-9  -- half a unit of the last decimal, plus float noise
order by all
