"""StatFin PxWeb API responses (JSON) as raw files: json-stat2, and PxWeb's own ``json``.

``python -m pipeline fetch`` saves each StatFin table as one json-stat2 document
(``data/raw/statfin/12r5.json``); a response downloaded by hand in PxWeb's ``json`` format
(``{"columns": [...], "data": [{"key": [...], "values": [...]}], "metadata": [...]}``, as
``shared/real/pxweb/12r5_2026M06_all_areas.json``) is read too. Both load into the SAME raw
tables the PX reader fills (``raw.statfin_files``, ``raw.statfin_variables``,
``raw.statfin_values``, ``raw.statfin_cells``, ``raw.statfin_symbols``) with the same cell
arithmetic, so the views ``raw.statfin_12r5`` / ``raw.statfin_12u4``, staging, lineage and
revisions treat a JSON file like a PX file of the same table.

A response is a cube: its dimensions in order, the last varying fastest (json-stat2's
``value`` array is row-major in ``id`` order, exactly PX's DATA order). Variables are found
by their ROLE, not their name, because Statistics Finland renames codes (June 2026:
``Kuukausi`` → ``timeperiod_m``, and dated codes such as ``alue_23_20260101``): json-stat2's
``role.time`` / ``role.geo`` / ``role.metric`` (in PxWeb's json: column ``type`` ``t`` and
``c``), else the codes themselves (``2026M06`` months, ``KU564`` areas). The view columns are
then ``month``, ``area_code`` and ``content_code`` whatever the API called them.

Cells: a number is a cell; a ``null`` value with a statistical symbol in ``status`` (``...``
salassapidettävä / confidential …) is a symbol cell; a ``null`` without one is stored as
``..`` (not available), as PX writes it. The place of a cell is ``value N``: its 0-based
position in the cube (json-stat2's ``value[N]``).

:func:`sniff_statfin` and :func:`load_statfin` are the "statfin" family's entry points: they
send PX files to :mod:`pipeline.readers.px` and JSON responses here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa

from . import px
from .common import SYMBOLS, LoadContext, RawFile, RawInputError, create_file_versions

# How much of a file sniffing reads: a json-stat2 document's metadata comes before its
# values (PxWeb's order, and ours), so the head says what it is.
_SNIFF_BYTES = 256 << 10
_MONTH_RE = re.compile(r"^\d{4}M(0[1-9]|1[0-2])$")
_AREA_CODE_RE = re.compile(r"^(KU\d{3}|MK\d{2}|SK\d{3}|ELY\d+|SSS)$")
_TABLE_TOKEN_RE = re.compile(r"^\d+[a-z][0-9a-z]*$")
_PERIOD_TOKEN_RE = re.compile(r"^\d{4}[mq]\d+$")
_ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})[:.](\d{2}))?")

_AREA_NAMES = {"alue", "område", "region", "area"}
_SEX_NAMES = {"sukupuoli", "kön", "sex"}
_AGE_NAMES = {"ikäryhmät", "ikäryhmä", "åldersgrupp", "age group", "ikä", "age"}
_CONTENT_CODES = {"contentscode", "tiedot"}


class JsonStatError(ValueError):
    """A response that is not a usable cube: ``place`` says where (``value[12]``, ``id``)."""

    def __init__(self, place: str | None, problem: str):
        self.place, self.problem = place, problem
        super().__init__(f"{place}: {problem}" if place else problem)


@dataclass
class Dimension:
    """One variable of a cube: the API's code, its text, its value codes and labels, and the
    role it plays (``time``, ``geo``, ``metric`` or None)."""

    code: str
    label: str
    codes: list[str]
    labels: list[str]
    role: str | None = None


@dataclass
class Cube:
    """A StatFin table (or a slice of one) as read from a PxWeb response."""

    dimensions: list[Dimension]
    values: np.ndarray                 # float64, one per cell, NaN where a symbol is
    symbols: dict[int, str] = field(default_factory=dict)  # cell index -> symbol
    table_id: str | None = None        # short id, '12r5'
    matrix: str | None = None
    title: str | None = None
    source: str | None = None
    updated: str | None = None         # as the response writes it (ISO 8601)
    language: str | None = None
    format: str = "json-stat2"

    @property
    def size(self) -> list[int]:
        return [len(d.codes) for d in self.dimensions]

    def by_role(self, role: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.role == role), None)


# --------------------------------------------------------------------------- parsing

def _categories(dim_id: str, dim: dict) -> tuple[list[str], list[str]]:
    """A json-stat2 dimension's category codes in index order, and their labels."""
    if not isinstance(dim, dict) or not isinstance(dim.get("category"), dict):
        raise JsonStatError(f"dimension {dim_id}", "has no category object")
    cat = dim["category"]
    index, label = cat.get("index"), cat.get("label") or {}
    if isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, dict):
        try:
            codes = [str(c) for c, _ in sorted(index.items(), key=lambda kv: int(kv[1]))]
        except (TypeError, ValueError):
            raise JsonStatError(f"dimension {dim_id}", "category.index positions are not "
                                                       "numbers") from None
        if sorted(int(p) for p in index.values()) != list(range(len(codes))):
            raise JsonStatError(f"dimension {dim_id}", "category.index positions are not "
                                                       "0 … n-1")
    elif index is None and isinstance(label, dict) and len(label) == 1:
        codes = [str(next(iter(label)))]  # json-stat allows omitting the index of one
    else:
        raise JsonStatError(f"dimension {dim_id}", "has no category.index")
    if not isinstance(label, dict):
        raise JsonStatError(f"dimension {dim_id}", "category.label is not an object")
    return codes, [str(label.get(c, c)) for c in codes]


def _numbers(raw_values, n: int, what: str) -> np.ndarray:
    """A json-stat2 ``value`` (array, or object of index → value) as float64 with NaN for
    null; names the first entry that is not a number."""
    if isinstance(raw_values, dict):
        out = np.full(n, np.nan)
        for k, v in raw_values.items():
            try:
                i = int(k)
            except ValueError:
                raise JsonStatError(f"{what}[{k!r}]", "is not a cell index") from None
            if not 0 <= i < n:
                raise JsonStatError(f"{what}[{i}]", f"is outside the cube's {n} cells")
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise JsonStatError(f"{what}[{i}]", f"{v!r} is not a number")
            out[i] = np.nan if v is None else float(v)
        return out
    if not isinstance(raw_values, list):
        raise JsonStatError(what, "is neither an array nor an object")
    if len(raw_values) != n:
        raise JsonStatError(what, f"has {len(raw_values)} values but the dimensions call "
                                  f"for {n}")
    try:
        arr = pa.array(raw_values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is not None and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)
                            or pa.types.is_null(arr.type)):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    for i, v in enumerate(raw_values):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise JsonStatError(f"{what}[{i}]", f"{v!r} is not a number")
    raise JsonStatError(what, "cannot be read as numbers")  # pragma: no cover


def _status(raw_status, n: int) -> dict[int, str]:
    """json-stat2 ``status`` (one string for all, an array, or index → string)."""
    if raw_status is None:
        return {}
    if isinstance(raw_status, str):
        return dict.fromkeys(range(n), raw_status)
    if isinstance(raw_status, list):
        return {i: s for i, s in enumerate(raw_status) if isinstance(s, str) and s}
    if isinstance(raw_status, dict):
        out = {}
        for k, s in raw_status.items():
            try:
                i = int(k)
            except ValueError:
                raise JsonStatError(f"status[{k!r}]", "is not a cell index") from None
            if isinstance(s, str) and s:
                out[i] = s
        return out
    raise JsonStatError("status", "is neither a string, an array nor an object")


def parse_jsonstat2(doc: dict, file_name: str | None = None) -> Cube:
    """A json-stat2 dataset as a :class:`Cube`; raises JsonStatError."""
    if not isinstance(doc, dict) or doc.get("class") != "dataset":
        raise JsonStatError(None, 'not a json-stat2 dataset (no "class": "dataset")')
    ids, size, dims = doc.get("id"), doc.get("size"), doc.get("dimension")
    if not isinstance(ids, list) or not isinstance(size, list) or not isinstance(dims, dict):
        raise JsonStatError(None, "a json-stat2 dataset needs id, size and dimension")
    if len(ids) != len(size):
        raise JsonStatError("size", f"has {len(size)} entries for {len(ids)} dimensions")
    role = doc.get("role") if isinstance(doc.get("role"), dict) else {}
    role_of = {d: r for r in ("time", "geo", "metric") for d in (role.get(r) or [])}
    dimensions = []
    for k, (dim_id, n) in enumerate(zip(ids, size)):
        if dim_id not in dims:
            raise JsonStatError(f"dimension {dim_id}", "is listed in id but not described")
        codes, labels = _categories(dim_id, dims[dim_id])
        if len(codes) != n:
            raise JsonStatError(f"dimension {dim_id}", f"has {len(codes)} categories but "
                                                       f"size[{k}] says {n}")
        if len(set(codes)) != len(codes):
            raise JsonStatError(f"dimension {dim_id}", "repeats a category code")
        dimensions.append(Dimension(str(dim_id), str(dims[dim_id].get("label") or dim_id),
                                    codes, labels, role_of.get(dim_id)))
    n = math.prod(size)
    values = _numbers(doc.get("value"), n, "value")
    status = _status(doc.get("status"), n)
    ext = (doc.get("extension") or {}).get("px") or {}
    cube = Cube(dimensions, values, table_id=_short_id(ext.get("tableid"), file_name),
                matrix=ext.get("matrix"), title=doc.get("label"), source=doc.get("source"),
                updated=doc.get("updated"), language=ext.get("language"), format="json-stat2")
    cube.symbols = _symbols_of(values, status)
    _assign_roles(cube)
    return cube


def parse_pxweb_json(doc: dict, file_name: str | None = None) -> Cube:
    """PxWeb's ``json`` response format as a :class:`Cube`: the key columns (``type`` ``d``
    and ``t``) in order, then the contents (the ``c`` columns) as one dimension, last."""
    columns, data = doc.get("columns"), doc.get("data")
    if not isinstance(columns, list) or not isinstance(data, list):
        raise JsonStatError(None, 'a PxWeb json response needs "columns" and "data"')
    keys = [c for c in columns if isinstance(c, dict) and c.get("type") in ("d", "t")]
    contents = [c for c in columns if isinstance(c, dict) and c.get("type") == "c"]
    if not contents:
        raise JsonStatError("columns", 'no content column (type "c")')
    cats: list[dict[str, int]] = [{} for _ in keys]
    for r, row in enumerate(data):
        key = row.get("key") if isinstance(row, dict) else None
        vals = row.get("values") if isinstance(row, dict) else None
        if not isinstance(key, list) or len(key) != len(keys):
            raise JsonStatError(f"data[{r}].key", f"expected {len(keys)} codes")
        if not isinstance(vals, list) or len(vals) != len(contents):
            raise JsonStatError(f"data[{r}].values", f"expected {len(contents)} values")
        for k, code in enumerate(key):
            cats[k].setdefault(str(code), len(cats[k]))
    sizes = [len(c) for c in cats] + [len(contents)]
    n = math.prod(sizes)
    if len(data) * len(contents) != n:
        raise JsonStatError("data", f"has {len(data)} rows but the codes it uses call for "
                                    f"{n // len(contents)} (a row is missing or repeated)")
    values = np.full(n, np.nan)
    status: dict[int, str] = {}
    strides = [math.prod(sizes[k + 1:]) for k in range(len(sizes))]
    seen = np.zeros(n // len(contents), dtype=bool)
    for r, row in enumerate(data):
        base = sum(cats[k][str(code)] * strides[k] for k, code in enumerate(row["key"]))
        if seen[base // len(contents)]:
            raise JsonStatError(f"data[{r}].key", f"{row['key']} repeats an earlier row")
        seen[base // len(contents)] = True
        for j, v in enumerate(row["values"]):
            i = base + j
            text = str(v).strip() if v is not None else ""
            if text.strip('"') in SYMBOLS:
                status[i] = text.strip('"')
                continue
            try:
                values[i] = float(text)
            except ValueError:
                raise JsonStatError(f"data[{r}].values[{j}]",
                                    f"{v!r} is neither a number nor a statistical symbol "
                                    f"{list(SYMBOLS)}") from None
    dimensions = [Dimension(str(c.get("code")), str(c.get("text") or c.get("code")),
                            list(cats[k]), list(cats[k]),
                            "time" if c.get("type") == "t" else None)
                  for k, c in enumerate(keys)]
    dimensions.append(Dimension("contentscode", "Tiedot", [str(c.get("code")) for c in contents],
                                [str(c.get("text") or c.get("code")) for c in contents],
                                "metric"))
    meta = (doc.get("metadata") or [{}])[0] if isinstance(doc.get("metadata"), list) else {}
    cube = Cube(dimensions, values, table_id=_short_id(None, file_name),
                title=meta.get("label"), source=meta.get("source"),
                updated=meta.get("updated"), format="json")
    cube.symbols = _symbols_of(values, status)
    _assign_roles(cube)
    return cube


def _symbols_of(values: np.ndarray, status: dict[int, str]) -> dict[int, str]:
    """Every cell without a number gets a symbol: its status if that is one, else '..'."""
    missing = np.flatnonzero(np.isnan(values))
    return {int(i): status.get(int(i)) if status.get(int(i)) in SYMBOLS else ".."
            for i in missing}


def _short_id(tableid: str | None, file_name: str | None) -> str | None:
    """``12r5`` from the response's table id, else from the file name
    (``12r5_2026M06_all_areas.json``); None when neither names one."""
    if tableid:
        return px.short_table_id(str(tableid))
    if file_name:
        for token in Path(file_name).stem.lower().replace("-", "_").split("_"):
            if _TABLE_TOKEN_RE.match(token) and not _PERIOD_TOKEN_RE.match(token):
                return token
    return None


def _norm(text: str) -> str:
    return text.strip().lower()


def _assign_roles(cube: Cube) -> None:
    """Roles the response did not state, from the codes: months → time, content codes of a
    ``contentscode``/``Tiedot`` variable → metric, KU…/MK…/SSS areas → geo."""
    dims = cube.dimensions
    if cube.by_role("time") is None:
        for d in dims:
            if d.role is None and d.codes and all(_MONTH_RE.match(c) for c in d.codes):
                d.role = "time"
                break
    if cube.by_role("metric") is None:
        for d in dims:
            if d.role is None and (_norm(d.code) in _CONTENT_CODES
                                   or _norm(d.label) in _CONTENT_CODES):
                d.role = "metric"
                break
    if cube.by_role("geo") is None:
        for d in dims:
            if d.role is None and (any(re.match(r"^(KU\d{3}|MK\d{2})$", c) for c in d.codes)
                                   or _norm(d.label) in _AREA_NAMES
                                   or _norm(d.code).startswith("alue")):
                d.role = "geo"
                break


def column_names(cube: Cube) -> list[str]:
    """The view column of each dimension: by role (``month``, ``area_code``,
    ``content_code``), else by label or code (``sex``, ``age_group``), else a slug."""
    taken = set(px._FIXED_COLUMNS)
    out = []
    for d in cube.dimensions:
        low, code = _norm(d.label), _norm(d.code)
        if d.role == "time" and all(_MONTH_RE.match(c) for c in d.codes):
            wanted = "month"
        elif d.role == "geo":
            wanted = "area_code"
        elif d.role == "metric":
            wanted = "content_code"
        elif low in _SEX_NAMES or code.startswith("sukupuoli"):
            wanted = "sex"
        elif low in _AGE_NAMES or code.startswith(("ikaryhma", "ikäryhm")):
            wanted = "age_group"
        else:
            wanted = px._slug(d.label)
        slug = px._slug(d.label)
        for candidate in (wanted, slug, *(f"{slug}_{i}" for i in range(2, 99))):
            if candidate not in taken:
                break
        taken.add(candidate)
        out.append(candidate)
    return out


def px_timestamp(updated: str | None) -> str | None:
    """An ISO 8601 ``updated`` (``2026-07-21T05:00:00Z``; PxWeb's json writes
    ``05.00.00``) in PX's LAST-UPDATED form ``20260721 05:00``, so that staging, which
    prefers the newest ``last_updated``, compares JSON and PX files alike."""
    if not updated:
        return None
    m = _ISO_RE.match(str(updated).strip())
    if not m:
        return str(updated)
    y, mo, d, h, mi = m.groups()
    return f"{y}{mo}{d} {h or '00'}:{mi or '00'}"


# --------------------------------------------------------------------------- files

def _head(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(_SNIFF_BYTES)
    except OSError:
        return None


def sniff_json(path) -> dict | None:
    """Whether ``path`` is a PxWeb JSON response, from its first bytes: ``{'format':
    'json-stat2' | 'json', 'table_id': '12r5' or None}``; None for anything else."""
    head = _head(Path(path))
    if not head:
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return None
    if re.search(rb'"class"\s*:\s*"dataset"', text) and re.search(rb'"dimension"\s*:', text):
        m = re.search(rb'"tableid"\s*:\s*"([^"]+)"', text)
        table = m.group(1).decode("utf-8", "replace") if m else None
        if table is None and len(head) == _SNIFF_BYTES:  # the id may come after the head
            try:
                table = ((_load_json(Path(path)).get("extension") or {}).get("px") or {}
                         ).get("tableid")
            except (JsonStatError, AttributeError):
                table = None
        return {"format": "json-stat2", "table_id": _short_id(table, Path(path).name)}
    if re.match(rb'\{\s*"columns"\s*:\s*\[', text) and re.search(
            rb'"type"\s*:\s*"[dtc]"', text):
        return {"format": "json", "table_id": _short_id(None, Path(path).name)}
    return None


def _load_json(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise JsonStatError(None, f"not UTF-8 ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise JsonStatError(f"line {e.lineno}, column {e.colno}",
                            f"not valid JSON ({e.msg}; is the file cut off?)") from None


def read_cube(path: Path, rel_path: str | None = None) -> Cube:
    """Read a PxWeb JSON response file; raises RawInputError naming the file and place."""
    rel = rel_path or Path(path).name
    try:
        doc = _load_json(Path(path))
        if isinstance(doc, dict) and doc.get("class") == "dataset":
            cube = parse_jsonstat2(doc, Path(path).name)
        elif isinstance(doc, dict) and "columns" in doc:
            cube = parse_pxweb_json(doc, Path(path).name)
        else:
            raise JsonStatError(None, "neither a json-stat2 dataset nor a PxWeb json response")
        check_cube(cube)
    except JsonStatError as e:
        raise RawInputError(rel, e.place, e.problem) from None
    return cube


def check_cube(cube: Cube) -> None:
    """What the raw layer needs of every cube: a table id, a time and a content variable,
    and at least one cell."""
    if not cube.table_id:
        raise JsonStatError(None, "the response does not name its StatFin table (json-stat2 "
                                  "extension.px.tableid); name the file after the table, "
                                  "e.g. 12r5_2026M06.json")
    if cube.values.size == 0:
        raise JsonStatError("value", "the response holds no cells")
    for role, what in (("time", "time (months)"), ("metric", "contents (Tiedot)")):
        if cube.by_role(role) is None:
            raise JsonStatError("dimension", f"no {what} variable found by role or by its "
                                             f"codes among {[d.code for d in cube.dimensions]}")


# --------------------------------------------------------------------------- loading

def load_jsonstat(con, raw: RawFile, ctx: LoadContext) -> px.PxLoadSummary:
    """Load one JSON response into the StatFin raw tables (as :func:`px.load_px` does a PX
    file) and (re)create the view ``raw.statfin_<table>``. Runs in the caller's
    transaction; raises RawInputError for a file that is not a usable response."""
    rel = raw.rel_path
    cube = read_cube(raw.path, rel)
    dataset = cube.table_id
    px._ensure_tables(con)
    create_file_versions(con)
    px._sweep_orphans(con)
    if not px._exists(con, f"statfin_{dataset}", "views"):
        px.refresh_view(con, dataset)
    file_key = con.execute(
        "SELECT coalesce(max(file_key), 0) + 1 FROM raw.statfin_files").fetchall()[0][0]
    try:
        _insert_cells(con, cube, file_key)
    except BaseException:
        px._forget_rows(con, file_key)
        raise
    columns = column_names(cube)
    variables = [px.PxVariable(d.label, tuple(d.codes), tuple(d.labels), col)
                 for d, col in zip(cube.dimensions, columns)]
    time = cube.by_role("time")
    months = sorted(time.codes) if time is not None else []
    labels = [d.label for d in cube.dimensions]
    metric_at = next(i for i, d in enumerate(cube.dimensions) if d.role == "metric")
    # PX's STUB/HEADING: the contents and what follows them are the heading (PxWeb's layout).
    stub, heading = labels[:metric_at], labels[metric_at:]
    total, n_symbols = int(cube.values.size), len(cube.symbols)
    con.execute(
        "INSERT INTO raw.statfin_files (load_id, loaded_at, file, file_sha256, table_id, "
        "matrix, codepage, language, title, stub, heading, cells, symbols, first_month, "
        "last_month, last_updated, file_key, dataset) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ctx.load_id, px._naive_utc(ctx.loaded_at), rel, raw.sha256, cube.table_id,
         cube.matrix, "utf-8", cube.language, cube.title, stub, heading, total, n_symbols,
         months[0] if months else None, months[-1] if months else None,
         px_timestamp(cube.updated), file_key, dataset])
    px._insert_layout(con, raw, ctx, SimpleNamespace(variables=variables,
                                                      tableid=cube.table_id), file_key)
    px.refresh_view(con, dataset)
    counts: dict[str, int] = {}
    for s in cube.symbols.values():
        counts[s] = counts.get(s, 0) + 1
    geo = cube.by_role("geo")
    return px.PxLoadSummary(
        file=rel, table_id=dataset, target_table=f"raw.statfin_{dataset}", matrix=cube.matrix,
        rows=total, symbols=dict(sorted(counts.items())),
        periods=(months[0], months[-1]) if months else None,
        areas=len(geo.codes) if geo else 0)


def _insert_cells(con, cube: Cube, file_key: int) -> None:
    first = file_key * px.CELL_KEY_FACTOR
    keys = np.arange(first, first + cube.values.size, dtype=np.int64)
    number = ~np.isnan(cube.values)
    cells = pa.table({"cell_key": keys[number], "value": cube.values[number]})
    con.register("json_cells", cells)
    try:
        con.execute("INSERT INTO raw.statfin_cells (cell_key, value) SELECT * FROM json_cells")
    finally:
        con.unregister("json_cells")
    if cube.symbols:
        index = np.fromiter(cube.symbols, dtype=np.int64, count=len(cube.symbols))
        symbols = pa.table({"cell_key": index + first,
                            "symbol": pa.array(list(cube.symbols.values()), pa.string())})
        con.register("json_symbols", symbols)
        try:
            con.execute("INSERT INTO raw.statfin_symbols (cell_key, symbol) "
                        "SELECT * FROM json_symbols")
        finally:
            con.unregister("json_symbols")


# --------------------------------------------------------------------------- the family

def sniff_statfin(path) -> str | None:
    """The "statfin" family's recogniser: the short table id of a PX file or a PxWeb JSON
    response (a JSON response that names no table is still StatFin's: its load says why
    it cannot be read)."""
    found = px.sniff_px(path)
    if found:
        return found.get("table_id")
    js = sniff_json(path)
    if js:
        return js["table_id"] or f"PxWeb {js['format']} (table not named)"
    return None


def load_statfin(con, raw: RawFile, ctx: LoadContext):
    """Load a StatFin raw file with the reader its content calls for."""
    if sniff_json(raw.path):
        return load_jsonstat(con, raw, ctx)
    return px.load_px(con, raw, ctx)
