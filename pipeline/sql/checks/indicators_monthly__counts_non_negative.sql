-- Persons and rates are never negative, and rates are at most 100 % (euros can be: Kela's
-- refunds).
select m.area_code, m.month, m.indicator, m.value
from marts.indicators_monthly as m
join marts.indicator_catalogue as c using (indicator)
where (c.unit <> 'euros' and m.value < 0) or (c.unit = 'percent' and m.value > 100)
order by all
