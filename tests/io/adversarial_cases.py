# ruff: noqa: E501
"""The adversarial corpus of summary-statistics files (issue 13), built in memory.

``REFUSED[name] = (file name, bytes, line, column, words)``: ``mrkit import`` must exit
2 with one ``error:`` line naming the file, the line (when not None), the column (when
not None) and containing ``words``; the store must stay byte-identical.

``ACCEPTED[name] = (file name, bytes, check)``: a valid (if unusual) file; ``check(df)``
asserts what the normalised table must hold.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Callable

import pandas as pd

# --- base tables -------------------------------------------------------------------------
SSF_H = ["chromosome", "base_pair_location", "effect_allele", "other_allele", "beta",
         "standard_error", "effect_allele_frequency", "p_value", "rsid"]  # fmt: skip
SSF_ROWS = [
    ["1", "752566", "A", "G", "0.0123", "0.0051", "0.84", "0.0159", "rs3094315"],
    ["1", "768448", "A", "G", "-0.021", "0.008", "0.11", "0.00866", "rs12562034"],
    ["1", "779322", "G", "A", "0.0034", "0.0079", "0.11", "0.667", "rs4040617"],
    ["2", "10001", "TA", "T", "-0.05", "0.004", "0.30", "3.5e-36", "rs555"],
]
GEN_H = ["SNP", "CHR", "BP", "A1", "A2", "BETA", "SE", "P", "N"]
GEN_ROWS = [
    ["rs1", "1", "1000", "A", "G", "0.10", "0.02", "1e-6", "5000"],
    ["rs2", "1", "2000", "C", "T", "-0.05", "0.01", "3e-7", "5000"],
    ["rs3", "2", "3000", "G", "A", "0.01", "0.02", "0.6", "5000"],
    ["rs4", "3", "4000", "T", "C", "0.20", "0.03", "2e-11", "5000"],
]
REGENIE_H = ["CHROM", "GENPOS", "ID", "ALLELE0", "ALLELE1", "A1FREQ", "N", "TEST", "BETA", "SE", "CHISQ", "LOG10P"]  # fmt: skip
REGENIE_ROWS = [
    ["1", "100", "rs1", "G", "A", "0.2", "1000", "ADD", "0.1", "0.02", "25", "6.2"],
    ["1", "200", "rs2", "G", "A", "0.3", "1000", "ADD", "0.05", "0.02", "6.2", "1.9"],
    ["2", "300", "rs3", "C", "T", "0.4", "1000", "ADD", "-0.1", "0.02", "25", "6.2"],
]
TSMR_H = ["SNP", "beta.exposure", "se.exposure", "effect_allele.exposure", "other_allele.exposure",
          "eaf.exposure", "pval.exposure", "samplesize.exposure", "exposure", "id.exposure"]  # fmt: skip
TSMR_ROWS = [
    ["rs1", "0.1", "0.02", "A", "G", "0.3", "1e-6", "5000", "BMI", "ieu-a-2"],
    ["rs2", "-0.1", "0.02", "C", "T", "0.3", "1e-7", "5000", "BMI", "ieu-a-2"],
    ["rs3", "0.2", "0.02", "G", "A", "0.3", "1e-9", "5000", "BMI", "ieu-a-2"],
]


def table(header, rows, sep="\t", set_=None, end="\n"):
    """Text of a table; ``set_=(row, column, value)`` (or a list of them) changes cells."""
    rows = [list(r) for r in rows]
    header = list(header)
    for i, col, val in [set_] if isinstance(set_, tuple) else set_ or []:
        rows[i][header.index(col)] = val
    return (sep.join(header) + end + "".join(sep.join(r) + end for r in rows)).encode()


def ssf(set_=None, **kw):
    return table(SSF_H, SSF_ROWS, set_=set_, **kw)


def gen(set_=None, header=GEN_H, rows=GEN_ROWS, **kw):
    return table(header, rows, set_=set_, **kw)


def regenie(set_=None):
    return table(REGENIE_H, REGENIE_ROWS, sep=" ", set_=set_)


VCF_HEAD = (
    "##fileformat=VCFv4.2\n##contig=<ID=1,assembly=GRCh37>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
)
VCF_GOOD = "1\t100\trs1\tG\tA\t.\tPASS\t.\tES:SE:LP:AF:SS\t0.01:0.005:1.5:0.3:1000\n"


def vcf(chrom="1", pos="200", id_="rs2", ref="G", alt="A", sample="0.02:0.005:4.2:0.3:1000"):
    row = f"{chrom}\t{pos}\t{id_}\t{ref}\t{alt}\t.\tPASS\t.\tES:SE:LP:AF:SS\t{sample}\n"
    return (VCF_HEAD + VCF_GOOD + row).encode()


Case = tuple[str, bytes, int | None, str | None, str]
REFUSED: dict[str, Case] = {}

# --- chromosomes: TSV (GWAS-SSF), CSV (generic), space (REGENIE), GWAS-VCF -------------
BAD_CHR = {"chrQ": "not one of", "99": "not one of", "1.5": "not one of", "0": "chromosome 0",
           "NC_000001.11": "RefSeq", "chr0": "chromosome 0", "27": "not one of", "-1": "not one of",
           "chrUn_gl000220": "not one of", "6_apd_hap1": "not one of", "X1": "not one of",
           "chrMTX": "not one of", "1_random": "not one of", "Chr23.0": "not one of"}  # fmt: skip
for c, words in BAD_CHR.items():
    REFUSED[f"chr_{c}_ssf"] = ("a.tsv", ssf((2, "chromosome", c)), 4, "chromosome", words)
for c in ("chrQ", "99", "1.5", "0", "NC_000001.11"):
    words = BAD_CHR[c]
    REFUSED[f"chr_{c}_csv"] = ("a.csv", gen((1, "CHR", c), sep=","), 3, "CHR", words)
    REFUSED[f"chr_{c}_regenie"] = ("a.regenie", regenie((1, "CHROM", c)), 3, "CHROM", words)
    REFUSED[f"chr_{c}_vcf"] = ("a.vcf", vcf(chrom=c), 5, "#CHROM", words)
    REFUSED[f"chr_{c}_vcf_gz"] = ("a.vcf.gz", gzip.compress(vcf(chrom=c)), 5, "#CHROM", words)
REFUSED["chr_in_name_99"] = (
    "a.tsv",
    gen(header=["SNP", "A1", "A2", "BETA", "SE", "P"],
        rows=[["1:100", "A", "G", "0.1", "0.02", "1e-6"], ["99:200", "A", "G", "0.1", "0.02", "1e-6"]]),
    3, "SNP", "not one of",
)  # fmt: skip

# --- alleles -----------------------------------------------------------------------------
REFUSED["ea_eq_oa"] = ("a.tsv", ssf((1, "other_allele", "A")), 3, "other_allele", "both 'A'")
REFUSED["ea_eq_oa_case"] = (
    "a.tsv",
    ssf([(2, "effect_allele", "a"), (2, "other_allele", "A")]),
    4,
    "other_allele",
    "both",
)
REFUSED["ea_eq_oa_indel"] = (
    "a.tsv",
    ssf((3, "other_allele", "TA")),
    5,
    "other_allele",
    "both 'TA'",
)
REFUSED["ea_eq_oa_csv"] = ("a.csv", gen((0, "A2", "A"), sep=","), 2, "A2", "both")
REFUSED["ea_eq_oa_vcf"] = ("a.vcf", vcf(ref="A", alt="A"), 5, "REF", "both")
REFUSED["ea_eq_oa_regenie"] = ("a.regenie", regenie((2, "ALLELE0", "T")), 4, "ALLELE0", "both")
for name, a in {"cn0": "<CN0>", "star": "*", "dash": "-", "n": "N", "comma": "A,T", "digit": "3",
                "space_in": "A G", "lower_x": "x", "dot_sym": "A.", "del_sym": "<DEL>"}.items():  # fmt: skip
    REFUSED[f"allele_{name}"] = (
        "a.tsv",
        ssf((2, "effect_allele", a)),
        4,
        "effect_allele",
        "A/C/G/T",
    )
REFUSED["allele_cn0_vcf"] = ("a.vcf", vcf(alt="<CN0>"), 5, "ALT", "A/C/G/T")

# --- p-values and -log10 p -----------------------------------------------------------------
for v in ("inf", "Inf", "INF", "1e400", "-1"):
    REFUSED[f"log10p_{v}"] = ("a.regenie", regenie((1, "LOG10P", v)), 3, "LOG10P", "log10 p")
REFUSED["log10p_text"] = ("a.regenie", regenie((1, "LOG10P", "nan%")), 3, "LOG10P", "not a number")
REFUSED["vcf_lp_inf"] = ("a.vcf", vcf(sample="0.02:0.005:inf:0.3:1000"), 5, "LP", "log10 p")
REFUSED["p_zero_beta_zero"] = (
    "a.tsv",
    ssf([(1, "p_value", "0"), (1, "beta", "0")]),
    3,
    "p_value",
    "p of 0",
)
REFUSED["p_zero_beta_small"] = ("a.tsv", ssf((2, "p_value", "0")), 4, "p_value", "p of 0")
REFUSED["p_zero_dot"] = (
    "a.tsv",
    ssf([(0, "p_value", "0.0"), (0, "beta", "0")]),
    2,
    "p_value",
    "p of 0",
)
REFUSED["p_zero_exp"] = (
    "a.tsv",
    ssf([(0, "p_value", "0e0"), (0, "beta", "0")]),
    2,
    "p_value",
    "p of 0",
)
REFUSED["p_zero_csv"] = (
    "a.csv",
    gen([(3, "P", "0"), (3, "BETA", "0.0")], sep=","),
    5,
    "P",
    "p of 0",
)
REFUSED["p_above_one"] = ("a.tsv", ssf((2, "p_value", "1.0001")), 4, "p_value", "between 0 and 1")
REFUSED["p_inf"] = ("a.tsv", ssf((2, "p_value", "inf")), 4, "p_value", "between 0 and 1")
REFUSED["p_percent"] = ("a.tsv", ssf((2, "p_value", "5%")), 4, "p_value", "not a number")
REFUSED["p_comma_decimal"] = ("a.tsv", ssf((2, "p_value", "0,05")), 4, "p_value", "not a number")
REFUSED["p_less_than"] = ("a.tsv", ssf((0, "p_value", "<1e-300")), 2, "p_value", "not a number")
REFUSED["se_underflow"] = (
    "a.tsv",
    ssf((1, "standard_error", "1e-400")),
    3,
    "standard_error",
    "> 0",
)
REFUSED["beta_overflow"] = ("a.tsv", ssf((1, "beta", "1e400")), 3, "beta", "finite")
REFUSED["beta_inf"] = ("a.tsv", ssf((1, "beta", "-inf")), 3, "beta", "finite")
REFUSED["eaf_negative"] = (
    "a.tsv",
    ssf((1, "effect_allele_frequency", "-0.1")),
    3,
    "effect_allele_frequency",
    "frequency",
)
REFUSED["eaf_inf"] = (
    "a.tsv",
    ssf((1, "effect_allele_frequency", "inf")),
    3,
    "effect_allele_frequency",
    "frequency",
)

# --- one variant on two different rows ----------------------------------------------------
REFUSED["dup_rsid_opposite_beta"] = (
    "a.tsv", ssf([(2, "rsid", "rs3094315"), (2, "beta", "-0.0123"), (2, "base_pair_location", "752566"),
                  (2, "effect_allele", "A"), (2, "other_allele", "G")]),
    4, "rsid", "line 2",
)  # fmt: skip
REFUSED["dup_rsid_two_positions"] = ("a.tsv", ssf((3, "rsid", "rs3094315")), 5, "rsid", "line 2")
REFUSED["dup_rsid_csv"] = ("a.csv", gen((2, "SNP", "rs1"), sep=","), 4, "SNP", "line 2")
REFUSED["dup_rsid_vcf"] = ("a.vcf", vcf(id_="rs1"), 5, "ID", "line 4")
REFUSED["dup_rsid_regenie"] = ("a.regenie", regenie((2, "ID", "rs2")), 4, "ID", "line 3")
REFUSED["dup_rsid_gz"] = ("a.tsv.gz", gzip.compress(ssf((1, "rsid", "rs555"))), 5, "rsid", "line 3")
REFUSED["dup_chrpos_name"] = (
    "a.tsv",
    gen(header=["CHR", "BP", "A1", "A2", "BETA", "SE", "P"],
        rows=[["1", "100", "A", "G", "0.1", "0.02", "1e-6"], ["1", "100", "G", "A", "0.3", "0.02", "1e-6"]]),
    3, None, "line 2",
)  # fmt: skip


# --- two columns for one role ---------------------------------------------------------------
def _twin(extra: str, value: str) -> bytes:
    return gen(header=[*GEN_H, extra], rows=[[*r, value] for r in GEN_ROWS])


for extra, col_value in {"pval": "0.01", "b": "0.1", "OR": "1.1", "stderr": "0.02", "beta_": None,
                         "samplesize": "100", "chrom": "1", "pos": "5", "effect_allele": "A",
                         "other_allele": "G", "P_VALUE": "0.01", "se_beta": "0.1"}.items():  # fmt: skip
    if col_value is None:
        continue
    words = "two effect columns" if extra == "OR" else "two columns"
    REFUSED[f"twin_{extra}"] = ("a.tsv", _twin(extra, col_value), 1, None, words)
REFUSED["twin_beta_or_ssf"] = (
    "a.tsv", table([*SSF_H, "odds_ratio"], [[*r, "1.01"] for r in SSF_ROWS]), 1, "odds_ratio", "two effect",
)  # fmt: skip
REFUSED["twin_log10p"] = (
    "a.tsv", gen(header=[*GEN_H, "LOG10P", "mlogp"], rows=[[*r, "3", "3"] for r in GEN_ROWS]),
    1, "mlogp", "two columns",
)  # fmt: skip

# --- GWAS-VCF structure ----------------------------------------------------------------------
REFUSED["vcf_two_samples"] = (
    "a.vcf",
    (VCF_HEAD.replace("\tS1\n", "\tS1\tS2\n") + VCF_GOOD.replace("\n", "\t0.1:0.01:2:0.3:1000\n")).encode(),
    3, "S2", "2 samples",
)  # fmt: skip
REFUSED["vcf_three_samples_gz"] = (
    "a.vcf.gz",
    gzip.compress((VCF_HEAD.replace("\tS1\n", "\tS1\tS2\tS3\n")
                   + VCF_GOOD.replace("\n", "\t0.1:0.01:2:0.3:1000\t0.1:0.01:2:0.3:1000\n")).encode()),
    3, "S2", "3 samples",
)  # fmt: skip

# --- several traits in one file ----------------------------------------------------------------
for col in ("trait", "label", "phenotype", "id"):
    rows = [[*r, "BMI" if i < 2 else "LDL"] for i, r in enumerate(GEN_ROWS)]
    REFUSED[f"mixed_traits_{col}"] = (
        "a.tsv",
        gen(header=[*GEN_H, col], rows=rows),
        4,
        col,
        "second trait",
    )
TSMR_MIXED = [list(r) for r in TSMR_ROWS]
TSMR_MIXED[2][8:] = ["LDL", "ieu-a-300"]
REFUSED["mixed_traits_tsmr"] = (
    "a.csv",
    table(TSMR_H, TSMR_MIXED, sep=","),
    4,
    "exposure",
    "second trait",
)
TSMR_MIXED_ID = [list(r) for r in TSMR_ROWS]
TSMR_MIXED_ID[1][9] = "ieu-a-7"
REFUSED["mixed_traits_tsmr_id"] = (
    "a.csv",
    table(TSMR_H, TSMR_MIXED_ID, sep=","),
    3,
    "id.exposure",
    "second trait",
)
TSMR_UNITS = [[*r, "SD" if i else "log odds"] for i, r in enumerate(TSMR_ROWS)]
REFUSED["mixed_units_tsmr"] = (
    "a.csv",
    table([*TSMR_H, "units.exposure"], TSMR_UNITS, sep=","),
    3,
    "units.exposure",
    "second",
)

# --- numbers too large for their type ------------------------------------------------------------
for v in ("1e30", "inf", "1e11", "-5", "0.2", "1e400"):
    REFUSED[f"n_{v}"] = ("a.tsv", gen((1, "N", v)), 3, "N", "sample size")
REFUSED["n_text"] = ("a.tsv", gen((1, "N", "5k")), 3, "N", "not a number")
REFUSED["samplesize_tsmr_1e30"] = (
    "a.csv",
    table(TSMR_H, TSMR_ROWS, sep=",", set_=(1, "samplesize.exposure", "1e30")),
    3,
    "samplesize.exposure",
    "sample size",
)
REFUSED["vcf_ss_1e30"] = ("a.vcf", vcf(sample="0.02:0.005:4.2:0.3:1e30"), 5, "SS", "sample size")
for v in (
    "1e30",
    "99999999999999999999",
    "3000000000",
    "9223372036854775808",
    "2.5",
    "1,000",
    "0x10",
):
    REFUSED[f"pos_{v}"] = ("a.tsv", gen((2, "BP", v)), 4, "BP", "position")
REFUSED["pos_big_vcf"] = ("a.vcf", vcf(pos="99999999999999999999"), 5, "POS", "position")
REFUSED["pos_big_ssf"] = (
    "a.tsv",
    ssf((0, "base_pair_location", "4294967296")),
    2,
    "base_pair_location",
    "position",
)

# --- bytes, lines and quotes -------------------------------------------------------------------
REFUSED["latin1_snp"] = (
    "a.tsv",
    gen((1, "SNP", "rs2")).replace(b"rs2", b"rs2\xe9"),
    3,
    "SNP",
    "not UTF-8",
)
REFUSED["latin1_last_col"] = (
    "a.tsv",
    gen().replace(b"3e-7\t5000", b"3e-7\t5000\xb5"),
    3,
    "N",
    "not UTF-8",
)
REFUSED["cp1252_quote_csv"] = (
    "a.csv",
    gen(sep=",").replace(b"rs3,", b"\x93rs3\x94,"),
    4,
    "SNP",
    "not UTF-8",
)
REFUSED["latin1_gz"] = (
    "a.tsv.gz",
    gzip.compress(gen().replace(b"rs4", b"rs4\xff")),
    5,
    "SNP",
    "not UTF-8",
)
REFUSED["latin1_vcf"] = (
    "a.vcf",
    vcf(id_="rs\xe92").decode().encode("latin-1"),
    5,
    None,
    "not UTF-8",
)
REFUSED["long_line_field"] = (
    "a.tsv",
    gen((1, "SNP", "rs" + "9" * 12_000_000)),
    3,
    None,
    "longer than",
)
REFUSED["long_line_gz"] = (
    "a.tsv.gz",
    gzip.compress(gen((2, "SNP", "x" * 12_000_000))),
    4,
    None,
    "longer than",
)
REFUSED["long_line_no_newline"] = ("a.tsv", gen() + b"rs9\t" * 3_000_000, 6, None, "longer than")
REFUSED["quote_open_tsv"] = ("a.tsv", gen((1, "SNP", '"rs2')), 3, None, "unbalanced double quote")
REFUSED["quote_open_csv"] = (
    "a.csv",
    gen((2, "SNP", '"rs3'), sep=","),
    4,
    None,
    "unbalanced double quote",
)
REFUSED["quote_open_last_line"] = (
    "a.tsv",
    gen((3, "N", '5000"')),
    5,
    None,
    "unbalanced double quote",
)
REFUSED["quote_in_beta"] = (
    "a.csv",
    gen((0, "BETA", '"0.1'), sep=","),
    2,
    None,
    "unbalanced double quote",
)
REFUSED["nul_byte"] = ("a.tsv", gen((2, "SNP", "rs\x003")), None, None, "binary")

# --- files that are not summary statistics -----------------------------------------------------
REFUSED["cr_only_ragged"] = ("a.tsv", gen(end="\r")[:-1] + b"\rrs9\t1\r", 6, None, "ragged")
REFUSED["mixed_ends_ragged"] = ("a.tsv", gen(end="\r\n") + b"rs9\t1\t5\n", 6, None, "ragged")
REFUSED["text_in_se_gz"] = (
    "a.tsv.gz",
    gzip.compress(ssf((3, "standard_error", "0.0o4"))),
    5,
    "standard_error",
    "not a number",
)
REFUSED["or_zero_twosample"] = (
    "a.tsv",
    gen(header=["SNP", "A1", "A2", "OR", "SE", "P"], rows=[["rs1", "A", "G", "0", "0.1", "0.5"]]),
    2,
    "OR",
    "odds ratio",
)
REFUSED["regenie_text_beta"] = (
    "a.regenie",
    regenie((0, "BETA", "0.1.2")),
    2,
    "BETA",
    "not a number",
)


# --- valid files that must be accepted, with what they must give -----------------------------------
Check = Callable[[pd.DataFrame], None]
ACCEPTED: dict[str, tuple[str, bytes, Check]] = {}


def _lp(snp: str, want: float) -> Check:
    def check(df: pd.DataFrame) -> None:
        got = float(df.set_index("snp").loc[snp, "log10p"])
        assert math.isclose(got, want, rel_tol=1e-9), (got, want)

    return check


ACCEPTED["p_plus_exp"] = ("a.tsv", ssf((1, "p_value", "+1e-400")), _lp("rs12562034", 400.0))
ACCEPTED["p_plus_mantissa"] = (
    "a.tsv",
    ssf((1, "p_value", "+2.5E-401")),
    _lp("rs12562034", 401 - math.log10(2.5)),
)
ACCEPTED["p_decimal_underflow"] = (
    "a.tsv",
    ssf((1, "p_value", "0." + "0" * 399 + "1")),
    _lp("rs12562034", 400.0),
)
ACCEPTED["p_decimal_underflow_digits"] = (
    "a.tsv", ssf((1, "p_value", "0." + "0" * 349 + "25")), _lp("rs12562034", 349 - math.log10(0.25)),
)  # fmt: skip
ACCEPTED["p_denormal"] = ("a.tsv", ssf((1, "p_value", "1e-320")), _lp("rs12562034", 320.0))
ACCEPTED["p_zero_big_z"] = (
    "a.tsv", ssf([(1, "p_value", "0"), (1, "beta", "1.5"), (1, "standard_error", "0.01")]),
    lambda df: df.set_index("snp").loc["rs12562034", "log10p"] > 300,
)  # fmt: skip


def _missing(n_rows: int) -> Check:
    def check(df: pd.DataFrame) -> None:
        assert len(df) == n_rows, df
        assert df.attrs["mrkit"]["dropped"] == 4 - n_rows

    return check


def _se_from_p(df: pd.DataFrame) -> None:
    """A missing SE comes from the p-value: SE = |beta| / z(p/2) (beta 0.01, p 0.6)."""
    from scipy.stats import norm

    assert len(df) == 4
    se = float(df.set_index("snp").loc["rs3", "se"])
    assert math.isclose(se, 0.01 / norm.isf(0.3), rel_tol=1e-9), se


for spelling in ("NAN", "NaN", "nan", "NA", ".", "", "-nan", "N/A", "null", "Nan"):
    key = {"": "empty", ".": "dot", "N/A": "n_a"}.get(spelling, spelling)
    ACCEPTED[f"missing_beta_{key}"] = ("a.tsv", gen((1, "BETA", spelling)), _missing(3))
    ACCEPTED[f"missing_se_{key}"] = ("a.tsv", gen((2, "SE", spelling)), _se_from_p)
ACCEPTED["missing_log10p_NAN"] = (
    "a.regenie", regenie((1, "LOG10P", "NAN")),
    lambda df: math.isclose(float(df.set_index("snp").loc["rs2", "log10p"]), 1.9, rel_tol=0.1)
    and len(df) == 3,
)  # fmt: skip
ACCEPTED["missing_eaf_NAN"] = (
    "a.tsv",
    ssf((1, "effect_allele_frequency", "NAN")),
    lambda df: df.eaf.isna().sum() == 1,
)
ACCEPTED["mixed_crlf_lf"] = (
    "a.tsv",
    gen(end="\r\n")[:-30].replace(b"\r\n", b"\n", 2) + gen(end="\r\n")[-30:],
    _missing(4),
)
ACCEPTED["mixed_crlf_lf_csv"] = ("a.csv", gen(sep=",").replace(b"\n", b"\r\n", 3), _missing(4))
ACCEPTED["crlf_only"] = ("a.tsv", gen(end="\r\n"), _missing(4))
ACCEPTED["duplicate_identical_rows"] = (
    "a.tsv",
    gen(rows=[*GEN_ROWS, GEN_ROWS[0]]),
    lambda df: len(df) == 5,
)
ACCEPTED["tsmr_one_trait"] = ("a.csv", table(TSMR_H, TSMR_ROWS, sep=","), lambda df: len(df) == 3)
ACCEPTED["chr_spellings"] = (
    "a.tsv",
    gen(rows=[[*r[:1], c, *r[2:]] for r, c in zip(GEN_ROWS, ["chr1", "23", "chrM", "x"], strict=True)]),
    lambda df: list(df.chr) == ["1", "X", "MT", "X"],
)  # fmt: skip
ACCEPTED["n_float"] = ("a.tsv", gen((1, "N", "4999.6")), lambda df: int(df.n.iloc[1]) == 5000)
ACCEPTED["quoted_csv"] = (
    "a.csv",
    gen(sep=",").replace(b"rs1,", b'"rs1",'),
    lambda df: "rs1" in set(df.snp),
)
