-- The same measure agrees across sources: TEM 1208 and StatFin 12r5 give the same
-- jobseekers, unemployed and long-term unemployed where both have a number.
with

tem as (
    select * from staging.stg_tem_1208
),

statfin as (
    select * from staging.stg_statfin_12r5
)

select
    tem.municipality_code, tem.month,
    tem.jobseekers, statfin.jobseekers as jobseekers_12r5,
    tem.unemployed, statfin.unemployed as unemployed_12r5,
    tem.long_term_unemployed, statfin.long_term_unemployed as long_term_unemployed_12r5
from tem
join statfin on statfin.area_code = tem.municipality_code and statfin.month = tem.month
where tem.jobseekers <> statfin.jobseekers
    or tem.unemployed <> statfin.unemployed
    or tem.long_term_unemployed <> statfin.long_term_unemployed
order by all
