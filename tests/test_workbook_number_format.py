"""figures.xlsx shows its numbers in the book's language wherever it is opened (issue 15,
"one number format per language"): a Finnish book renders 17 641 and 9,1, an English one
17,641 and 9.1, in the table, on the charts' labels and on the value axis.

LibreOffice takes a number format's separators from the format's locale tag, else from the
machine's locale: without a tag, a Finnish book rendered on an English machine showed 17,641
and 9.1. The frames here are made by hand; the rendering test runs LibreOffice headless
when it is installed (``soffice`` and ``pdftotext``), as a report writer would print.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from pipeline.charts import excel, figures, outputs


def entries() -> list[outputs.Entry]:
    """Kuvio 8 (persons) and Kuvio 9 (a rate, one decimal), two months each."""
    months = {"year": [2021, 2021], "month_no": [1, 2], "source": ["TEM 1208", "TEM 1208"]}
    return [
        outputs.Entry(figures.FIGURES["kuvio_8"],
                      pd.DataFrame({**months, "value": [17641.0, 3828.0]})),
        outputs.Entry(figures.FIGURES["kuvio_9"],
                      pd.DataFrame({**months, "source": ["TEM 4253", "TEM 4253"],
                                    "value": [9.1, 12.75]})),
    ]


def number_formats(path) -> dict[str, set[str]]:
    """sheet -> the number formats of its numeric cells and of its chart's value axis."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for fid in ("kuvio_8", "kuvio_9"):
        ws = wb[fid]
        cells = {c.number_format for row in ws.iter_rows(min_row=excel.HEADER_ROW + 1)
                 for c in row if c.data_type == "n" and isinstance(c.value, float)}
        out[fid] = cells | {ws._charts[0].y_axis.numFmt.formatCode}
    return out


@pytest.mark.parametrize("lang, tag", [("fi", "[$-40B]"), ("en", "[$-409]")])
def test_every_number_format_carries_the_books_language(tmp_path, lang, tag):
    path = excel.write_workbook(entries(), tmp_path / "figures.xlsx", lang)
    formats = number_formats(path)
    assert formats["kuvio_8"] == {tag + "#,##0"}
    assert formats["kuvio_9"] == {tag + "#,##0.0"}


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(not (SOFFICE and PDFTOTEXT), reason="needs LibreOffice and pdftotext")
@pytest.mark.parametrize("lang, persons, rate, wrong", [
    ("fi", r"17\s641", r"12,8", [r"17,641", r"12\.8"]),
    ("en", r"17,641", r"12\.8", [r"17\s641", r"12,8"])])
def test_libreoffice_renders_the_books_number_format(tmp_path, lang, persons, rate, wrong):
    book = excel.write_workbook(entries(), tmp_path / "figures.xlsx", lang)
    # An English machine: the format's tag, not the machine, must decide.
    env = {**os.environ, "LANG": "en_US.UTF-8", "LC_ALL": "en_US.UTF-8"}
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(book)],
                   check=True, capture_output=True, env=env, timeout=300)
    text = subprocess.run([PDFTOTEXT, "-layout", str(tmp_path / "figures.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert re.search(persons, text), text  # 17 641 (table, label) as the PNGs have it
    assert re.search(rate, text), text     # 12.75 rounded half up, in the book's decimal mark
    for pattern in wrong:
        assert not re.search(pattern, text), pattern
