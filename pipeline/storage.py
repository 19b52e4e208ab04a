"""Where a run writes, and the three ways that fails, each said plainly and at once.

A full disk, a working database held by another process, and a folder the run may not
write are told apart (with the path, and the holder's process id as DuckDB reports it),
checked before a run starts where they can be, and never retried for minutes: DuckDB's
lock is held until the other process closes the file, which can be hours.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from pathlib import Path

import duckdb

# "Could not set lock on file "…": Conflicting lock is held in /usr/bin/python3 (PID 123)
# by user x. See also https://duckdb.org/docs/stable/connect/concurrency"
_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)

# A lock held for a moment (another run's --changed-only reading the working database)
# is waited out; one held longer is reported, not waited on for minutes.
LOCK_WAIT_SECONDS = 3.0


class StorageError(Exception):
    """A run cannot write where it must: the message says what, where and why; ``pid``
    the process holding the working database, for a lock."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


def disk_full(path: Path, doing: str = "") -> StorageError:
    return StorageError(f"the disk is full: cannot write {path}"
                        + (f" ({doing})" if doing else "") + "; free some space and run again")


def read_only(path: Path, detail: str = "") -> StorageError:
    return StorageError(f"cannot write {path}: the folder or file is read-only for this user"
                        + (f" ({detail})" if detail else "")
                        + "; make it writable or choose another --marts-dir/--reports-dir")


def locked(path: Path, message: str) -> StorageError:
    m = _LOCK_RE.search(message)
    who = (f"process {m['pid']} ({m['program']})" if m
           else "another process")
    return StorageError(f"the working database {path} is held by {who}: DuckDB lets one "
                        "process open it for writing. Close that program (a DuckDB shell, a "
                        "notebook, another run) or wait for it to finish, then run again",
                        pid=int(m["pid"]) if m else None)


def explain_os_error(e: OSError, path: Path, doing: str = "") -> StorageError | None:
    """A StorageError for a full disk or a read-only place; None for other errors."""
    if e.errno == errno.ENOSPC or e.errno == errno.EDQUOT:
        return disk_full(path, doing)
    if e.errno in _READ_ONLY:
        return read_only(path, e.strerror or "")
    return None


def explain_duckdb_error(e: Exception | str, path: Path) -> StorageError | None:
    """DuckDB's IO errors on the working database, in words; None for other errors."""
    msg = str(e)
    if "Conflicting lock" in msg:
        return locked(path, msg)
    if "No space left on device" in msg or "Disk quota exceeded" in msg:
        return disk_full(path)
    if "Permission denied" in msg or "Read-only file system" in msg \
            or "Operation not permitted" in msg:
        return read_only(path, msg.splitlines()[0])
    return None


def explain_failure(message: str) -> str | None:
    """An error met during a run (DuckDB's or the system's words, e.g. on the working
    database or a chart file) in words when it is a full disk, a lock held by another
    process or a read-only place, with the error's first line (which names the file);
    None for any other error."""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    if "No space left on device" in message or "Disk quota exceeded" in message:
        return f"the disk is full ({first}); free some space and run again"
    if "Conflicting lock" in message:
        m = _LOCK_RE.search(message)
        who = f"process {m['pid']} ({m['program']})" if m else "another process"
        return (f"a file is held by {who} ({first}); close that program or wait for it to "
                "finish, then run again")
    if "Read-only file system" in message or "Permission denied" in message:
        return (f"cannot write: the folder or file is read-only for this user ({first}); "
                "make it writable or choose another --marts-dir/--reports-dir")
    return None


def check_writable(folder: Path) -> None:
    """Create the folder if needed and write a scratch file in it; StorageError if not."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        raise explain_os_error(e, folder) or StorageError(
            f"cannot write {folder}: {e.strerror or e}") from e


def check_duckdb_path(path: Path) -> None:
    """StorageError if DuckDB cannot write a database at ``path``: it reads what follows a
    '?' in a database path as options, so the file opens but its write-ahead log goes to a
    path that does not exist and every commit fails."""
    if "?" in str(path):
        raise StorageError(f"cannot use the working database {path}: DuckDB cannot write a "
                           "database whose path holds '?'; choose a --marts-dir without '?'")


def connect_working(path: Path, read_only: bool = False,
                    wait: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open the working database; a held lock is retried for ``wait`` seconds at most. Any
    storage failure becomes a StorageError that says which."""
    check_duckdb_path(path)
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as e:
            err = explain_duckdb_error(e, path)
            if err is None:
                raise
            if "Conflicting lock" in str(e) and time.monotonic() + delay < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise err from e


def preflight(marts_dir: Path, reports_dir: Path, work_db: Path) -> None:
    """Before a run: the folders it writes are writable and the working database is not
    held by another process. Raises StorageError."""
    check_duckdb_path(Path(work_db))
    for folder in (Path(marts_dir), Path(work_db).parent, Path(reports_dir)):
        check_writable(folder)
    if Path(work_db).exists():
        if not os.access(work_db, os.W_OK):
            raise read_only(work_db)
        connect_working(work_db).close()
