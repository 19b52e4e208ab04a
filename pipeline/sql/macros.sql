-- The indicators' formulas, defined once and used by every mart (municipality or group,
-- month or year). They are stored in the warehouse: `select * from duckdb_functions()
-- where schema_name = 'marts'` shows them to an auditor.

-- A share in percent: 100 × part / whole; NULL when the whole is 0 or missing.
create or replace macro marts.pct(part, whole) as
    100.0 * part / nullif(whole, 0);

-- Aktivointiaste (activation rate), Statistics Finland's definition:
-- 100 × palveluissa / (työttömät + palveluissa). Also the LTU activation rate (TEM 4253)
-- with long-term unemployed in services and long-term unemployed.
create or replace macro marts.activation_rate_pct(in_services, unemployed) as
    100.0 * in_services / nullif(unemployed + in_services, 0);

-- The catalogue's rates (pipeline/indicators.yml, `formula:`) by name: each formula is a
-- macro above, called here with the rate's two parts. A new formula is a macro and a line.
create or replace macro marts.rate(formula, a, b) as
    case formula
        when 'pct' then marts.pct(a, b)
        when 'activation_rate_pct' then marts.activation_rate_pct(a, b)
    end;

-- Kuntakoodi (municipality code) in StatFin's form, from however a source writes it: TEM's
-- area '564 Oulu', Kela's kunta_nro '91' or 91, 'ku564' -> KU564, KU091. Codes of other
-- areas (SSS, MK17) are returned upper-cased as they are. The one normaliser: SQL models
-- and Python (pipeline.areas.municipality_code) both call this.
create or replace macro marts.municipality_code(x) as
    case
        when regexp_matches(trim(cast(x as varchar)), '^(?i:ku)?[0-9]{1,3}(\s.*)?$')
            then 'KU' || lpad(regexp_extract(trim(cast(x as varchar)),
                                             '^(?i:ku)?([0-9]{1,3})', 1), 3, '0')
        else upper(trim(cast(x as varchar)))
    end;

-- Sums and means of counts and euros, exactly: summed as decimals (to 6 places, more than any
-- source states) so the result does not depend on the order rows arrive in, which a double
-- sum does (a rerun must change no value). Rates are never summed.
create or replace macro marts.exact_sum(x) as
    cast(sum(cast(x as decimal(38, 6))) as double);

create or replace macro marts.exact_mean(x) as
    cast(sum(cast(x as decimal(38, 6))) / count(x) as double);

-- What a statistical symbol in place of a number means (Statistics Finland's and TEM's).
create or replace macro marts.symbol_meaning(symbol) as
    case symbol
        when '...' then 'confidential'
        when '..' then 'not available'
        when '.' then 'not applicable'
        when '-' then 'nil'
        else 'symbol'
    end;
