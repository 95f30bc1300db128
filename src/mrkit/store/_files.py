"""The store's files on disk: names, fsync, checksums, and the traces of crashed imports.

An import writes ``.tmp-<pid>-<token>-<id>*.parquet`` files (and a
``.tmp-spill-<pid>-<token>`` directory for DuckDB) in the store's directory and
renames them to ``<id>-<token>.parquet`` / ``<id>-<token>.top.parquet`` only
inside the catalog transaction (:meth:`mrkit.store.catalog.Store.import_gwas`).
:func:`remove_orphans` deletes what an import that never committed left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from mrkit.errors import StoreError

__all__ = [
    "check_name",
    "crash_point",
    "fsync",
    "pause_point",
    "pid_alive",
    "remove_data",
    "remove_orphans",
    "remove_temporaries",
    "sha256_thread",
    "top_name",
]

_TMP_RE = re.compile(r"\.tmp-(?:spill-)?(\d+)-")
#: The names the store gives its own files (``<id>-<token>.parquet``, its top hits and
#: rejected rows); recovery deletes nothing else, so that a results folder mistakenly
#: put inside the store's folder is never touched.
_OWN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}-[0-9a-f]{12}(?:\.top)?\.parquet$")
_REJECTED = ".rejected.tsv"


def check_name(name: str) -> str:
    """``name`` when it is a plain file name the store made; raise StoreError otherwise.

    A catalog row naming ``../elsewhere/x.parquet`` (edited, or from another tool) must
    never make the store read or delete a file outside its folder.
    """
    if not isinstance(name, str) or not _OWN_RE.match(name):
        raise StoreError(
            f"the catalog names the file {name!r}, which is not a file of the store's own "
            "folder; refusing to use it (was the catalog edited?)"
        )
    return name


def rejected_name(name: str) -> str:
    """Name of the rejected-rows file beside the Parquet file ``name``."""
    return name[: -len(".parquet")] + _REJECTED


def top_name(name: str) -> str:
    """Name of the "top hits" file (rows with p <= 1e-5) beside the Parquet file ``name``."""
    return name[: -len(".parquet")] + ".top.parquet"


def remove_data(path: Path) -> None:
    """Delete a GWAS's Parquet file ``path``, its top-hits and rejected-rows files."""
    check_name(path.name)
    path.unlink(missing_ok=True)
    path.with_name(top_name(path.name)).unlink(missing_ok=True)
    path.with_name(rejected_name(path.name)).unlink(missing_ok=True)


def crash_point(name: str) -> None:
    """Test hook: ``MRKIT_CRASH_AT=<name>`` kills the process here with SIGKILL."""
    if os.environ.get("MRKIT_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def pause_point(name: str) -> None:
    """Test hook: ``MRKIT_PAUSE_AT=<name>`` stops here until the test lets it go.

    The process creates ``$MRKIT_PAUSE_DIR/<name>.reached`` and waits (at most 120 s)
    for ``$MRKIT_PAUSE_DIR/<name>.go``: a race between processes made deterministic.
    """
    if os.environ.get("MRKIT_PAUSE_AT") != name:
        return
    import time

    d = Path(os.environ.get("MRKIT_PAUSE_DIR", "."))
    (d / f"{name}.reached").touch()
    end = time.monotonic() + 120
    while not (d / f"{name}.go").exists() and time.monotonic() < end:
        time.sleep(0.02)


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


def remove_orphans(
    directory: Path, files: Iterable[str], *, temporaries_only: bool = False
) -> None:
    """Delete the store's files in ``directory`` that the catalog (``files``) does not name.

    Their top-hits and rejected-rows files are kept with them; the temporary files
    and spill directories of an import still running in another process are left
    alone, and so is any file not named as the store names its own.
    ``temporaries_only``: delete only the temporaries of dead imports (no catalog to
    compare with).
    """
    if not directory.is_dir():
        return
    files = list(files)
    known = set(files) | {top_name(f) for f in files} | {rejected_name(f) for f in files}
    for f in directory.iterdir():
        m = _TMP_RE.match(f.name)
        if m and pid_alive(int(m.group(1))):
            continue  # an import running in another process
        if f.is_dir() and m:
            for g in f.iterdir():
                g.unlink(missing_ok=True)
            f.rmdir()
        elif m or (not temporaries_only and f.name not in known and _own(f.name)):
            f.unlink(missing_ok=True)


def _own(name: str) -> bool:
    """Whether ``name`` is one of the store's own (final) file names."""
    if name.endswith(_REJECTED):
        name = name[: -len(_REJECTED)] + ".parquet"
    return bool(_OWN_RE.match(name))


def remove_temporaries(directory: Path, files: Iterable[Path], spill: Path) -> None:
    """Delete an import's temporary ``files`` and ``spill`` directory; an empty store dir too."""
    for f in files:
        f.unlink(missing_ok=True)
    if spill.is_dir():
        for f in spill.iterdir():
            f.unlink(missing_ok=True)
        spill.rmdir()
    if directory.is_dir() and not any(directory.iterdir()):
        with contextlib.suppress(OSError):  # (another import may have just made a file)
            directory.rmdir()
