-- What a run could and could not produce: one row per indicator × area × month, saying
-- whether the published value is present, partial (a group missing members), suppressed in
-- its source (a statistical symbol such as '...'), masked (Kela's day classes of under 4
-- recipients, published only in 199 Tuntematon), or missing — and why: which source has it,
-- or which raw file would give it. Built from the catalogue (marts.indicator_sources) and the
-- marts, so a new indicator is covered without editing this file.
with

monthly as (
    select * from marts.indicators_monthly
),

candidates as (
    select * from marts.indicator_values_by_source
),

indicator_sources as (
    select s.*, src.family, src.dataset, src.needs
    from marts.indicator_sources as s
    join marts.sources as src using (source_id)
    where s.role = 'value'
),

source_values as (
    select * from staging.stg_source_values
),

members as (
    select * from staging.area_members
),

-- What each source dataset holds: its months, and which areas and months it has rows for.
loaded as (
    select family, dataset, min(month) as first_month, max(month) as last_month
    from source_values
    group by family, dataset
),

source_area_months as (
    select distinct family, dataset, area_code, month from source_values
),

spelled as (
    select
        i.indicator,
        i.source,
        i.precedence,
        i.absent,
        i.family,
        i.dataset,
        case
            when l.first_month is null then 'needs ' || i.needs
            else i.source || ' covers ' || strftime(l.first_month, '%Y-%m') || '–'
                || strftime(l.last_month, '%Y-%m')
        end as what_it_holds,
        l.first_month,
        l.last_month
    from indicator_sources as i
    left join loaded as l using (family, dataset)
),

-- Municipalities: the published value, or why there is none.
municipal as (
    select m.*
    from monthly as m
    where m.area_code not in (select area_code from members)
),

-- A symbol in place of the number: '...' (confidential) is a suppression; the others
-- ('..' not available …) say the source has no number.
symbols as (
    select area_code, month, indicator,
        bool_or(contains(symbol, '...')) as confidential,
        string_agg(source || ' ''' || symbol || ''' (' || marts.symbol_meaning(symbol) || ')',
                   '; ' order by precedence) as detail
    from candidates
    where area_type = 'municipality' and value is null and symbol is not null
    group by all
),

masked as (
    select m.area_code, m.month, m.indicator,
        string_agg(s.source || ' masks it (a class of under 4 recipients is published only '
                   || 'in 199 Tuntematon)', '; ' order by s.precedence) as detail
    from municipal as m
    join spelled as s on s.indicator = m.indicator and s.absent = 'masked'
    join source_area_months as sam
        on sam.family = s.family and sam.dataset = s.dataset
        and sam.area_code = m.area_code and sam.month = m.month
    where m.value is null
    group by all
),

missing as (
    select m.area_code, m.month, m.indicator,
        string_agg(
            case
                when s.first_month is null then s.what_it_holds
                when m.month < s.first_month or m.month > s.last_month then s.what_it_holds
                else s.source || ' has no value for it'
            end, '; ' order by s.precedence) filter (where c.symbol is null) as detail
    from municipal as m
    join spelled as s on s.indicator = m.indicator
    left join candidates as c
        on c.area_type = 'municipality' and c.area_code = m.area_code
        and c.month = m.month and c.indicator = m.indicator and c.source = s.source
    where m.value is null
    group by all
),

municipal_status as (
    select
        m.indicator,
        m.area_code,
        m.month,
        case
            when m.value is not null then 'present'
            when y.confidential then 'suppressed'
            when k.detail is not null then 'masked'
            else 'missing'
        end as status,
        m.source,
        m.members_covered,
        m.members_total,
        case
            when m.value is not null then null
            when y.confidential then y.detail
            when k.detail is not null then k.detail
            else concat_ws('; ', y.detail, x.detail)
        end as reason
    from municipal as m
    left join symbols as y using (area_code, month, indicator)
    left join masked as k using (area_code, month, indicator)
    left join missing as x using (area_code, month, indicator)
),

-- Groups: present when every member is in the value, partial when some are; otherwise what
-- their members say (suppressed before masked before missing). A member with no row at all
-- is in no raw file. Members with the same reason are named together ('KU072, KU139: …').
member_status as (
    select
        g.area_code,
        g.month,
        g.indicator,
        coalesce(ms.status, 'missing') as status,
        coalesce(ms.reason, 'in no raw file') as reason,
        mb.municipality_code
    from monthly as g
    join members as mb on mb.area_code = g.area_code
    left join municipal_status as ms
        on ms.area_code = mb.municipality_code and ms.month = g.month
        and ms.indicator = g.indicator
),

member_reasons as (
    select area_code, month, indicator, status, reason,
        count(*) as members,
        string_agg(municipality_code, ', ' order by municipality_code) as codes,
        min(municipality_code) as first_code
    from member_status
    where status <> 'present'
    group by all
),

member_summary as (
    select
        area_code,
        month,
        indicator,
        coalesce(sum(members) filter (where status = 'suppressed'), 0) as suppressed,
        coalesce(sum(members) filter (where status = 'masked'), 0) as masked,
        string_agg(codes || ': ' || reason, '; ' order by first_code) as member_reasons
    from member_reasons
    group by all
),

group_status as (
    select
        g.indicator,
        g.area_code,
        g.month,
        case
            when g.value is not null and g.members_covered = g.members_total then 'present'
            when g.value is not null then 'partial'
            when s.suppressed > 0 then 'suppressed'
            when s.masked > 0 then 'masked'
            else 'missing'
        end as status,
        g.source,
        g.members_covered,
        g.members_total,
        case
            when g.value is not null and g.members_covered = g.members_total then null
            when g.value is not null then
                g.members_covered || ' of ' || g.members_total || ' municipalities ('
                || g.source || ')' || coalesce('; ' || s.member_reasons, '')
            else coalesce(s.member_reasons, 'no member municipality has data')
        end as reason
    from monthly as g
    left join member_summary as s using (area_code, month, indicator)
    where g.area_code in (select area_code from members)
),

-- Indicators published by a breakdown (TTV15's spells ended, by reason, in
-- marts.ltu_spell_endings): a month is present when every reason's cell is a number.
by_breakdown as (
    select distinct m.area_code, m.month, m.members_total, c.indicator
    from monthly as m
    cross join marts.indicator_catalogue as c
    where c.breakdown is not null
),

endings as (
    select area_code, cast(strptime(period, '%Y-%m') as date) as month,
        count(spells) as numbers, sum(masked_cells) as masked,
        max(members_covered) as members_covered, any_value(source) as source
    from marts.ltu_spell_endings
    where period_type = 'month'
    group by all
),

breakdown_missing as (
    select b.area_code, b.month, b.indicator,
        string_agg(
            case
                when s.first_month is null or b.month < s.first_month or b.month > s.last_month
                    then s.what_it_holds
                else s.source || ' has no value for it'
            end, '; ' order by s.precedence) as detail
    from by_breakdown as b
    join spelled as s using (indicator)
    group by all
),

breakdown_status as (
    select
        b.indicator,
        b.area_code,
        b.month,
        case
            when e.numbers > 0 and e.masked = 0 and e.members_covered = b.members_total
                then 'present'
            when e.numbers > 0 then 'partial'
            when e.masked > 0 then 'suppressed'
            else 'missing'
        end as status,
        case when e.numbers > 0 then e.source end as source,
        coalesce(e.members_covered, 0) as members_covered,
        b.members_total,
        case
            when e.numbers > 0 and e.masked = 0 and e.members_covered = b.members_total
                then null
            when e.masked > 0 then e.masked || ' cell(s) masked (''...'') in ' || e.source
                || ', left out of the sums'
            when e.numbers > 0 then e.members_covered || ' of ' || b.members_total
                || ' municipalities (' || e.source || ')'
            else x.detail
        end as reason
    from by_breakdown as b
    left join endings as e using (area_code, month)
    left join breakdown_missing as x using (area_code, month, indicator)
),

final as (
    select * from municipal_status
    union all
    select * from group_status
    union all
    select * from breakdown_status
)

select * from final
order by indicator, area_code, month
