-- StatFin's published activation rate (AKTASTE, one decimal) agrees with
-- 100 × in services / (unemployed + in services) recomputed from the same cells.
select area_code, sex, age_group, month, activation_rate_pct_published,
    marts.activation_rate_pct(in_services, unemployed) as recomputed
from staging.stg_statfin_12u4
where abs(activation_rate_pct_published - marts.activation_rate_pct(in_services, unemployed))
    > 0.05 + 1e-9  -- half a unit of the last decimal, plus float noise
order by all
