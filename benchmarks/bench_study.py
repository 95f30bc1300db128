"""A many-pairs study end to end: where the time of `mrkit run` goes.

Builds a synthetic study (numpy, no LD; ``tests/study/study_synth.py``) of
``--exposures`` x ``--outcomes`` pairs (default 200 x 5 = 1,000 pairs, plus the 5
pairs of an exposure without instruments), runs it with
:func:`mrkit.study.pipeline.run_study` and prints the stage timings, then the
estimators alone on the same harmonised pairs (one :func:`mrkit.estimate.analyse`
call: the baseline), and a re-run that finds every pair's part (resume). The
load average is printed with the figures: the machine may be shared.

    .venv/bin/python benchmarks/bench_study.py [--exposures 200] [--outcomes 5]
        [--nboot 1000] [--engine local|dask] [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "study"))

from study_synth import make_study  # noqa: E402

from mrkit.estimate import Pairs, analyse  # noqa: E402
from mrkit.study.pipeline import run_study  # noqa: E402


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exposures", type=int, default=200)
    ap.add_argument("--outcomes", type=int, default=5)
    ap.add_argument("--nboot", type=int, default=1000)
    ap.add_argument("--engine", choices=["local", "dask"], default="local")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="build the study here (kept)")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="mrkit-bench-study-"))
    engine = f'\n[engine]\nkind = "{args.engine}"\n'
    if args.workers:
        engine += f"workers = {args.workers}\n"
    t0 = time.perf_counter()
    study = make_study(
        root,
        n_exposures=args.exposures,
        n_outcomes=args.outcomes,
        nboot=args.nboot,
        empty=True,
        extra=engine,
    )
    print(f"study: {root} ({args.exposures + 1} x {args.outcomes} pairs)")
    print(f"  synthetic sumstats written in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    run = run_study(study, quiet=True, force=True)
    wall = time.perf_counter() - t0
    stats = run.manifest["analysis"]
    print(f"mrkit run: {wall:.1f} s for {stats['pairs']} pairs ({stats['failed']} failed)")
    print(f"  ({_load()})")
    for stage, secs in run.manifest["timings_s"].items():
        print(f"  {stage:<12} {secs:8.2f} s  {100 * secs / wall:5.1f} %")
    print(
        f"  analysis: {stats['tasks']} tasks of <= {stats['pairs_per_task']} pairs, "
        f"sum of per-pair times {stats['pair_s_total']:.1f} s"
    )
    n_figs = len(list((run.out_dir / "figures").glob("*_scatter.png")))
    html = run.out_dir / "report.html"
    print(f"  report: {n_figs} pairs with figures, report.html {html.stat().st_size / 1e6:.1f} MB")

    # baseline: the estimators alone, in-process, on the same harmonised pairs
    a = run.manifest["parameters"]["analysis"]
    h = run.harmonised
    t0 = time.perf_counter()
    pairs = Pairs.from_table(h[h.groupby(["exposure", "outcome"])["keep"].transform("any")])
    analyse(pairs, a["methods"], seed=run.manifest["seed"], nboot=a["nboot"])
    base = time.perf_counter() - t0
    print(f"baseline: one analyse() over the {pairs.npairs} pairs: {base:.1f} s")
    print(f"  mrkit run / baseline = {wall / base:.2f}  ({_load()})")

    t0 = time.perf_counter()
    again = run_study(study, quiet=True, force=True)
    resumed = time.perf_counter() - t0
    print(
        f"re-run with every part present: {resumed:.1f} s "
        f"({again.manifest['analysis']['reused']} pairs reused); "
        f"ratio to the first run {resumed / wall:.2f}"
    )


if __name__ == "__main__":
    main()
