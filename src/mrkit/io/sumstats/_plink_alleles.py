"""Alleles for PLINK 1.9 association files that do not carry both of them.

PLINK 1.9 ``.assoc.linear`` / ``.assoc.logistic`` name only A1 (the tested
allele) and ``.qassoc`` names no allele at all. The missing alleles come from a
file of the same PLINK run, given as ``alleles=`` (``--alleles``):

* a ``.frq`` (``plink --freq``; columns CHR SNP A1 A2 MAF NCHROBS): its A1/A2
  are those of the association run when both ran on the same samples, so it
  serves both kinds; for ``.qassoc`` its MAF (frequency of A1) becomes ``eaf``;
* a ``.bim`` (CHR SNP cM BP A1 A2, no header): only for files that name A1,
  the other allele being whichever of the two ``.bim`` alleles is not A1. A
  ``.bim`` is refused for ``.qassoc``: PLINK 1.9 makes the sample's minor allele
  A1 unless ``--keep-allele-order`` was used, so the ``.bim`` column A1 need not
  be the allele the betas refer to.

Variants are matched on SNP and CHR (and BP for a ``.bim``). A variant missing
from the allele file, listed twice there, or whose A1 is neither of its two
alleles stops the import with an error: nothing is dropped silently.
"""

from __future__ import annotations

from pathlib import Path

from mrkit.errors import FileFormatError, InputError
from mrkit.io.plink import bim_sql, frq_sql, looks_like_bim, looks_like_frq
from mrkit.io.sumstats._sniff import Layout, open_text


def allele_source(lay: Layout, path: str | Path) -> str:
    """SQL of ``(a_chr, a_snp, a_pos, a_a1, a_a2, a_frq, a_nb)`` read from ``path``.

    The ``.frq`` or ``.bim`` itself is read by :mod:`mrkit.io.plink`; here its
    columns are renamed and each variant is counted (``a_nb``), so that a variant
    listed twice is found.
    """
    p = Path(path)
    if lay.fmt != "plink":
        raise InputError(
            f"--alleles only applies to PLINK 1.9 association files; {lay.path.name} was "
            f"read as {lay.fmt}, which names both alleles"
        )
    if "oa" in lay.roles:
        raise InputError(f"{lay.path.name} already has an A2 column; drop --alleles")
    if not p.is_file():
        raise FileFormatError(p, "allele file not found")
    with open(p, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    comp = "gzip" if gz else "none"
    with open_text(p, comp) as fh:
        first = fh.readline().split()
    if looks_like_frq(first):
        rel = (
            "SELECT chr AS a_chr, snp AS a_snp, NULL::BIGINT AS a_pos, a1 AS a_a1, "
            f"a2 AS a_a2, maf AS a_frq FROM ({frq_sql(p, comp)})"
        )
    elif looks_like_bim(first):
        if "ea" not in lay.roles:
            raise InputError(
                f"{lay.path.name} names no allele, and a .bim cannot say which allele its "
                "betas refer to (PLINK 1.9 makes the sample's minor allele A1 unless "
                "--keep-allele-order); give the .frq of the same run (plink --freq)"
            )
        rel = (
            "SELECT chr AS a_chr, snp AS a_snp, pos AS a_pos, a1 AS a_a1, a2 AS a_a2, "
            f"NULL::DOUBLE AS a_frq FROM ({bim_sql(p, comp)})"
        )
    else:
        raise FileFormatError(
            p,
            "not a PLINK .frq (header CHR SNP A1 A2 MAF NCHROBS) or .bim (6 columns, no "
            "header) file",
            line=1,
        )
    return (
        "SELECT a_chr, a_snp, a_pos, any_value(a_a1) AS a_a1, any_value(a_a2) AS a_a2, "
        f"any_value(a_frq) AS a_frq, count(*) AS a_nb FROM ({rel}) GROUP BY ALL"
    )
