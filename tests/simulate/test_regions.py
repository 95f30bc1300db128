"""mrkit simulate: causal variants placed per region, shared by two traits or distinct."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.errors import InputError
from mrkit.simulate.panel import read_panel
from mrkit.simulate.run import simulate_from_config
from mrkit.simulate.spec import parse_config

CONFIG = """
seed = 5
[panel]
n_individuals = 1000
n_chromosomes = 2
chrom_length = 2_500_000
n_snps = 2500

[[trait]]
name = "protein"
n = 30000
h2 = 0.01
n_causal = 4

[[trait]]
name = "disease"
n = 40000
h2 = 0.01
n_causal = 4

[[region]]
name = "A"
chrom = 1
start = 500_000
end = 900_000
causal = "shared"
h2 = { protein = 0.03, disease = 0.005 }
sign = { disease = -1 }

[[region]]
name = "B"
chrom = 2
start = 500_000
end = 900_000
causal = "distinct"
h2 = { protein = 0.03, disease = 0.005 }
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("regions")
    cfg = parse_config(tomllib.loads(CONFIG))
    res = simulate_from_config(cfg, out)
    return {**res, "truth_data": json.loads(Path(res["truth"]).read_text()), "out": out}


def _r(pan, snps: list[str]) -> np.ndarray:
    rows = pan.bim.index[pan.bim["snp"].isin(snps)].to_numpy()
    order = pan.bim.loc[rows, "snp"].tolist()
    g = pan.genotypes(rows).astype(float)
    c = np.corrcoef(g.T)
    idx = [order.index(s) for s in snps]
    return c[np.ix_(idx, idx)]


def test_shared_region_one_variant_for_both_traits(sim):
    reg = {r["name"]: r for r in sim["truth_data"]["regions"]}["A"]
    v = {x["trait"]: x for x in reg["variants"]}
    assert v["protein"]["snp"] == v["disease"]["snp"]
    assert 500_000 <= v["protein"]["pos"] <= 900_000
    assert v["disease"]["beta"] < 0  # sign = -1 for the panel's A1
    pan = read_panel(sim["panel"])
    row = int(np.flatnonzero(pan.bim["snp"].to_numpy() == v["protein"]["snp"])[0])
    var = pan.genotypes(np.array([row])).astype(float).var()
    # per-allele effect: sqrt(h2) / sd(genotype) in SD units
    assert v["protein"]["beta"] ** 2 * var == pytest.approx(0.03, rel=1e-9)
    for trait in ("protein", "disease"):
        gw = pd.read_csv(sim["gwas"][trait], sep="\t")
        hit = gw[gw["snp"] == v[trait]["snp"]].iloc[0]
        z = hit["beta"] / hit["se"]
        n = 30000 if trait == "protein" else 40000
        # expected |z| = sqrt(N h2), noise N(0, 1)
        assert abs(abs(z) - np.sqrt(n * v[trait]["h2"])) < 5
        # the strongest association of the region is the variant or one in high LD with it
        inreg = gw[(gw["chr"] == 1) & gw["pos"].between(500_000, 900_000)]
        lead = inreg.loc[inreg["log10p"].idxmax(), "snp"]
        assert lead == v[trait]["snp"] or _r(pan, [lead, v[trait]["snp"]])[0, 1] ** 2 > 0.5


def test_distinct_region_variants_in_low_ld(sim):
    reg = {r["name"]: r for r in sim["truth_data"]["regions"]}["B"]
    v = {x["trait"]: x for x in reg["variants"]}
    assert v["protein"]["snp"] != v["disease"]["snp"]
    pan = read_panel(sim["panel"])
    r = _r(pan, [v["protein"]["snp"], v["disease"]["snp"]])[0, 1]
    assert r**2 <= 0.01 + 1e-12
    prot = pd.read_csv(sim["gwas"]["protein"], sep="\t").set_index("snp")
    dis = pd.read_csv(sim["gwas"]["disease"], sep="\t").set_index("snp")
    # each trait is strongly associated at its own variant, not at the other's
    assert prot.loc[v["protein"]["snp"], "log10p"] > 20
    assert dis.loc[v["disease"]["snp"], "log10p"] > 5
    assert dis.loc[v["protein"]["snp"], "log10p"] < 4


def test_own_causal_snps_outside_regions(sim):
    for info in sim["truth_data"]["traits"].values():
        for c in info["causal_snps"]:
            _, pos = c["snp"].split("_")[2:]
            assert not (0 <= int(pos) <= 1_400_000), c  # region ± ld_window (500 kb)
    assert "regions" in sim["truth_data"]["config"]


def test_reproducible(sim, tmp_path):
    cfg = parse_config(tomllib.loads(CONFIG))
    res = simulate_from_config(cfg, tmp_path)
    for trait in ("protein", "disease"):
        assert Path(res["gwas"][trait]).read_bytes() == Path(sim["gwas"][trait]).read_bytes()


def test_config_without_regions_unchanged():
    base = CONFIG.split("[[region]]")[0]
    cfg = parse_config(tomllib.loads(base))
    assert cfg.regions == ()
    assert "regions" not in cfg.to_dict()


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('causal = "both"', "causal"),
        ("h2 = { protein = 0.03, nope = 0.1 }", r"h2\.nope"),
        ("h2 = { protein = 1.5 }", r"h2\.protein"),
        ("end = 100", "end"),
        ("colour = 1", "colour"),
        ("sign = { protein = 2 }", r"sign\.protein"),
    ],
)
def test_bad_region_names_the_key(extra, match):
    base = CONFIG.split("[[region]]")[0]
    table = {
        "chrom": "chrom = 1",
        "start": "start = 500",
        "end": "end = 900",
        "h2": "h2 = { protein = 0.03 }",
    }
    key = extra.split("=")[0].strip()
    table[key] = extra
    text = base + "[[region]]\n" + "\n".join(table.values()) + "\n"
    with pytest.raises(InputError, match=match):
        parse_config(tomllib.loads(text))


def test_region_variance_counts(tmp_path):
    base = CONFIG.split("[[region]]")[0]
    text = base + "[[region]]\nchrom = 1\nstart = 1\nend = 9\nh2 = { protein = 0.995 }\n"
    with pytest.raises(InputError, match="must stay below 1"):
        parse_config(tomllib.loads(text))
