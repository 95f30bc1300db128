"""Names shared by every room: table schemas, column aliases, drop reasons, builds, chromosomes.

Kept in one place so that the readers, the store, the LD code, instrument selection and
the reports spell them alike. The tables are those of DESIGN.md ("Tables between the
rooms"); the per-format header names of the summary-statistics readers stay with the
readers (:mod:`mrkit.io.sumstats.formats`), which add :data:`SUMSTATS_ALIASES` for
layouts without a fixed header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mrkit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

# --- table schemas ----------------------------------------------------------------------
#: The normalised summary-statistics table of every stored GWAS, in this order.
SUMSTATS_COLUMNS: tuple[str, ...] = (
    "snp", "chr", "pos", "effect_allele", "other_allele", "eaf", "beta", "se", "p", "log10p",
    "n",
)  # fmt: skip

#: The harmonised pair table (one row per variant and exposure-outcome pair).
HARMONISED_COLUMNS: tuple[str, ...] = (
    "snp", "effect_allele", "other_allele", "beta_exposure", "se_exposure", "p_exposure",
    "eaf_exposure", "beta_outcome", "se_outcome", "p_outcome", "eaf_outcome", "palindromic",
    "proxy_snp", "proxy_r2", "keep", "reason",
)  # fmt: skip

#: The columns a harmonised table needs for MR.
HARMONISED_REQUIRED: tuple[str, ...] = (
    "beta_exposure", "se_exposure", "beta_outcome", "se_outcome",
)  # fmt: skip

# --- aliases ----------------------------------------------------------------------------
#: Header aliases (lower case) of summary-statistics files per reader role, in order of
#: preference (``ea``/``oa``: effect and other allele; ``or_lo``/``or_hi``: 95% limits of
#: an odds ratio). Used by the ``generic`` and ``twosamplemr`` layouts of
#: :mod:`mrkit.io.sumstats.formats`.
SUMSTATS_ALIASES: dict[str, tuple[str, ...]] = {
    "snp": (
        "snp", "rsid", "rsids", "rs_id", "rs", "markername", "marker", "snpid", "snp_id",
        "variant_id", "id", "variant", "markerid", "rs_number", "rsnumber", "snp_name",
    ),
    "chr": ("chr", "chrom", "chromosome", "#chrom", "#chr", "chr_name", "chr_id", "hg19chrc"),
    "pos": ("pos", "bp", "position", "base_pair_location", "bp_hg19", "bp_hg38"),
    "ea": (
        "effect_allele", "ea", "a1", "allele1", "alt", "tested_allele", "effectallele",
        "risk_allele", "inc_allele",
    ),
    "oa": (
        "other_allele", "oa", "a2", "allele2", "allele0", "ref", "non_effect_allele", "nea",
        "otherallele", "dec_allele",
    ),
    "eaf": (
        "eaf", "effect_allele_frequency", "freq", "freq1", "a1freq", "a1_freq", "af", "af_alt",
        "frq", "effect_allele_freq", "freq_a1", "a1_frq",
    ),
    "beta": ("beta", "b", "effect", "es", "log_odds", "logor", "effect_size"),
    "or": ("or", "odds_ratio"),
    "or_lo": ("l95", "ci_lower", "lower_ci", "or_95l", "ci_low", "or_l95"),
    "or_hi": ("u95", "ci_upper", "upper_ci", "or_95u", "ci_upp", "or_u95"),
    "se": (
        "se", "standard_error", "stderr", "sebeta", "se_beta", "log(or)_se", "logor_se", "se_b",
    ),
    "p": (
        "p", "pval", "p_value", "p-value", "pvalue", "p.value", "p_bolt_lmm", "p_bolt_lmm_inf",
        "p_val", "pval_nominal",
    ),
    "log10p": (
        "log10p", "mlogp", "neg_log_10_p_value", "lp", "minus_log10_p", "-log10p", "nlog10p",
        "log10_p", "-log10(p)", "mlog10p",
    ),
    "z": ("z", "zscore", "z_score", "z.score"),
    "n": ("n", "samplesize", "sample_size", "n_total", "obs_ct", "nmiss", "ss", "totalsamplesize"),
    "ncase": ("ncase", "n_case", "n_cases", "ncases"),
    "ncontrol": ("ncontrol", "n_ctrl", "n_control", "n_controls", "ncontrols"),
    "test": ("test",),
}  # fmt: skip

#: Aliases (any case) of the columns of a variant table given to the LD code and to
#: instrument selection, in order of preference: a short list of the usual names
#: (each also a :data:`SUMSTATS_ALIASES` name of the same column).
VARIANT_ALIASES: dict[str, tuple[str, ...]] = {
    "snp": ("snp", "rsid", "id", "variant_id", "marker", "markername"),
    "p": ("p", "pval", "p_value", "pvalue"),
    "chr": ("chr", "chrom", "chromosome", "#chrom"),
    "pos": ("pos", "bp", "position", "base_pair_location"),
    "effect_allele": ("effect_allele", "a1", "ea", "alt"),
    "other_allele": ("other_allele", "a2", "oa", "ref"),
}

#: TwoSampleMR / MendelianRandomization names (exact case) of harmonised-table columns
#: -> the names of :data:`HARMONISED_COLUMNS` (and their companions ``n_*``, ``id_*``, ...).
HARMONISED_ALIASES: dict[str, str] = {
    "SNP": "snp",
    "rsid": "snp",
    "beta.exposure": "beta_exposure",
    "se.exposure": "se_exposure",
    "pval.exposure": "p_exposure",
    "pval_exposure": "p_exposure",
    "eaf.exposure": "eaf_exposure",
    "samplesize.exposure": "n_exposure",
    "samplesize_exposure": "n_exposure",
    "ncase.exposure": "ncase_exposure",
    "ncontrol.exposure": "ncontrol_exposure",
    "units.exposure": "units_exposure",
    "prevalence.exposure": "prevalence_exposure",
    "beta.outcome": "beta_outcome",
    "se.outcome": "se_outcome",
    "pval.outcome": "p_outcome",
    "pval_outcome": "p_outcome",
    "eaf.outcome": "eaf_outcome",
    "samplesize.outcome": "n_outcome",
    "samplesize_outcome": "n_outcome",
    "ncase.outcome": "ncase_outcome",
    "ncontrol.outcome": "ncontrol_outcome",
    "units.outcome": "units_outcome",
    "prevalence.outcome": "prevalence_outcome",
    "effect_allele.exposure": "effect_allele",
    "other_allele.exposure": "other_allele",
    "effect_allele.outcome": "effect_allele_outcome",
    "other_allele.outcome": "other_allele_outcome",
    "id.exposure": "id_exposure",
    "id.outcome": "id_outcome",
    "mr_keep": "keep",
    "mr_keep.exposure": "keep_exposure",
    "mr_keep.outcome": "keep_outcome",
    "bx": "beta_exposure",
    "bxse": "se_exposure",
    "by": "beta_outcome",
    "byse": "se_outcome",
}


def canonical_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its :data:`VARIANT_ALIASES` columns renamed to the canonical names.

    Header names match in any case; for each canonical name the first alias present
    wins. Raises :class:`~mrkit.errors.InputError` when no column names the variant.
    """
    lower = {c.lower(): c for c in table.columns}
    rename = {}
    for canon, names in VARIANT_ALIASES.items():
        for n in names:
            if n in lower:
                rename[lower[n]] = canon
                break
    out = table.rename(columns=rename)
    if "snp" not in out.columns:
        raise InputError("the variant table needs a `snp` column (rsID or variant ID)")
    return out


# --- drop reasons -----------------------------------------------------------------------
#: ``reason`` of an instrument candidate below the clumping threshold ``p1``.
REASON_P_ABOVE_P1 = "p > p1"
#: ``reason`` of an instrument candidate in the extended MHC region.
REASON_MHC = "MHC region"


def reason_weak(min_f: float) -> str:
    """``reason`` of an instrument whose F-statistic is below ``min_f``."""
    return f"weak (F < {min_f:g})"


# --- genome builds ----------------------------------------------------------------------
#: Common spellings of genome builds -> the store's spelling.
BUILDS = {"grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "grch38": "GRCh38",
          "hg38": "GRCh38", "b38": "GRCh38", "grch36": "NCBI36", "hg18": "NCBI36",
          "ncbi36": "NCBI36"}  # fmt: skip


def normalise_build(build: str | None) -> str | None:
    """``GRCh37``/``GRCh38`` (or ``NCBI36``) from common spellings; None stays None."""
    if build is None:
        return None
    b = BUILDS.get(str(build).strip().lower())
    if b is None:
        raise InputError(f"unknown genome build {build!r}; use GRCh37 or GRCh38")
    return b


# --- chromosome names -------------------------------------------------------------------
#: PLINK's numeric codes of the sex and mitochondrial chromosomes (and ``M``) -> the names
#: mrkit stores.
CHR_CODES: dict[str, str] = {"23": "X", "24": "Y", "25": "XY", "26": "MT", "M": "MT"}
#: Sort rank of the named chromosomes: after 1-22, in PLINK's order.
CHR_RANK: dict[str, int] = {"X": 23, "Y": 24, "XY": 25, "MT": 26}


def normalise_chr(name: str) -> str:
    """Chromosome name as stored: trimmed, ``chr`` prefix dropped, upper case, X/Y/XY/MT.

    >>> [normalise_chr(c) for c in ("chr1", " 23", "chrM", "x")]
    ['1', 'X', 'MT', 'X']
    """
    c = name.strip()
    c = c[3:].upper() if c[:3].lower() == "chr" else c.upper()
    return CHR_CODES.get(c, c)


__all__ = [
    "BUILDS",
    "CHR_CODES",
    "CHR_RANK",
    "HARMONISED_ALIASES",
    "HARMONISED_COLUMNS",
    "HARMONISED_REQUIRED",
    "REASON_MHC",
    "REASON_P_ABOVE_P1",
    "SUMSTATS_ALIASES",
    "SUMSTATS_COLUMNS",
    "VARIANT_ALIASES",
    "canonical_columns",
    "normalise_build",
    "normalise_chr",
    "reason_weak",
]
