# ruff: noqa: PT018
"""One realistic file per supported format (tests/data/formats), plus the real GWAS-VCF."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pandas as pd
import pytest

from mrkit.errors import FileFormatError, InputError
from mrkit.io.sumstats.read import COLUMNS, detect_format, read_sumstats

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
VCF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gwasvcf"

# the fixtures' common truth (effect of the ALT allele, see make_fixtures.py)
TRUTH = {
    "rs3094315": ("A", "G", 0.0123, 0.0051, 1.7986),
    "rs12562034": ("A", "G", -0.0210, 0.0080, 2.0625),
    "rs4040617": ("G", "A", 0.0034, 0.0079, 0.1759),
    "rs4970383": ("A", "C", 0.2100, 0.0052, 399.920819),
    "rs555": ("TA", "T", -0.0500, 0.0040, 35.455932),
    "rs311165": ("T", "C", 0.0010, 0.0060, 0.0617),
}
CASES = {
    "gwas_ssf.tsv.gz": "gwas-ssf",
    "plink2.PHENO1.glm.linear": "plink2",
    "plink2.PHENO1.glm.logistic": "plink2",
    "regenie_step2_Y1.regenie": "regenie",
    "bolt_lmm.stats.gz": "bolt-lmm",
    "saige_step2.txt": "saige",
    "METAL1.tbl": "metal",
    "cojo.ma": "cojo",
    "finngen_R10_TRAIT.gz": "finngen",
    "twosamplemr_exposure.csv": "twosamplemr",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_format_fixture(name):
    path = FORMATS / name
    assert detect_format(path) == CASES[name]
    df = read_sumstats(path)
    assert tuple(df.columns) == COLUMNS
    assert len(df) == 6
    for r in df.itertuples():
        ea, oa, beta, se, lp = TRUTH[r.snp]
        if r.effect_allele != ea:  # PLINK 2 file with A1 = REF for one variant
            assert (r.effect_allele, r.other_allele) == (oa, ea)
            beta = -beta
        assert r.other_allele == (oa if r.effect_allele == ea else ea)
        assert r.beta == pytest.approx(beta, rel=1e-3, abs=1e-6)
        assert r.se == pytest.approx(se, rel=1e-6)
        assert r.log10p == pytest.approx(lp, rel=1e-3)
    big = df.set_index("snp").loc["rs4970383"]
    assert big.p == 0.0 and big.log10p == pytest.approx(399.920819, rel=1e-9)
    if "chr" in CASES[name] or not df.chr.isna().all():
        assert df.set_index("snp").loc["rs311165", "chr"] == "X"


def test_plink19_files_from_plink():
    """Files written by plink1.9 --assoc (with and without --ci): OR -> log OR; SE from CI/p."""
    ci = read_sumstats(FORMATS / "plink_cc_ci.assoc")
    plain = read_sumstats(FORMATS / "plink_cc.assoc")
    assert detect_format(FORMATS / "plink_cc.assoc") == "plink"
    assert len(ci) == len(plain) == 12
    r = ci.iloc[0]
    assert (r.snp, r.effect_allele, r.other_allele) == ("rs189800799", "C", "T")
    assert r.beta == pytest.approx(math.log(0.7476)) and r.se == pytest.approx(0.3167)
    # SE derived from p agrees with plink's SE to the precision of the printed values
    assert plain.se.to_numpy() == pytest.approx(ci.se.to_numpy(), rel=0.02)
    assert plain.eaf.iloc[0] == pytest.approx(0.04792)  # F_U: frequency in controls


def test_plink19_without_a2_is_refused():
    with pytest.raises(FileFormatError, match=r"without A2 \(other allele\).*--alleles"):
        read_sumstats(FORMATS / "plink_cc.assoc.logistic")
    with pytest.raises(FileFormatError, match=r"without allele columns.*\.frq"):
        read_sumstats(FORMATS / "plink_quant.qassoc")
    with pytest.raises(InputError, match=r"a \.bim cannot say"):
        read_sumstats(FORMATS / "plink_quant.qassoc", alleles=FORMATS / "plink_eur.bim")
    with pytest.raises(InputError, match=r"only applies to PLINK 1\.9"):
        read_sumstats(FORMATS / "cojo.ma", alleles=FORMATS / "plink_eur.frq")


def test_plink19_alleles_from_frq_or_bim():
    """A2 (and A1 for .qassoc) from the .frq/.bim of the same run (plink1.9 --freq on the panel)."""
    frq, bim = FORMATS / "plink_eur.frq", FORMATS / "plink_eur.bim"
    lin = read_sumstats(FORMATS / "plink_cc.assoc.logistic", alleles=frq)
    assert len(lin) == 12 and lin.attrs["mrkit"]["dropped"] == 0
    r = lin.iloc[0]  # A1 = C: the minor allele (the .bim lists T first)
    assert (r.snp, r.effect_allele, r.other_allele) == ("rs189800799", "C", "T")
    assert r.beta == pytest.approx(math.log(0.7377)) and r.eaf == pytest.approx(0.04183)
    by_bim = read_sumstats(FORMATS / "plink_cc.assoc.logistic", alleles=bim)
    assert list(by_bim.other_allele) == list(lin.other_allele)
    assert by_bim.eaf.isna().all()
    q = read_sumstats(FORMATS / "plink_quant.qassoc", alleles=frq)
    assert len(q) == 12 and list(q.effect_allele) == list(lin.effect_allele)
    assert q.iloc[0].beta == pytest.approx(0.02541) and q.n.iloc[0] == 502
    assert q.set_index("snp").loc["rs200310424", ["effect_allele", "other_allele"]].tolist() == [
        "AT",
        "A",
    ]


def test_plink19_alleles_must_cover_every_variant(tmp_path):
    frq = tmp_path / "x.frq"
    lines = (FORMATS / "plink_eur.frq").read_text().splitlines()
    frq.write_text("\n".join(lines[:-1]) + "\n")  # rs12028261 missing
    with pytest.raises(FileFormatError, match=r"rs12028261.*not in the allele file"):
        read_sumstats(FORMATS / "plink_quant.qassoc", alleles=frq)
    frq.write_text("\n".join([*lines, lines[-1]]) + "\n")
    with pytest.raises(FileFormatError, match=r"rs12028261.*more than once"):
        read_sumstats(FORMATS / "plink_quant.qassoc", alleles=frq)
    frq.write_text("\n".join(lines).replace("rs189800799    C    T", "rs189800799    G    T"))
    with pytest.raises(FileFormatError, match=r"rs189800799.*neither allele"):
        read_sumstats(FORMATS / "plink_cc.assoc.logistic", alleles=frq)
    bad = tmp_path / "x.txt"
    bad.write_text("a b c\n")
    with pytest.raises(FileFormatError, match=r"not a PLINK \.frq"):
        read_sumstats(FORMATS / "plink_quant.qassoc", alleles=bad)


def test_ldsc_z_only():
    df = read_sumstats(FORMATS / "ldsc.sumstats.gz")
    assert detect_format(FORMATS / "ldsc.sumstats.gz") == "ldsc"
    r = df.iloc[0]
    z = 0.0123 / 0.0051
    assert r.beta == pytest.approx(round(z, 3) / 100) and r.se == pytest.approx(0.01)
    assert r.p == pytest.approx(2 * 0.5 * math.erfc(abs(round(z, 3)) / math.sqrt(2)), rel=1e-9)


def test_real_gwas_vcf():
    df = read_sumstats(VCF / "data.vcf.gz")
    flat = pd.read_csv(VCF / "data_ieu-a-2_bmi_subset.tsv", sep="\t")
    assert len(df) == len(flat) == 92 and df.attrs["mrkit"]["build"] == "GRCh37"
    assert list(df.snp) == list(flat.rsid)
    assert list(df.effect_allele) == list(flat.alt) and list(df.other_allele) == list(flat.ref)
    assert df.beta.to_numpy() == pytest.approx(flat.ES.to_numpy())
    assert df.se.to_numpy() == pytest.approx(flat.SE.to_numpy())
    assert df.log10p.to_numpy() == pytest.approx(flat.LP.to_numpy())
    assert df.eaf.to_numpy() == pytest.approx(flat.AF.to_numpy(), nan_ok=True)
    # n is a count: fractional sample sizes (SS = 68458.9) are rounded to the nearest integer
    assert str(df.n.dtype) == "Int64"
    assert df.n.to_numpy(float) == pytest.approx(flat.SS.to_numpy(), abs=0.5)


def test_gwas_vcf_format_varying_by_row(tmp_path):
    """Fields are found by key when a row's FORMAT differs from the first row's."""
    head = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
    rows = [
        ("ES:SE:LP:AF:SS", "0.1:0.01:5:0.2:1000"),
        ("SE:ES:AF:LP", "0.02:-0.3:0.4:2.5"),  # reordered, no SS
        ("ES:SE:LP", "0.05:0.01:1.25"),  # no AF
    ]
    body = "".join(
        f"1\t{100 * (i + 1)}\trs{i}\tG\tA\t.\tPASS\t.\t{f}\t{v}\n" for i, (f, v) in enumerate(rows)
    )
    p = tmp_path / "x.vcf"
    p.write_text(head + body)
    df = read_sumstats(p)
    assert list(df.beta) == [0.1, -0.3, 0.05]
    assert list(df.se) == [0.01, 0.02, 0.01]
    assert list(df.log10p) == [5.0, 2.5, 1.25]
    assert df.eaf.iloc[1] == 0.4
    assert math.isnan(df.eaf.iloc[2])
    assert df.n.iloc[0] == 1000
    assert df.n.isna().iloc[1]


@pytest.mark.parametrize(
    ("line", "build"),
    [
        ("##contig=<ID=1,length=249250621,assembly=GRCh37>", "GRCh37"),
        ("##contig=<ID=1,assembly=GRCh37.p13>", "GRCh37"),
        ("##contig=<ID=1,assembly=hg38>", "GRCh38"),
        ("##contig=<ID=1,assembly=b37>", "GRCh37"),
        ("##reference=file:///ref/hg19.fa", "GRCh37"),
        ("##contig=<ID=1,assembly=CHM13>", "CHM13"),
        ("##source=nothing", None),
    ],
)
def test_gwas_vcf_build_in_the_store_spelling(tmp_path, line, build):
    head = f"##fileformat=VCFv4.2\n{line}\n"
    head += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
    p = tmp_path / "x.vcf"
    p.write_text(head + "1\t100\trs1\tG\tA\t.\tPASS\t.\tES:SE:LP\t0.1:0.01:5\n")
    assert read_sumstats(p).attrs["mrkit"]["build"] == build


def test_text_variants(tmp_path):
    """CRLF, BOM, chr prefixes, lower-case alleles, spaces, bgzip-like multi-member gzip."""
    body = (
        "\ufeffSNP CHR BP A1 A2 BETA SE P\r\n"
        "rs1 chr1 100 a g 0.1 0.02 1e-400\r\n"
        "rs2 chrX 200 t c -0.1 0.02 0.5\r\n"
        "rs3 23 300 d i 0.2 0.05 NA\r\n"
    )
    p = tmp_path / "x.txt"
    p.write_text(body, encoding="utf-8")
    df = read_sumstats(p)
    assert list(df.chr) == ["1", "X", "X"]
    assert list(df.effect_allele) == ["A", "T", "D"]
    assert df.log10p.iloc[0] == pytest.approx(400.0)
    assert df.log10p.iloc[2] == pytest.approx(-math.log10(math.erfc(4 / math.sqrt(2))))
    gz = tmp_path / "x.tsv.bgz"
    lines = body.replace(" ", "\t").encode()
    gz.write_bytes(gzip.compress(lines[:60]) + gzip.compress(lines[60:]))
    assert read_sumstats(gz).equals(df)


def test_neg_log10p_column_and_sample_size(tmp_path):
    p = tmp_path / "y.tsv"
    p.write_text("rsid\tea\toa\tbeta\tse\tneg_log_10_p_value\nrs1\tA\tG\t0.3\t0.01\t512.3\n")
    df = read_sumstats(p, ncase=1000, ncontrol=3000)
    assert df.log10p.iloc[0] == 512.3 and df.p.iloc[0] == 0.0 and df.n.iloc[0] == 4000
    assert df.snp.iloc[0] == "rs1"


def test_missing_rsid_gets_chrpos_name(tmp_path):
    p = tmp_path / "z.tsv"
    p.write_text("chr\tpos\tea\toa\tbeta\tse\tp\n1\t100\tG\tA\t0.1\t0.02\t0.01\n")
    df = read_sumstats(p)
    assert df.snp.iloc[0] == "1:100:A:G"
