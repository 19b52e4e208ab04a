"""``python -m pipeline sql`` cannot change anything (issue 13, finding 1): every attack the
finding lists is refused, says what and why, and leaves every file as it was; ordinary
queries, the lineage macros and ``--csv`` still work; a long query is stopped."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT, copy_of_run

from pipeline import readonly_sql
from pipeline.warehouse import published_path, work_db_path


@pytest.fixture(scope="module")
def base(bundled_run_once, tmp_path_factory) -> Path:
    return copy_of_run(bundled_run_once, tmp_path_factory, "sql")


def sql(base: Path, query: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "sql", query,
                           "--marts-dir", str(base / "marts"), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(base: Path) -> dict[str, str]:
    """Every file of the marts folder (published, working database, Parquet) by hash."""
    return {p.relative_to(base).as_posix(): sha(p)
            for p in sorted((base / "marts").rglob("*")) if p.is_file()}


def lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def assert_refused(res: subprocess.CompletedProcess, *words: str) -> None:
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stderr.startswith("refused: "), res.stderr
    for w in words:
        assert w in res.stderr, res.stderr


def test_attach_of_the_working_database_read_write_is_refused(base):
    """The finding's exact attack: attach the working database read-write and change a raw
    cell. Neither the attach alone nor the pair runs; no file changes."""
    before = snapshot(base)
    work = work_db_path(base / "marts")
    attach = f"attach {lit(work)} as w (read_write)"
    update = ("update w.raw.tem_report_cells set value = 167 "
              "where file like '%1208%' and place = 'Raportti!D377'")
    res = sql(base, attach)
    assert_refused(res, "ATTACH statements are refused", "another database file")
    res = sql(base, f"{attach}; {update}")
    assert_refused(res, "one statement at a time", "2 statements", "nothing was run")
    # Even with a single statement naming the attached catalog, there is no catalog w.
    res = sql(base, update)
    assert_refused(res, "UPDATE statements are refused")
    assert snapshot(base) == before


def test_copy_export_and_copy_over_the_parquet_are_refused(base, tmp_path):
    before = snapshot(base)
    parquet = base / "marts" / "parquet" / "indicators_monthly.parquet"
    assert parquet.exists()
    for query, words in [
        (f"copy (select * from marts.indicators_monthly) to {lit(tmp_path / 'out.csv')}",
         ("COPY statements are refused", "files outside the warehouse")),
        (f"copy marts.indicators_monthly to {lit(parquet)} (format parquet)",
         ("COPY statements are refused",)),
        (f"copy (select 'x' as area_code) to {lit(parquet)} (format parquet)",
         ("COPY statements are refused",)),
        (f"export database {lit(tmp_path / 'exported')}",
         ("EXPORT statements are refused", "files outside the warehouse")),
    ]:
        assert_refused(sql(base, query), *words)
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "exported").exists()
    assert snapshot(base) == before


def test_reading_files_outside_the_warehouse_is_refused(base, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "secret.csv").write_text("a,b\nroot,x\n")
    for query in (f"select * from read_csv({lit(secret)})",
                  f"select * from {lit(tmp_path / 'secret.csv')}",
                  f"select * from read_text({lit(secret)})",
                  "select * from read_csv('/etc/passwd')",
                  f"select * from glob({lit(tmp_path / '*')})"):
        res = sql(base, query)
        assert_refused(res, "outside the published warehouse", "disabled by configuration")
        assert res.stdout == ""


def test_settings_extensions_and_writes_are_refused(base):
    before = snapshot(base)
    for query, words in [
        ("set enable_external_access = true", ("SET/RESET/PRAGMA statements are refused",)),
        ("reset lock_configuration", ("SET/RESET/PRAGMA statements are refused",)),
        ("pragma threads = 1", ("SET/RESET/PRAGMA statements are refused",)),
        ("install httpfs", ("INSTALL/LOAD statements are refused", "extensions")),
        ("load httpfs", ("INSTALL/LOAD statements are refused", "extensions")),
        ("create table marts.x as select 1", ("CREATE statements are refused",)),
        ("delete from marts.indicators_monthly", ("DELETE statements are refused",)),
    ]:
        assert_refused(sql(base, query), "read-only", *words)
    assert_refused(sql(base, "select 1; select 2"), "one statement at a time")
    assert snapshot(base) == before


def test_the_connection_itself_refuses_what_the_statement_check_lets_through(base, tmp_path):
    """The second lock alone (without the statement check): a read-only file, no external
    access, settings locked."""
    con = readonly_sql.open_readonly(published_path(base / "marts"))
    try:
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("set enable_external_access = true")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"copy (select 1) to {lit(tmp_path / 'x.csv')}")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"attach {lit(work_db_path(base / 'marts'))} as w")
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("delete from marts.indicators_monthly")
    finally:
        con.close()
    assert not (tmp_path / "x.csv").exists()


def test_a_long_query_is_stopped_at_the_time_limit(base):
    # 10^16 rows: runs for ever without a limit.
    res = sql(base, "select sum(a.range * b.range) from range(100000000) a, "
                    "range(100000000) b", "--timeout", "1")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "the query ran longer than 1 s and was stopped" in res.stderr
    assert "--timeout" in res.stderr


def test_ordinary_queries_lineage_and_csv_still_work(base):
    res = sql(base, "select count(*) as n from marts.indicators_monthly where area_code = "
                    "'pilot_area'", "--csv")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "n" and int(res.stdout.splitlines()[1]) > 0
    res = sql(base, "select municipality_code, value, file, place from audit.lineage("
                    "'pilot_area', 'long_term_unemployed', '2023-06-01') order by 1", "--csv")
    assert res.returncode == 0, res.stderr
    rows = res.stdout.splitlines()
    assert rows[0] == "municipality_code,value,file,place" and len(rows) == 9
    assert all(r.split(",")[3].startswith("Raportti!F") for r in rows[1:])
    for query in ("describe marts.indicators_monthly", "show tables",
                  "from marts.municipal_share_yearly limit 3",
                  "with t as (select 1 as x) select x from t",
                  "explain select * from marts.indicators_yearly",
                  "pragma table_info('marts.indicators_monthly')",
                  "summarize marts.indicators_yearly"):
        res = sql(base, query)
        assert res.returncode == 0, (query, res.stderr)
        assert res.stdout.strip(), query
