"""Writing into the raw folder without ever leaving a half-written file there.

A download goes to a temporary dot file in the target folder (``.12r5.json.<pid>.tmp``: the
raw layer and the sensor ignore dot files), is flushed to disk, validated, and only then
renamed over the previous file (``os.replace``: atomic on one file system). Bytes equal to
the file in place replace nothing, so the raw-folder sensor sees nothing. Beside each file,
``<name>.manifest.json`` records where it came from (the raw layer ignores
``*.manifest.json``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..processes import process_alive
from ..readers.common import file_sha256

MANIFEST_SUFFIX = ".manifest.json"
_TEMP_RE = re.compile(r"^\..+\.(\d+)\.tmp$")


def temp_path(target: Path) -> Path:
    """The temporary name a download of ``target`` is written under (this process's)."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def manifest_path(target: Path) -> Path:
    return target.with_name(target.name + MANIFEST_SUFFIX)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(target: Path, data: bytes) -> Path:
    """``data`` in ``target``'s temporary file, on disk."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError:  # disk full, …: no partial temporary file left behind
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def same_as_in_place(target: Path, sha256: str) -> bool:
    return target.is_file() and file_sha256(target) == sha256


def commit(tmp: Path, target: Path) -> None:
    """Rename a validated temporary file over ``target`` (atomic), durably."""
    _fsync(tmp)
    os.replace(tmp, target)
    try:
        _fsync(target.parent)
    except OSError:  # some file systems cannot fsync a directory; the rename stands
        pass


def write_manifest(target: Path, manifest: dict) -> Path:
    """``<target>.manifest.json``, itself written to a temporary name and renamed."""
    path = manifest_path(target)
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    tmp = write_temp(path, text.encode("utf-8"))
    commit(tmp, path)
    return path


def read_manifest(target: Path) -> dict | None:
    try:
        return json.loads(manifest_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def remove_stale_temps(folder: Path) -> list[str]:
    """Delete temporary files left in ``folder`` by fetches that were killed (their process
    is gone); a live fetch's file stays."""
    removed = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        m = _TEMP_RE.match(path.name)
        if m and path.is_file() and not process_alive(int(m.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed
