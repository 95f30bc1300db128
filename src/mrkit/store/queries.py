"""Queries on the stored GWAS: whole tables, instruments by p, rows by rsID or chr:pos.

:class:`Queries` is the reading half of :class:`mrkit.store.catalog.Store`: it
needs only the catalog row of a GWAS (:meth:`~mrkit.store.catalog.Store.info`)
and reads the Parquet files through one shared in-memory DuckDB. Matching by
chromosome and position between GWAS on different genome builds is refused
(:meth:`Queries.check_builds`); mrkit never lifts over silently.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from mrkit._core.columns import SUMSTATS_COLUMNS, normalise_build
from mrkit.errors import InputError, StoreError
from mrkit.io.sumstats._normsql import TOP_LOG10P, sql_str
from mrkit.io.sumstats.read import fix_types
from mrkit.store._chrpos import chrpos_frame
from mrkit.store._files import top_name

__all__ = ["Queries"]


class Queries:
    """The queries of a store; mixed into :class:`~mrkit.store.catalog.Store`."""

    if TYPE_CHECKING:
        path: Path

        def info(self, id: str) -> dict[str, Any]: ...

    def _scan(self, id: str) -> str:
        """``read_parquet(...)`` of ``id``."""
        return f"read_parquet({sql_str(self._file(id))})"

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
        cols = list(columns) if columns is not None else list(SUMSTATS_COLUMNS)
        bad = [c for c in cols if c not in SUMSTATS_COLUMNS]
        if bad:
            raise InputError(f"unknown column(s) {bad}; choose from {', '.join(SUMSTATS_COLUMNS)}")
        return fix_types(_mem().execute(f"SELECT {', '.join(cols)} FROM {self._scan(id)}").df())

    def instruments(self, id: str, p: float = 5e-8) -> pd.DataFrame:
        """Variants of ``id`` with p below ``p`` (compared on -log10 p: p < 1e-300 works)."""
        if not (0 < p <= 1):
            raise InputError(f"p threshold must be in (0, 1], got {p}")
        lp = -math.log10(p)
        scan = self._scan(id)
        top = top_name(self._file(id))
        if lp >= TOP_LOG10P and os.path.exists(top):
            scan = f"read_parquet({sql_str(top)})"  # the small file of rows with p <= 1e-5
        cols = ", ".join(SUMSTATS_COLUMNS)
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
                assert chrpos is not None  # (one of snps and chrpos, checked above)
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
