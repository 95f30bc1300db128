"""The analysis of a chunk of pairs, and the engines that run chunks.

``analyse_chunk`` runs every pair of a chunk through ONE ``estimate.analyse``
call; a pair's output must not depend on the other pairs of its chunk (the
chunk of many equals each pair as a chunk of one, key order included) and must
equal the one-pair engine call. A real Dask LocalCluster (2 workers, loopback)
gives the local results, and a worker dying mid-run (``os._exit``) does not lose
the map: Dask re-runs the task on a fresh worker (``retries``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mrkit.estimate import Pairs, analyse
from mrkit.results import records
from mrkit.study import engine as engine_mod
from mrkit.study.engine import DaskEngine, LocalEngine, analyse_chunk
from mrkit.study.filters import STEIGER_REASON, TraitInfo

METHODS = ["ivw", "egger", "weighted_median", "weighted_mode"]
SENS = ["heterogeneity", "pleiotropy", "leave_one_out", "single_snp", "steiger"]
FIELDS = ("estimates", "diagnostics", "heterogeneity", "leave_one_out", "single_snp", "skipped")


def _table(seed: int, j: int, *, slope: float = 0.2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    bx = rng.uniform(0.05, 0.2, j) * rng.choice([-1, 1], j)
    return pd.DataFrame(
        {
            "snp": [f"rs{seed}_{i}" for i in range(j)],
            "beta_exposure": bx,
            "se_exposure": rng.uniform(0.005, 0.02, j),
            "p_exposure": 1e-10,
            "eaf_exposure": rng.uniform(0.1, 0.5, j),
            "beta_outcome": slope * bx + rng.normal(0, 0.01, j),
            "se_outcome": rng.uniform(0.005, 0.02, j),
            "p_outcome": 0.01,
            "eaf_outcome": rng.uniform(0.1, 0.5, j),
            "keep": True,
            "reason": None,
        }
    )


def _mixed() -> tuple[list[pd.DataFrame], list[tuple[TraitInfo, TraitInfo, str]]]:
    """Pairs of 12, 1, 2, 3 and 30 variants, a NaN, none kept, wrong-direction variants."""
    tables = [_table(k, j) for k, j in enumerate([12, 1, 2, 3, 30, 8, 5, 20])]
    tables[5].loc[3, "beta_outcome"] = np.nan
    tables[6]["keep"] = False
    tables[6]["reason"] = "palindromic"
    tables[7].loc[:4, "beta_outcome"] = 0.4  # explain more outcome than exposure variance
    pairs = [
        (TraitInfo(f"x{k}", n=50000.0), TraitInfo("y", n=80000.0), "forward")
        for k in range(len(tables))
    ]
    pairs[3] = (pairs[3][0], TraitInfo("y", binary=True, ncase=2e4, ncontrol=3e4), "forward")
    return tables, pairs


KW = dict(methods=METHODS, sensitivity=SENS, steiger_filter=True, seed=3, nboot=100)


def _as_dicts(outs) -> list[dict]:
    return [{f: getattr(o, f) for f in (*FIELDS, "error")} for o in outs]


@pytest.fixture(scope="module")
def mixed_outputs():
    tables, pairs = _mixed()
    return analyse_chunk(tables, pairs, **KW)


def test_chunk_equals_each_pair_alone(mixed_outputs):
    tables, pairs = _mixed()
    alone = [analyse_chunk([t], [p], **KW)[0] for t, p in zip(tables, pairs, strict=True)]
    got, want = _as_dicts(mixed_outputs), _as_dicts(alone)
    for g, w in zip(got, want, strict=True):
        assert g == w
        for f in ("estimates", "diagnostics"):  # the same columns in the same order
            rows_g = g[f] if isinstance(g[f], list) else [g[f]]
            rows_w = w[f] if isinstance(w[f], list) else [w[f]]
            assert [list(r) for r in rows_g] == [list(r) for r in rows_w]
    for a, b in zip(mixed_outputs, alone, strict=True):
        pd.testing.assert_frame_equal(a.harmonised, b.harmonised)


def test_estimates_are_the_one_pair_engine_call(mixed_outputs):
    out = mixed_outputs[0]
    used = out.harmonised[out.harmonised["keep"]]
    res = analyse(
        Pairs.from_arrays(
            *(used[c] for c in ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")),
            snp=used["snp"],
        ),
        METHODS,
        seed=3,
        nboot=100,
    )
    keys = {"exposure": "x0", "outcome": "y", "direction": "forward"}
    assert out.estimates == [{**keys, **r} for r in records(res.estimates)]
    assert out.leave_one_out == [{**keys, **r} for r in records(res.leave_one_out)]
    assert out.diagnostics["nsnp"] == len(used) == 12
    assert out.diagnostics["i2gx"] == pytest.approx(float(res.strength["i2gx"].iloc[0]))


def test_small_pairs_and_failures_stay_with_their_pair(mixed_outputs):
    one, two, three = mixed_outputs[1], mixed_outputs[2], mixed_outputs[3]
    assert [r["method"] for r in one.estimates] == ["wald_ratio"]  # TwoSampleMR's rule
    assert {s["method"] for s in one.skipped} >= {"heterogeneity", "leave_one_out"}
    assert [r["method"] for r in two.estimates] == ["ivw"]
    assert {s["method"] for s in two.skipped} >= {"egger", "weighted_median", "weighted_mode"}
    assert "egger_intercept" in two.estimates[0]  # columns of a one-pair call
    assert len(three.estimates) == 4
    assert mixed_outputs[5].error == "`by` is not finite at row 3 (1 such rows)"
    assert mixed_outputs[6].error == "no instruments left after harmonisation"
    assert [o.error for i, o in enumerate(mixed_outputs) if i not in (5, 6)] == [None] * 6
    assert all(o.elapsed_s > 0 for o in mixed_outputs)


def test_steiger_filter_marks_rows_never_deletes(mixed_outputs):
    tab = mixed_outputs[7].harmonised
    assert len(tab) == 20
    wrong = tab["reason"] == STEIGER_REASON
    assert wrong.sum() >= 3
    assert not tab.loc[wrong, "keep"].any()
    assert mixed_outputs[7].diagnostics["nsnp"] == int(tab["keep"].sum())
    assert {"rsq_exposure", "steiger_dir", "steiger_pval"} <= set(tab.columns)


def test_batch_failure_falls_back_to_each_pair(monkeypatch, mixed_outputs):
    """If the chunk's one analyse call raises, every pair is analysed alone."""
    real = engine_mod.analyse

    def picky(pairs, *args, **kwargs):
        if pairs.npairs > 1:
            raise RuntimeError("a chunk-wide failure")
        return real(pairs, *args, **kwargs)

    monkeypatch.setattr(engine_mod, "analyse", picky)
    tables, pairs = _mixed()
    assert _as_dicts(analyse_chunk(tables, pairs, **KW)) == _as_dicts(mixed_outputs)


def test_a_split_failing_half_way_leaves_no_trace(monkeypatch, mixed_outputs):
    """A batch whose split breaks after filling some pairs: each pair alone, no duplicates."""
    real = engine_mod._split

    def breaks(outs, live, res, names):
        real(outs, live, res, names)
        if len(live) > 1:
            raise RuntimeError("split broke after writing its rows")

    monkeypatch.setattr(engine_mod, "_split", breaks)
    tables, pairs = _mixed()
    assert _as_dicts(analyse_chunk(tables, pairs, **KW)) == _as_dicts(mixed_outputs)


def test_presso_options_reach_the_filter():
    tables, pairs = _mixed()
    kw = {**KW, "sensitivity": [*SENS, "presso"], "presso_correct": True}
    outs = analyse_chunk(tables[:1], pairs[:1], **kw, options={"presso": {"n_distributions": 40}})
    p = outs[0].diagnostics["presso_global_pval"]
    assert p * 40 == pytest.approx(round(p * 40))  # a multiple of 1/40
    wm = analyse_chunk(
        tables[:1], pairs[:1], **KW, options={"weighted_median": {"nboot": 20, "seed": 9}}
    )[0].estimates[2]
    assert (wm["method"], wm["nboot"], wm["seed"]) == ("weighted_median", 20, 9)


# -- engines ---------------------------------------------------------------------------------
def _tasks(n: int = 4) -> list[dict]:
    return [
        {
            "tables": [_table(10 * k + i, 6 + 3 * i) for i in range(3)],
            "pairs": [
                (TraitInfo(f"exp{k}_{i}", n=10000.0), TraitInfo("out", n=20000.0), "forward")
                for i in range(3)
            ],
            "methods": METHODS,
            "nboot": 100,
            "seed": 1,
            "threads": 1,
        }
        for k in range(n)
    ]


def _estimates(chunks) -> list[tuple]:
    return [
        (o.exposure, o.outcome, r["method"], r["estimate"], r["se"], r["pval"])
        for outs in chunks
        for o in outs
        for r in o.estimates
    ]


def _die_once(marker: str, **task):
    """Kill the worker process the first time it runs (no marker file yet)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os._exit(1)
    return analyse_chunk(**task)


@pytest.fixture(scope="module")
def local_results():
    return _estimates(LocalEngine().map(analyse_chunk, _tasks()))


def test_dask_local_cluster_equals_local(local_results):
    pytest.importorskip("distributed")
    ticks = []
    out = DaskEngine(workers=2).map(analyse_chunk, _tasks(), on_done=lambda: ticks.append(1))
    assert len(ticks) == 4
    assert [o.exposure for outs in out for o in outs][:3] == ["exp0_0", "exp0_1", "exp0_2"]
    got = _estimates(out)
    assert len(got) == len(local_results) >= 48
    assert got == local_results  # same seed per pair: bit-identical
    assert all(o.error is None for outs in out for o in outs)


def test_dask_survives_worker_death(tmp_path, local_results):
    pytest.importorskip("distributed")
    marker = str(tmp_path / "died")
    tasks = [{"marker": marker, **t} for t in _tasks()]
    out = DaskEngine(workers=2, retries=2).map(_die_once, tasks)
    assert Path(marker).read_text() == "died"
    assert _estimates(out) == local_results


def test_cml_gets_the_pair_sample_size():
    """cML's ``n`` in a study: the variants' smaller N, else the traits' (cases + controls)."""
    tables, pairs = _mixed()
    with_n = tables[0].assign(n_exposure=40000.0, n_outcome=np.nan)
    kw = {**KW, "methods": ["cml_ma_bic"], "sensitivity": []}
    outs = analyse_chunk([with_n, tables[0]], pairs[:1] * 2, **kw)
    got = [o.estimates[0] for o in outs]
    assert [r["method"] for r in got] == ["cml_ma_bic", "cml_ma_bic"]
    want = [
        analyse(
            Pairs.from_table(t.assign(samplesize_exposure=n)), ["cml_ma_bic"], seed=3
        ).estimates.iloc[0]["estimate"]
        for t, n in ((with_n, 40000.0), (tables[0], 50000.0))
    ]
    assert [r["estimate"] for r in got] == pytest.approx(want, rel=1e-12)


def test_dask_unreachable_address_is_one_line():
    """A scheduler address nobody listens on: a StudyError naming the key, not a traceback."""
    from mrkit.errors import StudyError

    engine = DaskEngine(address="tcp://127.0.0.1:1", connect_timeout=1)
    with pytest.raises(StudyError, match=r"engine.address: cannot reach the Dask scheduler"):
        engine.map(analyse_chunk, _tasks(1))
