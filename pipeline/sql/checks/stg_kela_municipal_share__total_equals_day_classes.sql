-- Kela: a month's total municipal share equals the sum of its day classes (300-499,
-- 500-999, 1000 tai yli) wherever no class was masked into '199 Tuntematon'.
select municipality_code, month, municipal_share_eur,
    share_300_499_eur + share_500_999_eur + share_1000_plus_eur as day_classes_sum
from staging.stg_kela_municipal_share
where share_300_499_eur is not null and share_500_999_eur is not null
    and share_1000_plus_eur is not null
    and municipal_share_eur <> share_300_499_eur + share_500_999_eur + share_1000_plus_eur
order by all
