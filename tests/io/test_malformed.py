# ruff: noqa: PT018, E501, RUF028
"""Bad input: each malformed file exits 2 with one message naming the file (line, column),
and the store's catalog and files stay byte-identical."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from mrkit.cli import main

H = ["chromosome", "base_pair_location", "effect_allele", "other_allele", "beta",
     "standard_error", "effect_allele_frequency", "p_value", "rsid"]  # fmt: skip
ROWS = [
    ["1", "752566", "A", "G", "0.0123", "0.0051", "0.84", "0.0159", "rs3094315"],
    ["1", "768448", "A", "G", "-0.021", "0.008", "0.11", "0.00866", "rs12562034"],
    ["1", "779322", "G", "A", "0.0034", "0.0079", "0.11", "0.667", "rs4040617"],
    ["2", "10001", "TA", "T", "-0.05", "0.004", "0.30", "3.5e-36", "rs555"],
]


def tsv(header=H, rows=ROWS, sep="\t", set_=None, drop=None):
    """A GWAS-SSF table; ``set_=(row, column, value)`` changes one cell (row 0 = line 2)."""
    rows = [list(r) for r in rows]
    header = list(header)
    if set_ is not None:
        i, col, val = set_
        rows[i][header.index(col)] = val
    if drop is not None:
        j = header.index(drop)
        header.pop(j)
        for r in rows:
            r.pop(j)
    return (sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in rows)).encode()


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def _truncated_gz(nrows: int) -> bytes:
    body = tsv(rows=ROWS * (nrows // 4))
    data = gzip.compress(body)
    return data[: len(data) * 2 // 3]


def _vcf(sample: str = "0.01:0.005:1.5:0.3:1000", alt: str = "A", fmt: str = "ES:SE:LP:AF:SS"):
    head = (
        "##fileformat=VCFv4.2\n##contig=<ID=1,assembly=GRCh37>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    good = "1\t100\trs1\tG\tA\t.\tPASS\t.\tES:SE:LP:AF:SS\t0.01:0.005:1.5:0.3:1000\n"
    bad = f"1\t200\trs2\tG\t{alt}\t.\tPASS\t.\t{fmt}\t{sample}\n"
    return (head + good + bad).encode()


PLINK_ASSOC = (
    " CHR         SNP         BP   A1      F_A      F_U   A2        CHISQ            P           OR \n"
    "   1   rs3094315     752566    A   0.1561   0.1424    G        1.042       0.3073        1.115 \n"
    "   1  rs12562034     768448    A  0.08897  0.09859    G       0.3024       0.5824       {or_} \n"
)
PLINK2 = (
    "#CHROM\tPOS\tID\tREF\tALT\tA1\tTEST\tOBS_CT\tBETA\tSE\tT_STAT\tP\n"
    "1\t752566\trs3094315\tG\tA\tA\tADD\t500\t0.1\t0.05\t2\t0.04\n"
    "1\t768448\trs12562034\tG\tA\tC\tADD\t500\t0.1\t0.05\t2\t0.04\n"
)

# name: (file name, content, expected line, expected column, expected words)
CASES: dict[str, tuple[str, bytes, int | None, str | None, str]] = {
    "empty": ("a.tsv", b"", None, None, "empty"),
    "blank_lines": ("a.tsv", b"\n\n  \n", None, None, "empty"),
    "header_only": ("a.tsv", tsv(rows=[]), 1, None, "header only"),
    "header_only_gz": ("a.tsv.gz", gzip.compress(tsv(rows=[])), 1, None, "header only"),
    "no_effect_allele": ("a.tsv", tsv(drop="effect_allele"), 1, None, "effect-allele"),
    "no_other_allele": ("a.tsv", tsv(drop="other_allele"), 1, None, "other-allele"),
    "no_effect_column": ("a.tsv", tsv(drop="beta"), 1, None, "effect"),
    "no_se_or_p": (
        "a.tsv",
        tsv(header=[*H[:5], "x", "effect_allele_frequency", "y", "rsid"]),
        1,
        None,
        "standard error",
    ),  # fmt: skip
    "no_variant_id": (
        "a.tsv",
        tsv(header=["a", "b", *H[2:8], "c"]),
        1,
        None,
        "variant",
    ),  # fmt: skip
    "ragged_short": ("a.tsv", tsv() + b"1\t5\tA\tG\t0.1\n", 6, None, "ragged"),
    "ragged_long": ("a.tsv", tsv(set_=(1, "rsid", "rs1\textra")), 3, None, "ragged"),
    "text_beta": ("a.tsv", tsv(set_=(2, "beta", "abc")), 4, "beta", "not a number"),
    "text_se": ("a.tsv", tsv(set_=(0, "standard_error", "0.0x1")), 2, "standard_error", "number"),
    "text_p": ("a.tsv", tsv(set_=(3, "p_value", "<1e-8")), 5, "p_value", "not a number"),
    "text_pos": (
        "a.tsv",
        tsv(set_=(1, "base_pair_location", "7e5x")),
        3,
        "base_pair_location",
        "position",
    ),  # fmt: skip
    "negative_pos": (
        "a.tsv",
        tsv(set_=(1, "base_pair_location", "-5")),
        3,
        "base_pair_location",
        "position",
    ),  # fmt: skip
    "se_zero": ("a.tsv", tsv(set_=(1, "standard_error", "0")), 3, "standard_error", "> 0"),
    "se_negative": ("a.tsv", tsv(set_=(2, "standard_error", "-0.1")), 4, "standard_error", "> 0"),
    "se_inf": ("a.tsv", tsv(set_=(2, "standard_error", "inf")), 4, "standard_error", "> 0"),
    "p_above_one": ("a.tsv", tsv(set_=(0, "p_value", "1.5")), 2, "p_value", "between 0 and 1"),
    "p_negative": ("a.tsv", tsv(set_=(3, "p_value", "-0.01")), 5, "p_value", "between 0 and 1"),
    "eaf_above_one": (
        "a.tsv",
        tsv(set_=(1, "effect_allele_frequency", "1.2")),
        3,
        "effect_allele_frequency",
        "frequency",
    ),  # fmt: skip
    "allele_x": ("a.tsv", tsv(set_=(1, "effect_allele", "X")), 3, "effect_allele", "A/C/G/T"),
    "allele_n": ("a.tsv", tsv(set_=(2, "other_allele", "N")), 4, "other_allele", "A/C/G/T"),
    "allele_digit": ("a.tsv", tsv(set_=(0, "effect_allele", "1")), 2, "effect_allele", "A/C/G/T"),
    "allele_mixed": (
        "a.tsv",
        tsv(set_=(3, "effect_allele", "T<DEL>")),
        5,
        "effect_allele",
        "A/C/G/T",
    ),  # fmt: skip
    "or_zero": (
        "a.tsv",
        tsv(header=[*H[:4], "odds_ratio", *H[5:]], set_=(1, "odds_ratio", "0")),
        3,
        "odds_ratio",
        "odds ratio",
    ),  # fmt: skip
    "or_negative": (
        "a.tsv",
        tsv(header=[*H[:4], "odds_ratio", *H[5:]], set_=(2, "odds_ratio", "-1.2")),
        3,
        "odds_ratio",
        "odds ratio",
    ),  # fmt: skip
    "plink_or_zero": ("b.assoc", PLINK_ASSOC.format(or_="0").encode(), 3, "OR", "odds ratio"),
    "plink_or_text": ("b.assoc", PLINK_ASSOC.format(or_="NaN?").encode(), 3, "OR", "number"),
    "truncated_gz_small": ("a.tsv.gz", gzip.compress(tsv())[:-12], None, None, "gzip"),
    "truncated_gz_large": ("a.tsv.gz", _truncated_gz(40000), None, None, "gzip"),
    "html_page": (
        "a.tsv",
        b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n",
        1,
        None,
        "HTML",
    ),  # fmt: skip
    "xml_page": ("a.tsv", b"<?xml version='1.0'?><Error>AccessDenied</Error>\n", 1, None, "HTML"),
    "xlsx_as_tsv": ("a.tsv", _xlsx(), None, None, "Excel"),
    "binary": ("a.tsv", b"SNP\tA1\x00\x01\x02\n\x00\x00", None, None, "binary"),
    "bzip2": ("a.tsv", bz2.compress(tsv()), None, None, "bzip2"),
    "duplicate_column": ("a.tsv", tsv(header=[*H[:-1], "beta"]), 1, "beta", "duplicate"),
    "duplicate_column_case": ("a.tsv", tsv(header=[*H[:-1], "BETA"]), 1, "BETA", "duplicate"),
    "empty_column_name": ("a.tsv", tsv(header=[*H[:4], "", *H[5:]]), 1, None, "empty column"),
    "single_column": ("a.tsv", b"snp\nrs1\nrs2\n", 1, None, "single column"),
    "comma_ragged": ("a.csv", tsv(sep=",") + b"1,5,A\n", 6, None, "ragged"),
    "vcf_text_es": ("a.vcf", _vcf("abc:0.005:1.5:0.3:1000"), 5, "ES", "not a number"),
    "vcf_se_zero": ("a.vcf", _vcf("0.1:0:1.5:0.3:1000"), 5, "SE", "> 0"),
    "vcf_multiallelic": ("a.vcf", _vcf(alt="A,T"), 5, "ALT", "multi-allelic"),
    "vcf_no_se": (
        "a.vcf",
        _vcf()
        .replace(b"ES:SE:LP:AF:SS\t", b"ES:LP:AF:SS\t")
        .replace(b"0.01:0.005:1.5", b"0.01:1.5"),
        None,
        None,
        "SE",
    ),  # fmt: skip
    "plink2_a1_mismatch": ("a.glm.linear", PLINK2.encode(), 3, "A1", "neither REF"),
    "ldsc_text_z": (
        "a.sumstats",
        b"SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t1.2\t1000\nrs2\tA\tG\tz\t1000\n",
        3,
        "Z",
        "not a number",
    ),  # fmt: skip
    "ldsc_no_n": ("a.sumstats", b"SNP\tA1\tA2\tZ\nrs1\tA\tG\t1.2\n", None, None, "sample"),
    "regenie_negative_log10p": (
        "a.regenie",
        b"CHROM GENPOS ID ALLELE0 ALLELE1 A1FREQ N TEST BETA SE CHISQ LOG10P\n"
        b"1 100 rs1 G A 0.2 1000 ADD 0.1 0.02 25 6.2\n1 200 rs2 G A 0.2 1000 ADD 0.1 0.02 2 -1\n",
        3,
        "LOG10P",
        ">= 0",
    ),  # fmt: skip
    "all_missing": (
        "a.tsv",
        tsv(rows=[["1", "5", "A", "G", "NA", "NA", "NA", "NA", "rs1"]]),
        None,
        None,
        "no usable rows",
    ),  # fmt: skip
    "not_found": ("missing.tsv", None, None, None, "not found"),  # type: ignore[dict-item]
}


def _snapshot(store: Path) -> dict[str, str]:
    out = {}
    d = Path(str(store) + ".d")
    for f in [store, *(sorted(d.iterdir()) if d.exists() else [])]:
        out[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("store")
    good = d / "good.tsv"
    good.write_bytes(tsv())
    st = d / "s.duckdb"
    assert main(["import", str(good), "--store", str(st), "--id", "good", "--trait", "t"]) == 0
    return st


def test_corpus_size():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed(case, store, tmp_path, capsys):
    name, content, line, column, words = CASES[case]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    before = _snapshot(store)
    capsys.readouterr()
    rc = main(["import", str(path), "--store", str(store), "--id", "new", "--trait", "t"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("error:") == 1 and "Traceback" not in err, err
    msg = " ".join(err.split())
    assert name in msg, msg
    assert words.lower() in msg.lower(), msg
    if line is not None:
        assert f"line {line}" in msg, msg
    if column is not None:
        assert f"column `{column}`" in msg, msg
    assert _snapshot(store) == before
