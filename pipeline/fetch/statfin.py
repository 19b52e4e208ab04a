"""StatFin (Statistics Finland) through its PxWeb API: tables 12r5 and 12u4 of ``tyonv``.

For each table:

1. GET ``…/?config``: the API's limits (``maxValues`` a query, ``maxCalls`` per
   ``timeWindow`` seconds). Read every time: they have changed over the years.
2. GET the table (``…/StatFin/tyonv/12r5.px``): its variables. Each is found by its ROLE,
   because codes get renamed (June 2026: ``Kuukausi`` → ``timeperiod_m``; other tables got
   dated codes such as ``alue_23_20260101``): time is the variable with ``"time": true``;
   contents (Tiedot) the one coded ``contentscode`` or whose values are the content codes we
   need; area the one whose values are ``SSS`` and ``KU…`` codes. Any other variable (sex,
   age group) is taken at its total ``SSS``, or left out when it may be eliminated.
3. POST the query, in parts of at most ``maxValues`` cells (split by month, then area,
   then content), paced within ``maxCalls`` per ``timeWindow``, answered as json-stat2.
4. Join the parts into one json-stat2 document, check it (every content, area and month
   asked for is there with every cell; it loads through the raw layer's own reader), and
   save it as ``statfin/<table>.json`` with ``statfin/<table>.json.manifest.json``.
   Identical bytes replace nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import numpy as np

from ..catalogue import statfin_contents
from ..readers.common import SYMBOLS, LoadContext, RawFile, RawInputError
from ..readers.jsonstat import (
    Cube,
    Dimension,
    JsonStatError,
    check_cube,
    load_statfin,
    parse_jsonstat2,
)
from . import files
from .http import FetchError, GaveUp, Http, HttpStatusError, Unreachable

DEFAULT_STATFIN_URL = "https://pxdata.stat.fi/PxWeb/api/v1/fi/StatFin"
# Table → path under the database (the short ids of June 2026).
TABLES = {"12r5": "tyonv/12r5.px", "12u4": "tyonv/12u4.px"}
OLD_LONG_IDS = {"12r5": "statfin_tyonv_pxt_12r5", "12u4": "statfin_tyonv_pxt_12u4"}
_MONTH_RE = re.compile(r"^\d{4}M(0[1-9]|1[0-2])$")
_AREA_RE = re.compile(r"^(KU\d{3}|MK\d{2})$")
_TOTAL = "SSS"


class RefusedResponse(FetchError):
    """The API answered, but not with what was asked for: nothing was saved."""


@dataclass(frozen=True)
class Limits:
    max_values: int
    max_calls: int
    time_window: float

    def as_dict(self) -> dict:
        return {"maxValues": self.max_values, "maxCalls": self.max_calls,
                "timeWindow": self.time_window}


@dataclass
class Variable:
    code: str
    text: str
    values: list[str]
    texts: list[str]
    time: bool = False
    elimination: bool = False


@dataclass
class Plan:
    """What to ask of one table: each variable's code and the values selected (None: left
    out, eliminated), and which variable plays which role."""

    table: str
    url: str
    variables: list[Variable]
    selection: dict[str, list[str] | None]
    time: Variable
    contents: Variable
    area: Variable
    title: str | None = None

    @property
    def cells(self) -> int:
        return math.prod(len(v) for v in self.selection.values() if v is not None)

    def query(self, part: dict[str, list[str]]) -> dict:
        return {"query": [{"code": code, "selection": {"filter": "item", "values": values}}
                          for code, values in part.items()],
                "response": {"format": "json-stat2"}}


@dataclass
class Saved:
    """What fetching one file did."""

    source: str
    name: str                 # '12r5', 'data.csv'
    status: str               # 'saved', 'replaced', 'unchanged'
    file: str                 # relative to the raw folder
    detail: str = ""
    sha256: str = ""
    manifest: dict = field(default_factory=dict)

    def line(self) -> str:
        verb = {"saved": "saved", "replaced": "saved (replaces the previous file)",
                "unchanged": "unchanged, nothing written"}[self.status]
        return f"{self.source} {self.name}: {verb}: {self.file}" + (
            f" ({self.detail})" if self.detail else "")


# --------------------------------------------------------------------------- limits

def config_url(statfin_url: str) -> str:
    """``https://…/PxWeb/api/v1/fi/StatFin`` → ``https://…/PxWeb/api/v1/fi/?config``."""
    parts = urlsplit(statfin_url.rstrip("/"))
    return urlunsplit(parts._replace(path=parts.path.rsplit("/", 1)[0] + "/", query="config",
                                     fragment=""))


def read_limits(http: Http, statfin_url: str) -> Limits:
    url = config_url(statfin_url)
    try:
        cfg = http.get_json(url, "StatFin API limits")
    except (Unreachable, GaveUp):
        raise
    except FetchError as e:  # 404, a web page, no host: most likely the URL given
        raise FetchError(f"{e} (is --statfin-url a PxWeb database URL such as "
                         f"{DEFAULT_STATFIN_URL}?)") from None
    try:
        limits = Limits(int(cfg["maxValues"]), int(cfg["maxCalls"]), float(cfg["timeWindow"]))
    except (TypeError, KeyError, ValueError):
        raise RefusedResponse(f"StatFin API limits: {url} did not give maxValues, maxCalls "
                              f"and timeWindow (got {json.dumps(cfg)[:200]})") from None
    if min(limits.max_values, limits.max_calls, limits.time_window) <= 0:
        raise RefusedResponse(f"StatFin API limits: {url} gave limits that are not positive: "
                              f"{limits.as_dict()}")
    http.set_rate_limit(limits.max_calls, limits.time_window)
    return limits


# --------------------------------------------------------------------------- metadata

def _variables(meta, table: str) -> list[Variable]:
    if not isinstance(meta, dict) or not isinstance(meta.get("variables"), list):
        raise RefusedResponse(f"table {table}: the metadata has no list of variables")
    out = []
    for v in meta["variables"]:
        try:
            values = [str(x) for x in v["values"]]
            texts = [str(x) for x in v.get("valueTexts") or values]
            out.append(Variable(str(v["code"]), str(v.get("text") or v["code"]), values,
                                texts, bool(v.get("time")), bool(v.get("elimination"))))
        except (TypeError, KeyError):
            raise RefusedResponse(f"table {table}: a variable of the metadata lacks its code "
                                  f"or values: {json.dumps(v)[:200]}") from None
    return out


def plan(meta, table: str, url: str, contents: list[str], areas: str | list[str],
         since: str) -> Plan:
    """Find the variables by role and choose what to ask for; RefusedResponse when the
    table lacks something asked for."""
    variables = _variables(meta, table)
    names = ", ".join(f"{v.code} ({v.text})" for v in variables)
    time = next((v for v in variables if v.time), None) or next(
        (v for v in variables if v.values and all(_MONTH_RE.match(x) for x in v.values)), None)
    if time is None:
        raise RefusedResponse(f"table {table}: no time variable (\"time\": true, or values "
                              f"like 2026M06) among {names}")
    wanted = set(contents)
    content = next((v for v in variables if v is not time and v.code.lower() == "contentscode"),
                   None) or max((v for v in variables if v is not time),
                                key=lambda v: len(wanted & set(v.values)), default=None)
    if content is None or not wanted & set(content.values):
        raise RefusedResponse(f"table {table}: no contents variable (contentscode, or values "
                              f"{sorted(wanted)}) among {names}")
    area = next((v for v in variables if v not in (time, content)
                 and any(_AREA_RE.match(x) for x in v.values)), None)
    if area is None:
        raise RefusedResponse(f"table {table}: no area variable (values SSS, KU…) among {names}")

    missing = [c for c in contents if c not in content.values]
    if missing:
        raise RefusedResponse(
            f"table {table}: the contents the indicator catalogue needs are not in the table: "
            f"{', '.join(missing)} (its {content.code} has {', '.join(content.values[:30])})")
    if areas == "all":
        area_values = list(area.values)
    else:
        absent = [a for a in areas if a not in area.values]
        if absent:
            raise RefusedResponse(f"table {table}: no area {', '.join(absent)} in {area.code}")
        chosen = set(areas)
        area_values = [a for a in area.values if a in chosen]
    months = [m for m in time.values if m >= since]
    if not months:
        raise RefusedResponse(f"table {table}: no month from {since} on (its {time.code} "
                              f"ends at {max(time.values) if time.values else 'nothing'})")

    selection: dict[str, list[str] | None] = {}
    for v in variables:
        if v is time:
            selection[v.code] = months
        elif v is content:
            selection[v.code] = [c for c in content.values if c in wanted]
        elif v is area:
            selection[v.code] = area_values
        elif _TOTAL in v.values:
            selection[v.code] = [_TOTAL]
        elif v.elimination:
            selection[v.code] = None
        else:
            raise RefusedResponse(f"table {table}: variable {v.code} ({v.text}) has no total "
                                  f"{_TOTAL} and cannot be eliminated: which of its values to "
                                  f"take is not known")
    return Plan(table, url, variables, selection, time, content, area,
                meta.get("title") if isinstance(meta, dict) else None)


def split(selection: dict[str, list[str]], order: list[str], max_values: int
          ) -> list[dict[str, list[str]]]:
    """Parts of a selection, each of at most ``max_values`` cells: the first variable of
    ``order`` is cut into runs as long as fit, then (if one value of it is still too
    much) the next, and so on."""
    total = math.prod(len(v) for v in selection.values())
    if total <= max_values:
        return [selection]
    if not order:
        raise RefusedResponse(f"a query of {total} cells cannot be split under maxValues "
                              f"{max_values}")
    code, rest_order = order[0], order[1:]
    values = selection[code]
    others = total // len(values)
    if others <= max_values:
        step = max_values // others
        return [{**selection, code: values[i:i + step]} for i in range(0, len(values), step)]
    return [part for v in values for part in split({**selection, code: [v]}, rest_order,
                                                    max_values)]


# --------------------------------------------------------------------------- the parts

def _assemble(p: Plan, parts: list[tuple[dict, Cube]]) -> Cube:
    """The parts' cells in one cube over the whole selection; RefusedResponse when a part
    answers with other variables or values than asked, or a cell is missing."""
    selected = {c: v for c, v in p.selection.items() if v is not None}
    first = parts[0][1]
    dims = []
    for d in first.dimensions:
        if d.code not in selected:
            raise RefusedResponse(f"table {p.table}: the response has a variable {d.code} that "
                                  f"was not asked for (asked: {', '.join(selected)})")
        codes = selected[d.code]
        meta_var = next(v for v in p.variables if v.code == d.code)
        labels = dict(zip(meta_var.values, meta_var.texts))
        for _, c in parts:
            for pd in c.dimensions:
                if pd.code == d.code:
                    labels.update(zip(pd.codes, pd.labels))
        role = {p.time.code: "time", p.area.code: "geo", p.contents.code: "metric"}.get(d.code)
        dims.append(Dimension(d.code, d.label, list(codes), [labels.get(x, x) for x in codes],
                              role))
    absent = [c for c in selected if c not in {d.code for d in dims}]
    if absent:
        raise RefusedResponse(f"table {p.table}: the response lacks the variable(s) "
                              f"{', '.join(absent)} that were asked for")
    shape = [len(d.codes) for d in dims]
    values = np.full(shape, np.nan)
    symbol = np.zeros(shape, dtype=np.int8)
    filled = np.zeros(shape, dtype=bool)
    sym_list = list(SYMBOLS)
    for n, (_query, c) in enumerate(parts, 1):
        if [d.code for d in c.dimensions] != [d.code for d in dims]:
            raise RefusedResponse(f"table {p.table}, part {n}: its variables "
                                  f"{[d.code for d in c.dimensions]} differ from part 1's")
        index = []
        for d, pd in zip(dims, c.dimensions):
            pos = {code: i for i, code in enumerate(d.codes)}
            stray = [x for x in pd.codes if x not in pos]
            if stray:
                raise RefusedResponse(f"table {p.table}, part {n}: {pd.code} has values that "
                                      f"were not asked for: {', '.join(stray[:5])}")
            index.append(np.array([pos[x] for x in pd.codes], dtype=np.int64))
        block = np.ix_(*index)
        values[block] = c.values.reshape(c.size)
        sym = np.zeros(c.values.size, dtype=np.int8)
        for i, s in c.symbols.items():
            sym[i] = sym_list.index(s) + 1
        symbol[block] = sym.reshape(c.size)
        filled[block] = True
    if not filled.all():
        where = np.argwhere(~filled)[0]
        cell = ", ".join(f"{d.code}={d.codes[i]}" for d, i in zip(dims, where))
        raise RefusedResponse(f"table {p.table}: {int((~filled).sum())} cell(s) asked for were "
                              f"not in any response (first: {cell})")
    flat_sym = symbol.reshape(-1)
    cube = Cube(dims, values.reshape(-1),
                {int(i): sym_list[int(flat_sym[i]) - 1] for i in np.flatnonzero(flat_sym)},
                table_id=p.table, matrix=first.matrix, title=first.title or p.title,
                source=first.source, language=first.language,
                updated=max((c.updated for _, c in parts if c.updated), default=None))
    return cube


def to_jsonstat2(cube: Cube, extension: dict | None = None) -> bytes:
    """A cube as a json-stat2 document: metadata first (the raw layer's sniffing reads the
    head), then the values. The same cube gives the same bytes."""
    px = {"tableid": cube.table_id}
    if cube.matrix:
        px["matrix"] = cube.matrix
    if cube.language:
        px["language"] = cube.language
    doc = {
        "version": "2.0", "class": "dataset", "label": cube.title, "source": cube.source,
        "updated": cube.updated, "extension": {"px": {**px, **(extension or {})}},
        "role": {r: [d.code for d in cube.dimensions if d.role == r]
                 for r in ("time", "geo", "metric")
                 if any(d.role == r for d in cube.dimensions)},
        "id": [d.code for d in cube.dimensions],
        "size": [len(d.codes) for d in cube.dimensions],
        "dimension": {d.code: {"label": d.label, "category": {
            "index": {c: i for i, c in enumerate(d.codes)},
            "label": dict(zip(d.codes, d.labels))}} for d in cube.dimensions},
        "value": [None if math.isnan(v) else (int(v) if v.is_integer() else v)
                  for v in cube.values.tolist()],
        "status": {str(i): s for i, s in sorted(cube.symbols.items())},
    }
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _explain_400(table: str, path: str, url: str, e: HttpStatusError, p: Plan | None) -> str:
    """What a 400 from PxWeb on a table most likely means."""
    tid = Path(path).stem
    if tid != table or "_pxt_" in tid or tid.startswith("statfin_"):
        return (f"table {table}: HTTP 400 from {url}: {tid!r} is the long table id used before "
                f"Statistics Finland's change of 8 June 2026; the API now answers to the short "
                f"id {table!r} (…/{TABLES.get(table, table + '.px')})")
    used = (f" (the query used {', '.join(c for c, v in p.selection.items() if v is not None)},"
            " read from the table's metadata just before)") if p else ""
    body = f"; the API said: {e.body.strip()[:160]}" if e.body.strip() else ""
    return (f"table {table}: HTTP 400 from {url}: PxWeb refused the table or the query. Likely "
            f"causes: an old long table id (such as {OLD_LONG_IDS.get(table, 'statfin_…')}; the "
            f"id is now {table!r}), or a variable code renamed since the metadata was read"
            f"{used}: run fetch again{body}")


# --------------------------------------------------------------------------- one table

def _check(cube: Cube, p: Plan) -> None:
    """What a usable response holds: every content the catalogue needs has numbers."""
    check_cube(cube)
    metric = next(i for i, d in enumerate(cube.dimensions) if d.role == "metric")
    values = cube.values.reshape([len(d.codes) for d in cube.dimensions])
    numbers = np.moveaxis(~np.isnan(values), metric, 0).reshape(len(cube.dimensions[metric].codes),
                                                                -1).any(axis=1)
    empty = [c for c, ok in zip(cube.dimensions[metric].codes, numbers) if not ok]
    if empty:
        raise RefusedResponse(f"table {p.table}: no number at all for {', '.join(empty)} "
                              "(every cell a symbol or empty)")


def _coverage(doc) -> tuple[set[str], set[str]] | None:
    """(areas, months) of a json-stat2 document this module saved; None when it is not one."""
    try:
        role, dims = doc["role"], doc["dimension"]
        return tuple(set(dims[role[r][0]]["category"]["index"]) for r in ("geo", "time"))
    except (TypeError, KeyError, IndexError):
        return None


def _check_not_narrower(target: Path, rel: str, p: Plan) -> None:
    """Refuse a response that lacks areas or months the file in place has (a fetch with a
    narrower --areas or a later --since than before): the file stays, so a quick
    ``--areas pilot`` does not replace the whole country (which ``run`` would then refuse
    as shorter, with the wider file already gone)."""
    try:
        before = _coverage(json.loads(target.read_bytes()))
    except (OSError, ValueError):
        return  # nothing (readable) in place: nothing to keep
    if before is None:
        return
    areas = set(p.selection[p.area.code])
    months = set(p.selection[p.time.code])
    lost_areas, lost_months = sorted(before[0] - areas), sorted(before[1] - months)
    if not lost_areas and not lost_months:
        return
    lacks = "; ".join(
        f"{len(lost)} of its {what} ({', '.join(lost[:5])}{' …' if len(lost) > 5 else ''})"
        for lost, what in ((lost_areas, "areas"), (lost_months, "months")) if lost)
    raise RefusedResponse(
        f"table {p.table}: the response lacks {lacks} that the file in place {rel} has; kept "
        f"that file. Fetch with the --areas and --since used before (its manifest lists "
        f"them), or delete {rel} to take the narrower file")


def _loads(tmp: Path, rel: str) -> None:
    """The file through the raw layer's own reader, in a scratch database."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("begin transaction")
        load_statfin(con, RawFile(tmp, rel, "check"), LoadContext("fetch-check",
                                                                  datetime.now(UTC)))
        con.execute("rollback")
    except RawInputError as e:
        raise RefusedResponse(f"the saved response would not load: {e}") from None
    finally:
        con.close()


def fetch_table(http: Http, statfin_url: str, table: str, raw_dir: Path, limits: Limits, *,
                areas: str | list[str], since: str, path: str | None = None,
                contents: list[str] | None = None) -> Saved:
    """Fetch one table into ``raw_dir/statfin/<table>.json``; FetchError on failure (the
    file in place, if any, stays)."""
    path = path or TABLES[table]
    url = f"{statfin_url.rstrip('/')}/{path}"
    contents = contents or statfin_contents(table)
    p = None
    try:
        meta = http.get_json(url, f"table {table} metadata")
        p = plan(meta, table, url, contents, areas, since)
        order = [p.time.code, p.area.code, p.contents.code]
        selected = {c: v for c, v in p.selection.items() if v is not None}
        queries = split(selected, order, limits.max_values)
        parts = []
        for n, q in enumerate(queries, 1):
            body = p.query(q)
            doc = http.post_json(url, body, f"table {table} query {n}/{len(queries)}")
            try:
                parts.append((q, parse_jsonstat2(doc)))
            except JsonStatError as e:
                raise RefusedResponse(f"table {table}, query {n}/{len(queries)}: not a usable "
                                      f"json-stat2 answer: {e}") from None
    except HttpStatusError as e:
        if e.status == 400:
            raise FetchError(_explain_400(table, path, url, e, p)) from None
        if e.status == 404:
            raise FetchError(f"table {table}: HTTP 404 from {url}: no such table (is the "
                             f"database path right? the default is {DEFAULT_STATFIN_URL})"
                             ) from None
        raise FetchError(f"table {table}: {e}") from None
    cube = _assemble(p, parts)
    _check(cube, p)
    data = to_jsonstat2(cube)
    target = raw_dir / "statfin" / f"{table}.json"
    rel = f"statfin/{target.name}"
    sha = hashlib.sha256(data).hexdigest()
    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    shape = (f"{cube.values.size:,} cells: {count(len(p.selection[p.area.code]), 'area')} × "
             f"{count(len(p.selection[p.time.code]), 'month')} × "
             f"{count(len(p.selection[p.contents.code]), 'content')}, "
             f"{len(queries)} quer{'y' if len(queries) == 1 else 'ies'}; updated {cube.updated}")
    manifest = {
        "source": "StatFin PxWeb API", "table": table, "file": target.name, "url": url,
        "config_url": config_url(statfin_url), "limits": limits.as_dict(),
        "variables": {"time": p.time.code, "area": p.area.code,
                      "contents": p.contents.code,
                      "others": {c: v for c, v in p.selection.items()
                                 if c not in (p.time.code, p.area.code, p.contents.code)}},
        "queries": [p.query(q) for q in queries],
        "fetched_at": http.clock.now().isoformat(timespec="seconds"),
        "sha256": sha, "bytes": len(data), "updated": cube.updated,
        "months": [p.selection[p.time.code][0], p.selection[p.time.code][-1]],
        "areas": len(p.selection[p.area.code]), "cells": int(cube.values.size),
    }
    if files.same_as_in_place(target, sha):
        # The manifest too stays, unless it is gone or describes other bytes (a fetch
        # killed between the file's rename and the manifest's): then it is written again.
        if (files.read_manifest(target) or {}).get("sha256") != sha:
            files.write_manifest(target, manifest)
        return Saved("statfin", table, "unchanged", rel, f"same bytes; {shape}", sha)
    _check_not_narrower(target, rel, p)
    existed = target.exists()
    tmp = files.write_temp(target, data)
    try:
        _loads(tmp, rel)
        files.commit(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    files.write_manifest(target, manifest)
    return Saved("statfin", table, "replaced" if existed else "saved", rel, shape, sha,
                 manifest)


def fetch_statfin(raw_dir: Path, http: Http, *, statfin_url: str = DEFAULT_STATFIN_URL,
                  areas: str | list[str] = "all", since: str = "2019M01",
                  tables: dict[str, str] | None = None) -> tuple[list[Saved], list[str]]:
    """Every table; (what was saved, the errors). Unreachable stops at once (raised)."""
    files.remove_stale_temps(raw_dir / "statfin")
    limits = read_limits(http, statfin_url)
    saved, errors = [], []
    for table, path in (tables or TABLES).items():
        try:
            saved.append(fetch_table(http, statfin_url, table, raw_dir, limits, areas=areas,
                                     since=since, path=path))
        except Unreachable:
            raise
        except FetchError as e:
            errors.append(f"statfin {e}" if str(e).startswith("table") else
                          f"statfin table {table}: {e}")
    return saved, errors
