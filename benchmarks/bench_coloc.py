"""Colocalisation speed: SuSiE, coloc.susie and coloc.abf on coloc's 500-SNP test data.

Run: ``.venv/bin/python benchmarks/bench_coloc.py [--repeat N]`` (a few seconds). Reads
``../shared/reference/coloc`` (or ``$MRKIT_SHARED/reference/coloc``).

* ``runsusie(D3)`` (500 SNPs, L = 10, 8 IBSS sweeps) and ``coloc.susie(D3, D4)`` in this
  process, against R's times for the same calls in ``results/timings.json`` (susieR
  0.12.35, mean of back-to-back repeats on this 2-core machine). Goal: at least as fast
  as R's ``runsusie`` (264 ms).
* ``coloc_abf(D1, D2)`` (500 SNPs) against a plain per-SNP Python loop computing the
  same Wakefield ABFs and posteriors, timed in the same run; R's time is printed too.
  Goal: under 2 ms.

Times are the median and the best of ``--repeat`` runs after one warm-up run; the
machine is shared, so the best is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit.coloc.abf import coloc_abf
from mrkit.coloc.susie_coloc import coloc_susie, ld_matrix, runsusie_dataset

ROOT = Path(__file__).resolve().parents[1]


def _coloc_dir() -> Path:
    env = os.environ.get("MRKIT_SHARED")
    for c in [Path(env)] if env else [ROOT.parent / "shared", ROOT / "shared"]:
        if (c / "reference" / "coloc").is_dir():
            return c / "reference" / "coloc"
    raise SystemExit("../shared/reference/coloc not found (set MRKIT_SHARED)")


def _dataset(path: Path) -> dict[str, Any]:
    df = pd.read_csv(path)
    out: dict[str, Any] = {k: df[k].to_numpy() for k in ("snp", "position", "beta", "varbeta")}
    out |= {"MAF": df["MAF"].to_numpy(), "N": int(df["N"].iloc[0]), "type": "quant"}
    out["sdY"] = float(df["sdY"].iloc[0])
    return out


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best wall time of ``fn`` in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), min(times)


def naive_abf(d1: dict[str, Any], d2: dict[str, Any], p1: float, p2: float, p12: float) -> list:
    """coloc.abf one SNP at a time in pure Python: the in-run baseline."""

    def labf(d: dict[str, Any]) -> list[float]:
        w2 = (0.15 * d["sdY"]) ** 2
        out = []
        for b, v in zip(d["beta"].tolist(), d["varbeta"].tolist(), strict=True):
            r = w2 / (w2 + v)
            out.append(0.5 * (math.log(1 - r) + r * b * b / v))
        return out

    def logsum(x: list[float]) -> float:
        m = max(x)
        return m + math.log(sum(math.exp(a - m) for a in x))

    l1, l2 = labf(d1), labf(d2)
    pos2 = {s: i for i, s in enumerate(d2["snp"].tolist())}
    pairs = [(i, pos2[s]) for i, s in enumerate(d1["snp"].tolist()) if s in pos2]
    a = [l1[i] for i, _ in pairs]
    b = [l2[j] for _, j in pairs]
    s = [x + y for x, y in zip(a, b, strict=True)]
    s1, s2, s12 = logsum(a), logsum(b), logsum(s)
    m = max(s1 + s2, s12)
    h3 = m + math.log(math.exp(s1 + s2 - m) - math.exp(s12 - m))
    lh = [0.0, math.log(p1) + s1, math.log(p2) + s2, math.log(p1) + math.log(p2) + h3]
    lh.append(math.log(p12) + s12)
    den = logsum(lh)
    return [math.exp(x - den) for x in lh] + [math.exp(x - s12) for x in s]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    coloc = _coloc_dir()
    timings = json.loads((coloc / "results" / "timings.json").read_text())["timings"]
    r_ms = {t["id"]: 1e3 * t["elapsed_mean_per_call_repeats_s"] for t in timings}
    d = {k: _dataset(coloc / "data" / f"test_{k}.csv") for k in ("D1", "D2", "D3", "D4")}
    snps = [str(s) for s in d["D3"]["snp"]]
    R = ld_matrix(pd.read_csv(coloc / "data" / "test_LD_D3D4_upper.csv.gz"), snps)
    ld = (R, snps)  # coloc's datasets carry LD as a named matrix

    print(f"{'call':34s} {'mrkit median':>13s} {'best':>8s} {'baseline':>10s} {'ratio':>7s}")

    def row(name: str, med: float, best: float, base: float, label: str) -> None:
        print(
            f"{name:34s} {med:10.2f} ms {best:5.2f} ms {base:7.2f} ms {base / med:6.1f}x  {label}"
        )

    fit = runsusie_dataset(d["D3"], ld)
    med, best = _time(lambda: runsusie_dataset(d["D3"], ld), args.repeat)
    row("runsusie(D3), 500 SNPs, L=10", med, best, r_ms["runsusie_D3"], "vs R runsusie")
    print(f"{'':34s} ({fit.niter} sweeps, converged = {fit.converged}; R: 8)")
    med, best = _time(lambda: coloc_susie(d["D3"], d["D4"], ld), max(3, args.repeat // 2))
    row("coloc.susie(D3, D4)", med, best, r_ms["coloc_susie_D3_D4_from_datasets"], "vs R")

    rep = 20 * args.repeat
    base, _ = _time(lambda: naive_abf(d["D1"], d["D2"], 1e-4, 1e-4, 1e-5), rep)
    med, best = _time(lambda: coloc_abf(d["D1"], d["D2"]), rep)
    row("coloc.abf(D1, D2), 500 SNPs", med, best, base, "vs per-SNP Python loop")
    print(f"{'':34s} (R coloc.abf: {r_ms['abf_D1_D2_default']:.2f} ms; goal < 2 ms)")
    ours = coloc_abf(d["D1"], d["D2"]).pp
    check = naive_abf(d["D1"], d["D2"], 1e-4, 1e-4, 1e-5)[:5]
    print(f"{'':34s} (same PP as the loop: {np.allclose(ours, check, rtol=1e-9, atol=0)})")


if __name__ == "__main__":
    main()
