"""Clumping speed: mrkit vs plink1.9 --clump on a simulated 100k x 500 panel.

Run: ``.venv/bin/python benchmarks/bench_clump.py``. The panel (haplotypes from
an AR-like copying process along 5 chromosomes, giving LD blocks) and a GWAS
whose z-scores are drawn through the genotypes are generated once into
``benchmarks/_work/``.

Two comparisons per setting, both against ``plink1.9 --clump`` as a whole process
(reading the panel and the GWAS, clumping, writing):

* ``mrkit clump`` as a whole process too (start-up, imports, reading, writing):
  what a user waits for; goal: at most 2x plink;
* ``clump_table`` in this process (panel opened and GWAS read inside the timing,
  imports already done): the algorithm; goal: at most 1.5x plink.

The runs of plink and mrkit alternate and each time is the best of ``--repeat``
runs, so that other load on the machine hits both alike. ``mrkit`` runs with
Python's bytecode cache on (``PYTHONDONTWRITEBYTECODE`` unset), as an installed
package does: otherwise every run compiles mrkit's modules from source. Also prints
whether the index SNPs and their clumped SNPs are identical to plink's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

WORK = Path(__file__).resolve().parent / "_work"
MRKIT = Path(sys.executable).with_name("mrkit")
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


def run_mrkit_cli(p1, p2, r2, kb) -> tuple[float, pd.DataFrame]:
    """``mrkit clump`` as a whole process: what a user waits for."""
    out = WORK / "mrkit.tsv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    subprocess.run(
        [str(MRKIT), "clump", str(WORK / "gwas.assoc"), "--panel", str(PREFIX),
         "--p1", str(p1), "--p2", str(p2), "--r2", str(r2), "--kb", str(kb), "--out", str(out)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    dt = time.perf_counter() - t
    return dt, pd.read_csv(out, sep="\t", keep_default_na=False)


def run_mrkit(p1, p2, r2, kb) -> tuple[float, pd.DataFrame]:
    """``clump_table`` in this process, panel and GWAS read inside the timing."""
    from mrkit.ld.clump import clump_table
    from mrkit.ld.panel import ReferencePanel

    t = time.perf_counter()
    gwas = pd.read_csv(WORK / "gwas.assoc", sep=" ")
    res = clump_table(ReferencePanel(PREFIX), gwas, p1=p1, p2=p2, r2=r2, kb=kb)
    return time.perf_counter() - t, res.clumps


def same_as_plink(pl: pd.DataFrame, mk: pd.DataFrame) -> bool:
    """Same index SNPs in the same order, each with the same clumped SNPs."""
    sp2 = [set() if s == "NONE" else {x.split("(")[0] for x in s.split(",")} for s in pl.SP2]
    mine = [set(str(s).split(",")) - {""} for s in mk.clumped_snps]
    return list(pl.SNP) == list(mk.snp) and sp2 == mine


def best(runs: list[tuple[float, pd.DataFrame]]) -> tuple[float, pd.DataFrame]:
    return min(runs, key=lambda x: x[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and setting (best)")
    args = ap.parse_args()
    plink = shutil.which("plink1.9") or shutil.which("plink")
    if plink is None:
        print("plink1.9 not found (apt-get install plink1.9): nothing to compare against")
        return 1
    if not MRKIT.exists():
        print(f"{MRKIT} not found: install mrkit into this environment (pip install -e .)")
        return 1
    WORK.mkdir(exist_ok=True)
    if not (WORK / "gwas.assoc").exists():
        t = time.perf_counter()
        simulate()
        print(f"simulated panel + GWAS in {time.perf_counter() - t:.1f} s")
    gwas = pd.read_csv(WORK / "gwas.assoc", sep=" ")
    print(
        f"panel {N_CHR * PER_CHR} variants x {N_IND} people; "
        f"{(gwas.P <= 5e-8).sum()} SNPs p<=5e-8, {(gwas.P <= 1e-4).sum()} p<=1e-4; "
        f"best of {args.repeat} alternating runs"
    )
    print(f"{'p1':>7} {'p2':>7} {'r2':>6} {'kb':>6} | {'plink s':>8} | {'cli s':>7} "
          f"{'ratio':>6} | {'in-proc s':>9} {'ratio':>6} | {'clumps':>7} same")  # fmt: skip
    worst_cli = worst_in = 0.0
    all_same = True
    for p1, p2, r2, kb in SETTINGS:
        pl_runs, cli_runs, in_runs = [], [], []
        for _ in range(args.repeat):  # alternate, so that load hits both tools alike
            pl_runs.append(run_plink(plink, p1, p2, r2, kb))
            cli_runs.append(run_mrkit_cli(p1, p2, r2, kb))
            in_runs.append(run_mrkit(p1, p2, r2, kb))
        (tp, pl), (tc, cli), (tm, mk) = best(pl_runs), best(cli_runs), best(in_runs)
        same = same_as_plink(pl, cli) and same_as_plink(pl, mk)
        all_same &= same
        worst_cli, worst_in = max(worst_cli, tc / tp), max(worst_in, tm / tp)
        print(f"{p1:7.0e} {p2:7.0e} {r2:6g} {kb:6g} | {tp:8.3f} | {tc:7.3f} {tc / tp:6.2f} | "
              f"{tm:9.3f} {tm / tp:6.2f} | {len(mk):7d} {same}")  # fmt: skip
    print(f"worst ratio, whole process mrkit clump / plink1.9: {worst_cli:.2f} (goal <= 2)")
    print(f"worst ratio, in-process clump_table / plink1.9:   {worst_in:.2f} (goal <= 1.5)")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
