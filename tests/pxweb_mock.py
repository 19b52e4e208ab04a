"""A local stand-in for StatFin's PxWeb API and the open-data portal's CKAN API, for tests.

A real HTTP server (the standard library's, in a thread, on 127.0.0.1) answering the way the
real APIs do, with tables built from the real response in ``shared/real/pxweb/``:

* ``GET  /PxWeb/api/v1/fi/?config``                 the limits (maxValues, maxCalls, timeWindow)
* ``GET  /PxWeb/api/v1/fi/StatFin/tyonv/12r5.px``   the table's variables (codes, values,
  ``time``, ``elimination``), as PxWeb v1's metadata
* ``POST`` the same path                             a query → json-stat2, shaped as PxWeb's
  (version, class, label, source, updated, role, id, size, dimension, extension, value,
  status); 400 for a variable code the table does not have, 403 above maxValues
* ``GET  /ckan/package_show?id=…`` and ``GET /files/data.csv``  Kela's dataset

Faults are scripted per request: ``mock.fail("POST", "/…/12r5.px", Fault(status=429,
headers={"Retry-After": "7"}))`` answers the next matching request with it, then normally.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real" / "pxweb"
REAL_12R5 = REAL / "12r5_2026M06_all_areas.json"
REAL_JSONSTAT2 = REAL / "11re_three_cities.jsonstat2.json"
API = "/PxWeb/api/v1/fi"
DB = f"{API}/StatFin"


@dataclass
class Variable:
    code: str
    text: str
    values: list[str]
    texts: list[str]
    time: bool = False
    elimination: bool = False

    def meta(self) -> dict:
        out = {"code": self.code, "text": self.text, "values": self.values,
               "valueTexts": self.texts}
        if self.elimination:
            out["elimination"] = True
        if self.time:
            out["time"] = True
        return out


@dataclass
class Table:
    """A PxWeb table: variables in order, and its cells keyed by one code per variable
    (a number, or a symbol string such as '...')."""

    tableid: str
    title: str
    variables: list[Variable]
    cells: dict[tuple[str, ...], float | str]
    updated: str = "2026-07-21T05:00:00Z"
    roles: dict[str, str] = field(default_factory=dict)  # code -> time/geo/metric

    def metadata(self) -> dict:
        return {"title": self.title, "variables": [v.meta() for v in self.variables]}

    def rename(self, old: str, new: str) -> None:
        """A variable code renamed, as Statistics Finland did in June 2026."""
        for v in self.variables:
            if v.code == old:
                v.code = new
        if old in self.roles:
            self.roles[new] = self.roles.pop(old)

    def answer(self, query: dict) -> tuple[int, dict | str]:
        """What PxWeb answers to a query: (status, json-stat2 or an error text)."""
        by_code = {v.code: v for v in self.variables}
        chosen: dict[str, list[str]] = {}
        for q in query.get("query", []):
            code = q.get("code")
            if code not in by_code:
                return 400, f"Bad Request: no variable {code!r}"
            values = q.get("selection", {}).get("values", [])
            if any(x not in by_code[code].values for x in values):
                return 400, f"Bad Request: unknown value of {code}"
            chosen[code] = [x for x in by_code[code].values if x in values]
        for v in self.variables:
            if v.code not in chosen and not v.elimination:
                return 400, f"Bad Request: {v.code} must be selected"
        dims = [v for v in self.variables if v.code in chosen]
        n = math.prod(len(chosen[v.code]) for v in dims)
        if n > self.max_values:
            return 403, "Forbidden: too many values selected"
        values, status = [], {}
        keys = [[]]
        for v in dims:
            keys = [k + [x] for k in keys for x in chosen[v.code]]
        full = [v.code for v in self.variables]
        for i, k in enumerate(keys):
            code_of = dict(zip([d.code for d in dims], k))
            key = tuple(code_of.get(c, "SSS") for c in full)
            cell = self.cells.get(key)
            if isinstance(cell, str):
                values.append(None)
                status[str(i)] = cell
            else:
                values.append(cell)
        doc = {
            "version": "2.0", "class": "dataset", "label": self.title,
            "source": "KEHA-keskus, Työnvälitystilasto", "updated": self.updated,
            "role": {r: [c for c, rr in self.roles.items() if rr == r and c in chosen]
                     for r in ("time", "geo", "metric")},
            "id": [v.code for v in dims], "size": [len(chosen[v.code]) for v in dims],
            "dimension": {v.code: {"label": v.text, "category": {
                "index": {x: i for i, x in enumerate(chosen[v.code])},
                "label": {x: v.texts[v.values.index(x)] for x in chosen[v.code]}},
                "extension": {"elimination": v.elimination, "show": "value"}} for v in dims},
            "extension": {"px": {"tableid": self.tableid, "language": "fi",
                                 "matrix": self.tableid}},
            "value": values,
        }
        if status:
            doc["status"] = status
        return 200, doc

    max_values: int = 10 ** 9  # set by the server from its config


def table_12r5() -> Table:
    """Table 12r5 from the real 2026M06 response (421 areas × 1 month × 23 contents)."""
    doc = json.loads(REAL_12R5.read_text(encoding="utf-8"))
    contents = [c for c in doc["columns"] if c["type"] == "c"]
    areas = [row["key"][0] for row in doc["data"]]
    months = sorted({row["key"][1] for row in doc["data"]})
    cells: dict[tuple[str, ...], float | str] = {}
    for row in doc["data"]:
        for c, v in zip(contents, row["values"]):
            cells[(row["key"][0], row["key"][1], c["code"])] = (
                v if v in ("...", "..", ".", "-") else float(v))
    variables = [
        Variable("Alue", "Alue", areas, areas),
        Variable("timeperiod_m", "Kuukausi", months, months, time=True),
        Variable("contentscode", "Tiedot", [c["code"] for c in contents],
                 [c["text"] for c in contents]),
    ]
    return Table("12r5", doc["metadata"][0]["label"], variables, cells,
                 updated="2026-07-21T05:00:00Z",
                 roles={"Alue": "geo", "timeperiod_m": "time", "contentscode": "metric"})


def table_12u4(areas: list[str]) -> Table:
    """Table 12u4's shape (sex × age group, both with a total SSS and eliminable). Its
    numbers are only a stand-in: 12r5's unemployed (real) for the totals, invented
    breakdowns; tests check what was asked for and saved, not these values."""
    base = table_12r5()
    sexes, ages = ["SSS", "1", "2"], ["SSS", "15-19", "20-24"]
    contents = ["TYOTTOMATLOPUSSA", "PALVELUISSAYHTEENSA", "AKTASTE", "TVKOULUTUSLOP"]
    cells: dict[tuple[str, ...], float | str] = {}
    for a in areas:
        unemployed = base.cells[(a, "2026M06", "TYOTTOMATLOPUSSA")]
        for s in sexes:
            for g in ages:
                share = (1.0 if s == "SSS" else 0.5) * (1.0 if g == "SSS" else 0.1)
                u = unemployed if isinstance(unemployed, str) else round(unemployed * share)
                services = "..." if isinstance(u, str) or g != "SSS" else round(u / 2)
                cells[(a, s, g, "2026M06", "TYOTTOMATLOPUSSA")] = u
                cells[(a, s, g, "2026M06", "PALVELUISSAYHTEENSA")] = services
                # aktivointiaste = 100 × palveluissa / (työttömät + palveluissa)
                cells[(a, s, g, "2026M06", "AKTASTE")] = (
                    "..." if isinstance(services, str) or u + services == 0
                    else round(100 * services / (u + services), 1))
                cells[(a, s, g, "2026M06", "TVKOULUTUSLOP")] = 1.0
    variables = [
        Variable("Alue", "Alue", areas, areas),
        Variable("Sukupuoli", "Sukupuoli", sexes, ["Yhteensä", "Miehet", "Naiset"],
                 elimination=True),
        Variable("Ikäryhmät", "Ikäryhmät", ages, ["Yhteensä", "15-19", "20-24"],
                 elimination=True),
        Variable("timeperiod_m", "Kuukausi", ["2026M06"], ["2026M06"], time=True),
        Variable("contentscode", "Tiedot", contents, contents),
    ]
    return Table("12u4", "Aktivointiaste ja palveluissa olevat laskentapäivänä", variables,
                 cells, roles={"Alue": "geo", "timeperiod_m": "time",
                               "contentscode": "metric"})


@dataclass
class Fault:
    """How to answer one request instead of normally."""

    status: int | None = None          # an HTTP error status
    headers: dict = field(default_factory=dict)
    body: bytes | None = None          # a 200 with these bytes (or the status's body)
    truncate: bool = False             # the normal answer, cut in half (Content-Length kept)
    reset: bool = False                # the connection reset, no answer
    hang: threading.Event | None = None  # wait for this event, then close without answer
    stall: threading.Event | None = None  # send half the answer, set mock.half_sent, wait


class PxWebMock:
    """The server; ``url`` is the StatFin database URL to pass as --statfin-url,
    ``kela_url`` the CKAN API base."""

    def __init__(self, tables: dict[str, Table], config: dict | None = None,
                 kela_file: bytes | None = None, kela_stamp: dict | None = None):
        self.tables = tables
        self.config = config or {"maxValues": 120000, "maxCalls": 40, "timeWindow": 60}
        self.kela_file = kela_file
        self.kela_stamp = kela_stamp or {"last_modified": "2026-07-01T06:00:00", "hash": ""}
        self.faults: dict[tuple[str, str], list[Fault]] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.lock = threading.Lock()
        self.hangs: list[threading.Event] = []
        self.half_sent = threading.Event()  # a stalled answer is half-way out
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # resets are on purpose
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return self.base + DB

    @property
    def kela_url(self) -> str:
        return self.base + "/ckan"

    def __enter__(self) -> PxWebMock:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for e in self.hangs:
            e.set()
        self.server.shutdown()
        self.server.server_close()

    def fail(self, method: str, path: str, *faults: Fault) -> None:
        with self.lock:
            self.faults.setdefault((method, path), []).extend(faults)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p == path)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get((method, path))
            return queue.pop(0) if queue else None

    def _route(self, method: str, path: str, query: dict, body: dict | None):
        """(status, headers, bytes) of the normal answer."""
        if method == "GET" and path == API + "/" and "config" in query:
            return 200, {}, _json(self.config)
        if path.startswith(DB + "/"):
            rel = path[len(DB) + 1:]
            table = next((t for p, t in self.tables.items() if p == rel), None)
            if table is None:
                # PxWeb answers 400 to the long ids of before June 2026, 404 otherwise.
                if "statfin_" in rel:
                    return 400, {}, b"Bad Request"
                return 404, {}, b"Not Found"
            if method == "GET":
                return 200, {}, _json(table.metadata())
            table.max_values = int(self.config["maxValues"])
            status, doc = table.answer(body or {})
            return status, {}, _json(doc) if isinstance(doc, dict) else doc.encode()
        if method == "GET" and path == "/ckan/package_show":
            if query.get("id") != ["kuntien-rahoittama-tyomarkkinatuki"]:
                return 404, {}, _json({"success": False, "error": {"message": "Not found"}})
            res = {"id": "r1", "name": "data.csv", "format": "CSV",
                   "url": self.base + "/files/data.csv", **self.kela_stamp}
            return 200, {}, _json({"success": True, "result": {
                "name": "kuntien-rahoittama-tyomarkkinatuki",
                "resources": [{"id": "r0", "name": "kuvaus.pdf",
                               "url": self.base + "/files/kuvaus.pdf"}, res]}})
        if method == "GET" and path == "/files/data.csv" and self.kela_file is not None:
            return 200, {"Content-Type": "text/csv"}, self.kela_file
        return 404, {}, b"Not Found"

    def _handler(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def finish(self):
                try:
                    super().finish()
                except (OSError, ValueError):
                    pass

            def _serve(self, method: str):
                parts = urlsplit(self.path)
                body = None
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    body = json.loads(self.rfile.read(length))
                with mock.lock:
                    mock.requests.append((method, parts.path, body))
                fault = mock._take_fault(method, parts.path)
                if fault and fault.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault and fault.hang is not None:
                    mock.hangs.append(fault.hang)
                    fault.hang.wait()
                    self.close_connection = True
                    return
                if fault and fault.status is not None:
                    self._send(fault.status, fault.headers, fault.body or b"error")
                    return
                if fault and fault.body is not None:
                    self._send(200, fault.headers, fault.body)
                    return
                status, headers, data = mock._route(method, parts.path,
                                                    parse_qs(parts.query, keep_blank_values=True),
                                                    body)
                if fault and fault.stall is not None:
                    mock.hangs.append(fault.stall)
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    mock.half_sent.set()
                    fault.stall.wait()
                    self.close_connection = True
                    return
                if fault and fault.truncate:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._send(status, headers, data)

            def _send(self, status: int, headers: dict, data: bytes):
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                for k, v in headers.items():
                    if k != "Content-Type":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        return Handler


def _json(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


class FakeClock:
    """The fetch's clock in tests: sleeping only moves the clock (and is recorded)."""

    def __init__(self):
        from datetime import UTC, datetime

        self.t = 1000.0
        self.sleeps: list[float] = []
        self.start = datetime(2026, 7, 28, 3, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self):
        from datetime import timedelta

        return self.start + timedelta(seconds=self.t - 1000.0)

    def clock(self):
        from pipeline.fetch.http import Clock

        return Clock(monotonic=self.monotonic, sleep=self.sleep, now=self.now)
