"""Many exposure-outcome pairs through ``mrkit mr``, as a whole process.

Synthetic pairs with 20-100 variants each are written to a TwoSampleMR-shaped
CSV (``id.exposure``/``id.outcome`` split it into pairs), then

    mrkit mr pairs.csv --methods ivw,egger,weighted_median,weighted_mode \\
        --nboot 1000 --seed 1 --json out.json

runs as a subprocess: interpreter start, imports, reading the table, the four
methods, every diagnostic (Q, Q', Egger intercept, I²GX, F, leave-one-out,
single-SNP) and writing the JSON are all in the time. Peak memory is the child's
maximum resident set. The in-run baseline is pytwosamplemr's ``mr_ivw``,
``mr_egger``, ``mr_median`` and ``mr_mbe`` (1,000 iterations) in a loop over a
subset of the same pairs, extrapolated per pair (the ``bench`` extra:
``pip install -e '.[bench]'``; without it the baseline is skipped). ``--dask``
also times :func:`mrkit.estimate.analyse` in chunks on a 2-worker Dask
``LocalCluster`` (start-up included).

Run: ``.venv/bin/python benchmarks/bench_pairs.py [--pairs 1000 10000] [--dask]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

NBOOT = 1000
METHODS = "ivw,egger,weighted_median,weighted_mode"
WORK = Path(__file__).resolve().parent / "_work"
MRKIT = Path(sys.executable).with_name("mrkit")


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


def write_table(npairs: int, seed: int = 0) -> Path:
    """The pairs as a TwoSampleMR-shaped CSV in ``benchmarks/_work`` (written once)."""
    path = WORK / f"pairs{npairs}-{seed}.csv"
    if not path.exists():
        WORK.mkdir(exist_ok=True)
        bx, sx, by, sy, g = synth(npairs, seed)
        pd.DataFrame(
            {
                "SNP": [f"rs{i}" for i in range(g.size)],
                "beta.exposure": bx,
                "se.exposure": sx,
                "beta.outcome": by,
                "se.outcome": sy,
                "id.exposure": [f"exposure{k}" for k in g],
                "id.outcome": "outcome",
                "mr_keep": True,
            }
        ).to_csv(path.with_suffix(".tmp"), index=False)
        path.with_suffix(".tmp").replace(path)
    return path


def mrkit_command(table: Path) -> tuple[float, float, dict]:
    """Wall seconds and peak RSS (MB) of ``mrkit mr`` on ``table``, and its JSON."""
    out = table.with_suffix(".json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(MRKIT), "mr", str(table), "--methods", METHODS, "--nboot", str(NBOOT),
         "--seed", "1", "--json", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"mrkit mr failed ({proc.returncode}):\n{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:  # ru_maxrss of children is the largest child so far
        peak = before
    return wall, peak / 1024, json.loads(out.read_text())


def pytwosamplemr_loop(npairs: int) -> float | None:
    """Seconds per pair of pytwosamplemr's four methods, over ``npairs`` pairs."""
    try:
        import pytwosamplemr as p2
    except ImportError:
        return None
    bx, sx, by, sy, g = synth(npairs, seed=99)
    t0 = time.perf_counter()
    for k in range(npairs):
        m = g == k
        obj = p2.mr_input(bx[m], sx[m], by[m], sy[m])
        p2.mr_ivw(obj)
        p2.mr_egger(obj)
        p2.mr_median(obj, iterations=NBOOT, seed=1)
        p2.mr_mbe(obj, iterations=NBOOT, seed=1)
    return (time.perf_counter() - t0) / npairs


def _chunk_task(npairs: int, seed: int, lo: int, hi: int) -> int:
    from mrkit.estimate import Pairs, analyse

    bx, sx, by, sy, g = synth(npairs, seed)
    m = (g >= lo) & (g < hi)
    pairs = Pairs.from_arrays(bx[m], sx[m], by[m], sy[m], group=g[m] - lo)
    return len(analyse(pairs, METHODS, nboot=NBOOT).estimates)


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--subset", type=int, default=5, help="pairs for the pytwosamplemr loop")
    ap.add_argument("--dask", action="store_true", help="also time a 2-worker LocalCluster")
    args = ap.parse_args()
    cores, load = len(os.sched_getaffinity(0)), os.getloadavg()[0]
    print(f"cores: {cores}, load average: {load:.2f}, draws: {NBOOT}, methods: {METHODS}")
    p2 = pytwosamplemr_loop(args.subset)
    if p2 is None:
        print("pytwosamplemr not installed (pip install -e '.[bench]'): baseline skipped")
    else:
        print(f"baseline pytwosamplemr loop: {p2 * 1e3:.0f} ms/pair ({args.subset} pairs)")
    mrkit_command(write_table(20, seed=1))  # warm-up: compiled kernels into the cache
    for npairs in args.pairs:
        table = write_table(npairs)
        wall, peak, res = mrkit_command(table)
        n_est = len(res["estimates"])
        print(f"\n{npairs:,} pairs: `mrkit mr` whole process {wall:.2f} s, peak RSS {peak:.0f} MB")
        print(
            f"  {n_est:,} estimates, {len(res['leave_one_out']):,} leave-one-out rows, "
            f"{len(res['skipped'])} skipped"
        )
        if p2 is not None:
            base = p2 * npairs
            print(f"  vs pytwosamplemr (extrapolated {base:.0f} s): {base / wall:.0f}x")
        if args.dask:
            print(f"  dask LocalCluster, 2 workers (incl. start-up): {dask_run(npairs):.2f} s")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
