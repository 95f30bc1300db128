"""One variant name on several rows with different values: found, then located.

A GWAS gives one row per variant; when one name (rsID, or the ``chr:pos:a1:a2`` made
for a row without one) is on two rows whose normalised values differ (opposite
betas, two positions, other alleles), any later match by name would silently keep
one of them, so the file is refused (or, with ``bad_rows="skip"``, every row of
that name is dropped). Rows repeated exactly are harmless and kept.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from mrkit.errors import FileFormatError
from mrkit.io.sumstats._locate import snp_lines
from mrkit.io.sumstats._sniff import Layout

_VALUES = "snp, chr, pos, effect_allele, other_allele, eaf, beta, se, log10p, n"


def conflicting_snps(
    con: duckdb.DuckDBPyConnection,
    src: str,
    hashes: list[int],
    limit: int | None = 1000,
) -> list[str]:
    """Names on several rows of the relation ``src`` (SQL) with different values.

    ``hashes``: DuckDB ``hash(snp)`` of the names seen on more than one row
    (:meth:`~mrkit.io.sumstats._ingest.ScanResult.repeated_hashes`); only those rows
    are compared, so a file without repeated names costs nothing here.
    """
    if not hashes:
        return []
    lim = "" if limit is None else f" LIMIT {int(limit)}"
    con.register("_dup_hashes", pa.table({"h": pa.array(hashes, pa.uint64())}))
    try:
        sql = (
            f"SELECT snp FROM (SELECT DISTINCT {_VALUES} FROM {src} "
            "WHERE hash(snp) IN (SELECT h FROM _dup_hashes)) "
            f"GROUP BY snp HAVING count(*) > 1 ORDER BY snp{lim}"
        )
        return [r[0] for r in con.execute(sql).fetchall()]
    finally:
        con.unregister("_dup_hashes")


def duplicate_error(lay: Layout, snps: list[str]) -> FileFormatError:
    """The error naming the first variant of ``snps`` (in file order) and its two lines."""
    lines = snp_lines(lay, set(snps))
    found = sorted((v[1], v[0], k) for k, v in lines.items() if len(v) > 1)
    column = lay.column_name("snp")
    if not found:  # (names the reader made and the locator did not rebuild)
        return FileFormatError(
            lay.path,
            f"variant {snps[0]!r} is on several rows with different values (effect, position "
            "or alleles); keep one row per variant",
            column=column,
        )
    second, first, snp = found[0]
    return FileFormatError(
        lay.path,
        f"variant {snp!r} is on line {first} and again here with different values (effect, "
        "position or alleles); keep one row per variant",
        line=second,
        column=column,
    )
