"""Column roles, aliases and per-format layouts of GWAS summary-statistics files.

Every supported layout is described by a :class:`FormatSpec`: which header
names carry which *role* (rsID, chromosome, effect allele, beta, ...). A
format is recognised from its header (:func:`guess_format`); the ``generic``
spec resolves any header through the alias table
:data:`mrkit._core.columns.SUMSTATS_ALIASES` (shared with the rest of mrkit).

Roles
-----
``snp chr pos ea oa eaf beta or or_lo or_hi se p log10p z n ncase ncontrol
test ref alt omitted`` (``ea``/``oa``: effect and other allele; ``or_lo`` and
``or_hi``: 95% confidence limits of an odds ratio; ``ref``/``alt``/``omitted``
only for PLINK 2, whose ``A1`` is the effect allele and the other allele is
whichever of REF/ALT is not ``A1``).

Effect-allele conventions (from each tool's documentation)
----------------------------------------------------------
PLINK 1.9/2, GCTA-COJO, LDSC: ``A1``. BOLT-LMM and REGENIE: ``ALLELE1``
(``ALLELE0`` is the reference). SAIGE: ``Allele2``. METAL: ``Allele1``.
GWAS-VCF and FinnGen: ``ALT``. GWAS-SSF and TwoSampleMR: ``effect_allele``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mrkit._core.columns import SUMSTATS_ALIASES

ROLES = (
    "snp",
    "chr",
    "pos",
    "ea",
    "oa",
    "eaf",
    "beta",
    "or",
    "or_lo",
    "or_hi",
    "se",
    "p",
    "log10p",
    "z",
    "n",
    "ncase",
    "ncontrol",
    "test",
    "ref",
    "alt",
    "omitted",
)

#: Roles read as numbers (the p-value is read as text so that 1e-400 survives).
NUMERIC_ROLES = frozenset(
    {"eaf", "beta", "or", "or_lo", "or_hi", "se", "log10p", "z", "n", "ncase", "ncontrol"}
)


@dataclass(frozen=True)
class FormatSpec:
    """How one published layout names its columns.

    ``roles`` maps a role to the header names (lower case) that carry it, in
    order of preference; roles not listed fall back to the shared aliases
    (:data:`~mrkit._core.columns.SUMSTATS_ALIASES`) only when ``use_aliases`` is true.
    """

    name: str
    label: str
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    use_aliases: bool = False
    extensions: tuple[str, ...] = ()


FORMATS: dict[str, FormatSpec] = {
    s.name: s
    for s in (
        FormatSpec(
            "gwas-ssf",
            "GWAS Catalog GWAS-SSF",
            {
                "snp": ("rsid", "variant_id"),
                "chr": ("chromosome",),
                "pos": ("base_pair_location",),
                "ea": ("effect_allele",),
                "oa": ("other_allele",),
                "eaf": ("effect_allele_frequency",),
                "beta": ("beta",),
                "or": ("odds_ratio",),
                "or_lo": ("ci_lower",),
                "or_hi": ("ci_upper",),
                "se": ("standard_error",),
                "p": ("p_value",),
                "log10p": ("neg_log_10_p_value",),
                "n": ("n",),
            },
        ),
        FormatSpec(
            "plink",
            "PLINK 1.9 (.assoc, .qassoc, .assoc.linear/.logistic)",
            {
                "snp": ("snp",),
                "chr": ("chr",),
                "pos": ("bp",),
                "ea": ("a1",),
                "oa": ("a2",),
                "eaf": ("maf_a1", "f_u", "freq"),
                "beta": ("beta",),
                "or": ("or",),
                "or_lo": ("l95",),
                "or_hi": ("u95",),
                "se": ("se",),
                "p": ("p",),
                "n": ("nmiss",),
                "test": ("test",),
            },
            extensions=(".assoc", ".qassoc", ".assoc.linear", ".assoc.logistic"),
        ),
        FormatSpec(
            "plink2",
            "PLINK 2 (.glm.linear, .glm.logistic)",
            {
                "snp": ("id",),
                "chr": ("#chrom", "chrom"),
                "pos": ("pos",),
                "ea": ("a1",),
                "ref": ("ref",),
                "alt": ("alt",),
                "omitted": ("omitted", "ax"),
                "eaf": ("a1_freq",),
                "beta": ("beta",),
                "or": ("or",),
                "or_lo": ("l95",),
                "or_hi": ("u95",),
                "se": ("se", "log(or)_se"),
                "p": ("p",),
                "log10p": ("log10_p",),
                "n": ("obs_ct",),
                "test": ("test",),
            },
            extensions=(".glm.linear", ".glm.logistic", ".glm.logistic.hybrid", ".glm.firth"),
        ),
        FormatSpec(
            "regenie",
            "REGENIE step 2",
            {
                "snp": ("id",),
                "chr": ("chrom",),
                "pos": ("genpos",),
                "ea": ("allele1",),
                "oa": ("allele0",),
                "eaf": ("a1freq",),
                "beta": ("beta",),
                "se": ("se",),
                "log10p": ("log10p",),
                "n": ("n",),
                "test": ("test",),
            },
            extensions=(".regenie",),
        ),
        FormatSpec(
            "bolt-lmm",
            "BOLT-LMM",
            {
                "snp": ("snp",),
                "chr": ("chr",),
                "pos": ("bp",),
                "ea": ("allele1",),
                "oa": ("allele0",),
                "eaf": ("a1freq",),
                "beta": ("beta",),
                "se": ("se",),
                "p": ("p_bolt_lmm", "p_bolt_lmm_inf", "p_linreg"),
            },
        ),
        FormatSpec(
            "saige",
            "SAIGE step 2",
            {
                "snp": ("markerid", "snpid", "rsid"),
                "chr": ("chr",),
                "pos": ("pos",),
                "ea": ("allele2",),
                "oa": ("allele1",),
                "eaf": ("af_allele2",),
                "beta": ("beta",),
                "se": ("se",),
                "p": ("p.value",),
                "n": ("n",),
                "ncase": ("n_case",),
                "ncontrol": ("n_ctrl",),
            },
        ),
        FormatSpec(
            "metal",
            "METAL",
            {
                "snp": ("markername",),
                "ea": ("allele1",),
                "oa": ("allele2",),
                "eaf": ("freq1",),
                "beta": ("effect",),
                "z": ("zscore",),
                "se": ("stderr",),
                "p": ("p-value",),
                "n": ("weight", "n"),
                "chr": ("chromosome", "chr"),
                "pos": ("position", "pos"),
            },
        ),
        FormatSpec(
            "cojo",
            "GCTA-COJO .ma",
            {
                "snp": ("snp",),
                "ea": ("a1",),
                "oa": ("a2",),
                "eaf": ("freq",),
                "beta": ("b",),
                "se": ("se",),
                "p": ("p",),
                "n": ("n",),
            },
            extensions=(".ma",),
        ),
        FormatSpec(
            "ldsc",
            "LDSC .sumstats (Z only)",
            {
                "snp": ("snp",),
                "ea": ("a1",),
                "oa": ("a2",),
                "z": ("z",),
                "n": ("n",),
                "eaf": ("frq", "eaf", "freq"),
            },
            extensions=(".sumstats",),
        ),
        FormatSpec("gwas-vcf", "IEU GWAS-VCF", {}, extensions=(".vcf", ".vcf.gz", ".vcf.bgz")),
        FormatSpec(
            "finngen",
            "FinnGen",
            {
                "snp": ("rsids",),
                "chr": ("#chrom", "chrom"),
                "pos": ("pos",),
                "ea": ("alt",),
                "oa": ("ref",),
                "eaf": ("af_alt",),
                "beta": ("beta",),
                "se": ("sebeta",),
                "p": ("pval",),
                "log10p": ("mlogp",),
            },
        ),
        FormatSpec("twosamplemr", "TwoSampleMR data frame (CSV)", use_aliases=True),
        FormatSpec("generic", "generic (column aliases)", use_aliases=True),
    )
}

FORMAT_NAMES = tuple(FORMATS)


def normalise_header(name: str) -> str:
    """Lower-case, trimmed header name; TwoSampleMR suffixes dropped."""
    key = name.strip().strip('"').lower()
    for suffix in (".exposure", ".outcome"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key


def guess_format(columns: list[str], filename: str = "") -> str:
    """Name of the format whose signature the header matches (``generic`` if none)."""
    raw = [c.strip() for c in columns]
    cols = {c.lower() for c in raw}
    first = raw[0].lower() if raw else ""
    name = filename.lower()
    if first == "#chrom" and {"format", "ref", "alt"} <= cols:
        return "gwas-vcf"
    if "base_pair_location" in cols and ({"p_value", "neg_log_10_p_value"} & cols):
        return "gwas-ssf"
    if {"mlogp", "sebeta"} <= cols:
        return "finngen"
    if {"log10p", "allele0", "allele1", "genpos"} <= cols:
        return "regenie"
    if {"p_bolt_lmm", "p_bolt_lmm_inf"} & cols:
        return "bolt-lmm"
    if "markerid" in cols and ({"af_allele2", "ac_allele2"} & cols):
        return "saige"
    if "markername" in cols and ({"stderr", "zscore"} & cols):
        return "metal"
    if first == "#chrom" and "a1" in cols and {"ref", "alt"} <= cols:
        return "plink2"
    if {"chr", "snp", "bp", "a1"} <= cols and (
        {"chisq", "f_a", "nmiss", "or", "stat", "r2"} & cols or ".assoc" in name
    ):
        return "plink"
    if {"snp", "a1", "a2", "freq", "b", "se", "p", "n"} <= cols:
        return "cojo"
    if {"snp", "a1", "a2", "z"} <= cols and not ({"beta", "b", "se", "or"} & cols):
        return "ldsc"
    if any(c.endswith((".exposure", ".outcome")) for c in cols):
        return "twosamplemr"
    if {"snp", "beta", "se", "effect_allele", "other_allele"} <= cols:
        return "twosamplemr"
    for spec in FORMATS.values():
        if any(name.endswith(ext) for ext in spec.extensions):
            return spec.name
    return "generic"


def resolve_roles(columns: list[str], fmt: str) -> dict[str, int]:
    """Map each role to the index of the column carrying it, for format ``fmt``."""
    spec = FORMATS[fmt]
    keys = [normalise_header(c) for c in columns]
    index = {k: i for i, k in reversed(list(enumerate(keys)))}
    found: dict[str, int] = {}
    used: set[int] = set()
    for role in ROLES:
        names = spec.roles.get(role, ())
        if spec.use_aliases:
            names = names + SUMSTATS_ALIASES.get(role, ())
        for nm in names:
            i = index.get(nm)
            if i is not None and i not in used:
                found[role] = i
                used.add(i)
                break
    return found
