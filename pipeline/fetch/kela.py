"""Kela's open data through the national open-data portal's CKAN API (avoindata.fi).

The dataset ``kuntien-rahoittama-tyomarkkinatuki`` (the municipal share of the labour market
subsidy, työmarkkinatuen kuntaosuus) has a resource ``data.csv``: the whole country, about
2 M rows, updated monthly. ``package_show`` lists the resource with its ``last_modified``
and ``hash``; the file is downloaded only when either differs from what the manifest beside
``kela/data.csv`` recorded (or the file in place is not the one the manifest describes),
streamed to a temporary file, checked by loading it with the raw layer's own Kela reader,
and renamed into place.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import duckdb

from ..readers.common import LoadContext, RawFile, RawInputError, file_sha256
from ..readers.kela import load_kela, sniff_kela
from . import files
from .http import FetchError, Http, HttpStatusError, NotJson
from .statfin import RefusedResponse, Saved

DEFAULT_KELA_URL = "https://www.avoindata.fi/data/api/3/action"
DATASET = "kuntien-rahoittama-tyomarkkinatuki"
RESOURCE = "data.csv"


def _resource(package: dict, url: str) -> dict:
    if not isinstance(package, dict) or not package.get("success"):
        err = package.get("error") if isinstance(package, dict) else None
        raise RefusedResponse(f"dataset {DATASET}: CKAN package_show did not succeed "
                              f"({err or 'no success flag'}) at {url}")
    resources = (package.get("result") or {}).get("resources") or []
    for r in resources:
        name = str(r.get("name") or "")
        path = urlsplit(str(r.get("url") or "")).path
        if name == RESOURCE or path.rsplit("/", 1)[-1] == RESOURCE:
            if not r.get("url"):
                raise RefusedResponse(f"dataset {DATASET}: resource {RESOURCE} has no url")
            return r
    names = ", ".join(str(r.get("name") or r.get("url")) for r in resources) or "none"
    raise RefusedResponse(f"dataset {DATASET}: no resource {RESOURCE} (resources: {names})")


def _month(n: int | None) -> str:
    return f"{n // 100}M{n % 100:02d}" if n else "?"


def _validate(tmp: Path, rel: str, areas: str | list[str], since: str,
              previous_last: int | None):
    """The download through the Kela reader (a scratch database): every line parses, it has
    monthly rows, the municipalities asked for, months from ``since`` on, and it does not
    end earlier than the file it would replace."""
    if tmp.stat().st_size == 0:
        raise RefusedResponse(f"{RESOURCE}: the download is empty")
    if not sniff_kela(tmp):
        with open(tmp, "rb") as f:
            first = f.readline(300).decode("utf-8", "replace").strip()
        raise RefusedResponse(f"{RESOURCE}: not Kela's municipal-share CSV (its first line is "
                              f"{first[:120]!r})")
    try:
        summary = _trial_load(tmp, rel)
    except RawInputError as e:
        raise RefusedResponse(f"{RESOURCE}: the download would not load: {e}") from None
    if not summary.months:
        raise RefusedResponse(f"{RESOURCE}: no monthly (Kuukausi) rows")
    if areas != "all":
        absent = sorted(set(areas) - set(summary.municipalities))
        if absent:
            raise RefusedResponse(f"{RESOURCE}: no rows for {', '.join(absent)}")
    y, m = int(since[:4]), int(since[5:])
    if summary.last_month is None or summary.last_month < y * 100 + m:
        raise RefusedResponse(f"{RESOURCE}: nothing from {since} on (it ends at "
                              f"{_month(summary.last_month)})")
    if previous_last and summary.last_month < previous_last:
        raise RefusedResponse(f"{RESOURCE}: it ends at {_month(summary.last_month)}, earlier "
                              f"than the file in place ({_month(previous_last)}); kept that")
    return summary


def _trial_load(path: Path, rel: str):
    """The file loaded by the raw layer's own reader into a throw-away database: its summary,
    or the RawInputError the next run would meet."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("begin transaction")
        summary = load_kela(con, RawFile(path, rel, "check"),
                            LoadContext("fetch-check", datetime.now(UTC)))
        con.execute("rollback")
        return summary
    finally:
        con.close()


def _summary_in_place(target: Path, rel: str, before: dict | None, sha: str) -> dict:
    """Rows and months of the file in place: from the manifest when it describes these very
    bytes, else read (a file put there by hand, or by a fetch that wrote no summary), so a
    download ending earlier is refused whatever placed the file. {} when it does not load."""
    keys = ("rows", "first_month", "last_month", "municipalities")
    if before and before.get("sha256") == sha and before.get("last_month"):
        return {k: before[k] for k in keys if k in before}
    try:
        summary = _trial_load(target, rel)
    except RawInputError:
        return {}
    return {"rows": summary.rows, "first_month": summary.first_month,
            "last_month": summary.last_month, "municipalities": len(summary.municipalities)}


def fetch_kela(raw_dir: Path, http: Http, *, kela_url: str = DEFAULT_KELA_URL,
               areas: str | list[str] = "all", since: str = "2019M01") -> Saved:
    """Fetch ``kela/data.csv`` if the portal has a new version; FetchError on failure."""
    folder = raw_dir / "kela"
    files.remove_stale_temps(folder)
    http.set_rate_limit(None, 0)  # StatFin's call limit is not the portal's
    url = f"{kela_url.rstrip('/')}/package_show?id={quote(DATASET)}"
    try:
        res = _resource(http.get_json(url, f"Kela dataset {DATASET}"), url)
    except (HttpStatusError, NotJson) as e:
        raise FetchError(f"{e} (is --kela-url a CKAN API base such as {DEFAULT_KELA_URL}?)"
                         ) from None
    target = folder / RESOURCE
    rel = f"kela/{RESOURCE}"
    stamp = {"id": res.get("id"), "url": res.get("url"), "last_modified":
             res.get("last_modified") or res.get("metadata_modified"), "hash": res.get("hash"),
             "size": res.get("size")}
    before = files.read_manifest(target)
    sha_in_place = file_sha256(target) if target.is_file() else None
    if (before and sha_in_place and before.get("sha256") == sha_in_place
            and all(before.get("resource", {}).get(k) == stamp[k]
                    for k in ("url", "last_modified", "hash"))):
        return Saved("kela", RESOURCE, "unchanged", rel,
                     f"last_modified {stamp['last_modified']} and hash as when fetched; "
                     "not downloaded", sha_in_place)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = files.temp_path(target)
    try:
        try:
            sha = http.download(str(res["url"]), tmp, f"Kela {RESOURCE}")
        except HttpStatusError as e:
            raise FetchError(str(e)) from None
        size = tmp.stat().st_size
        expected = res.get("size")
        if isinstance(expected, int) and expected > 0 and expected != size:
            raise RefusedResponse(f"{RESOURCE}: {size} bytes arrived but the portal lists "
                                  f"{expected} (cut off?)")
        declared = str(res.get("hash") or "").lower().removeprefix("sha256:")
        if re.fullmatch(r"[0-9a-f]{64}", declared) and declared != sha:
            raise RefusedResponse(f"{RESOURCE}: its SHA-256 {sha[:12]}… differs from the "
                                  f"portal's hash {declared[:12]}…")
        manifest = {
            "source": "Kela open data (avoindata.fi CKAN)", "dataset": DATASET,
            "file": RESOURCE, "url": str(res["url"]), "package_show": url,
            "query": {"id": DATASET, "resource": RESOURCE}, "resource": stamp,
            "fetched_at": http.clock.now().isoformat(timespec="seconds"),
            "sha256": sha, "bytes": size, "updated": stamp["last_modified"],
        }
        if sha == sha_in_place:  # same bytes under a new stamp: nothing to replace
            tmp.unlink(missing_ok=True)
            manifest.update(_summary_in_place(target, rel, before, sha))
            files.write_manifest(target, manifest)
            return Saved("kela", RESOURCE, "unchanged", rel,
                         f"downloaded; same bytes as the file in place "
                         f"(last_modified {stamp['last_modified']})", sha, manifest)
        previous_last = (_summary_in_place(target, rel, before, sha_in_place)
                         .get("last_month") if sha_in_place else None)
        summary = _validate(tmp, rel, areas, since, previous_last)
        manifest.update(rows=summary.rows, first_month=summary.first_month,
                        last_month=summary.last_month,
                        municipalities=len(summary.municipalities))
        existed = target.exists()
        files.commit(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    files.write_manifest(target, manifest)
    return Saved("kela", RESOURCE, "replaced" if existed else "saved", rel,
                 f"{summary.rows:,} rows, {_month(summary.first_month)}–"
                 f"{_month(summary.last_month)}, {len(summary.municipalities)} municipalities; "
                 f"last_modified {stamp['last_modified']}", sha, manifest)
