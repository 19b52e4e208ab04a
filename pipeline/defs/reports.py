"""Chart assets: the report's figures (kuviot), rendered from the published warehouse."""


import base64
import io

from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from ..areas import PILOT_AREA
from ..charts import figures
from ..warehouse import connect_published
from .publish import PUBLISHED_KEY
from .resources import PipelinePaths


def _figure_asset(figure_id: str):
    spec = figures.FIGURES[figure_id]

    @asset(
        key=AssetKey(["reports", figure_id]), group_name="reports", kinds={"matplotlib", "png"},
        deps=[PUBLISHED_KEY],
        description=f"Kuvio {spec.number} – {spec.title['fi']} (pilot area). "
                    f"Lähde: {spec.source['fi']}",
    )
    def _render(paths: PipelinePaths) -> MaterializeResult:
        con = connect_published(paths.marts)
        try:
            data = figures.figure_data(con, figure_id, PILOT_AREA)
            synthetic = figures.is_synthetic(con)
        finally:
            con.close()
        fig = figures.render(spec, data, "fi", synthetic)
        path = figures.save(fig, paths.reports / f"{figure_id}.png")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=60)
        figures.plt_close(fig)
        preview = base64.b64encode(buf.getvalue()).decode()
        return MaterializeResult(metadata={
            "path": MetadataValue.path(str(path)),
            "points": len(data),
            "preview": MetadataValue.md(f"![{figure_id}](data:image/png;base64,{preview})"),
        })

    return _render


figure_assets = [_figure_asset(f) for f in figures.FIGURES]
