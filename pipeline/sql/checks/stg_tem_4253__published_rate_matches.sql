-- TEM's published LTU activation rate (one decimal) agrees with 100 × S / (L + S) recomputed.
select municipality_code, month, ltu_activation_rate_pct_published,
    100.0 * ltu_in_services / nullif(long_term_unemployed + ltu_in_services, 0) as recomputed
from staging.stg_tem_4253
where abs(ltu_activation_rate_pct_published
          - 100.0 * ltu_in_services / nullif(long_term_unemployed + ltu_in_services, 0)) > 0.05 + 1e-9  -- half a unit of the last decimal, plus float noise
order by all
