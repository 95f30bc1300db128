"""Engines: a real Dask LocalCluster (2 workers, loopback) gives the local results.

Also checks that a worker dying mid-run (``os._exit``) does not lose the map:
Dask re-runs the task on a fresh worker (``retries``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.study.engine import DaskEngine, LocalEngine
from mrkit.study.pairwork import TraitInfo, analyse_harmonised

pytest.importorskip("distributed")

METHODS = ["ivw", "egger", "weighted_median", "weighted_mode"]


def _table(seed: int, j: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    bx = rng.uniform(0.05, 0.2, j) * rng.choice([-1, 1], j)
    return pd.DataFrame(
        {
            "snp": [f"rs{seed}_{i}" for i in range(j)],
            "beta_exposure": bx,
            "se_exposure": rng.uniform(0.005, 0.02, j),
            "beta_outcome": 0.2 * bx + rng.normal(0, 0.01, j),
            "se_outcome": rng.uniform(0.005, 0.02, j),
            "keep": True,
            "reason": "",
        }
    )


def _tasks(n: int = 4) -> list[dict]:
    return [
        {
            "table": _table(k, 8 + 3 * k),
            "exposure": TraitInfo(f"exp{k}", n=10000),
            "outcome": TraitInfo("out", n=20000),
            "methods": METHODS,
            "sensitivity": [],
            "nboot": 100,
            "seed": 1,
        }
        for k in range(n)
    ]


def _estimates(outputs) -> list[tuple]:
    return [
        (o.exposure, o.outcome, r["method"], r["estimate"], r["se"], r["pval"])
        for o in outputs
        for r in o.estimates
    ]


def _die_once(marker: str, **task):
    """Kill the worker process the first time it runs (no marker file yet)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os._exit(1)
    return analyse_harmonised(**task)


@pytest.fixture(scope="module")
def local_results():
    return _estimates(LocalEngine().map(analyse_harmonised, _tasks()))


def test_dask_local_cluster_equals_local(local_results):
    ticks = []
    out = DaskEngine(workers=2).map(analyse_harmonised, _tasks(), on_done=lambda: ticks.append(1))
    assert len(ticks) == 4
    assert [o.exposure for o in out] == [f"exp{k}" for k in range(4)]
    got = _estimates(out)
    assert len(got) == len(local_results) >= 16
    assert got == local_results  # same seed per pair: bit-identical
    assert all(o.error is None for o in out)


def test_dask_survives_worker_death(tmp_path, local_results):
    marker = str(tmp_path / "died")
    tasks = [{"marker": marker, **t} for t in _tasks()]
    out = DaskEngine(workers=2, retries=2).map(_die_once, tasks)
    assert Path(marker).read_text() == "died"
    assert _estimates(out) == local_results
