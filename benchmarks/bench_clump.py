"""Clumping speed: mrkit vs plink1.9 --clump on a simulated 100k x 500 panel.

Run: ``.venv/bin/python benchmarks/bench_clump.py``. The panel (haplotypes from
an AR-like copying process along 5 chromosomes, giving LD blocks) and a GWAS
whose z-scores are drawn through the genotypes are generated once into
``benchmarks/_work/``. Prints wall times, their ratio, and whether the index
SNPs (and clumped SNP lists) are identical.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

WORK = Path(__file__).resolve().parent / "_work"
PREFIX = WORK / "sim100k"
N_IND, N_CHR, PER_CHR = 500, 5, 20_000
SETTINGS = [  # (p1, p2, r2, kb)
    (5e-8, 5e-8, 0.001, 10000),
    (5e-8, 1e-5, 0.01, 1000),
    (1e-4, 0.01, 0.5, 250),
]


def simulate(seed: int = 1) -> None:
    from bed_reader import to_bed

    rng = np.random.default_rng(seed)
    m = N_CHR * PER_CHR
    n_hap = 2 * N_IND
    freq = rng.beta(0.6, 0.6, m).clip(0.02, 0.98)
    hap = np.empty((n_hap, m), dtype=np.int8)
    keep = rng.uniform(0.75, 0.995, m)  # chance a haplotype keeps its rank at the next variant
    latent = rng.normal(size=n_hap)
    for j in range(m):
        if j % PER_CHR == 0 or rng.random() < 0.002:  # chromosome start or recombination hotspot
            latent = rng.normal(size=n_hap)
        else:
            latent = keep[j] * latent + np.sqrt(1 - keep[j] ** 2) * rng.normal(size=n_hap)
        hap[:, j] = latent < norm.ppf(freq[j])
    geno = (hap[0::2] + hap[1::2]).astype(np.float32)
    miss = rng.random(geno.shape) < 0.001
    geno[miss] = np.nan
    chrom = np.repeat(np.arange(1, N_CHR + 1), PER_CHR)
    pos = np.concatenate(
        [np.cumsum(rng.integers(50, 1950, PER_CHR)) + 10_000 for _ in range(N_CHR)]
    )
    sid = np.array([f"rs{i + 1}" for i in range(m)])
    to_bed(
        PREFIX.with_suffix(".bed"),
        geno,
        properties={
            "chromosome": chrom.astype(str),
            "sid": sid,
            "bp_position": pos,
            "allele_1": np.full(m, "A"),
            "allele_2": np.full(m, "G"),
            "iid": [f"I{i}" for i in range(N_IND)],
            "fid": [f"I{i}" for i in range(N_IND)],
        },
        count_A1=True,
    )
    # GWAS of N = 200k: z = sqrt(N) * corr(x_j, genetic score) + noise
    x = np.where(np.isnan(geno), np.nanmean(geno, axis=0), geno)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)
    b = np.zeros(m)
    causal = rng.choice(m, 300, replace=False)
    b[causal] = rng.normal(0, 1, causal.size)
    score = x @ b
    score = (score - score.mean()) / score.std()
    z = np.sqrt(200_000) * 0.2 * (x.T @ score) / N_IND + rng.normal(size=m)
    p = 2 * norm.sf(np.abs(z))
    pd.DataFrame({"SNP": sid, "CHR": chrom, "BP": pos, "P": p}).to_csv(
        WORK / "gwas.assoc", sep=" ", index=False
    )


def run_plink(plink: str, p1, p2, r2, kb) -> tuple[float, pd.DataFrame]:
    out = WORK / "plink"
    t = time.perf_counter()
    subprocess.run(
        [plink, "--bfile", str(PREFIX), "--clump", str(WORK / "gwas.assoc"),
         "--clump-p1", str(p1), "--clump-p2", str(p2), "--clump-r2", str(r2),
         "--clump-kb", str(kb), "--threads", "1", "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    dt = time.perf_counter() - t
    return dt, pd.read_csv(str(out) + ".clumped", sep=r"\s+")


def run_mrkit(p1, p2, r2, kb):
    from mrkit.ld.panel import ReferencePanel

    t = time.perf_counter()
    gwas = pd.read_csv(WORK / "gwas.assoc", sep=" ")
    res = ReferencePanel(PREFIX).clump(gwas, p1=p1, p2=p2, r2=r2, kb=kb)
    return time.perf_counter() - t, res.clumps


def main() -> int:
    plink = shutil.which("plink1.9") or shutil.which("plink")
    if plink is None:
        print("plink1.9 not found: nothing to compare against")
        return 1
    WORK.mkdir(exist_ok=True)
    if not (WORK / "gwas.assoc").exists():
        t = time.perf_counter()
        simulate()
        print(f"simulated panel + GWAS in {time.perf_counter() - t:.1f} s")
    gwas = pd.read_csv(WORK / "gwas.assoc", sep=" ")
    print(
        f"panel {N_CHR * PER_CHR} variants x {N_IND} people; "
        f"{(gwas.P <= 5e-8).sum()} SNPs p<=5e-8, {(gwas.P <= 1e-4).sum()} p<=1e-4"
    )
    print(f"{'p1':>7} {'p2':>7} {'r2':>6} {'kb':>6} {'plink s':>8} {'mrkit s':>8} "
          f"{'ratio':>6} {'clumps':>7} same")  # fmt: skip
    worst = 0.0
    for p1, p2, r2, kb in SETTINGS:
        tp, pl = min((run_plink(plink, p1, p2, r2, kb) for _ in range(3)), key=lambda x: x[0])
        tm, mk = min((run_mrkit(p1, p2, r2, kb) for _ in range(3)), key=lambda x: x[0])
        sp2 = [set() if s == "NONE" else {x.split("(")[0] for x in s.split(",")} for s in pl.SP2]
        same = list(pl.SNP) == list(mk.snp) and sp2 == [
            set(s.split(",")) - {""} for s in mk.clumped_snps
        ]
        worst = max(worst, tm / tp)
        print(f"{p1:7.0e} {p2:7.0e} {r2:6g} {kb:6g} {tp:8.3f} {tm:8.3f} {tm / tp:6.2f} "
              f"{len(mk):7d} {same}")  # fmt: skip
    print(f"worst ratio mrkit/plink: {worst:.2f} (goal <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
