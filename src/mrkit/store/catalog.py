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

Matching by chromosome and position between GWAS on different genome builds
is refused (:meth:`Store.check_builds`); mrkit never lifts over silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mrkit._core.columns import BUILDS, normalise_build
from mrkit.errors import FileFormatError, InputError, StoreError
from mrkit.io.sumstats._ingest import ParquetSink, sort_parquet, write_table
from mrkit.io.sumstats._normsql import TOP_LOG10P
from mrkit.io.sumstats.read import (
    COLUMNS,
    connection,
    fix_types,
    prepare,
    read_sumstats,
    scan_file,
)
from mrkit.store._chrpos import chrpos_frame

__all__ = ["BUILDS", "Store", "load_gwas", "normalise_build"]

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
)
"""
CATALOG_COLUMNS = (
    "id", "trait", "units", "n", "ncase", "ncontrol", "population", "build", "source_path",
    "sha256", "format", "rows", "imported_at", "file", "dropped",
)  # fmt: skip
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MEMORY_LIMIT = os.environ.get("MRKIT_MEMORY_LIMIT", "2GB")


def _crash_point(name: str) -> None:
    """Test hook: ``MRKIT_CRASH_AT=<name>`` kills the process here with SIGKILL."""
    if os.environ.get("MRKIT_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_thread(path: Path) -> tuple[threading.Thread, dict[str, str]]:
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


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def top_name(name: str) -> str:
    """Name of the "top hits" file (rows with p <= 1e-5) beside the Parquet file ``name``."""
    return name[: -len(".parquet")] + ".top.parquet"


class Store:
    """A local store of imported GWAS.

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
        if not read_only and self.path.exists():
            self._recover()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connection helpers ---------------------------------------------------------------
    def _connect(self, *, write: bool = False) -> duckdb.DuckDBPyConnection:
        if write and self.read_only:
            raise StoreError(f"store {self.path} was opened read-only")
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(str(self.path))
                con.execute(CATALOG_DDL)
                return con
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.IOException as exc:
            raise StoreError(
                f"cannot open store {self.path}: {str(exc).splitlines()[0]} "
                "(is another mrkit process using it?)"
            ) from None
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
        """Delete files left by an import that did not commit."""
        if not self.dir.is_dir():
            return
        files = list(self._rows("SELECT file FROM catalog")["file"])
        known = set(files) | {top_name(f) for f in files}
        for f in self.dir.iterdir():
            m = re.match(r"\.tmp-(?:spill-)?(\d+)-", f.name)
            if m and _alive(int(m.group(1))):
                continue  # an import running in another process
            if f.is_dir() and m:
                for g in f.iterdir():
                    g.unlink(missing_ok=True)
                f.rmdir()
            elif f.name.endswith(".parquet") and f.name not in known:
                f.unlink(missing_ok=True)

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

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        """A catalog row as :meth:`info` gives it."""
        rec = {k: (None if _isnull(v) else v) for k, v in row.items()}
        rec["file"] = str(self.dir / rec["file"])
        for k in ("rows", "dropped"):
            if rec.get(k) is not None:
                rec[k] = int(rec[k])
        rec["imported_at"] = str(rec["imported_at"])
        return rec

    def find_by_checksum(self, sha256: str) -> list[str]:
        """Ids of the GWAS imported from a file with this SHA-256."""
        return list(self._rows("SELECT id FROM catalog WHERE sha256 = ? ORDER BY id", [sha256]).id)

    # -- import ---------------------------------------------------------------------------
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
        replace: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Read ``path``, validate it and add it to the store as ``id`` (atomically).

        ``alleles``: for PLINK 1.9 files lacking A2, the ``.frq``/``.bim`` of
        the same run (see :func:`mrkit.io.sumstats.read.read_sumstats`).

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
        if n is None and ncase is not None and ncontrol is not None:
            n = float(ncase) + float(ncontrol)
        src = Path(path)
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
        hasher, digest = _sha256_thread(src) if src.is_file() else (None, {})
        try:
            with connection(MEMORY_LIMIT, str(spill)) as con:
                lay, sql, meta = prepare(src, format=format, n=n, alleles=alleles)
                res, sink = scan_file(
                    con,
                    lay,
                    sql,
                    lambda: ParquetSink(tmp, top=TOP_LOG10P),
                    check_order=True,
                    progress=progress,
                    tmp_dir=spill,
                )
                _crash_point("after_read")
                rows = res.rows
                if rows == 0:
                    raise FileFormatError(src, "no usable rows: every row lacks an essential value")
                write_table(tmp_top, sink.top, res.schema)
                if res.order is not None and not res.order.sorted:
                    if progress:
                        progress("sorting")
                    for f in (tmp, tmp_top):
                        sort_parquet(con, f, tmp_sort, res.order.chroms)
                        os.replace(tmp_sort, f)
            _fsync(tmp)
            _fsync(tmp_top)
            _crash_point("after_parquet")
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
                "dropped": int(res.rows_read - rows),
            }
            self._commit(rec, tmp, replace)
        finally:
            for f in (tmp, tmp_top, tmp_sort):
                f.unlink(missing_ok=True)
            if spill.is_dir():
                for f in spill.iterdir():
                    f.unlink(missing_ok=True)
                spill.rmdir()
            if self.dir.is_dir() and not any(self.dir.iterdir()):
                self.dir.rmdir()
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
            con.execute("DELETE FROM catalog WHERE id = ?", [rec["id"]])
            con.execute(
                f"INSERT INTO catalog ({', '.join(CATALOG_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(CATALOG_COLUMNS))})",
                [rec[c] for c in CATALOG_COLUMNS],
            )
            renamed = True
            os.replace(tmp.with_name(top_name(tmp.name)), target_top)
            os.replace(tmp, target)
            _fsync(self.dir)
            _crash_point("after_rename")
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if renamed:
                target.unlink(missing_ok=True)
                target_top.unlink(missing_ok=True)
            raise
        finally:
            con.close()
        _crash_point("after_commit")
        if old is not None and old[0] != rec["file"]:
            (self.dir / old[0]).unlink(missing_ok=True)
            (self.dir / top_name(old[0])).unlink(missing_ok=True)

    def remove(self, id: str) -> None:
        """Delete ``id`` from the catalog and its file."""
        info = self.info(id)
        con = self._connect(write=True)
        try:
            con.execute("DELETE FROM catalog WHERE id = ?", [id])
        finally:
            con.close()
        Path(info["file"]).unlink(missing_ok=True)
        Path(top_name(info["file"])).unlink(missing_ok=True)

    # -- queries --------------------------------------------------------------------------
    def _scan(self, id: str) -> str:
        """``read_parquet(...)`` of ``id``."""
        return f"read_parquet({_q(self._file(id))})"

    def _file(self, id: str) -> str:
        """Parquet file of ``id``; the name is cached until the catalog changes."""
        try:
            st = self.path.stat()
            key = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        cache = self.__dict__.setdefault("_files", {})
        hit = cache.get(id)
        if hit is None or hit[0] != key or key is None:
            hit = (key, self.info(id)["file"])
            cache[id] = hit
        return hit[1]

    def get(self, id: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """The normalised table of ``id`` (optionally only some columns)."""
        cols = list(columns) if columns is not None else list(COLUMNS)
        bad = [c for c in cols if c not in COLUMNS]
        if bad:
            raise InputError(f"unknown column(s) {bad}; choose from {', '.join(COLUMNS)}")
        return fix_types(_mem().execute(f"SELECT {', '.join(cols)} FROM {self._scan(id)}").df())

    def instruments(self, id: str, p: float = 5e-8) -> pd.DataFrame:
        """Variants of ``id`` with p below ``p`` (compared on -log10 p: p < 1e-300 works)."""
        if not (0 < p <= 1):
            raise InputError(f"p threshold must be in (0, 1], got {p}")
        lp = -math.log10(p)
        scan = self._scan(id)
        top = top_name(self._file(id))
        if lp >= TOP_LOG10P and os.path.exists(top):
            scan = f"read_parquet({_q(top)})"  # the small file of rows with p <= 1e-5
        cols = ", ".join(COLUMNS)
        return fix_types(_mem().execute(f"SELECT {cols} FROM {scan} WHERE log10p > {lp!r}").df())

    def lookup(
        self,
        id: str,
        snps: Iterable[str] | None = None,
        *,
        chrpos: Iterable[str] | pd.DataFrame | None = None,
        build: str | None = None,
    ) -> pd.DataFrame:
        """Rows of ``id`` for a list of rsIDs, or of ``chr:pos[:a1:a2]`` keys.

        ``chrpos`` may be strings ``"1:12345"`` / ``"1:12345:A:G"`` or a frame
        with ``chr``, ``pos`` and optionally ``effect_allele``/``other_allele``
        (alleles match in either order). ``build``, when given, must equal the
        GWAS's build: chr:pos keys from another build are refused.
        """
        if (snps is None) == (chrpos is None):
            raise InputError("give either snps (rsIDs) or chrpos keys to look up")
        scan = self._scan(id)
        con = duckdb.connect()
        try:
            if snps is not None:
                keys = pd.DataFrame({"snp": pd.Series(list(snps), dtype=object).astype(str)})
                con.register("keys", keys)
                df = con.execute(f"SELECT g.* FROM {scan} g SEMI JOIN keys k ON g.snp = k.snp").df()
            else:
                if build is not None:
                    gb = self.info(id).get("build")
                    self._same_build(gb, normalise_build(build), id, "the keys")
                keys = chrpos_frame(chrpos)
                con.register("keys", keys)
                cond = "g.chr = k.chr AND g.pos = k.pos"
                if "a1" in keys:
                    cond += (
                        " AND (k.a1 IS NULL OR (g.effect_allele = k.a1 AND g.other_allele = k.a2)"
                        " OR (g.effect_allele = k.a2 AND g.other_allele = k.a1))"
                    )
                df = con.execute(f"SELECT g.* FROM {scan} g SEMI JOIN keys k ON {cond}").df()
        finally:
            con.close()
        return fix_types(df)

    def check_builds(self, id_a: str, id_b: str) -> str | None:
        """The common build of two GWAS; raise if they differ (no silent liftover).

        Returns None when either build is unknown.
        """
        a, b = self.info(id_a).get("build"), self.info(id_b).get("build")
        return self._same_build(a, b, id_a, id_b)

    @staticmethod
    def _same_build(a: str | None, b: str | None, name_a: str, name_b: str) -> str | None:
        if a and b and a != b:
            raise StoreError(
                f"genome builds differ: {name_a} is {a} and {name_b} is {b}; chr:pos matching "
                "between builds is refused (lift one over first, or match by rsID)"
            )
        return a if a and b else None


_MEM: list[duckdb.DuckDBPyConnection] = []


def _mem() -> duckdb.DuckDBPyConnection:
    """A cursor on one shared in-memory DuckDB (queries on Parquet files need no catalog)."""
    if not _MEM:
        _MEM.append(duckdb.connect(":memory:"))
    return _MEM[0].cursor()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
