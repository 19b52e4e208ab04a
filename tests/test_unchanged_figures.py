"""A figure asset leaves its files as they are when what it shows did not change, and
redraws when its data changed or a file of it is missing or altered (charts/unchanged.py)."""

from __future__ import annotations

import io

from conftest import copy_of_run

from pipeline.runner import run_pipeline


def _mtimes(reports):
    return {p.name: p.stat().st_mtime_ns for p in reports.iterdir() if p.is_file()}


def test_only_the_figures_whose_data_changed_are_redrawn(bundled_run_once, tmp_path_factory):
    base = copy_of_run(bundled_run_once, tmp_path_factory, "unchanged")
    raw, marts, reports = base / "raw", base / "marts", base / "reports"

    def run(**kw):
        out = io.StringIO()
        assert run_pipeline(str(raw), str(marts), str(reports), out=out, **kw) == 0, \
            out.getvalue()
        return out.getvalue()

    # The same inputs again: every figure's files are kept as they are.
    before = _mtimes(reports)
    run()
    assert _mtimes(reports) == before

    # One Kela value changed: the municipal share's figure and the book are redrawn, the
    # figures of TEM's data are kept (their data did not change).
    kela = raw / "kela" / "data.csv"
    lines = kela.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",1234.56"
    kela.write_text("\n".join(lines) + "\n", encoding="utf-8")
    old_csv = (reports / "kuntaosuus.csv").read_bytes()
    run(changed_only=True)
    after = _mtimes(reports)
    changed = {name for name in after if after[name] != before.get(name)}
    assert {"kuntaosuus.png", "kuntaosuus.csv", "figures.pdf", "figures.xlsx"} <= changed
    assert (reports / "kuntaosuus.csv").read_bytes() != old_csv
    assert not changed & {f"kuvio_{n}.{x}" for n in range(1, 12) for x in ("png", "csv")}

    # A file deleted or altered by hand is drawn again, even though its data did not change.
    (reports / "kuvio_2.png").unlink()
    good = (reports / "kuvio_3.csv").read_bytes()
    (reports / "kuvio_3.csv").write_text("edited\n", encoding="utf-8")
    run()
    assert (reports / "kuvio_2.png").stat().st_size > 10_000
    assert (reports / "kuvio_3.csv").read_bytes() == good


def test_changed_only_redraws_charts_deleted_or_edited_by_hand(bundled_run_once,
                                                               tmp_path_factory):
    """`run --changed-only` said "nothing changed … is up to date" and left reports/ without
    kuvio_11 (or with an edited kuvio_8.csv) for good; it draws those charts again."""
    base = copy_of_run(bundled_run_once, tmp_path_factory, "changed_only_damaged")
    raw, marts, reports = base / "raw", base / "marts", base / "reports"
    good_11 = (reports / "kuvio_11.csv").read_bytes()
    good_8 = (reports / "kuvio_8.csv").read_bytes()
    for p in reports.glob("kuvio_11.*"):
        p.unlink()
    (reports / "kuvio_8.csv").write_bytes(good_8.replace(b"TEM 1208", b"TEM 1209", 1))
    out = io.StringIO()
    assert run_pipeline(str(raw), str(marts), str(reports), out=out, changed_only=True) == 0
    log = out.getvalue()
    assert (f"charts removed or edited in {reports} since they were drawn: reports/kuvio_11, "
            "reports/kuvio_8; drawing them") in log, log
    assert "2 of 32 assets" in log and "nothing changed" not in log
    assert (reports / "kuvio_11.csv").read_bytes() == good_11
    assert (reports / "kuvio_8.csv").read_bytes() == good_8
    assert {p.suffix for p in reports.glob("kuvio_11.*")} == {".csv", ".png", ".svg", ".pdf"}
    out = io.StringIO()
    assert run_pipeline(str(raw), str(marts), str(reports), out=out, changed_only=True) == 0
    assert "nothing changed since the published run" in out.getvalue()
