-- severity: warn
-- An inflow into k months' unemployment should not exceed the spells started k months
-- before (a spell can also restart, so this warns instead of stopping).
select area_code, month, 'inflow_3m' as measure, inflow_3m as inflow,
    started_3m_before as started
from marts.area_month_counts where inflow_3m > started_3m_before
union all
select area_code, month, 'inflow_6m', inflow_6m, started_6m_before
from marts.area_month_counts where inflow_6m > started_6m_before
union all
select area_code, month, 'inflow_12m', inflow_12m, started_12m_before
from marts.area_month_counts where inflow_12m > started_12m_before
order by all
