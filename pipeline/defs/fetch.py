"""Fetch assets: the public sources downloaded into the raw folder, one asset per source.

``fetch/statfin`` and ``fetch/kela`` run first in the monthly schedule's job
(``fetch_and_refresh``); each family's raw asset depends on its fetch asset, so a failed
fetch stops that family's load and everything downstream of it, the publish step included:
nothing new is published, the previous raw files stay, and the step shows as failed with
the message. Their materializations list what was downloaded. The refresh job the sensor
and ``python -m pipeline run`` use leaves them out: those never touch the network.
"""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..fetch import (
    DEFAULT_SINCE,
    KELA_URL_ENV,
    STATFIN_URL_ENV,
    fetch,
    kela_url,
    parse_areas,
    statfin_url,
)
from .resources import PipelinePaths

FETCH_GROUP = "fetch"
FETCHED_FAMILIES = ("statfin", "kela")


def fetch_asset_key(family: str) -> AssetKey:
    return AssetKey([FETCH_GROUP, family])


class FetchSettings(ConfigurableResource):
    """Where and what the scheduled fetch asks for (the CLI's options; URLs from
    $PIPELINE_STATFIN_URL / $PIPELINE_KELA_URL when not set here)."""

    statfin_url: str = ""
    kela_url: str = ""
    areas: str = "all"
    since: str = DEFAULT_SINCE


def _fetch_asset(family: str):
    what = {"statfin": "StatFin tables 12r5 and 12u4 (PxWeb API, json-stat2) into "
                       "`<raw-dir>/statfin/`",
            "kela": "Kela's municipal-share CSV (avoindata.fi CKAN, dataset "
                    "kuntien-rahoittama-tyomarkkinatuki) into `<raw-dir>/kela/`"}[family]

    @asset(key=fetch_asset_key(family), group_name=FETCH_GROUP, kinds={"python"},
           description=f"Download {what}, with a manifest beside each file. An unchanged "
                       "response writes nothing; a failure keeps the previous file. URLs: "
                       f"${STATFIN_URL_ENV} / ${KELA_URL_ENV}.")
    def _fetch(context: AssetExecutionContext, paths: PipelinePaths,
               fetch_settings: FetchSettings) -> MaterializeResult:
        report = fetch(paths.raw, (family,), areas=parse_areas(fetch_settings.areas),
                       since=fetch_settings.since,
                       statfin=statfin_url(fetch_settings.statfin_url or None),
                       kela=kela_url(fetch_settings.kela_url or None),
                       notify=context.log.warning)
        for s in report.saved:
            context.log.info(s.line())
        problems = report.unreachable + report.errors
        if problems:
            raise Failure(description="; ".join(problems), metadata={
                "errors": MetadataValue.json(problems),
                "saved_before_the_failure": MetadataValue.json([s.line() for s in report.saved]),
            })
        rows = "\n".join(f"| {s.file} | {s.status} | {s.detail} | `{s.sha256[:12]}` |"
                         for s in report.saved)
        return MaterializeResult(metadata={
            "files_written": len(report.changed),
            "files_unchanged": len(report.saved) - len(report.changed),
            "requests": report.calls,
            "seconds_waited": round(report.waited, 1),
            "downloaded": MetadataValue.md("| file | status | what | sha256 |\n|---|---|---|---|\n"
                                           + rows),
        })

    return _fetch


fetch_assets = [_fetch_asset(f) for f in FETCHED_FAMILIES]
