"""MR-PRESSO speed: mrkit's vectorised presso against a naive Python loop.

Runs MR-PRESSO (global, outlier and distortion tests) with 10,000 simulated
datasets on the 28 LDL-C -> CHD variants (reference/data/mr_ldlc_chd.csv) and on
the 812 BMI -> BMI variants of mr.raps (reference/data/mrraps_bmi_bmi.csv).

Baselines:
* in this run: a naive implementation that loops over draws in Python and refits
  the leave-one-out regressions one at a time (as the R package does). On 812
  variants it is timed on a few hundred draws and extrapolated linearly
  (marked "extrapolated").
* quoted, not measured here (R is not installed): the R package MRPRESSO 1.0 took
  348.8 s for 28 variants at NbDistribution = 10,000 on this kind of machine
  (../shared/reference/README.md).

Run: .venv/bin/python benchmarks/bench_presso.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mrkit.methods.presso import presso

ROOT = Path(__file__).resolve().parents[1]
REF = next(
    (
        p
        for p in (ROOT.parent / "shared" / "reference", ROOT / "shared" / "reference")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "reference",
)
R_SECONDS_28_SNPS_10K = 348.8  # quoted from ../shared/reference/README.md
GOALS = {"mr_ldlc_chd": 3.5, "mrraps_bmi_bmi": 30.0}
NDRAW = 10_000


def load(name: str):
    df = pd.read_csv(REF / "data" / f"{name}.csv")
    return tuple(
        df[c].to_numpy(float)
        for c in ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    )


def naive_presso(bx, sx, by, sy, ndraw: int, seed: int = 0):
    """Global + outlier test with a Python loop over draws and over left-out variants."""
    rng = np.random.default_rng(seed)
    s = np.sign(bx)
    bx, by = bx * s, by * s
    n = bx.shape[0]
    w = 1.0 / sy**2

    def loo_fit(x, y):
        est = np.empty(n)
        for i in range(n):
            keep = np.arange(n) != i
            xw, yw = x[keep] * np.sqrt(w[keep]), y[keep] * np.sqrt(w[keep])
            est[i] = np.linalg.lstsq(xw[:, None], yw, rcond=None)[0][0]
        return est

    loo = loo_fit(bx, by)
    rss_obs = np.sum(w * (by - loo * bx) ** 2)
    mean_y = loo * bx
    exceed = 0
    out_exceed = np.zeros(n)
    dif2 = (by - bx * loo) ** 2
    for _ in range(ndraw):
        xs = rng.normal(bx, sx)
        ys = rng.normal(mean_y, sy)
        est = loo_fit(xs, ys)
        exceed += np.sum(w * (ys - est * xs) ** 2) > rss_obs
        out_exceed += (ys - xs * loo) ** 2 > dif2
    return exceed / ndraw, np.minimum(1, out_exceed / ndraw * n)


def timed(fn, *args, repeat: int = 3, **kw) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    warnings.simplefilter("ignore")
    print(f"MR-PRESSO, {NDRAW:,} distributions (global + outlier + distortion tests)")
    ok = True
    for name in ("mr_ldlc_chd", "mrraps_bmi_bmi"):
        bx, sx, by, sy = load(name)
        n = bx.shape[0]
        presso(bx, sx, by, sy, n_distributions=NDRAW, seed=1)  # warm-up
        t_mrkit = timed(presso, bx, sx, by, sy, n_distributions=NDRAW, seed=1)
        naive_draws = NDRAW if n <= 50 else 200
        t0 = time.perf_counter()
        naive_presso(bx, sx, by, sy, naive_draws)
        t_naive = (time.perf_counter() - t0) * NDRAW / naive_draws
        tag = "" if naive_draws == NDRAW else f" (extrapolated from {naive_draws} draws)"
        goal = GOALS[name]
        met = t_mrkit < goal
        ok &= met
        print(f"\n{name}: {n} variants")
        print(
            f"  mrkit presso          {t_mrkit:8.3f} s   (goal < {goal} s: "
            f"{'met' if met else 'NOT met'})"
        )
        print(f"  naive Python loop     {t_naive:8.1f} s{tag}")
        print(f"  speed-up vs naive loop (same run): {t_naive / t_mrkit:,.0f}x")
        if name == "mr_ldlc_chd":
            print(
                f"  R MRPRESSO 1.0        {R_SECONDS_28_SNPS_10K:8.1f} s   (quoted from "
                "reference/README.md, not measured in this run: R is not installed)"
            )
            print(f"  speed-up vs quoted R: {R_SECONDS_28_SNPS_10K / t_mrkit:,.0f}x (goal >= 100x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
