"""``python -m pipeline sql``: one read-only query on the published warehouse.

Three locks, each enough alone against a different mistake or attack:

1. The statement: exactly one, and of a kind that only reads (``SELECT`` and its spellings
   ``FROM …``, ``WITH …``, ``VALUES``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``; ``EXPLAIN``;
   ``PRAGMA``/``CALL`` of table functions). ``ATTACH``, ``COPY``, ``EXPORT``, ``INSTALL``/
   ``LOAD``, ``SET``/``RESET``, ``CREATE`` … are refused before anything runs, saying which
   and why.
2. The connection: the file opened read-only, with DuckDB's ``enable_external_access =
   false`` (no other file is read or written: no ``read_csv('/etc/passwd')``, no ``ATTACH``,
   no ``COPY … TO``, no extension loaded) and ``lock_configuration = true`` (no ``SET``
   undoes that).
3. Time: the query is interrupted after ``timeout`` seconds (``--timeout``), so a cross
   join cannot hold the machine.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .warehouse import published_path

DEFAULT_TIMEOUT = 60.0

CONFIG = {
    "enable_external_access": False,   # the warehouse file only: no other file, no network
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,        # last: no SET/PRAGMA can change the above
}

# Statement kinds that cannot change anything (on a read-only file, without external
# access). DESCRIBE, SHOW, SUMMARIZE, FROM-first and VALUES parse as SELECT.
ALLOWED = {"SELECT", "EXPLAIN", "PRAGMA", "CALL"}

# Why the others are refused, for the message.
WHY = {
    "ATTACH": "it would open another database file (e.g. the working database, read-write)",
    "DETACH": "it changes which databases the session sees",
    "COPY": "it writes or reads files outside the warehouse",
    "COPY_DATABASE": "it writes another database",
    "EXPORT": "it writes files outside the warehouse",
    "LOAD": "it installs or loads DuckDB extensions (code from outside the warehouse)",
    "EXTENSION": "it installs or loads DuckDB extensions (code from outside the warehouse)",
    "UPDATE_EXTENSIONS": "it downloads DuckDB extensions",
    "SET": "it changes the session's settings (the read-only settings are locked)",
    "VARIABLE_SET": "it changes the session's settings",
    "INSERT": "it changes data", "UPDATE": "it changes data", "DELETE": "it changes data",
    "MERGE_INTO": "it changes data",
    "CREATE": "it creates objects", "CREATE_FUNC": "it creates objects",
    "DROP": "it drops objects", "ALTER": "it changes objects",
    "TRANSACTION": "transactions are for writers", "VACUUM": "it rewrites storage",
    "ANALYZE": "it rewrites statistics", "PREPARE": "one plain query at a time",
    "EXECUTE": "one plain query at a time",
}


# How the user spelled it, where DuckDB's kind differs.
NAMES = {"LOAD": "INSTALL/LOAD", "SET": "SET/RESET/PRAGMA", "VARIABLE_SET": "SET VARIABLE"}


class Refused(Exception):
    """The query was not run: what was refused and why."""


class TimedOut(Exception):
    """The query ran longer than the time limit and was interrupted."""


@dataclass
class Query:
    """A checked query on an open read-only connection; ``close()`` when done."""

    con: duckdb.DuckDBPyConnection
    sql: str
    kind: str

    def close(self) -> None:
        self.con.close()


def open_readonly(db: Path) -> duckdb.DuckDBPyConnection:
    """The published file, read-only, no access to anything else, settings locked."""
    return duckdb.connect(str(db), read_only=True, config=dict(CONFIG))


def check(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The statement's kind if it is exactly one read-only statement; else ``Refused``."""
    statements = con.extract_statements(sql)  # a syntax error raises duckdb.ParserException
    if len(statements) != 1:
        raise Refused(f"one statement at a time: the query holds {len(statements)} "
                      "statements (separated by ';'); nothing was run")
    kind = statements[0].type.name
    if kind not in ALLOWED:
        why = WHY.get(kind, "it is not a query that only reads")
        raise Refused(f"{NAMES.get(kind, kind.replace('_', ' '))} statements are refused: {why}. "
                      "`pipeline sql` is read-only: one query that only reads the published "
                      "warehouse (SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); nothing was run")
    return kind


def run(marts_dir: Path, sql: str, emit: Callable[[duckdb.DuckDBPyConnection, str], None],
        timeout: float = DEFAULT_TIMEOUT) -> None:
    """Check ``sql``, then call ``emit(con, sql)`` (which executes and prints it) under the
    time limit. Raises ``FileNotFoundError``, ``Refused``, ``TimedOut`` or ``duckdb.Error``
    (a refusal by DuckDB itself is turned into ``Refused``)."""
    db = published_path(marts_dir)
    if not db.exists():
        raise FileNotFoundError(
            f"{db} does not exist yet: run `make run` (or `python -m pipeline run`) first")
    con = open_readonly(db)
    timer = threading.Timer(timeout, con.interrupt) if timeout and timeout > 0 else None
    try:
        check(con, sql)
        if timer:
            timer.start()
        try:
            emit(con, sql)
        except duckdb.InterruptException as e:
            raise TimedOut(f"the query ran longer than {timeout:g} s and was stopped "
                           "(raise the limit with --timeout SECONDS)") from e
        except duckdb.PermissionException as e:
            raise Refused(f"reading or writing files outside the published warehouse is "
                          f"refused: {_first_line(e)}") from e
        except duckdb.Error as e:
            msg = _first_line(e)
            if "read-only" in msg.lower():
                raise Refused(f"the published warehouse is read-only; writes are refused "
                              f"({msg})") from e
            if "configuration has been locked" in msg:
                raise Refused(f"settings are locked; SET and PRAGMA writes are refused "
                              f"({msg})") from e
            raise
    finally:
        if timer:
            timer.cancel()
        con.close()


def emit_table(max_rows: int) -> Callable:
    """Print the result as DuckDB's box table (at most ``max_rows`` rows shown)."""
    def emit(con, sql):
        rel = con.sql(sql)
        if rel is not None:  # None: a statement without a result
            rel.show(max_rows=max_rows, max_width=10_000)
    return emit


def emit_csv(out) -> Callable:
    """Every row as CSV (header first), streamed in batches."""
    def emit(con, sql):
        res = con.execute(sql)
        w = csv.writer(out, lineterminator="\n")
        w.writerow([d[0] for d in res.description or []])
        for batch in iter(lambda: res.fetchmany(10_000), []):
            w.writerows(batch)
    return emit


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
