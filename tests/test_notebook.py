"""The auditors' notebook runs top to bottom on a published warehouse."""

from __future__ import annotations

import io
import os
import shutil

import nbformat
from conftest import ROOT
from nbclient import NotebookClient

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
    assert os.environ["MARTS_DIR"] == str(tmp_path / "marts")
