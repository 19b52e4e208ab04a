"""Chart assets: the report's figures (kuviot), rendered from the published warehouse.

One asset per figure writes the pilot area's ``<figure>.png/.svg/.pdf/.csv``; one more writes
``figures.pdf`` and ``figures.xlsx`` with every figure. All read the published warehouse
read-only, so they can be rerun without rerunning the pipeline. Other areas and English
versions: ``python -m pipeline export``.
"""


from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from ..areas import PILOT_AREA
from ..charts import figures, outputs
from ..warehouse import connect_published
from .publish import PUBLISHED_KEY
from .resources import PipelinePaths

BOOK_KEY = AssetKey(["reports", "figures"])


def _preview_md(figure_id: str, png_base64: str) -> MetadataValue:
    return MetadataValue.md(f"![{figure_id}](data:image/png;base64,{png_base64})")


def _figure_asset(figure_id: str):
    spec = figures.FIGURES[figure_id]
    caption = (f"Kuvio {spec.number} – " if spec.number is not None else "") + spec.title["fi"]

    @asset(
        key=AssetKey(["reports", figure_id]), group_name="reports",
        kinds={"matplotlib", "png", "csv"}, deps=[PUBLISHED_KEY],
        description=f"{caption} (pilot area). Lähde: {spec.source['fi']}",
    )
    def _render(paths: PipelinePaths) -> MaterializeResult:
        con = connect_published(paths.marts)
        previews: dict[str, str] = {}
        try:
            written = outputs.write_all(con, paths.reports, PILOT_AREA, [figure_id],
                                        outputs.FIGURE_FORMATS + ("csv",), "fi", previews,
                                        books=())
            points = len(figures.figure_data(con, figure_id, PILOT_AREA))
        finally:
            con.close()
        metadata = {
            "path": MetadataValue.path(str(paths.reports / f"{figure_id}.png")),
            "files": MetadataValue.md("\n".join(f"- `{p}`" for p in written.paths)),
            "points": points,
        }
        if figure_id in previews:
            metadata["preview"] = _preview_md(figure_id, previews[figure_id])
        else:
            metadata["preview"] = MetadataValue.md("no data for the pilot area")
        return MaterializeResult(metadata=metadata)

    return _render


@asset(
    key=BOOK_KEY, group_name="reports", kinds={"pdf", "excel"}, deps=[PUBLISHED_KEY],
    description="Every figure of the report for the pilot area: figures.pdf (a page each) and "
                "figures.xlsx (a sheet each, with the data and a native Excel chart).",
)
def figures_book(paths: PipelinePaths) -> MaterializeResult:
    con = connect_published(paths.marts)
    previews: dict[str, str] = {}
    try:
        written = outputs.write_all(con, paths.reports, PILOT_AREA, None, (), "fi", previews,
                                    books=("pdf", "xlsx"), preview_dpi=20)
    finally:
        con.close()
    # A contact sheet of small previews: what the PDF's pages hold, in order.
    thumbs = " ".join(f"![{fid}](data:image/png;base64,{png})" for fid, png in previews.items())
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(paths.reports / outputs.BOOK_PDF)),
        "xlsx": MetadataValue.path(str(paths.reports / outputs.BOOK_XLSX)),
        "pages": len(previews),
        "files": MetadataValue.md("\n".join(f"- `{p}`" for p in written.paths)),
        "preview": MetadataValue.md(thumbs or "no figures"),
    })


figure_assets = [*(_figure_asset(f) for f in figures.FIGURES), figures_book]
