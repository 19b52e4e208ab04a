"""The auditors' notebook runs top to bottom on a published warehouse."""

from __future__ import annotations

import io
import re
import shutil

import nbformat
import openpyxl
from conftest import ROOT
from nbclient import NotebookClient

from pipeline import areas
from pipeline.runner import run_pipeline

NOTEBOOK = ROOT / "notebooks" / "kuvio_8_from_raw_to_chart.ipynb"


def test_notebook_walks_kuvio_8_from_raw_to_chart(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "raw")
    out = io.StringIO()
    assert run_pipeline(str(tmp_path / "raw"), str(tmp_path / "marts"),
                        str(tmp_path / "reports"), out=out) == 0, out.getvalue()
    monkeypatch.setenv("MARTS_DIR", str(tmp_path / "marts"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "46 of 46 Kuvio 8 labels reproduced" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the chart itself
    # It read this test's warehouse: its first output is the run this test made.
    run_id = re.search(r"^run (\w{8}): ", out.getvalue(), re.M)[1]
    first = "".join(o.get("data", {}).get("text/plain", "") for o in outputs[:1])
    assert run_id in first, first
    # Its sum of the raw cells is the eight pilot municipalities' June 2023 cells of the
    # 1208 workbook, read here independently with openpyxl.
    wb = next((tmp_path / "raw").rglob("*1208*.xlsx"))
    rows = list(openpyxl.load_workbook(wb, read_only=True).worksheets[0].values)
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Alue")
    col = rows[head].index("Pitkäaikaistyöttömät")
    pilot = {code[2:] for code in areas.PILOT_MUNICIPALITIES}
    cells = [r[col] for r in rows[head + 1:]
             if r and r[0] and r[0][:3] in pilot and r[1] == "2023M06"]
    assert len(cells) == 8
    assert f"sum of the raw cells: {sum(cells):.0f}   published: {sum(cells):.0f}" in text
