"""Chart assets: the report's figures (kuviot), rendered from the published warehouse.

One asset per figure writes the pilot area's ``<figure>.png/.svg/.pdf/.csv``; one more writes
``figures.pdf`` and ``figures.xlsx`` with every figure. All read the published warehouse
read-only, so they can be rerun without rerunning the pipeline. Other areas and English
versions: ``python -m pipeline export``.

Each figure also names as upstream the marts it reads (``figures.figure_marts``) and the raw
TEM and StatFin files (whose notes mark the data synthetic). The published warehouse comes
after every mart, so it is downstream of any change; an incremental selection therefore keeps
a figure only when one of its own inputs is (``automation.downstream_selection``).
"""


from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from .. import reports_status
from ..areas import PILOT_AREA
from ..charts import figures, outputs, thumbnail, unchanged
from ..coverage import figure_coverage
from ..faults import fault_point
from ..warehouse import connect_published
from .ingest import table_to_raw_asset
from .publish import BOOK_ID, PUBLISHED_KEY
from .resources import PipelinePaths
from .transform import model_key

BOOK_KEY = AssetKey(["reports", BOOK_ID])


def _preview_md(figure_id: str, png_base64: str) -> MetadataValue:
    return MetadataValue.md(f"![{figure_id}](data:image/png;base64,{png_base64})")


def figure_inputs(figure_id: str | None = None) -> list[AssetKey]:
    """What a figure's files are made of besides the published warehouse: its marts, and the
    raw TEM and StatFin files (``figures.is_synthetic`` reads their notes). None: every
    figure's."""
    ids = figures.FIGURES if figure_id is None else [figure_id]
    marts = sorted({m for f in ids for m in figures.figure_marts(f)})
    raw = table_to_raw_asset()
    marks = sorted({raw[t] for t in figures.SYNTHETIC_MARK_TABLES}, key=lambda k: k.path)
    return [*(model_key(m) for m in marts), *marks]


def figure_description(spec: figures.FigureSpec) -> str:
    """The asset's description: the report's caption for the pilot area. A title whose years
    come from the data (``{years}``) says so in words: the UI shows the text as it is."""
    title, area = spec.title["fi"], "pilot area"
    if "{years}" in title:
        title, area = title.format(years="vuosittain"), "pilot area, every year the data hold"
    caption = (f"Kuvio {spec.number} – " if spec.number is not None else "") + title
    return f"{caption} ({area}). Lähde: {spec.source['fi']}"


def _figure_asset(figure_id: str):
    spec = figures.FIGURES[figure_id]

    @asset(
        key=AssetKey(["reports", figure_id]), group_name="reports",
        kinds={"matplotlib", "png", "csv"}, deps=[PUBLISHED_KEY, *figure_inputs(figure_id)],
        description=figure_description(spec),
    )
    def _render(context: AssetExecutionContext, paths: PipelinePaths) -> MaterializeResult:
        con = connect_published(paths.marts)
        previews: dict[str, str] = {}
        try:
            # Left as it is when what it shows did not change (charts/unchanged.py).
            fp = unchanged.fingerprint(con, [figure_id])
            kept = unchanged.current(paths.reports, figure_id, fp)
            if kept is None:
                written = outputs.write_all(con, paths.reports, PILOT_AREA, [figure_id],
                                            outputs.FIGURE_FORMATS + ("csv",), "fi", previews,
                                            books=())
                data = figures.figure_data(con, figure_id, PILOT_AREA)
                cov = figure_coverage(con, PILOT_AREA, [figure_id])[0]
        finally:
            con.close()
        if kept is None:
            shown = {
                "chart": thumbnail.thumbnail_markdown(spec, data) if len(data)
                else f"Not drawn: {cov.line()}",
                "coverage": cov.line(),
                "months_with_values": cov.present + cov.partial,
                "files": "\n".join(f"- `{p}`" for p in written.paths),
                "points": len(data),
                "preview": (_preview_md(figure_id, previews[figure_id]).value
                            if figure_id in previews
                            else f"Not drawn for the pilot area: {cov.line()}"),
            }
            unchanged.record(paths.reports, figure_id, fp, written.paths, shown)
        else:
            shown = kept["shown"]
            context.log.info(f"{figure_id}: its data did not change; its files are kept")
        reports_status.drawn(paths.marts, figure_id, context.run.run_id)
        fault_point("during_charts", figure_id)
        # First: the UI lists metadata in this order, and the thumbnail is what an analyst
        # looks for on the asset page; it is short enough to be shown there, inline.
        return MaterializeResult(metadata={
            "chart": MetadataValue.md(shown["chart"]),
            # Drawn with how many months and from which sources, or why not (audit.coverage).
            "coverage": shown["coverage"],
            "months_with_values": shown["months_with_values"],
            "path": MetadataValue.path(str(paths.reports / f"{figure_id}.png")),
            "files": MetadataValue.md(shown["files"]),
            "points": shown["points"],
            "redrawn": kept is None,
            "preview": MetadataValue.md(shown["preview"]),
        })

    return _render


@asset(
    key=BOOK_KEY, group_name="reports", kinds={"pdf", "excel"},
    deps=[PUBLISHED_KEY, *figure_inputs()],
    description="Every figure of the report for the pilot area: figures.pdf (a page each) and "
                "figures.xlsx (a sheet each, with the data and a native Excel chart).",
)
def figures_book(context: AssetExecutionContext, paths: PipelinePaths) -> MaterializeResult:
    con = connect_published(paths.marts)
    previews: dict[str, str] = {}
    try:
        fp = unchanged.fingerprint(con, list(figures.FIGURES))
        kept = unchanged.current(paths.reports, BOOK_ID, fp)
        if kept is None:
            written = outputs.write_all(con, paths.reports, PILOT_AREA, None, (), "fi",
                                        previews, books=("pdf", "xlsx"), preview_dpi=20)
    finally:
        con.close()
    if kept is None:
        # A contact sheet of small previews: what the PDF's pages hold, in order.
        thumbs = " ".join(f"![{fid}](data:image/png;base64,{png})"
                          for fid, png in previews.items())
        shown = {"pages": len(previews),
                 "files": "\n".join(f"- `{p}`" for p in written.paths),
                 "preview": thumbs or "no figures"}
        unchanged.record(paths.reports, BOOK_ID, fp, written.paths, shown)
    else:
        shown = kept["shown"]
        context.log.info("no figure's data changed: figures.pdf and figures.xlsx are kept")
    reports_status.drawn(paths.marts, BOOK_ID, context.run.run_id)
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(paths.reports / outputs.BOOK_PDF)),
        "xlsx": MetadataValue.path(str(paths.reports / outputs.BOOK_XLSX)),
        "pages": shown["pages"],
        "files": MetadataValue.md(shown["files"]),
        "redrawn": kept is None,
        "preview": MetadataValue.md(shown["preview"]),
    })


figure_assets = [*(_figure_asset(f) for f in figures.FIGURES), figures_book]
