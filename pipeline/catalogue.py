"""The indicator catalogue (indikaattoriluettelo), ``pipeline/indicators.yml``: read, checked
and written into the warehouse.

Every indicator is defined once, in that file: its names, unit, kind (stock, flow, rate), its
sources in order of preference with the raw measure each is read from, a rate's formula
(a macro of ``sql/macros.sql``) and parts, and its yearly rule. The SQL models read the
tables :func:`write_tables` makes from it (``marts.indicator_catalogue``,
``marts.indicator_sources``, ``marts.indicator_parts``, ``marts.sources``), so no model
restates a measure name, a source or a formula; Python reads :func:`catalogue`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOGUE_YML = Path(__file__).resolve().parent / "indicators.yml"
MACROS_SQL = Path(__file__).resolve().parent / "sql" / "macros.sql"

KINDS = ("stock", "flow", "rate")
UNITS = ("persons", "percent", "euros")
YEARLY = ("mean", "sum", "mean_of_months", "parts")
DEFAULT_YEARLY = {"stock": "mean", "flow": "sum", "rate": "parts"}
ABSENT = ("missing", "masked")

# The tables the catalogue becomes (marts: auditors query them beside the indicators).
TABLES = ("marts.sources", "marts.indicator_catalogue", "marts.indicator_sources",
          "marts.indicator_parts")


class CatalogueError(ValueError):
    """indicators.yml is inconsistent: names the entry and what is wrong."""


@dataclass(frozen=True)
class Source:
    id: str
    label: str       # the `source` column's value: "TEM 1208", "StatFin 12r5"
    family: str      # raw family: tem, statfin, kela
    dataset: str     # TEM report, StatFin table id, Kela dataset
    fi: str          # the Lähde: line, in Finnish
    en: str
    needs: str       # what to put in the raw folder to have it


@dataclass(frozen=True)
class SourceMeasure:
    source: str            # a Source id
    measure: str           # TEM column header, StatFin content code, Kela column
    breakdown: str | None  # Kela's day class, TEM's breakdown; None = the total
    absent: str = "missing"  # 'masked': no row means the source masked the cell


@dataclass(frozen=True)
class Part:
    indicator: str
    lag_months: int = 0


@dataclass(frozen=True)
class Indicator:
    id: str
    fi: str
    en: str
    unit: str
    kind: str
    decimals: int
    yearly: str
    monthly: bool = True
    by: str | None = None
    sources: tuple[SourceMeasure, ...] = ()    # stocks and flows
    formula: str | None = None                 # rates
    args: tuple[Part, ...] = ()
    published: tuple[SourceMeasure, ...] = ()  # a source's own figure for the same rate
    rate_sources: tuple[str, ...] = field(default=(), compare=False)  # derived

    @property
    def is_rate(self) -> bool:
        return self.kind == "rate"

    def source_ids(self) -> tuple[str, ...]:
        """The sources in order of preference (a rate's: those all its parts share)."""
        return self.rate_sources if self.is_rate else tuple(s.source for s in self.sources)


@dataclass(frozen=True)
class Catalogue:
    sources: dict[str, Source]
    indicators: dict[str, Indicator]

    def indicator(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise KeyError(f"unknown indicator {indicator_id!r}; the catalogue "
                           f"({CATALOGUE_YML.name}) has {', '.join(self.indicators)}") from None

    def source_of_label(self, label: str) -> Source | None:
        return next((s for s in self.sources.values() if s.label == label), None)

    def measures(self, source_id: str) -> list[str]:
        """Every raw measure the catalogue reads from a source (values and published rates),
        in catalogue order: what ``fetch`` asks StatFin for."""
        out: list[str] = []
        for ind in self.indicators.values():
            for sm in (*ind.sources, *ind.published):
                if sm.source == source_id and sm.measure not in out:
                    out.append(sm.measure)
        return out


def statfin_contents(dataset: str) -> list[str]:
    """The content codes (``Tiedot``/``contentscode`` values) the catalogue needs from a
    StatFin table, e.g. ``statfin_contents("12r5")``."""
    cat = catalogue()
    ids = [s.id for s in cat.sources.values() if s.family == "statfin" and s.dataset == dataset]
    if not ids:
        raise KeyError(f"the catalogue reads no StatFin table {dataset!r}")
    return [m for sid in ids for m in cat.measures(sid)]


def formulas() -> list[str]:
    """The rate formulas ``sql/macros.sql`` defines and ``marts.rate`` dispatches to."""
    text = MACROS_SQL.read_text(encoding="utf-8")
    dispatch = re.search(r"macro marts\.rate\(.*?;", text, re.S)
    defined = set(re.findall(r"create or replace macro marts\.(\w+)\(", text))
    named = set(re.findall(r"when '(\w+)' then marts\.(\w+)\(", dispatch.group(0))) \
        if dispatch else set()
    return sorted(f for f, macro in named if f == macro and f in defined)


def _fail(where: str, problem: str):
    raise CatalogueError(f"{CATALOGUE_YML.name}: {where}: {problem}")


def _source_measure(where: str, raw, sources: dict[str, Source]) -> SourceMeasure:
    if not isinstance(raw, dict) or set(raw) - {"source", "measure", "breakdown", "absent"}:
        _fail(where, f"expected {{source, measure[, breakdown, absent]}}, got {raw!r}")
    if raw.get("source") not in sources:
        _fail(where, f"unknown source {raw.get('source')!r} (sources: {', '.join(sources)})")
    if not str(raw.get("measure") or "").strip():
        _fail(where, "no measure")
    absent = raw.get("absent", "missing")
    if absent not in ABSENT:
        _fail(where, f"absent must be one of {ABSENT}, got {absent!r}")
    bd = raw.get("breakdown")
    return SourceMeasure(raw["source"], str(raw["measure"]), None if bd is None else str(bd),
                         absent)


def parse(data: dict) -> Catalogue:
    """Build and check the catalogue from the YAML's data (see indicators.yml's header)."""
    sources: dict[str, Source] = {}
    for sid, s in (data.get("sources") or {}).items():
        missing = {"label", "family", "dataset", "fi", "en", "needs"} - set(s or {})
        if missing:
            _fail(f"source {sid}", f"missing {', '.join(sorted(missing))}")
        sources[sid] = Source(sid, s["label"], s["family"], str(s["dataset"]), s["fi"],
                              s["en"], s["needs"])
    labels = [s.label for s in sources.values()]
    if len(set(labels)) != len(labels):
        _fail("sources", "two sources share a label")
    known_formulas = formulas()
    raw_inds = data.get("indicators") or {}
    indicators: dict[str, Indicator] = {}
    for iid, d in raw_inds.items():
        where = f"indicator {iid}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", iid):
            _fail(where, "ids are lower-case letters, digits and _")
        for key in ("fi", "en", "unit", "kind"):
            if not d.get(key):
                _fail(where, f"no {key}")
        if d["kind"] not in KINDS:
            _fail(where, f"kind must be one of {KINDS}")
        if d["unit"] not in UNITS:
            _fail(where, f"unit must be one of {UNITS}")
        yearly = d.get("yearly", DEFAULT_YEARLY[d["kind"]])
        if yearly not in YEARLY:
            _fail(where, f"yearly must be one of {YEARLY}")
        common = dict(id=iid, fi=d["fi"], en=d["en"], unit=d["unit"], kind=d["kind"],
                      decimals=int(d.get("decimals", 1 if d["kind"] == "rate" else 0)),
                      yearly=yearly, monthly=bool(d.get("monthly", True)), by=d.get("by"))
        published = tuple(_source_measure(f"{where} published", p, sources)
                          for p in d.get("published") or ())
        if d["kind"] == "rate":
            if d.get("sources"):
                _fail(where, "a rate takes its sources from its parts (args), not `sources`")
            if d.get("formula") not in known_formulas:
                _fail(where, f"formula {d.get('formula')!r} is not a macro that marts.rate "
                             f"dispatches to in {MACROS_SQL.name} ({', '.join(known_formulas)})")
            args = []
            for a in d.get("args") or ():
                part = Part(a) if isinstance(a, str) else Part(a.get("indicator"),
                                                               int(a.get("lag_months", 0)))
                if part.indicator not in raw_inds:
                    _fail(where, f"part {part.indicator!r} is not an indicator")
                if raw_inds[part.indicator]["kind"] == "rate":
                    _fail(where, f"part {part.indicator!r} is a rate; parts are stocks or flows")
                args.append(part)
            if len(args) != 2:
                _fail(where, "a rate's formula takes exactly two args")
            if yearly in ("mean", "sum"):
                _fail(where, "a rate's yearly rule is mean_of_months or parts")
            indicators[iid] = Indicator(**common, formula=d["formula"], args=tuple(args),
                                        published=published)
        else:
            if d.get("formula") or d.get("args"):
                _fail(where, "only a rate has a formula and args")
            sms = tuple(_source_measure(f"{where} source {i + 1}", s, sources)
                        for i, s in enumerate(d.get("sources") or ()))
            if not sms:
                _fail(where, "no sources")
            if len({s.source for s in sms}) != len(sms):
                _fail(where, "a source is listed twice")
            if yearly not in ("mean", "sum"):
                _fail(where, "a stock or flow's yearly rule is mean or sum")
            indicators[iid] = Indicator(**common, sources=sms, published=published)
    # A rate's sources: those every part has, in the first part's order of preference.
    for iid, ind in list(indicators.items()):
        if not ind.is_rate:
            continue
        if any(indicators[p.indicator].by for p in ind.args):
            _fail(f"indicator {iid}", "a part published by a breakdown cannot make a rate")
        part_sources = [indicators[p.indicator].source_ids() for p in ind.args]
        shared = tuple(s for s in part_sources[0] if all(s in ps for ps in part_sources[1:]))
        if not shared:
            _fail(f"indicator {iid}", "its parts share no source: both parts of a rate come "
                                      "from the same statistic")
        indicators[iid] = Indicator(**{**ind.__dict__, "rate_sources": shared})
    return Catalogue(sources, indicators)


@cache
def catalogue() -> Catalogue:
    """The catalogue from ``pipeline/indicators.yml`` (read once, checked)."""
    return parse(yaml.safe_load(CATALOGUE_YML.read_text(encoding="utf-8")))


# --- in the warehouse ---------------------------------------------------------------------

TABLE_DOCS = {
    "marts.sources": (
        "One row per source statistic the indicators are read from (catalogue: "
        "pipeline/indicators.yml).",
        {"source_id": "Lähteen tunnus — the catalogue's id (tem_1208, statfin_12r5, kela).",
         "source": "Lähde — the label published in the source column of the marts.",
         "family": "Raw family: tem, statfin or kela (raw.file_versions.family).",
         "dataset": "TEM report number, StatFin table id or Kela dataset.",
         "source_fi": "The figures' Lähde: line in Finnish.",
         "source_en": "The figures' source line in English.",
         "needs": "What to put in the raw folder to have this source."}),
    "marts.indicator_catalogue": (
        "One row per indicator: the one definition of each (pipeline/indicators.yml). "
        "Stocks are persons on the counting day, flows events during the month, rates are "
        "computed with the formula macro from two parts taken from the same source.",
        {"indicator": "Indikaattori — the published id (marts.indicators_monthly.indicator).",
         "name_fi": "Nimi suomeksi.",
         "name_en": "Name in English.",
         "unit": "Yksikkö — persons, percent or euros.",
         "kind": "Laji — stock (on the counting day), flow (during the month) or rate.",
         "decimals": "Decimals the sources state it to (exports round to these).",
         "yearly": "How a year is made of months: mean, sum, mean_of_months (of the monthly "
                   "rates) or parts (the formula over the yearly parts).",
         "monthly": "Published by month in marts.indicators_monthly (false: by year only).",
         "breakdown": "A breakdown it is published by instead (reason: "
                      "marts.ltu_spell_endings); NULL for none.",
         "formula": "For a rate: the macro in marts (marts.pct, marts.activation_rate_pct).",
         "sources": "Its sources in order of preference (labels)."}),
    "marts.indicator_sources": (
        "One row per indicator and source it can be read from, in order of preference: the "
        "first source with a value for an area and month gives it. A rate's sources are "
        "those its parts share. role = 'value' for a raw measure read as the indicator, "
        "'published' for a source's own figure of a rate (compared with ours by a check).",
        {"indicator": "Indikaattori.",
         "source_id": "The source's catalogue id.",
         "source": "Lähde — its label.",
         "precedence": "1 = preferred; the next is used where the first has no value.",
         "role": "value or published.",
         "measure": "The raw measure: TEM column header, StatFin content code, Kela column "
                    "(NULL for a rate: its parts have them).",
         "breakdown": "The category within the measure (Kela day class, TEM breakdown); NULL = "
                      "the total.",
         "absent": "What a missing raw row means: missing, or masked (the source hides "
                   "small cells elsewhere, Kela's 199 Tuntematon)."}),
    "marts.indicator_parts": (
        "One row per rate and argument of its formula: the indicator it is computed from and "
        "how many months earlier that part is taken.",
        {"indicator": "The rate.",
         "position": "1 or 2: the argument of the formula macro.",
         "part": "The indicator the argument is.",
         "lag_months": "0, or k for a part taken k months earlier (spells started)."}),
}


def rows() -> dict[str, list[tuple]]:
    """The catalogue as the rows of its four tables."""
    cat = catalogue()
    src = [(s.id, s.label, s.family, s.dataset, s.fi, s.en, s.needs)
           for s in cat.sources.values()]
    ind, srcs, parts = [], [], []
    for i in cat.indicators.values():
        ind.append((i.id, i.fi, i.en, i.unit, i.kind, i.decimals, i.yearly, i.monthly, i.by,
                    i.formula, [cat.sources[s].label for s in i.source_ids()]))
        if i.is_rate:
            for n, sid in enumerate(i.rate_sources, 1):
                srcs.append((i.id, sid, cat.sources[sid].label, n, "value", None, None,
                             "missing"))
            for n, p in enumerate(i.args, 1):
                parts.append((i.id, n, p.indicator, p.lag_months))
        else:
            for n, sm in enumerate(i.sources, 1):
                srcs.append((i.id, sm.source, cat.sources[sm.source].label, n, "value",
                             sm.measure, sm.breakdown, sm.absent))
        for sm in i.published:
            srcs.append((i.id, sm.source, cat.sources[sm.source].label, None, "published",
                         sm.measure, sm.breakdown, sm.absent))
    return {"marts.sources": src, "marts.indicator_catalogue": ind,
            "marts.indicator_sources": srcs, "marts.indicator_parts": parts}


DDL = {
    "marts.sources": "source_id VARCHAR, source VARCHAR, family VARCHAR, dataset VARCHAR, "
                     "source_fi VARCHAR, source_en VARCHAR, needs VARCHAR",
    "marts.indicator_catalogue": "indicator VARCHAR, name_fi VARCHAR, name_en VARCHAR, "
                                 "unit VARCHAR, kind VARCHAR, decimals INTEGER, "
                                 "yearly VARCHAR, monthly BOOLEAN, breakdown VARCHAR, "
                                 "formula VARCHAR, sources VARCHAR[]",
    "marts.indicator_sources": "indicator VARCHAR, source_id VARCHAR, source VARCHAR, "
                               "precedence INTEGER, role VARCHAR, measure VARCHAR, "
                               "breakdown VARCHAR, absent VARCHAR",
    "marts.indicator_parts": "indicator VARCHAR, position INTEGER, part VARCHAR, "
                             "lag_months INTEGER",
}


def write_tables(con) -> dict[str, int]:
    """Replace the catalogue's tables (in the caller's transaction); row counts."""
    from .models import document

    con.execute("create schema if not exists marts")
    counts = {}
    for table, data in rows().items():
        con.execute(f"create or replace table {table} ({DDL[table]})")
        if data:
            marks = ", ".join("?" * len(data[0]))
            con.executemany(f"insert into {table} values ({marks})", data)
        description, columns = TABLE_DOCS[table]
        document(con, table, description, columns)
        counts[table] = len(data)
    return counts


def describe_indicators() -> str:
    """One line per indicator, for docs and asset descriptions:
    id (Finnish name / English name, kind, unit = formula; sources)."""
    cat = catalogue()
    lines = []
    for i in cat.indicators.values():
        srcs = ", ".join(cat.sources[s].label for s in i.source_ids())
        how = ""
        if i.is_rate:
            a, b = (f"{p.indicator}" + (f" {p.lag_months} months earlier" if p.lag_months
                                        else "") for p in i.args)
            how = f" = marts.{i.formula}({a}, {b})"
        lines.append(f"{i.id} ({i.fi} / {i.en}, {i.kind}, {i.unit}{how}; {srcs})")
    return "; ".join(lines)


def version() -> str:
    """A hash of indicators.yml: the catalogue asset's code version."""
    import hashlib

    return hashlib.sha256(CATALOGUE_YML.read_bytes()).hexdigest()[:12]
