-- TEM 4253's long-term unemployed equal 1208's for the same municipality and month.
select a.municipality_code, a.month, a.long_term_unemployed as ltu_4253,
    j.long_term_unemployed as ltu_1208
from staging.stg_tem_4253 as a
join staging.stg_tem_1208 as j using (municipality_code, month)
where a.long_term_unemployed <> j.long_term_unemployed
order by all
