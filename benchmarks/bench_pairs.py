"""Many exposure-outcome pairs: IVW, Egger, weighted median, weighted mode (1,000 draws).

Synthetic pairs with 20-100 variants each. Times mrkit's batched estimators
(:mod:`mrkit.methods._kernels`, :mod:`mrkit.methods._rows`) in this process and, with
``--dask``, split into chunks over a 2-worker ``LocalCluster``; the in-run
baselines are mrkit's one-pair functions in a Python loop and, if installed
(the ``bench`` extra: ``pip install -e '.[bench]'``), pytwosamplemr's
``mr_ivw``/``mr_egger``/``mr_median``/``mr_mbe`` with 1,000 iterations, both on a
subset of the same pairs and extrapolated per pair.

Run: ``.venv/bin/python benchmarks/bench_pairs.py [--pairs 1000 10000] [--dask]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np

from mrkit.methods._kernels import egger_batch, ivw_batch
from mrkit.methods._rows import weighted_median_batch, weighted_mode_batch
from mrkit.methods.egger import egger
from mrkit.methods.ivw import ivw
from mrkit.methods.median import weighted_median_estimator
from mrkit.methods.mode import weighted_mode

NBOOT = 1000


def synth(npairs: int, seed: int = 0):
    """Stacked ``bx, sx, by, sy, group`` of ``npairs`` pairs with 20-100 variants."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 101, npairs)
    g = np.repeat(np.arange(npairs), sizes)
    n = g.size
    bx = rng.uniform(0.02, 0.2, n) * rng.choice([-1.0, 1.0], n)
    sx = rng.uniform(0.004, 0.02, n)
    effect = rng.normal(0, 0.3, npairs)[g]
    pleio = rng.normal(0, 0.01, n) * (rng.random(n) < 0.2)
    by = effect * bx + pleio + rng.normal(0, 0.01, n)
    sy = rng.uniform(0.005, 0.03, n)
    return bx, sx, by, sy, g


def batched(bx, sx, by, sy, g, nboot: int = NBOOT) -> dict[str, float]:
    """All four methods batched; returns seconds per method."""
    t = {}
    for name, fn in (
        ("ivw", lambda: ivw_batch(bx, sx, by, sy, g)),
        ("egger", lambda: egger_batch(bx, sx, by, sy, g)),
        ("weighted_median", lambda: weighted_median_batch(bx, sx, by, sy, g, nboot=nboot)),
        ("weighted_mode", lambda: weighted_mode_batch(bx, sx, by, sy, g, nboot=nboot)),
    ):
        t0 = time.perf_counter()
        fn()
        t[name] = time.perf_counter() - t0
    return t


def _pair(arrays, g, k):
    m = g == k
    return tuple(a[m] for a in arrays)


def mrkit_loop(arrays, g, npairs: int) -> float:
    """Seconds for the one-pair functions over the first ``npairs`` pairs."""
    t0 = time.perf_counter()
    for k in range(npairs):
        p = _pair(arrays, g, k)
        ivw(*p)
        egger(*p)
        weighted_median_estimator(*p, nboot=NBOOT, seed=1)
        weighted_mode(*p, nboot=NBOOT, seed=1)
    return time.perf_counter() - t0


def pytwosamplemr_loop(arrays, g, npairs: int) -> float | None:
    try:
        import pytwosamplemr as p2
    except ImportError:
        return None
    t0 = time.perf_counter()
    for k in range(npairs):
        bx, sx, by, sy = _pair(arrays, g, k)
        obj = p2.mr_input(bx, sx, by, sy)
        p2.mr_ivw(obj)
        p2.mr_egger(obj)
        p2.mr_median(obj, iterations=NBOOT, seed=1)
        p2.mr_mbe(obj, iterations=NBOOT, seed=1)
    return time.perf_counter() - t0


def _chunk_task(npairs: int, seed: int, lo: int, hi: int) -> float:
    bx, sx, by, sy, g = synth(npairs, seed)
    m = (g >= lo) & (g < hi)
    return sum(batched(bx[m], sx[m], by[m], sy[m], g[m] - lo).values())


def dask_run(npairs: int, workers: int = 2) -> float:
    """Seconds (cluster start-up included) for the pairs in ``2 * workers`` chunks."""
    from mrkit.study.engine import DaskEngine

    edges = np.linspace(0, npairs, 2 * workers + 1).astype(int)
    tasks = [
        {"npairs": npairs, "seed": 0, "lo": int(a), "hi": int(b)}
        for a, b in itertools.pairwise(edges)
    ]
    t0 = time.perf_counter()
    DaskEngine(workers=workers).map(_chunk_task, tasks)
    return time.perf_counter() - t0


def _sized_run(npairs: int, queue) -> None:
    """In a fresh process: batched timings and the peak resident memory (MB)."""
    import resource

    data = synth(npairs, seed=0)
    batched(*synth(10, seed=1), nboot=10)  # warm-up: compiled kernels from the cache
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = batched(*data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((t, base, peak))


def sized_run(npairs: int) -> tuple[dict[str, float], float, float]:
    """:func:`_sized_run` in a spawned process, so peak memory is per size."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_sized_run, args=(npairs, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--subset", type=int, default=20, help="pairs for the looped baselines")
    ap.add_argument("--dask", action="store_true", help="also time a 2-worker LocalCluster")
    args = ap.parse_args()
    cores, load = len(os.sched_getaffinity(0)), os.getloadavg()[0]
    print(f"cores: {cores}, load average: {load:.2f}, draws: {NBOOT}")
    bx, sx, by, sy, g = synth(args.subset, seed=99)
    arrays = (bx, sx, by, sy)
    batched(bx, sx, by, sy, g, nboot=10)  # warm-up (imports, compiled kernels)
    loop = mrkit_loop(arrays, g, args.subset) / args.subset
    print(f"baseline mrkit one-pair loop: {loop * 1e3:.1f} ms/pair ({args.subset} pairs)")
    n_p2 = min(args.subset, 5)
    p2 = pytwosamplemr_loop(arrays, g, n_p2)
    if p2 is not None:
        p2 /= n_p2
        print(f"baseline pytwosamplemr loop: {p2 * 1e3:.0f} ms/pair ({n_p2} pairs)")
    else:
        print("pytwosamplemr not installed (pip install -e '.[bench]'): baseline skipped")
    for npairs in args.pairs:
        t, base, peak = sized_run(npairs)
        total = sum(t.values())
        detail = ", ".join(f"{k} {v:.2f}s" for k, v in t.items())
        print(f"\n{npairs} pairs, mrkit batched (1 process): {total:.2f} s  [{detail}]")
        print(f"  peak memory {peak:.0f} MB ({peak - base:+.0f} MB over the warmed-up process)")
        print(f"  vs mrkit loop (extrapolated {loop * npairs:.1f} s): {loop * npairs / total:.1f}x")
        if p2 is not None:
            print(
                f"  vs pytwosamplemr (extrapolated {p2 * npairs:.0f} s): {p2 * npairs / total:.0f}x"
            )
        if args.dask:
            d = dask_run(npairs)
            print(f"  dask LocalCluster 2 workers (incl. start-up): {d:.2f} s")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
