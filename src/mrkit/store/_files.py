"""The store's files on disk: names, fsync, checksums, and the traces of crashed imports.

An import writes ``.tmp-<pid>-<token>-<id>*.parquet`` files (and a
``.tmp-spill-<pid>-<token>`` directory for DuckDB) in the store's directory and
renames them to ``<id>-<token>.parquet`` / ``<id>-<token>.top.parquet`` only
inside the catalog transaction (:meth:`mrkit.store.catalog.Store.import_gwas`).
:func:`remove_orphans` deletes what an import that never committed left behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "crash_point",
    "fsync",
    "pid_alive",
    "remove_data",
    "remove_orphans",
    "remove_temporaries",
    "sha256_thread",
    "top_name",
]

_TMP_RE = re.compile(r"\.tmp-(?:spill-)?(\d+)-")


def top_name(name: str) -> str:
    """Name of the "top hits" file (rows with p <= 1e-5) beside the Parquet file ``name``."""
    return name[: -len(".parquet")] + ".top.parquet"


def remove_data(path: Path) -> None:
    """Delete a GWAS's Parquet file ``path`` and its top-hits file (either may be missing)."""
    path.unlink(missing_ok=True)
    path.with_name(top_name(path.name)).unlink(missing_ok=True)


def crash_point(name: str) -> None:
    """Test hook: ``MRKIT_CRASH_AT=<name>`` kills the process here with SIGKILL."""
    if os.environ.get("MRKIT_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def fsync(path: Path) -> None:
    """Flush ``path`` (a file or a directory) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_thread(path: Path) -> tuple[threading.Thread, dict[str, str]]:
    """Start hashing ``path`` in a thread; after ``join()`` the dict holds ``sha256``."""
    out: dict[str, str] = {}

    def run() -> None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        out["sha256"] = h.hexdigest()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def pid_alive(pid: int) -> bool:
    """Whether another process ``pid`` is running (this process counts as not alive)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(directory: Path, files: Iterable[str]) -> None:
    """Delete the Parquet files of ``directory`` that the catalog (``files``) does not name.

    Their top-hits files are kept with them; the temporary files and spill
    directories of an import still running in another process are left alone.
    """
    if not directory.is_dir():
        return
    files = list(files)
    known = set(files) | {top_name(f) for f in files}
    for f in directory.iterdir():
        m = _TMP_RE.match(f.name)
        if m and pid_alive(int(m.group(1))):
            continue  # an import running in another process
        if f.is_dir() and m:
            for g in f.iterdir():
                g.unlink(missing_ok=True)
            f.rmdir()
        elif f.name.endswith(".parquet") and f.name not in known:
            f.unlink(missing_ok=True)


def remove_temporaries(directory: Path, files: Iterable[Path], spill: Path) -> None:
    """Delete an import's temporary ``files`` and ``spill`` directory; an empty store dir too."""
    for f in files:
        f.unlink(missing_ok=True)
    if spill.is_dir():
        for f in spill.iterdir():
            f.unlink(missing_ok=True)
        spill.rmdir()
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
