"""The value rules every normalised row obeys, shared by the fast checks and the locator.

The fast path (:func:`mrkit.io.sumstats._ingest.check_batch`, the SQL of
:mod:`mrkit.io.sumstats._normsql`) tests these on whole Arrow batches; the locator
(:mod:`mrkit.io.sumstats._locate`) tests them line by line to name the line and column.
Both read their limits from here, so that they always agree.
"""

from __future__ import annotations

import math
import re

#: Chromosome names accepted after normalisation (``chr`` prefix dropped, 23-26 as X,
#: Y, XY, MT): the human autosomes and sex and mitochondrial chromosomes.
VALID_CHR = frozenset([*(str(i) for i in range(1, 23)), "X", "Y", "XY", "MT"])
#: Largest base-pair position: VCF and PLINK store positions as signed 32-bit integers.
POS_MAX = 2**31 - 1
#: Largest sample size accepted (above the world's population: a unit or parse error).
N_MAX = 1e10
#: Longest line read, in bytes (DuckDB's ``max_line_size``).
MAX_LINE = 10_000_000
#: A p-value written as 0 means "too small to print"; beta/SE must then agree, with
#: -log10 p of at least this (p < 1e-4), else the row contradicts itself.
P0_MIN_LOG10P = 4.0

_SCI = re.compile(r"^\s*\+?([0-9]*\.?[0-9]+)[eE]([-+]?[0-9]+)\s*$")
_DEC = re.compile(r"^\s*\+?0*\.(0*)([1-9][0-9]*)\s*$")


def chr_problem(name: str, written: str | None = None) -> str | None:
    """Why the normalised chromosome ``name`` (``written`` so) is not accepted (None if it is)."""
    if name in VALID_CHR:
        return None
    shown = written.strip() if written is not None else name
    if name == "0":
        return f"chromosome {shown!r}: chromosome 0 (PLINK's unplaced variant) cannot be matched"
    if name.startswith("NC_"):
        return (
            f"chromosome {shown!r} is a RefSeq accession; write the chromosome number "
            "(1-22, X, Y, MT) instead"
        )
    return f"chromosome {shown!r} is not one of 1-22, X, Y, XY, MT"


def exact_log10p(text: str) -> float | None:
    """-log10 p from the p-value's text, exact where the double underflows.

    ``1.2e-400`` gives 399.92, ``0.000...01`` (k zeros after the point, then digits d)
    gives k - log10(0.d); None for other spellings or a zero mantissa.
    """
    m = _SCI.match(text)
    if m:
        mant = float(m.group(1))
        return -(math.log10(mant) + float(m.group(2))) if mant > 0 else None
    m = _DEC.match(text)
    if m:
        return len(m.group(1)) - math.log10(float("0." + m.group(2)))
    return None
