"""One exposure-outcome pair with all of TwoSampleMR's default methods.

TwoSampleMR ``mr()`` takes 4.19 s per pair on this kind of machine (quoted from
shared/reference/README.md: R is not installed here, so it cannot be run in the
same process). The in-run baseline is a straightforward pure-Python/NumPy
version that loops over bootstrap draws, the way a direct port of the R code
runs. Run: ``.venv/bin/python benchmarks/bench_one_pair.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

import mrkit
from mrkit.methods import get_method

R_SECONDS = 4.19
DATA = Path(__file__).resolve().parents[1] / "examples" / "lipids-chd" / "ldlc_chd.csv"


def _timeit(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _looped_baseline(bx, sx, by, sy, nboot=1000, seed=1) -> None:
    """Each method once plus its bootstrap as a Python loop over draws."""
    rng = np.random.default_rng(seed)
    for name in ("weighted_median", "simple_mode", "weighted_mode"):
        spec = get_method(name)
        spec(bx, sx, by, sy, nboot=2, seed=seed)
        for _ in range(nboot):
            bxb = rng.normal(bx, sx)
            byb = rng.normal(by, sy)
            spec(bxb, sx, byb, sy, nboot=2, seed=seed)


def main() -> None:
    df = pd.read_csv(DATA)
    args = [
        df[c].to_numpy(float)
        for c in ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")
    ]
    mrkit.mr(df, seed=1)  # warm-up (imports)
    t = _timeit(lambda: mrkit.mr(df, methods="default", seed=1, nboot=1000))
    t_core = _timeit(lambda: mrkit.mr(df, methods="default", seed=1, nboot=1000, diagnostics=False))
    t_base = _timeit(lambda: _looped_baseline(*args), repeat=1)
    print(f"dataset: {DATA.name} ({len(df)} variants), default methods, nboot = 1000")
    print(f"mrkit.mr with diagnostics      : {t * 1000:8.1f} ms")
    print(f"mrkit.mr estimates only        : {t_core * 1000:8.1f} ms")
    print(
        f"looped NumPy baseline (same run): {t_base * 1000:8.1f} ms  "
        f"-> mrkit is {t_base / t:.0f}x faster"
    )
    print(f"TwoSampleMR mr() (quoted 4.19 s): mrkit is {R_SECONDS / t:.0f}x faster (goal >= 100x)")


if __name__ == "__main__":
    main()
