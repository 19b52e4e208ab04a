"""audit.checksum: equal for equal rows in equal order; different for a changed value, a row
more or less, or the same rows in another order (a rerun must change neither)."""

from __future__ import annotations

import duckdb

from pipeline.audit import checksum


def _table(con, name, rows):
    con.execute(f"create or replace table {name} (area varchar, month date, value double)")
    if rows:
        con.executemany(f"insert into {name} values (?, ?, ?)", rows)


def test_checksum_sees_values_rows_and_order():
    con = duckdb.connect()
    rows = [("KU564", "2024-01-01", 1.0), ("KU564", "2024-02-01", 2.0),
            ("KU244", "2024-01-01", None)]
    _table(con, "a", rows)
    _table(con, "b", rows)
    assert checksum(con, "a") == checksum(con, "b")
    _table(con, "b", [rows[1], rows[0], rows[2]])  # same rows, another order
    assert checksum(con, "a") != checksum(con, "b")
    _table(con, "b", [rows[0], rows[1], ("KU244", "2024-01-01", 0.0)])  # NULL became 0
    assert checksum(con, "a") != checksum(con, "b")
    _table(con, "b", rows[:2])  # a row less
    assert checksum(con, "a") != checksum(con, "b")
    _table(con, "b", [])
    assert checksum(con, "b") != checksum(con, "a") and len(checksum(con, "b")) == 32
