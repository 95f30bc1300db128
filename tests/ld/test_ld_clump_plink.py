"""mrkit's clumping and LD against plink1.9 on the real panels in ../shared/data."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from conftest import DATA
from mrkit.ld.clump import clump_table
from mrkit.ld.panel import ReferencePanel
from mrkit.ld.proxies import find_proxies

PLINK = shutil.which("plink1.9")
EUR = DATA / "gwasvcf" / "eur"
EAS = DATA / "eas_chr7_panel" / "eas_chr7"
needs_plink = pytest.mark.skipif(PLINK is None, reason="plink1.9 not installed (apt plink1.9)")
needs_data = pytest.mark.skipif(
    not EUR.with_suffix(".bed").exists(), reason="../shared/data panels not present"
)


def _simulate(panel: ReferencePanel, seed: int) -> pd.DataFrame:
    """z drawn through the panel's genotypes: LD structure as in a real GWAS."""
    rng = np.random.default_rng(seed)
    g = panel.genotypes(np.arange(panel.n_variants)).astype(float)
    g[g < 0] = np.nan
    x = np.where(np.isnan(g), np.nanmean(g, axis=0), g)
    sd = x.std(0)
    x = (x - x.mean(0)) / np.where(sd > 0, sd, 1)
    beta = np.zeros(x.shape[1])
    beta[rng.choice(x.shape[1], 20, replace=False)] = 0.25
    y = x @ beta + rng.normal(size=x.shape[0])
    z = x.T @ y / np.sqrt(x.shape[0])
    tab = pd.DataFrame({"SNP": panel.variants["snp"], "P": 2 * norm.sf(np.abs(z))})
    return tab.sample(frac=1, random_state=seed)  # file order must not matter


def _plink_clump(prefix, assoc, tmp_path, p1, p2, r2, kb) -> pd.DataFrame:
    out = tmp_path / "o"
    subprocess.run(
        [PLINK, "--bfile", str(prefix), "--clump", str(assoc), "--clump-p1", str(p1),
         "--clump-p2", str(p2), "--clump-r2", str(r2), "--clump-kb", str(kb),
         "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    f = tmp_path / "o.clumped"
    return pd.read_csv(f, sep=r"\s+") if f.exists() else pd.DataFrame({"SNP": [], "SP2": []})


SETTINGS = [
    (1e-4, 0.01, 0.1, 250),
    (5e-8, 5e-8, 0.001, 10000),
    (1e-3, 0.5, 0.5, 50),
    (1e-6, 1e-2, 0.8, 20),
]


@needs_plink
@needs_data
@pytest.mark.parametrize("prefix", [EUR, EAS], ids=["eur", "eas_chr7"])
def test_clump_identical_to_plink(prefix, tmp_path):
    """Same index SNPs, same order and same clumped SNPs (SP2) as plink1.9 --clump."""
    panel = ReferencePanel(prefix)
    gwas = _simulate(panel, seed=5)
    assoc = tmp_path / "gwas.assoc"
    gwas.to_csv(assoc, sep=" ", index=False)
    for p1, p2, r2, kb in SETTINGS:
        pl = _plink_clump(prefix, assoc, tmp_path, p1, p2, r2, kb)
        res = clump_table(panel, gwas, p1=p1, p2=p2, r2=r2, kb=kb)
        assert list(res.clumps["snp"]) == list(pl["SNP"]), (p1, p2, r2, kb)
        sp2 = [set() if s == "NONE" else {x.split("(")[0] for x in s.split(",")} for s in pl.SP2]
        mine = [set(s.split(",")) - {""} for s in res.clumps["clumped_snps"]]
        assert mine == sp2, (p1, p2, r2, kb)


@needs_plink
@needs_data
def test_genotype_r_matches_plink_r(tmp_path):
    """ld_matrix is plink1.9 --r (pairwise-complete genotype correlation; EUR has missing calls)."""
    panel = ReferencePanel(EUR)
    snps = panel.variants["snp"].iloc[1200:1260].tolist()
    (tmp_path / "s.txt").write_text("\n".join(snps) + "\n")
    subprocess.run(
        [PLINK, "--bfile", str(EUR), "--extract", str(tmp_path / "s.txt"), "--r", "square",
         "--out", str(tmp_path / "r")],
        check=True, capture_output=True,
    )  # fmt: skip
    ref = np.loadtxt(tmp_path / "r.ld")
    mine = panel.ld_matrix(snps).to_numpy()
    ok = np.isfinite(ref)
    assert np.abs(mine[ok] - ref[ok]).max() < 1e-5


@needs_data
def test_proxies_best_r2_and_alleles():
    panel = ReferencePanel(EUR)
    v = panel.variants
    targets = v["snp"].iloc[[900, 1500]].tolist()
    cands = v["snp"].iloc[800:1700].tolist()
    cands = [c for c in cands if c not in targets]
    tab = pd.DataFrame(
        {"snp": targets, "effect_allele": v["a2"].iloc[[900, 1500]],
         "other_allele": v["a1"].iloc[[900, 1500]]}
    )  # fmt: skip
    out = find_proxies(panel, tab, cands, r2=0.5, kb=500)
    assert list(out.columns) == [
        "target_snp", "proxy_snp", "r2", "target_effect_allele", "target_other_allele",
        "proxy_effect_allele", "proxy_other_allele",
    ]  # fmt: skip
    for rec in out.itertuples():
        t = panel.locate([rec.target_snp])[0]
        near = [
            c for c in cands if abs(v["pos"].iat[panel.locate([c])[0]] - v["pos"].iat[t]) <= 5e5
        ]
        r = panel.ld_matrix([rec.target_snp, *near]).to_numpy()[0, 1:]
        assert rec.r2 == pytest.approx((r**2).max(), abs=1e-9)
        signed = panel.ld_matrix(
            [rec.target_snp, rec.proxy_snp],
            effect_alleles=[rec.target_effect_allele, rec.proxy_effect_allele],
        ).to_numpy()[0, 1]
        assert signed > 0  # effect alleles on the same haplotype
