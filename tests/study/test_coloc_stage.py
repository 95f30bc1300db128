"""cis-MR studies: instruments restricted to a region, [coloc], and the study-file checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.errors import StudyError
from mrkit.instruments import REASON_OUTSIDE_REGION, select_instruments
from mrkit.study.spec import load_study, parse_region

BASE = """
[study]
store = "s.duckdb"
panel = "panel"

[[gwas]]
id = "a"

[[gwas]]
id = "b"

[analysis]
exposures = ["a"]
outcomes = ["b"]
"""


def _study(tmp_path: Path, extra: str, base: str = BASE) -> Path:
    p = tmp_path / "study.toml"
    p.write_text(textwrap.dedent(base) + textwrap.dedent(extra))
    return p


# -- region strings and spec validation -------------------------------------------------
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1:100-200", ("1", 100, 200)),
        ("chr19:11,100,000-11,250,000", ("19", 11_100_000, 11_250_000)),
        ("X:5_000-6_000", ("X", 5000, 6000)),
        (" chrM : 1 - 2 ", ("MT", 1, 2)),
    ],
)
def test_parse_region(text, want):
    assert parse_region(text, "region") == want


@pytest.mark.parametrize("text", ["1:200-100", "1-100-200", "1:100", "chr1:a-b", "", "23x:1-2"])
def test_parse_region_bad(text):
    with pytest.raises(ValueError, match=r"`instruments\.region`"):
        parse_region(text, "instruments.region")


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('[instruments]\nregion = "1:900-100"\n', r"instruments: `region`: '1:900-100' ends"),
        ('[instruments]\nregion = "one:1-2"\n', r"instruments: `region`: 'one:1-2' is not CHR"),
        ('[instruments]\ngene = "PCSK9"\n', r"instruments: `gene` needs .*`chrom` is missing"),
        (
            '[instruments]\ngene = "PCSK9"\nchrom = 1\ngene_start = 5\n',
            r"`gene_end` is missing",
        ),
        (
            '[instruments]\nregion = "1:1-9"\ngene = "G"\n',
            r"give `region` or `gene`",
        ),
        ('[coloc]\nregions = ["1:1-9", "1:x-9"]\n', r"coloc.regions: `regions\[1\]`: '1:x-9'"),
        ('[coloc]\nmethod = "signals"\n', r"coloc.method"),
        ("[coloc]\nwindow_kb = -1\n", r"coloc.window_kb"),
        ("[coloc]\np12 = 2\n", r"coloc.p12"),
        ("[coloc]\nplot = true\n", r"coloc.plot: unknown key"),
    ],
)
def test_bad_keys_named(tmp_path, extra, match):
    with pytest.raises(StudyError, match=match):
        load_study(_study(tmp_path, extra))


def test_good_cis_sections(tmp_path):
    study, _ = load_study(
        _study(
            tmp_path,
            """
            [instruments]
            gene = "GENE_A"
            chrom = "chr1"
            gene_start = 800_000
            gene_end = 1_200_000

            [coloc]
            method = "susie"
            regions = ["1:500000-1500000"]
            """,
        )
    )
    assert study.instruments.bounds == ("1", 800_000, 1_200_000)
    assert study.coloc is not None
    assert study.coloc.bounds == [("1", 500_000, 1_500_000)]
    assert study.coloc.prior_p12 == 5e-6  # coloc.susie's default
    plain, _ = load_study(_study(tmp_path, ""))
    assert plain.instruments.bounds is None
    assert plain.coloc is None


def test_correl_and_susie_need_panel(tmp_path):
    no_panel = BASE.replace('panel = "panel"\n', "")
    extra = "[instruments]\nclump = false\n[harmonise]\nproxies = false\n"
    methods = 'outcomes = ["b"]\nmethods = ["ivw", "ivw_correl"]'
    correl = no_panel.replace('outcomes = ["b"]', methods)
    with pytest.raises(StudyError, match=r"`ivw_correl` needs study\.panel"):
        load_study(_study(tmp_path, extra, correl))
    with pytest.raises(StudyError, match=r'coloc\.method = "susie" needs study\.panel'):
        load_study(_study(tmp_path, extra + '[coloc]\nmethod = "susie"\n', no_panel))


# -- the region restriction of instrument selection --------------------------------------
def _gwas() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 40
    chrom = np.repeat(["1", "2"], n // 2)
    pos = np.tile(np.arange(1, n // 2 + 1) * 100_000, 2)
    beta = rng.normal(0, 0.1, n)
    se = np.full(n, 0.01)
    from scipy import stats

    p = 2 * stats.norm.sf(np.abs(beta / se))
    return pd.DataFrame(
        {
            "snp": [f"rs{i}" for i in range(n)],
            "chr": chrom,
            "pos": pos,
            "effect_allele": "A",
            "other_allele": "G",
            "beta": beta,
            "se": se,
            "p": p,
        }
    )


def test_region_restricts_instruments():
    g = _gwas()
    out = select_instruments(g, p=1.0, clump=False, region=("1", 500_000, 1_200_000))
    inside = (g["chr"] == "1") & g["pos"].between(500_000, 1_200_000)
    assert len(out) == len(g)  # nothing is deleted
    assert out["keep"].tolist() == inside.tolist()
    assert set(out.loc[~inside, "reason"]) == {REASON_OUTSIDE_REGION}
    # the same rows as selecting on the subset
    sub = select_instruments(g[inside], p=1.0, clump=False)
    assert out.loc[out["keep"], "snp"].tolist() == sub.loc[sub["keep"], "snp"].tolist()


def test_region_chr_prefix_and_mhc_reason_kept():
    g = _gwas().assign(chr=lambda d: "chr" + d["chr"])
    out = select_instruments(g, p=1.0, clump=False, region=("2", 1, 300_000))
    assert out.loc[out["keep"], "snp"].tolist() == ["rs20", "rs21", "rs22"]
    g6 = _gwas().assign(chr="6", pos=lambda d: d["pos"] + 28_500_000)
    out6 = select_instruments(
        g6, p=1.0, clump=False, exclude_mhc=True, region=("6", 28_600_000, 28_700_000)
    )
    assert set(out6["reason"]) == {REASON_OUTSIDE_REGION, "MHC region"}
    assert not out6["keep"].any()


def test_region_with_nothing_inside_keeps_nothing():
    out = select_instruments(_gwas(), p=1.0, clump=False, region=("3", 1, 10))
    assert not out["keep"].any()
    assert (out["reason"] == REASON_OUTSIDE_REGION).all()
