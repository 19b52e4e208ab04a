-- Kela: a month's total municipal share equals the sum of its day classes (300-499,
-- 500-999, 1000 tai yli) wherever no class was masked into '199 Tuntematon'.
with

classes as (
    select
        municipality_code,
        month,
        sum(kunta_osuus_eur) filter (where day_class <> 'Yhteensä') as day_classes_sum,
        count(kunta_osuus_eur) filter (where day_class <> 'Yhteensä') as day_classes,
        any_value(kunta_osuus_eur) filter (where day_class = 'Yhteensä') as municipal_share_eur
    from staging.stg_kela_municipal_share
    group by all
)

select municipality_code, month, municipal_share_eur, day_classes_sum
from classes
where day_classes = 3 and municipal_share_eur <> day_classes_sum
order by all
