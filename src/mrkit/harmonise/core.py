"""Harmonisation: align exposure and outcome effects on the same allele.

:func:`harmonise` reproduces TwoSampleMR 0.7.9 ``harmonise_data()``: the same
allele swaps, strand flips, palindromic rules (A/T, G/C; ambiguous when a
frequency lies strictly between ``0.5 - tolerance`` and ``0.5 + tolerance``,
0.42 and 0.58 by default), incompatible alleles, the ``2-2``/``2-1``/``1-2``/
``1-1`` cases of missing other alleles, INDELs coded ``D``/``I``, and the three
actions:

* ``action=1``: assume both studies are on the forward strand; only
  incompatible alleles are dropped;
* ``action=2`` (default): infer the strand of palindromic variants from the
  allele frequencies; drop those whose frequency is ambiguous;
* ``action=3``: correct the strand of non-palindromic variants and drop every
  palindromic one.

Unlike ``harmonise_data()``, no row is ever deleted: every exposure variant
stays in :attr:`HarmonisedResult.table`, with ``keep = False`` and a
``reason`` when it cannot be used (``not in outcome``, ``incompatible
alleles``, ``palindromic, ambiguous frequency``, ``palindromic (action 3)``,
``duplicate SNP``, ...). ``mr_keep`` is TwoSampleMR's flag exactly; ``keep``
differs from it only for the second and later usable rows of one SNP (R keeps
all such rows; mrkit keeps the first and marks the others ``duplicate SNP``).

One pair is a batch of one: :func:`harmonise` calls
:func:`mrkit.harmonise.many.harmonise_many`, which harmonises the instruments of
many exposures against one outcome in one pass.

Reference: Hemani G et al. (2018) eLife 7:e34408, doi:10.7554/eLife.34408.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from mrkit.errors import InputError
from mrkit.harmonise._inputs import INPUT_COLUMNS, NUMERIC, REASONS, REQUIRED, as_str
from mrkit.harmonise.many import HarmonisedMany, HarmonisedResult, harmonise_many
from mrkit.harmonise.proxies import map_proxy_alleles
from mrkit.ld.proxies import PROXY_COLUMNS

__all__ = [
    "INPUT_COLUMNS",
    "PROXY_COLUMNS",
    "REASONS",
    "HarmonisedMany",
    "HarmonisedResult",
    "from_twosamplemr",
    "harmonise",
    "harmonise_many",
    "map_proxy_alleles",
]


def harmonise(
    exposure: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    action: int = 2,
    palindrome_tolerance: float = 0.08,
    proxies: pd.DataFrame | None = None,
    exposure_id: str | None = None,
    outcome_id: str | None = None,
) -> HarmonisedResult:
    """Align an outcome's effects on the exposure's effect alleles (TwoSampleMR rules).

    Parameters
    ----------
    exposure, outcome
        Normalised summary statistics (``snp, effect_allele, beta, se``
        required; ``chr, pos, other_allele, eaf, p, log10p, n, ncase,
        ncontrol`` used when present; missing values as NaN/None).
    action
        1 assume the same strand; 2 infer palindromes' strand from the allele
        frequencies (default); 3 drop every palindromic variant.
    palindrome_tolerance
        A palindromic variant is ambiguous when a frequency lies strictly
        inside ``(0.5 - tol, 0.5 + tol)``; TwoSampleMR fixes 0.08.
    proxies
        Optional LD proxies for exposure SNPs absent from the outcome: columns
        ``target_snp, proxy_snp, r2, target_effect_allele,
        target_other_allele, proxy_effect_allele, proxy_other_allele`` (the
        target and proxy alleles in phase). The outcome row of the best proxy
        (highest r2 whose alleles map) is relabelled to the target SNP.
    exposure_id, outcome_id
        Study ids written into :attr:`HarmonisedResult.tsmr_log`.

    Returns
    -------
    HarmonisedResult
        The table (every exposure row kept, with ``keep`` and ``reason``) and
        the log counts.

    Notes
    -----
    Rules of TwoSampleMR 0.7.9 ``harmonise_data()`` for the ``2-2`` case:
    with exposure alleles :math:`(A_1, A_2)` and outcome :math:`(B_1, B_2)`,
    :math:`B` is swapped when :math:`(A_1, A_2) = (B_2, B_1)`
    (:math:`\\beta_Y \\to -\\beta_Y`, :math:`f_Y \\to 1 - f_Y`); a
    non-palindromic variant still unmatched is compared on the other strand
    and swapped again if needed; anything still unmatched is incompatible.
    Palindromic variants are ambiguous when either frequency (missing counts
    0.5) is in :math:`(0.5 - t, 0.5 + t)`; action 2 negates
    :math:`\\beta_Y` when the two frequencies lie on opposite sides of 0.5.
    """
    res = harmonise_many(
        exposure,
        outcome,
        by=None,
        action=action,
        palindrome_tolerance=palindrome_tolerance,
        proxies=proxies,
        exposure_id=exposure_id,
        outcome_id=outcome_id,
    )
    return res.pair(exposure_id)


# --------------------------------------------------------------------------- TwoSampleMR


def from_twosamplemr(
    df: pd.DataFrame, side: Literal["exposure", "outcome"] = "exposure"
) -> pd.DataFrame:
    """Turn a TwoSampleMR exposure/outcome table into mrkit's normalised columns.

    Reads ``SNP``, ``beta.<side>``, ``se.<side>``, ``effect_allele.<side>``,
    ``other_allele.<side>``, ``eaf.<side>``, ``pval.<side>``,
    ``samplesize.<side>``, ``ncase.<side>``, ``ncontrol.<side>``,
    ``chr.<side>``/``pos.<side>`` (or the same names without the suffix, as in
    ``read_exposure_data`` input files). The study id (``id.<side>``), when
    unique, is kept in ``result.attrs["id"]``.
    """
    if side not in ("exposure", "outcome"):
        raise InputError(f"from_twosamplemr: side must be 'exposure' or 'outcome', got {side!r}")
    names = {
        "snp": ["SNP", "snp", "rsid"],
        "chr": ["chr", "chr_name"],
        "pos": ["pos", "chrom_start"],
        "effect_allele": ["effect_allele"],
        "other_allele": ["other_allele"],
        "eaf": ["eaf"],
        "beta": ["beta"],
        "se": ["se"],
        "p": ["pval", "p"],
        "n": ["samplesize", "n"],
        "ncase": ["ncase"],
        "ncontrol": ["ncontrol"],
    }
    res = pd.DataFrame(index=df.index)
    for target, aliases in names.items():
        found = None
        for a in aliases:
            for cand in (f"{a}.{side}", a):
                if cand in df.columns:
                    found = cand
                    break
            if found:
                break
        if found is not None:
            res[target] = df[found]
        elif target in REQUIRED:
            raise InputError(f"from_twosamplemr: no column for `{target}` ({side}) in the table")
    res = res.reset_index(drop=True)
    for col in ("effect_allele", "other_allele"):
        if col in res.columns:
            res[col] = as_str(res[col], upper=True)
    for col in NUMERIC:
        if col in res.columns:
            res[col] = pd.to_numeric(res[col], errors="coerce").astype(float)
    ids = df.get(f"id.{side}")
    if ids is not None and ids.nunique(dropna=True) == 1:
        res.attrs["id"] = str(ids.dropna().iloc[0])
    return res
