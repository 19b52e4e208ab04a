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
