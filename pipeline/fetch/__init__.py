"""``python -m pipeline fetch``: download the public sources into the raw folder.

StatFin's tables 12r5 and 12u4 through the PxWeb API (:mod:`.statfin`) and Kela's
municipal-share CSV through the open-data portal's CKAN API (:mod:`.kela`). HTTP, retries and
pacing: :mod:`.http`; writing files whole or not at all: :mod:`.files`.

A failure leaves the raw folder as it was: every file is validated before it is renamed into
place, and a source that fails saves nothing of its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import requests

from ..areas import EMPLOYMENT_AREAS, PILOT_MUNICIPALITIES
from .http import Clock, FetchError, Http, Unreachable
from .kela import DEFAULT_KELA_URL, fetch_kela
from .statfin import DEFAULT_STATFIN_URL, Saved, fetch_statfin

SOURCES = ("statfin", "kela")
STATFIN_URL_ENV = "PIPELINE_STATFIN_URL"
KELA_URL_ENV = "PIPELINE_KELA_URL"
DEFAULT_SINCE = "2019M01"
_MONTH_RE = re.compile(r"^\d{4}M(0[1-9]|1[0-2])$")

__all__ = ["FetchError", "FetchReport", "Unreachable", "check_raw_dir", "check_since", "fetch",
           "kela_url", "parse_areas", "statfin_url"]


def statfin_url(value: str | None = None) -> str:
    return value or os.environ.get(STATFIN_URL_ENV) or DEFAULT_STATFIN_URL


def kela_url(value: str | None = None) -> str:
    return value or os.environ.get(KELA_URL_ENV) or DEFAULT_KELA_URL


def parse_areas(text: str) -> str | list[str]:
    """``pilot`` → the eight pilot municipalities; ``all``; or codes: ``KU564,KU244``, an
    employment area ``TA_OULU`` (its members), ``pilot`` among them; raises ValueError naming
    a bad code."""
    text = (text or "all").strip()
    if text.lower() == "all":
        return "all"
    if text.lower() == "pilot":
        return list(PILOT_MUNICIPALITIES)
    out: list[str] = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        code = item.upper()
        if code == "ALL":
            raise ValueError(f"--areas: all cannot be combined with other areas ({text!r}); "
                             "give all alone")
        if code == "PILOT":  # the eight pilot municipalities, alongside other codes
            out += [c for c in PILOT_MUNICIPALITIES if c not in out]
        elif code in EMPLOYMENT_AREAS:
            out += [c for c in EMPLOYMENT_AREAS[code][1] if c not in out]
        elif re.fullmatch(r"(KU\d{3}|MK\d{2}|SSS)", code):
            if code not in out:
                out.append(code)
        elif re.fullmatch(r"\d{1,3}", code):
            out.append(f"KU{int(code):03d}")
        else:
            raise ValueError(f"--areas: {item!r} is not pilot, all, a municipality code "
                             "(KU564), a region (MK17) or an employment area (TA_OULU)")
    if not out:
        raise ValueError("--areas: no area given")
    return out


def check_since(since: str, today: date | None = None) -> str:
    """``since`` as PxWeb writes a month (``2019M01``; ``2019m01`` is taken too); ValueError
    for another form or a month after this one, before any request is sent."""
    month = (since or "").strip().upper()
    if not _MONTH_RE.match(month):
        raise ValueError(f"--since: {since!r} is not a month like 2019M01")
    today = today or datetime.now(UTC).date()
    if (int(month[:4]), int(month[5:])) > (today.year, today.month):
        raise ValueError(f"--since: {month} is in the future (this month is "
                         f"{today.year}M{today.month:02d}); no table has it yet")
    return month


class NotWritable(ValueError):
    """The raw folder cannot be written."""


def check_raw_dir(raw_dir: Path, source: str) -> None:
    """NotWritable when ``raw_dir/<source>`` cannot be written (a file in the way, or no
    permission), found before any request: the download would be lost at the end. Creates
    nothing."""
    folder = Path(raw_dir) / source
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise NotWritable(f"cannot write to {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise NotWritable(f"cannot write to {folder}: no permission to write in {probe}")


@dataclass
class FetchReport:
    """What a fetch did: each file's outcome and each failure (one line each)."""

    saved: list[Saved] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    # (source, host, why) of each host that could not be reached
    hosts: list[tuple[str, str, str]] = field(default_factory=list)
    calls: int = 0
    waited: float = 0.0
    limits: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.unreachable

    def unreachable_line(self) -> str | None:
        """Every source unreachable for the same reason (no network): one line naming the
        hosts, not one per source."""
        if not self.unreachable or self.saved or self.errors or len(self.hosts) < 2 or len(
                {why for _, _, why in self.hosts}) != 1:
            return None
        hosts = " or ".join(f"{host} ({source})" for source, host, _ in self.hosts)
        tail = self.unreachable[0].rsplit("; nothing fetched", 1)[-1]
        return f"cannot reach {hosts}: {self.hosts[0][2]}; nothing fetched{tail}"

    @property
    def changed(self) -> list[Saved]:
        return [s for s in self.saved if s.status != "unchanged"]


def fetch(raw_dir: Path, sources: tuple[str, ...] = SOURCES, *, areas: str | list[str] = "all",
          since: str = DEFAULT_SINCE, statfin: str | None = None, kela: str | None = None,
          http: Http | None = None, clock: Clock | None = None,
          notify: Callable[[str], None] | None = None) -> FetchReport:
    """Fetch ``sources`` into ``raw_dir``. Never raises for a failed source: the report
    lists it (a host that cannot be reached in ``unreachable``). ``notify`` is told each
    retry in one line."""
    raw_dir = Path(raw_dir)
    since = check_since(since)
    http = http or Http(clock, notify=notify)
    report = FetchReport()
    for source in sources:
        try:
            if source in SOURCES:
                check_raw_dir(raw_dir, source)
            if source == "statfin":
                saved, errors = fetch_statfin(raw_dir, http, statfin_url=statfin_url(statfin),
                                              areas=areas, since=since)
                report.saved += saved
                report.errors += errors
                report.limits = {"maxCalls": http.max_calls, "timeWindow": http.window}
            elif source == "kela":
                report.saved.append(fetch_kela(raw_dir, http, kela_url=kela_url(kela),
                                               areas=areas, since=since))
            else:
                raise ValueError(f"unknown source {source!r} (sources: {', '.join(SOURCES)})")
        except Unreachable as e:
            report.unreachable.append(f"{source}: {e}; nothing fetched, {raw_dir} unchanged")
            report.hosts.append((source, e.host, e.reason))
        except NotWritable as e:  # found before any request
            report.errors.append(f"{source}: {e}")
        except OSError as e:  # writing failed part-way (disk full …): its temp file is gone
            if isinstance(e, requests.RequestException):
                raise
            report.errors.append(f"{source}: cannot write in {raw_dir}: {e.strerror or e} "
                                 f"({e.filename}); the previous file stays")
        except FetchError as e:
            text = str(e)
            report.errors.append(text if text.startswith(source) else f"{source}: {text}")
    report.calls, report.waited = http.calls, http.waited
    return report
