"""The local GWAS store: a DuckDB catalog plus one Parquet file per GWAS.

Layout on disk::

    mrkit.duckdb            catalog table (one row per GWAS)
    mrkit.duckdb.d/         <id>-<token>.parquet, normalised table sorted by chr, pos
                            <id>-<token>.top.parquet, its rows with p <= 1e-5 (same order)

The import is one streaming pass (:mod:`mrkit.io.sumstats._ingest`): DuckDB parses and
validates the file and hands Arrow batches to a Parquet writer thread; the
SHA-256 of the file is computed in another thread at the same time. Only a
file that is not already sorted by chromosome and position is sorted
afterwards (a second pass over the Parquet file, spilling to disk if needed).

Imports are atomic. The Parquet file is written under a temporary name and
fsynced *before* the store is touched; then one DuckDB transaction replaces
the catalog row, the file is renamed to its final (unique) name and the
transaction commits. A crash before the commit leaves the catalog as it was;
the only trace is an unreferenced file, which the next writable open of the
store deletes, so the catalog and the files are then byte-identical to
before. A replaced GWAS's old file is deleted after the commit.

The queries (tables, instruments by p, rows by rsID or chr:pos, builds) are in
:mod:`mrkit.store.queries`; file names, fsync and the clean-up after a crash in
:mod:`mrkit.store._files`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import duckdb
import pandas as pd

from mrkit._core.columns import BUILDS, normalise_build
from mrkit.errors import InputError, StoreError
from mrkit.io.sumstats.read import (
    connection,
    read_sumstats,
    sample_size,
)
from mrkit.store._files import (
    check_name,
    crash_point,
    fsync,
    pause_point,
    rejected_name,
    remove_data,
    remove_orphans,
    remove_temporaries,
    sha256_thread,
    top_name,
)
from mrkit.store._load import BadRows, file_metadata, import_params, load, write_rejected
from mrkit.store.queries import Queries

__all__ = ["BUILDS", "Store", "load_gwas", "normalise_build", "same_import", "top_name"]

CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS catalog (
    id VARCHAR PRIMARY KEY,
    trait VARCHAR NOT NULL,
    units VARCHAR,
    n DOUBLE,
    ncase DOUBLE,
    ncontrol DOUBLE,
    population VARCHAR,
    build VARCHAR,
    source_path VARCHAR,
    sha256 VARCHAR,
    format VARCHAR,
    rows BIGINT,
    imported_at TIMESTAMP,
    file VARCHAR,
    dropped BIGINT
);
ALTER TABLE catalog ADD COLUMN IF NOT EXISTS params VARCHAR;
ALTER TABLE catalog ADD COLUMN IF NOT EXISTS rejected BIGINT;
"""
CATALOG_COLUMNS = (
    "id", "trait", "units", "n", "ncase", "ncontrol", "population", "build", "source_path",
    "sha256", "format", "rows", "imported_at", "file", "dropped", "params", "rejected",
)  # fmt: skip
#: Seconds to wait for a store another process holds (``MRKIT_LOCK_WAIT``).
LOCK_WAIT = float(os.environ.get("MRKIT_LOCK_WAIT", "60"))
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MEMORY_LIMIT = os.environ.get("MRKIT_MEMORY_LIMIT", "2GB")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _os_errors(fn: Callable[Concatenate[Store, _P], _R]) -> Callable[Concatenate[Store, _P], _R]:
    """``fn`` with an operating-system error (disk full, read-only or unwritable folder, a
    file gone) raised as one :class:`~mrkit.errors.StoreError` line, not a traceback."""

    def wrapper(self: Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(self, *args, **kwargs)
        except OSError as exc:
            what = exc.strerror or str(exc)
            where = f" ({exc.filename})" if exc.filename else ""
            raise StoreError(
                f"store {self.path}: {what}{where}; nothing was changed (free disk space, "
                "or check that the store's folder is writable)"
            ) from None

    functools.update_wrapper(wrapper, fn)  # (name, docstring and signature of ``fn``)
    return wrapper


class Store(Queries):
    """A local store of imported GWAS: the catalog, atomic imports and the queries.

    The queries (``get``, ``instruments``, ``lookup``, ``check_builds``) are those
    of :class:`~mrkit.store.queries.Queries`.

    Parameters
    ----------
    path
        The DuckDB catalog file (created on the first import); the Parquet
        files live in ``<path>.d/``.
    read_only
        Open without the right to change anything (no recovery of crashed
        imports either).
    """

    def __init__(self, path: str | Path = "mrkit.duckdb", *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.dir = Path(str(self.path) + ".d")
        self.read_only = read_only
        if self.path.is_dir():
            raise StoreError(f"store path {self.path} is a directory; give a .duckdb file path")
        if not read_only:
            self._recover()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connection helpers ---------------------------------------------------------------
    def _connect(self, *, write: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to the catalog; waits up to :data:`LOCK_WAIT` s for another process.

        DuckDB lets one process write a file, and no other process read it meanwhile:
        a store held by another mrkit process is tried again (every 50-250 ms, with one
        message on stderr) until it is free or the wait is over.
        """
        if write and self.read_only:
            raise StoreError(f"store {self.path} was opened read-only")
        deadline = None
        while True:
            try:
                if write:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    con = duckdb.connect(str(self.path))
                    con.execute(CATALOG_DDL)
                    return con
                return duckdb.connect(str(self.path), read_only=True)
            except duckdb.IOException as exc:
                first = str(exc).splitlines()[0]
                now = time.monotonic()
                if "lock" not in first.lower() or (deadline is not None and now >= deadline):
                    waited = f" after waiting {LOCK_WAIT:g} s" if deadline is not None else ""
                    raise StoreError(
                        f"cannot open store {self.path}{waited}: {first} (is another mrkit "
                        "process using it? MRKIT_LOCK_WAIT sets the wait in seconds)"
                    ) from None
                if deadline is None:
                    deadline = now + LOCK_WAIT
                    sys.stderr.write(
                        f"mrkit: store {self.path} is in use by another process; waiting up "
                        f"to {LOCK_WAIT:g} s\n"
                    )
                time.sleep(0.05 + 0.2 * random.random())
            except duckdb.Error as exc:
                raise StoreError(f"{self.path} is not a usable mrkit store: {exc}") from None

    def _rows(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        if not self.path.exists():
            return pd.DataFrame(columns=list(CATALOG_COLUMNS))
        con = self._connect()
        try:
            return con.execute(sql, params or []).df()
        except duckdb.CatalogException as exc:
            if "Table with name catalog does not exist" in str(exc):
                raise StoreError(f"{self.path} is a DuckDB file but not an mrkit store") from None
            raise
        finally:
            con.close()

    def _recover(self) -> None:
        """Delete files left by an import that did not commit.

        The catalog is read and the folder cleaned under the write lock, so that no
        import commits in between (its file would look orphaned). Without a catalog
        (a first import killed before its commit) only temporaries are deleted.
        """
        if not self.dir.is_dir():
            return
        if not self.path.exists():
            remove_orphans(self.dir, [], temporaries_only=True)
            with contextlib.suppress(OSError):  # (only when empty: never a file of others)
                self.dir.rmdir()
            return
        con = self._connect(write=True)
        try:
            files = [r[0] for r in con.execute("SELECT file FROM catalog").fetchall()]
            pause_point("recover_read")
            with contextlib.suppress(OSError):  # (a read-only folder: clean up another time)
                remove_orphans(self.dir, files)
        finally:
            con.close()

    # -- catalog --------------------------------------------------------------------------
    def catalog(self) -> pd.DataFrame:
        """All imported GWAS, one row each, sorted by id."""
        df = self._rows("SELECT * FROM catalog ORDER BY id")
        return df.drop(columns=["file"]).reset_index(drop=True)

    def has(self, id: str) -> bool:
        """Whether ``id`` is in the catalog."""
        return len(self._rows("SELECT id FROM catalog WHERE id = ?", [id])) > 0

    def info(self, id: str) -> dict[str, Any]:
        """Catalog row of ``id`` as a dict (with ``file``: the Parquet path)."""
        df = self._rows("SELECT * FROM catalog WHERE id = ?", [id])
        if df.empty:
            known = ", ".join(self.catalog()["id"][:20]) or "none"
            raise StoreError(
                f"no GWAS with id {id!r} in store {self.path} (ids: {known}); "
                "import it with `mrkit import`"
            )
        return self._record(df.iloc[0].to_dict())

    def infos(self) -> dict[str, dict[str, Any]]:
        """Catalog rows of every GWAS by id (as :meth:`info`), in one read of the catalog."""
        df = self._rows("SELECT * FROM catalog ORDER BY id")
        return {r["id"]: self._record(r) for r in df.to_dict("records")}

    def _record(self, row: Mapping[Hashable, Any]) -> dict[str, Any]:
        """A catalog row as :meth:`info` gives it."""
        rec: dict[str, Any] = {str(k): (None if _isnull(v) else v) for k, v in row.items()}
        rec["file"] = str(self.dir / check_name(rec["file"]))
        for k in ("rows", "dropped"):
            if rec.get(k) is not None:
                rec[k] = int(rec[k])
        rec["imported_at"] = str(rec["imported_at"])
        if rec.get("rejected"):
            rec["rejected"] = int(rec["rejected"])
            rec["rejected_file"] = str(self.dir / rejected_name(Path(rec["file"]).name))
        return rec

    def up_to_date(self, id: str, sha256: str | None, **params: Any) -> bool:
        """Whether ``id`` was imported from a file with this SHA-256 and these parameters.

        ``params`` are :meth:`import_gwas`'s keyword arguments (trait, units, n, ncase,
        ncontrol, build, population, format, alleles, bad_rows): a change in any of them
        (not only in the file) calls for a new import, so that a re-run equals a fresh one.
        """
        df = self._rows("SELECT * FROM catalog WHERE id = ?", [id])
        if df.empty:
            return False
        return same_import({str(k): v for k, v in df.iloc[0].items()}, sha256, **params)

    def find_by_checksum(self, sha256: str) -> list[str]:
        """Ids of the GWAS imported from a file with this SHA-256."""
        return list(self._rows("SELECT id FROM catalog WHERE sha256 = ? ORDER BY id", [sha256]).id)

    # -- import ---------------------------------------------------------------------------
    @_os_errors
    def import_gwas(
        self,
        path: str | Path,
        *,
        id: str,
        trait: str,
        units: str | None = None,
        n: float | None = None,
        ncase: float | None = None,
        ncontrol: float | None = None,
        build: str | None = None,
        population: str | None = None,
        format: str = "auto",
        alleles: str | Path | None = None,
        bad_rows: BadRows = "error",
        replace: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Read ``path``, validate it and add it to the store as ``id`` (atomically).

        ``alleles``: for PLINK 1.9 files lacking A2, the ``.frq``/``.bim`` of
        the same run (see :func:`mrkit.io.sumstats.read.read_sumstats`).
        ``bad_rows``: ``"error"`` refuses a file with a bad row; ``"skip"`` drops
        such rows, writing line, column and reason to the rejected-rows file that
        :meth:`info` names (``rejected_file``; ``rejected``: how many).
        Units, case and control counts and the sample size not given are taken from
        TwoSampleMR-shaped files' ``units``/``ncase``/``ncontrol``/``samplesize``
        columns. The import parameters are recorded (``params``) for
        :meth:`up_to_date`.

        Returns the new catalog row (:meth:`info`). Raises
        :class:`~mrkit.errors.FileFormatError` for a bad file and
        :class:`~mrkit.errors.StoreError` when ``id`` exists and not ``replace``.
        """
        if not isinstance(id, str) or not ID_RE.match(id):
            raise InputError(
                f"invalid GWAS id {id!r}: use letters, digits, '.', '_' or '-' (max 128)"
            )
        if not trait or not str(trait).strip():
            raise InputError("a trait name is required (--trait)")
        build = normalise_build(build)
        if (ncase is None) != (ncontrol is None):
            raise InputError("give both ncase and ncontrol, or neither")
        n = sample_size(n, ncase, ncontrol)
        src = Path(path)
        params = import_params(
            trait=trait, units=units, n=n, ncase=ncase, ncontrol=ncontrol, build=build,
            population=population, format=format, alleles=alleles, bad_rows=bad_rows,
        )  # fmt: skip
        if not replace and self.has(id):
            raise StoreError(
                f"GWAS {id!r} is already in store {self.path}; use --replace (replace=True) "
                "to overwrite it or choose another --id"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:12]
        base = self.dir / f".tmp-{os.getpid()}-{token}-{id}"
        tmp, tmp_top, tmp_sort = (Path(f"{base}{x}.parquet") for x in ("", ".top", ".sort"))
        spill = self.dir / f".tmp-spill-{os.getpid()}-{token}"
        final = f"{id}-{token}.parquet"
        hasher, digest = sha256_thread(src) if src.is_file() else (None, {})
        tmp_rejected = Path(f"{base}.rejected.tsv")
        try:
            with connection(MEMORY_LIMIT, str(spill)) as con:
                got = load(
                    con,
                    src,
                    tmp,
                    format=format,
                    n=n,
                    alleles=alleles,
                    bad_rows=bad_rows,
                    spill=spill,
                    progress=progress,
                )
            meta, rows = got.meta, got.rows
            units, n, ncase, ncontrol = file_metadata(got.lay.first, units, n, ncase, ncontrol)
            if got.rejected:
                write_rejected(tmp_rejected, got.rejected, src.resolve())
                fsync(tmp_rejected)
            fsync(tmp)
            fsync(tmp_top)
            crash_point("after_parquet")
            if hasher is not None:
                hasher.join()
            rec = {
                "id": id,
                "trait": str(trait).strip(),
                "units": units,
                "n": None if n is None else float(n),
                "ncase": None if ncase is None else float(ncase),
                "ncontrol": None if ncontrol is None else float(ncontrol),
                "population": population,
                "build": build or meta.get("build"),
                "source_path": str(src.resolve()),
                "sha256": digest.get("sha256"),
                "format": meta["format"],
                "rows": int(rows),
                "imported_at": datetime.now(UTC).replace(tzinfo=None),
                "file": final,
                "dropped": int(got.rows_read - rows),
                "params": params,
                "rejected": len(got.rejected),
            }
            self._commit(rec, tmp, replace)
        finally:
            remove_temporaries(self.dir, (tmp, tmp_top, tmp_sort, tmp_rejected), spill)
        return self._record({c: rec[c] for c in CATALOG_COLUMNS})

    def _commit(self, rec: dict[str, Any], tmp: Path, replace: bool) -> None:
        con = self._connect(write=True)
        target = self.dir / rec["file"]
        target_top = self.dir / top_name(rec["file"])
        renamed = False
        try:
            con.execute("BEGIN TRANSACTION")
            old = con.execute("SELECT file FROM catalog WHERE id = ?", [rec["id"]]).fetchone()
            if old is not None and not replace:
                raise StoreError(
                    f"GWAS {rec['id']!r} is already in store {self.path}; use --replace"
                )
            if old is not None:
                check_name(old[0])  # never delete a file outside the store's folder
            con.execute("DELETE FROM catalog WHERE id = ?", [rec["id"]])
            con.execute(
                f"INSERT INTO catalog ({', '.join(CATALOG_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(CATALOG_COLUMNS))})",
                [rec[c] for c in CATALOG_COLUMNS],
            )
            renamed = True
            if rec.get("rejected"):
                os.replace(
                    tmp.with_name(rejected_name(tmp.name)), self.dir / rejected_name(rec["file"])
                )
            os.replace(tmp.with_name(top_name(tmp.name)), target_top)
            os.replace(tmp, target)
            fsync(self.dir)
            crash_point("after_rename")
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if renamed:
                remove_data(target)
            raise
        finally:
            con.close()
        crash_point("after_commit")
        if old is not None and old[0] != rec["file"]:
            remove_data(self.dir / old[0])

    @_os_errors
    def remove(self, id: str) -> None:
        """Delete ``id`` from the catalog and its file."""
        info = self.info(id)
        con = self._connect(write=True)
        try:
            con.execute("DELETE FROM catalog WHERE id = ?", [id])
        finally:
            con.close()
        remove_data(Path(info["file"]))


def same_import(row: Mapping[str, Any] | None, sha256: str | None, **params: Any) -> bool:
    """Whether the catalog ``row`` (:meth:`Store.info`) came from a file with this SHA-256
    and these :meth:`Store.import_gwas` parameters (see :meth:`Store.up_to_date`)."""
    if row is None or sha256 is None or row.get("sha256") != sha256:
        return False
    return bool(row.get("params") == import_params(**params))


def _isnull(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def load_gwas(
    source: str | Path, *, store: Store | str | Path | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalised table and metadata of a GWAS given as a file path or a store id.

    A path that exists is read with :func:`read_sumstats`; anything else is
    looked up as an id in ``store`` (a :class:`~mrkit.store.catalog.Store` or its
    path; default ``./mrkit.duckdb``).
    """
    p = Path(source)
    if p.is_file():
        df = read_sumstats(p)
        meta = dict(df.attrs["mrkit"])
        meta.setdefault("id", p.name.split(".")[0])
        meta.setdefault("trait", meta["id"])
        return df, meta
    st = store if isinstance(store, Store) else Store(store or "mrkit.duckdb", read_only=True)
    if not st.has(str(source)):
        raise StoreError(
            f"{source!r} is neither a file nor a GWAS id in the store {st.path}; "
            "import it with `mrkit import` or check `mrkit studies`"
        )
    return st.get(str(source)), st.info(str(source))
