"""mrkit simulate: msprime panel, LD-carrying summary statistics, known causal effects."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.cli import main
from mrkit.errors import InputError
from mrkit.methods import get_method
from mrkit.simulate.panel import read_panel, simulate_panel
from mrkit.simulate.run import simulate_gwas, simulate_study, total_effects
from mrkit.simulate.spec import EffectSpec, TraitSpec, load_config, parse_config

SMALL_PANEL = {"n_individuals": 1000, "n_chromosomes": 6, "chrom_length": 2_000_000, "n_snps": 6000}
TINY_PANEL = {"n_individuals": 300, "n_chromosomes": 2, "chrom_length": 1_000_000, "n_snps": 800}


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> Path:
    return simulate_panel(tmp_path_factory.mktemp("panel") / "ref", seed=11, **SMALL_PANEL)


@pytest.fixture(scope="module")
def genotypes(panel):
    pan = read_panel(panel)
    return pan, pan.genotypes(np.arange(len(pan.bim))).astype(np.float64)


def _instruments(df: pd.DataFrame, *, p: float = 5e-8, kb: float = 250) -> pd.DataFrame:
    """p < 5e-8 and greedy distance pruning (strongest first), no LD module."""
    sig = df[df["p"] < p].sort_values("log10p", ascending=False)
    kept: list[int] = []
    pos: dict[object, list[int]] = {}
    for i, c, x in zip(sig.index, sig["chr"], sig["pos"], strict=True):
        if all(abs(x - y) >= kb * 1000 for y in pos.get(c, [])):
            kept.append(i)
            pos.setdefault(c, []).append(x)
    return df.loc[kept]


def _ivw(exp: pd.DataFrame, out: pd.DataFrame, **opts):
    inst = _instruments(exp)
    o = out.set_index("snp").loc[inst["snp"]]
    sign = np.where(o["effect_allele"].to_numpy() == inst["effect_allele"].to_numpy(), 1, -1)
    assert np.all((sign == 1) | (o["effect_allele"].to_numpy() == inst["other_allele"].to_numpy()))
    return get_method("ivw")(inst["beta"], inst["se"], sign * o["beta"].to_numpy(), o["se"], **opts)


def test_panel_files_are_valid_plink(panel, genotypes):
    pan, g = genotypes
    bim = pan.bim
    assert pan.n_individuals == 1000
    assert 5500 <= len(bim) <= 6000
    assert list(pd.unique(bim["chr"])) == [str(c) for c in range(1, 7)]
    assert bim["snp"].is_unique
    assert bim["snp"].iloc[0] == f"rs_sim_{bim['chr'].iloc[0]}_{bim['pos'].iloc[0]}"
    assert bim.groupby("chr")["pos"].apply(lambda s: s.is_monotonic_increasing).all()
    assert set(bim["a1"]) | set(bim["a2"]) <= set("ACGT")
    assert (bim["a1"] != bim["a2"]).all()
    palin = {("A", "T"), ("T", "A"), ("C", "G"), ("G", "C")}
    share = np.mean([(a, b) in palin for a, b in zip(bim["a1"], bim["a2"], strict=True)])
    assert 0.1 < share < 0.25  # transitions twice as likely: about 1 in 6 palindromic
    freq = g.mean(axis=0) / 2
    assert np.minimum(freq, 1 - freq).min() >= 0.01
    plink = shutil.which("plink1.9") or shutil.which("plink")
    if plink is None:
        pytest.skip("plink1.9 not installed")
    out = panel.parent / "freq"
    subprocess.run(
        [plink, "--bfile", str(panel), "--freq", "--out", str(out)], check=True, capture_output=True
    )
    frq = pd.read_csv(f"{out}.frq", sep=r"\s+")
    assert list(frq["SNP"]) == list(bim["snp"])
    a1_freq = np.where(frq["A1"] == bim["a1"], frq["MAF"], 1 - frq["MAF"])
    np.testing.assert_allclose(a1_freq, freq, atol=1e-4)


def test_same_seed_gives_identical_files(tmp_path):
    traits = [
        TraitSpec("x", h2=0.2, n_causal=10, n=50_000),
        TraitSpec("d", h2=0.1, n_causal=5, ncase=5000, ncontrol=20_000, prevalence=0.1),
    ]
    kw = {"traits": traits, "effects": [("x", "d", 0.3)], "panel": TINY_PANEL}
    a = simulate_study(tmp_path / "a", seed=5, **kw)
    b = simulate_study(tmp_path / "b", seed=5, **kw)
    c = simulate_study(tmp_path / "c", seed=6, **kw)
    names = ["panel.bed", "panel.bim", "panel.fam", "x.tsv.gz", "d.tsv.gz", "truth.json"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a/x.tsv.gz").read_bytes() != (tmp_path / "c/x.tsv.gz").read_bytes()
    assert not a["cached"]
    assert not b["cached"]
    assert not c["cached"]
    again = simulate_study(tmp_path / "a", seed=5, **kw)
    assert again["cached"]
    kw["effects"] = [("x", "d", 0.5)]  # same panel, new GWAS
    redo = simulate_study(tmp_path / "a", seed=5, **kw)
    assert not redo["cached"]
    assert redo["timings"]["panel_reused"]
    assert (tmp_path / "a/panel.bed").read_bytes() == (tmp_path / "b/panel.bed").read_bytes()
    truth = json.loads(Path(a["truth"]).read_text())
    assert truth["total_effects"]["x"]["d"] == 0.5
    assert len(truth["traits"]["x"]["causal_snps"]) == 10


def test_schema_and_binary_counts(panel):
    traits = [
        TraitSpec("cont", h2=0.1, n_causal=20, n=80_000),
        TraitSpec("bin", h2=0.1, n_causal=20, ncase=47429, ncontrol=68374, prevalence=0.001),
    ]
    sim = simulate_gwas(panel, traits, seed=3)
    base = [
        "snp",
        "chr",
        "pos",
        "effect_allele",
        "other_allele",
        "eaf",
        "beta",
        "se",
        "p",
        "log10p",
        "n",
    ]
    assert list(sim["cont"].columns) == base
    b = sim["bin"]
    assert list(b.columns) == [*base, "ncase", "ncontrol"]
    assert (b["ncase"] == 47429).all()
    assert (b["ncontrol"] == 68374).all()
    assert (b["n"] == 47429 + 68374).all()
    frac = 47429 / (47429 + 68374)
    expect = 1 / np.sqrt(2 * b["eaf"] * (1 - b["eaf"]) * b["n"] * frac * (1 - frac))
    np.testing.assert_allclose(b["se"], expect, rtol=1e-12)
    z = b["beta"] / b["se"]
    from scipy import stats

    ok = b["p"] > 1e-300
    assert (b.loc[~ok, "log10p"] > 300).all()  # p underflows, log10p keeps it
    np.testing.assert_allclose(b.loc[ok, "log10p"], -np.log10(b.loc[ok, "p"]), rtol=1e-9)
    np.testing.assert_allclose(b["p"][ok], 2 * stats.norm.sf(np.abs(z[ok])), rtol=1e-9)
    # alleles: a random half reported on the panel's other allele
    pan = read_panel(panel)
    flipped = (b["effect_allele"].to_numpy() == pan.bim["a2"].to_numpy()).mean()
    assert 0.45 < flipped < 0.55


def test_noise_correlation_follows_panel_ld(panel, genotypes):
    """Null traits: E[z_i z_j] = r_ij, so adjacent SNPs in high LD have correlated z."""
    pan, g = genotypes
    reps = 80
    traits = [TraitSpec(f"null{k}", h2=0.0, n_causal=0, n=10_000) for k in range(reps)]
    sim = simulate_gwas(pan, traits, seed=21, flip_alleles=False)
    Z = np.column_stack([sim[t.name]["beta"] / sim[t.name]["se"] for t in traits])
    assert abs(Z.var() - 1) < 0.02
    x = (g - g.mean(0)) / g.std(0)
    same_chr = pan.bim["chr"].to_numpy()[1:] == pan.bim["chr"].to_numpy()[:-1]
    i = np.flatnonzero(same_chr)
    r = np.einsum("ij,ij->j", x[:, i], x[:, i + 1]) / x.shape[0]
    zz = (Z[i] * Z[i + 1]).mean(axis=1)
    slope = np.sum(zz * r) / np.sum(r * r)
    assert slope == pytest.approx(1.0, abs=0.05)
    high = r > 0.8
    assert high.sum() > 100
    assert zz[high].mean() == pytest.approx(r[high].mean(), abs=0.04)


def test_causal_signal_spreads_through_ld(panel, genotypes):
    """One causal SNP: expected z_i = sqrt(N) r_ij a_j near it, none far away."""
    pan, g = genotypes
    t = TraitSpec("one", h2=0.02, n_causal=1, n=1_000_000)
    sim = simulate_gwas(pan, [t], seed=4, flip_alleles=False, ld_window=500_000)
    truth = sim.truth["traits"]["one"]["causal_snps"][0]
    j = int(np.flatnonzero(pan.bim["snp"] == truth["snp"])[0])
    x = (g - g.mean(0)) / g.std(0)
    r = x.T @ x[:, j] / x.shape[0]
    z = (sim["one"]["beta"] / sim["one"]["se"]).to_numpy()
    a = np.sqrt(0.02) * np.sign(truth["beta"])
    near = (pan.bim["chr"] == pan.bim["chr"][j]) & (abs(pan.bim["pos"] - pan.bim["pos"][j]) < 5e5)
    near = near.to_numpy()
    expect = np.sqrt(1_000_000) * r * a
    assert z[j] == pytest.approx(expect[j], abs=4)
    resid = z[near] - expect[near]
    assert abs(resid.mean()) < 0.5
    assert resid.std() < 1.5
    assert np.corrcoef(z[near], expect[near])[0, 1] > 0.98
    far = (pan.bim["chr"] != pan.bim["chr"][j]).to_numpy()
    assert np.abs(z[far]).max() < 6


@pytest.mark.parametrize(
    ("exposure", "outcome", "gamma"),
    [
        (
            TraitSpec("x", h2=0.3, n_causal=40, n=200_000),
            TraitSpec("y", h2=0.02, n_causal=10, n=200_000),
            0.2,
        ),
        (
            TraitSpec("x", h2=0.3, n_causal=40, ncase=47429, ncontrol=68374, prevalence=0.001),
            TraitSpec("y", h2=0.02, n_causal=10, n=35_273),
            0.028,
        ),
        (
            TraitSpec("x", h2=0.3, n_causal=40, n=200_000),
            TraitSpec("y", h2=0.02, n_causal=10, ncase=30_000, ncontrol=70_000, prevalence=0.05),
            0.25,
        ),
    ],
    ids=["continuous", "binary-exposure", "binary-outcome"],
)
def test_ivw_recovers_the_true_effect(panel, exposure, outcome, gamma):
    """IVW over replicate outcomes: the CI covers gamma, estimates centre on it."""
    reps = 12
    outs = [
        TraitSpec(
            f"y{k}",
            h2=outcome.h2,
            n_causal=outcome.n_causal,
            n=outcome.n,
            ncase=outcome.ncase,
            ncontrol=outcome.ncontrol,
            prevalence=outcome.prevalence,
        )
        for k in range(reps)
    ]
    effects = [EffectSpec("x", o.name, gamma) for o in outs]
    sim = simulate_gwas(panel, [exposure, *outs], effects, seed=8)
    res = [_ivw(sim["x"], sim[o.name]) for o in outs]
    assert res[0].nsnp >= 15
    covered = np.mean([r.ci_lower <= gamma <= r.ci_upper for r in res])
    est = np.array([r.estimate for r in res])
    se = np.mean([r.se for r in res])
    assert covered >= 0.75
    assert est.mean() == pytest.approx(gamma, abs=2.5 * se)
    assert all(r.pval < 1e-3 for r in res)


def test_null_and_pleiotropy(panel):
    traits = [
        TraitSpec("x", h2=0.3, n_causal=40, n=200_000),
        TraitSpec("null", h2=0.05, n_causal=20, n=200_000),
        TraitSpec("pleio", h2=0.02, n_causal=10, n=200_000),
    ]
    effects = [
        EffectSpec(
            "x",
            "pleio",
            0.0,
            pleiotropy_fraction=0.5,
            pleiotropy_h2=0.2,
            pleiotropy_directional=True,
        )
    ]
    sim = simulate_gwas(panel, traits, effects, seed=9)
    assert _ivw(sim["x"], sim["null"]).pval > 0.01
    biased = _ivw(sim["x"], sim["pleio"])
    assert biased.estimate > 0
    assert biased.pval < 0.01
    info = sim.truth["effects"][0]
    assert len(info["pleiotropic_snps"]) == 20
    causal = {s["snp"] for s in sim.truth["traits"]["x"]["causal_snps"]}
    assert {s["snp"] for s in info["pleiotropic_snps"]} <= causal
    beta_x = {s["snp"]: s["beta"] for s in sim.truth["traits"]["x"]["causal_snps"]}
    assert all(s["beta"] * beta_x[s["snp"]] > 0 for s in info["pleiotropic_snps"])


def test_total_effects_follow_paths():
    traits = [TraitSpec(n, h2=0.1, n_causal=5, n=1000) for n in ("a", "b", "c")]
    effects = [EffectSpec("a", "b", 0.5), EffectSpec("b", "c", 0.2), EffectSpec("a", "c", 0.1)]
    tot = total_effects(traits, effects)
    assert tot["a"]["c"] == pytest.approx(0.5 * 0.2 + 0.1)
    assert tot["c"]["a"] == 0.0
    assert tot["b"]["a"] == 0.0


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            {"trait": [{"name": "x", "h2": 0.1, "n_causal": 5, "n": 10, "bogus": 1}]},
            "trait `x`.bogus",
        ),
        ({"trait": [{"name": "x", "h2": 0.1, "n": 10}]}, "n_causal"),
        (
            {"trait": [{"name": "x", "h2": 0.1, "n_causal": 5, "ncase": 10, "ncontrol": 10}]},
            "prevalence",
        ),
        ({"trait": [{"name": "x", "h2": 0.1, "n_causal": 5, "n": -3}]}, "`n`"),
        ({"trait": [{"name": "x", "h2": 1.5, "n_causal": 5, "n": 10}]}, "h2"),
        (
            {
                "trait": [{"name": "x", "h2": 0.1, "n_causal": 5, "n": 10}],
                "effect": [{"exposure": "x", "outcome": "y", "gamma": 0.1}],
            },
            "outcome",
        ),
        (
            {
                "trait": [
                    {"name": "x", "h2": 0.1, "n_causal": 5, "n": 10},
                    {"name": "y", "h2": 0.1, "n_causal": 5, "n": 10},
                ],
                "effect": [
                    {"exposure": "x", "outcome": "y", "gamma": 0.1},
                    {"exposure": "y", "outcome": "x", "gamma": 0.1},
                ],
            },
            "cycle",
        ),
        (
            {
                "trait": [{"name": "x", "h2": 0.1, "n_causal": 5, "n": 10}],
                "panel": {"n_people": 10},
            },
            "panel.n_people",
        ),
        (
            {
                "trait": [
                    {"name": "x", "h2": 0.1, "n_causal": 5, "n": 10},
                    {"name": "y", "h2": 0.5, "n_causal": 5, "n": 10},
                ],
                "effect": [{"exposure": "x", "outcome": "y", "gamma": 0.9}],
            },
            "below 1",
        ),
        ({"trait": [{"name": "x", "h2": "high", "n_causal": 5, "n": 10}]}, "trait `x`"),
    ],
)
def test_bad_config_names_the_key(data, match):
    with pytest.raises(InputError, match=match):
        parse_config(data)


def test_demo_design_parses():
    cfg = load_config(
        Path(__file__).resolve().parents[2] / "examples/brain-iron-ms/simulation.toml"
    )
    names = [t.name for t in cfg.traits]
    assert names[0] == "ms"
    assert "qsm_thalamus_right" in names
    assert "serum_iron" in names
    assert sum(n.startswith("qsm_") for n in names) == 8
    ms = cfg.traits[0]
    assert (ms.ncase, ms.ncontrol) == (47429, 68374)
    tot = total_effects(cfg.traits, cfg.effects)
    assert tot["ms"]["qsm_thalamus_right"] == 0.028
    assert tot["ms"]["serum_iron"] == -0.009
    assert all(v == 0 for x, row in tot.items() if x != "ms" for v in row.values())


def test_cli_simulate(tmp_path):
    cfg = tmp_path / "sim.toml"
    cfg.write_text(
        "seed = 3\n[panel]\nn_individuals = 300\nn_chromosomes = 2\nchrom_length = 1000000\n"
        'n_snps = 600\n[[trait]]\nname = "a"\nn = 20000\nh2 = 0.1\nn_causal = 5\n'
        '[[trait]]\nname = "b"\nn = 20000\nh2 = 0.1\nn_causal = 5\n'
        '[[effect]]\nexposure = "a"\noutcome = "b"\ngamma = 0.1\n'
    )
    out = tmp_path / "out"
    assert main(["simulate", "--out", str(out), "--config", str(cfg)]) == 0
    assert {p.name for p in out.iterdir()} >= {"panel.bed", "a.tsv.gz", "b.tsv.gz", "truth.json"}
    assert json.loads((out / "truth.json").read_text())["config"]["seed"] == 3
    assert main(["simulate", "--out", str(out), "--config", str(cfg), "--seed", "4"]) == 0
    assert json.loads((out / "truth.json").read_text())["config"]["seed"] == 4
    cfg.write_text('[[trait]]\nname = "a"\nn = 20000\nh2 = 0.1\n')
    assert main(["simulate", "--out", str(tmp_path / "bad"), "--config", str(cfg)]) == 2
    assert not (tmp_path / "bad").exists()
