-- One row per area (municipality or group of municipalities) per month: every count (the
-- catalogue's stocks and flows, as marts.indicators_monthly publishes them) side by side,
-- a column per indicator, for tools that want a wide table.
with

counts as (
    select m.area_code, m.month, m.indicator, m.value
    from marts.indicators_monthly as m
    join marts.indicator_catalogue as c using (indicator)
    where c.kind <> 'rate'
)

pivot counts on indicator using any_value(value) group by area_code, month
order by area_code, month
