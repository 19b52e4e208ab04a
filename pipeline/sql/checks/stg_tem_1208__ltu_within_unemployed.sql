-- Long-term unemployed ≤ unemployed ≤ jobseekers (TEM 1208), month by month.
select municipality_code, month, long_term_unemployed, unemployed, jobseekers
from staging.stg_tem_1208
where long_term_unemployed > unemployed or unemployed > jobseekers
order by all
