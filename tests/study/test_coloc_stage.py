"""cis-MR studies: instruments restricted to a region, [coloc], and the study-file checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.errors import MrkitError, StudyError
from mrkit.instruments import REASON_OUTSIDE_REGION, select_instruments
from mrkit.study.coloc_stage import COLUMNS, instrument_regions, pair_datasets
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


# -- instrument regions and dataset alignment --------------------------------------------
def test_instrument_regions_merge_windows():
    inst = pd.DataFrame(
        {
            "snp": list("abcde"),
            "chr": ["1", "1", "chr1", "2", "1"],
            "pos": [1_000_000, 1_600_000, 5_000_000, 300_000, 1_200_000],
            "keep": [True, True, True, True, False],
        }
    )
    got = instrument_regions(inst, 500)
    assert got == [("1", 500_000, 2_100_000), ("1", 4_500_000, 5_500_000), ("2", 0, 800_000)]
    assert instrument_regions(inst.assign(keep=False), 500) == []


def _region_table(rng, snps, flip=None):
    n = len(snps)
    eaf = rng.uniform(0.1, 0.9, n)
    beta = rng.normal(0, 0.02, n)
    beta[3] = 0.15
    t = pd.DataFrame(
        {
            "snp": snps,
            "chr": "1",
            "pos": np.arange(n) * 1000 + 1,
            "effect_allele": "A",
            "other_allele": "G",
            "eaf": eaf,
            "beta": beta,
            "se": np.full(n, 0.02),
            "log10p": 1.0,
            "n": 20000,
        }
    )
    if flip is not None:
        t.loc[flip, ["effect_allele", "other_allele"]] = ["G", "A"]
        t.loc[flip, "beta"] *= -1
        t.loc[flip, "eaf"] = 1 - t.loc[flip, "eaf"]
    return t


def test_pair_datasets_align_trait2_alleles():
    from mrkit.coloc.abf import coloc_abf
    from mrkit.study.filters import TraitInfo

    rng = np.random.default_rng(3)
    snps = [f"rs{i}" for i in range(30)]
    t1 = _region_table(rng, snps)
    t2 = _region_table(np.random.default_rng(4), snps)
    flipped = t2.copy()
    mask = np.arange(30) % 3 == 0
    flipped.loc[mask, ["effect_allele", "other_allele"]] = ["G", "A"]
    flipped.loc[mask, "beta"] *= -1
    flipped.loc[mask, "eaf"] = 1 - flipped.loc[mask, "eaf"]
    bad = flipped.copy()
    bad.loc[5, ["effect_allele", "other_allele"]] = ["C", "T"]
    a, b = TraitInfo("x", n=20000), TraitInfo("y", n=20000)
    d1, d2, ld, _ = pair_datasets(t1, t2, a, b)
    e1, e2, _, _ = pair_datasets(t1, flipped, a, b)
    assert ld is None
    np.testing.assert_allclose(e2.beta, d2.beta, rtol=0, atol=1e-15)
    np.testing.assert_allclose(e2.maf, d2.maf, rtol=0, atol=1e-15)
    np.testing.assert_allclose(coloc_abf(e1, e2).pp, coloc_abf(d1, d2).pp, rtol=1e-12)
    f1, f2, _, notes = pair_datasets(t1, bad, a, b)
    assert len(f1) == 29
    assert "rs5" not in set(f2.snp)
    assert "1 SNP(s) with other alleles" in notes[0]


# -- a simulated cis-MR study, end to end ------------------------------------------------
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cis-mr"


@pytest.fixture(scope="module")
def cis_study(tmp_path_factory) -> Path:
    """examples/cis-mr simulated, with its study file (GENE_A shared, GENE_B distinct)."""
    from mrkit.simulate.run import simulate_from_config

    root = tmp_path_factory.mktemp("cis")
    simulate_from_config(EXAMPLE / "simulation.toml", root / "data")
    (root / "study.toml").write_text((EXAMPLE / "study.toml").read_text())
    return root


def _truth(root: Path) -> dict:
    import json

    regions = json.loads((root / "data" / "truth.json").read_text())["regions"]
    return {r["name"]: {v["trait"]: v for v in r["variants"]} for r in regions}


def _r2(root: Path, hit1: str, hit2: str, variants: dict) -> dict:
    """r² (panel) of each lead with each trait's true variant."""
    from mrkit.ld.panel import ReferencePanel

    snps = list(dict.fromkeys([hit1, hit2, variants["protein"]["snp"], variants["disease"]["snp"]]))
    r = ReferencePanel(root / "data" / "panel").ld_matrix(snps)
    return {
        (k, t): float(r.loc[h, variants[t]["snp"]] ** 2)
        for k, h in (("hit1", hit1), ("hit2", hit2))
        for t in ("protein", "disease")
    }


def test_cis_mr_study_end_to_end_abf(cis_study):
    from mrkit.cli import main

    assert main(["run", str(cis_study / "study.toml"), "--quiet"]) == 0
    out = cis_study / "results"
    coloc = pd.read_csv(out / "coloc.csv")
    assert list(coloc.columns) == COLUMNS
    by = coloc.set_index("region")
    shared, distinct = by.loc["1:1300000-1700000"], by.loc["2:1300000-1700000"]
    assert shared["pp_h4"] > 0.8, shared
    assert distinct["pp_h3"] > 0.8, distinct
    assert shared["method"] == "abf"
    assert shared["nsnps"] > 100
    pp = coloc[[f"pp_h{h}" for h in range(5)]].sum(axis=1)
    np.testing.assert_allclose(pp, 1.0, rtol=1e-8)
    truth = _truth(cis_study)
    # GENE_B's leads tag each trait's own variant (r² > 0.5), not the other's (r² < 0.05)
    r2 = _r2(cis_study, distinct["hit1"], distinct["hit2"], truth["GENE_B"])
    assert r2["hit1", "protein"] > 0.5
    assert r2["hit2", "disease"] > 0.5
    assert r2["hit1", "disease"] < 0.05
    assert r2["hit2", "protein"] < 0.05
    for name in coloc["plot"]:
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.html").read_text()
    assert '<section id="coloc">' in report
    assert "PP.H4" in report
    # cis instruments only, and LD-aware estimates with the panel
    harm = pd.read_parquet(out / "harmonised.parquet")
    used = harm[harm["keep"].astype(bool)]
    assert len(used) >= 3
    assert (harm.loc[~harm["keep"].astype(bool), "reason"] == REASON_OUTSIDE_REGION).any()
    res = pd.read_csv(out / "results.csv").set_index("method")
    assert {"ivw_correl", "egger_correl", "maxlik_correl"} <= set(res.index)
    ratio = truth["GENE_A"]["disease"]["beta"] / truth["GENE_A"]["protein"]["beta"]
    for m in ("ivw_correl", "maxlik_correl"):
        assert abs(res.loc[m, "estimate"] - ratio) < 4 * res.loc[m, "se"], (m, ratio)
        assert res.loc[m, "nsnp"] == len(used)


def test_correl_estimate_equals_direct_call(cis_study):
    """The study's ivw_correl is the method on the kept variants with the panel's LD."""
    from mrkit.ld.panel import ReferencePanel
    from mrkit.methods.correlated import ivw_correl

    out = cis_study / "results"
    if not (out / "results.csv").is_file():
        pytest.skip("needs the end-to-end run")
    harm = pd.read_parquet(out / "harmonised.parquet")
    used = harm[harm["keep"].astype(bool)]
    panel = ReferencePanel(cis_study / "data" / "panel")
    rho = panel.ld_matrix(used["snp"].tolist(), effect_alleles=used["effect_allele"].tolist())
    want = ivw_correl(
        used["beta_exposure"], used["se_exposure"], used["beta_outcome"], used["se_outcome"],
        rho=rho.to_numpy(),
    )  # fmt: skip
    res = pd.read_csv(out / "results.csv").set_index("method").loc["ivw_correl"]
    assert res["estimate"] == pytest.approx(want.estimate, rel=1e-9)
    assert res["se"] == pytest.approx(want.se, rel=1e-9)


def test_cis_mr_study_susie_and_instrument_windows(cis_study):
    from mrkit.study.pipeline import run_study

    text = (cis_study / "study.toml").read_text()
    text = text.replace('regions = ["1:1300000-1700000", "2:1300000-1700000"]\n', "")
    text = text.replace('method = "abf"', 'method = "susie"\nwindow_kb = 150\nplots = false')
    (cis_study / "susie.toml").write_text(text)
    run = run_study(cis_study / "susie.toml", out=cis_study / "susie", quiet=True)
    coloc = pd.read_csv(run.out_dir / "coloc.csv")
    assert set(coloc["method"]) == {"susie"}
    assert coloc["plot"].isna().all()
    # regions centred on the kept (GENE_A) instruments, all on chromosome 1
    assert coloc["region"].str.startswith("1:").all()
    best = coloc.sort_values("pp_h4").iloc[-1]
    assert best["pp_h4"] > 0.8
    r2 = _r2(cis_study, best["hit1"], best["hit2"], _truth(cis_study)["GENE_A"])
    assert min(r2.values()) > 0.5  # both credible sets tag the shared variant


def test_cis_mr_susie_distinct_region(cis_study):
    """SuSiE in GENE_B alone: the protein's and the disease's credible sets are distinct."""
    text = (cis_study / "study.toml").read_text()
    text = text.replace('["1:1300000-1700000", "2:1300000-1700000"]', '["2:1300000-1700000"]')
    text = text.replace('method = "abf"', 'method = "susie"\nplots = false')
    (cis_study / "susie_b.toml").write_text(text)
    from mrkit.study.pipeline import run_study

    run = run_study(cis_study / "susie_b.toml", out=cis_study / "susie_b", quiet=True)
    coloc = pd.read_csv(run.out_dir / "coloc.csv")
    truth = _truth(cis_study)["GENE_B"]
    assert coloc["pp_h4"].max() < 0.2
    best = coloc.sort_values("pp_h3").iloc[-1]
    assert best["pp_h3"] > 0.8
    r2 = _r2(cis_study, best["hit1"], best["hit2"], truth)
    assert r2["hit1", "protein"] > 0.5
    assert r2["hit2", "disease"] > 0.5


def test_pair_datasets_as_coloc_datasets():
    """quant: beta, varbeta, MAF and N as coloc's dataset; cc: s from ncase/ncontrol."""
    from mrkit.coloc.abf import coloc_abf
    from mrkit.coloc.data import as_dataset
    from mrkit.study.filters import TraitInfo

    rng = np.random.default_rng(8)
    snps = [f"rs{i}" for i in range(25)]
    t1 = _region_table(rng, snps)
    t2 = _region_table(np.random.default_rng(9), snps).drop(columns="n")
    quant = TraitInfo("q", n=20000)
    cc = TraitInfo("c", binary=True, ncase=5000, ncontrol=15000, n=20000)
    d1, d2, _, _ = pair_datasets(t1, t2, quant, cc)
    assert d1.type == "quant"
    assert d2.type == "cc"
    assert d2.s == pytest.approx(0.25)
    eaf = t1["eaf"].to_numpy()
    r1 = {
        "snp": snps,
        "type": "quant",
        "beta": t1["beta"].to_numpy(),
        "varbeta": t1["se"].to_numpy() ** 2,
        "MAF": np.minimum(eaf, 1 - eaf),
        "N": 20000,
    }
    r2 = {
        "snp": snps,
        "type": "cc",
        "s": 0.25,
        "beta": t2["beta"].to_numpy(),
        "varbeta": t2["se"].to_numpy() ** 2,
    }
    want = coloc_abf(as_dataset(r1), as_dataset(r2))
    got = coloc_abf(d1, d2)
    np.testing.assert_allclose(got.pp, want.pp, rtol=1e-12)
    np.testing.assert_allclose(got.snp_pp_h4, want.snp_pp_h4, rtol=1e-12)
    # a quantitative trait without n anywhere cannot be used (sdY is estimated from N)
    with pytest.raises(MrkitError, match="needs eaf and n"):
        pair_datasets(t1, t2, quant, TraitInfo("q2"))


# -- the report section ------------------------------------------------------------------
def _coloc_rows() -> pd.DataFrame:
    rows = []
    for k, (h3, h4) in enumerate([(0.01, 0.98), (0.97, 0.02), (0.3, 0.2)]):
        pp = [0.0, 0.0, 1 - h3 - h4, h3, h4]
        rows.append(
            {"exposure": "x", "outcome": "y", "direction": "forward", "pair": "x -> y"}
            | {"region": f"1:{k}00-{k}99", "nsnps": 10 + k, "method": "susie"}
            | {f"pp_h{h}": v for h, v in enumerate(pp)}
            | {"hit1": f"rs{k}", "hit2": f"rs{k}b", "note": "", "plot": f"coloc/r{k}.png"}
        )
    rows.append(rows[0] | {"pp_h4": 0.5, "pp_h3": 0.1, "hit2": "other"})  # a weaker set pair
    return pd.DataFrame(rows, columns=COLUMNS)


def test_coloc_section_best_row_and_estimate(monkeypatch):
    from mrkit.study import coloc_stage

    results = pd.DataFrame(
        {
            "exposure": ["x", "x"],
            "outcome": ["y", "y"],
            "method": ["ivw", "ivw_correl"],
            "estimate": [0.5, 0.25],
            "ci_lower": [0.4, 0.2],
            "ci_upper": [0.6, 0.3],
            "pval": [1e-10, 2e-5],
        }
    )
    monkeypatch.setattr(coloc_stage, "MAX_FIGURES", 2)
    text = coloc_stage.coloc_section(_coloc_rows(), results, "ivw_correl")
    assert text.startswith('<section id="coloc">')
    assert "ivw_correl: 0.25 (0.2 to 0.3)" in text
    assert text.count("<tr><td") == 3  # one row per region: the best PP.H4 of each
    assert "0.980" in text
    assert "other" not in text
    assert text.count("<figure>") == 2  # the two regions of strongest evidence
    assert "coloc/r2.png" not in text.split("</table>")[1]
    assert coloc_stage.coloc_section(_coloc_rows().iloc[:0], results, "ivw") == ""


def test_add_to_report_places_section(tmp_path):
    from mrkit.study.coloc_stage import add_to_report

    page = tmp_path / "report.html"
    for body, before in [
        ('<section id="pairs"></section>\n<section id="strobe"></section>', "strobe"),
        ("<p>x</p><!-- coloc --><p>y</p>", "<p>y</p>"),
        ("<p>x</p>", "</body>"),
    ]:
        page.write_text(f"<html><body>{body}</body></html>")
        add_to_report(page, '<section id="coloc">C</section>')
        text = page.read_text()
        assert text.count('<section id="coloc">C</section>') == 1
        assert text.index('id="coloc"') < text.index(before)
        assert "<!-- coloc -->" not in text
    add_to_report(tmp_path / "absent.html", "<section>")
    assert not (tmp_path / "absent.html").exists()


def test_correlated_estimates_skip_variants_missing_from_panel(cis_study):
    from mrkit.ld.panel import ReferencePanel
    from mrkit.study.coloc_stage import add_correlated_estimates
    from mrkit.study.engine import PairOutput
    from mrkit.study.spec import load_study

    study, _ = load_study(cis_study / "study.toml")
    panel = ReferencePanel(cis_study / "data" / "panel")
    snps = [*panel.bim.snp[:3].tolist(), "rs_not_there"]
    table = pd.DataFrame(
        {
            "snp": snps,
            "effect_allele": [*panel.bim.a1[:3].tolist(), "A"],
            "beta_exposure": [0.1, 0.2, 0.15, 0.12],
            "se_exposure": 0.01,
            "beta_outcome": [0.05, 0.1, 0.07, 0.06],
            "se_outcome": 0.02,
            "keep": True,
        }
    )
    skip = [{"method": "ivw_correl", "reason": "needs rho"}]
    out = PairOutput("protein", "disease", "forward", table, skipped=list(skip))
    add_correlated_estimates([out], study, panel)
    reasons = {s["method"]: s["reason"] for s in out.skipped}
    assert set(reasons) == {"ivw_correl", "egger_correl", "maxlik_correl"}
    assert all("rs_not_there" in r for r in reasons.values())
    assert not out.estimates
    ok = PairOutput("protein", "disease", "forward", table.iloc[:3], skipped=list(skip))
    add_correlated_estimates([ok], study, panel)
    assert not ok.skipped
    assert [r["method"] for r in ok.estimates] == ["ivw_correl", "egger_correl", "maxlik_correl"]
    assert all(r["nsnp"] == 3 for r in ok.estimates)
