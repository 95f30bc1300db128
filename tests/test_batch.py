"""Batched estimators (mrkit.methods._kernels, mrkit.methods._rows) equal the one-pair functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import UNIVARIABLE, ref_arrays, requires_shared
from mrkit.diagnostics.core import f_mean, i2gx
from mrkit.methods._kernels import egger_batch, f_mean_batch, i2gx_batch, ivw_batch
from mrkit.methods._rows import weighted_median_batch, weighted_mode_batch
from mrkit.methods.egger import egger
from mrkit.methods.ivw import ivw, ivw_fe, ivw_mre
from mrkit.methods.median import weighted_median_estimator
from mrkit.methods.mode import simple_mode, weighted_mode

RTOL = 1e-10
IVW = {"random": ivw, "fixed": ivw_fe, "mre": ivw_mre}


def _close(a: float, e: float, rtol: float = RTOL) -> bool:
    return abs(a - e) <= rtol * abs(e) + 1e-300


def _stack(pairs):
    cols = [np.concatenate([p[i] for p in pairs]) for i in range(4)]
    g = np.concatenate([np.full(len(p[0]), k) for k, p in enumerate(pairs)])
    return (*cols, g)


def _random_pairs(seed: int, sizes: list[int]):
    rng = np.random.default_rng(seed)
    pairs = []
    for j in sizes:
        bx = rng.normal(0, 0.1, j)
        bx = np.where(np.abs(bx) < 1e-3, 1e-3, bx)
        sx = rng.uniform(0.005, 0.03, j)
        by = rng.normal(0.3, 0.5) * bx + rng.normal(0, 0.02, j)
        sy = rng.uniform(0.005, 0.05, j)
        pairs.append((bx, sx, by, sy))
    return pairs


def _check_closed_form(pairs) -> None:
    bx, sx, by, sy, g = _stack(pairs)
    egg = egger_batch(bx, sx, by, sy, g)
    isq = i2gx_batch(bx, sx, g)
    fm = f_mean_batch(bx, sx, g)
    for model, fn in IVW.items():
        tab = ivw_batch(bx, sx, by, sy, g, model=model)
        for k, p in enumerate(pairs):
            row = tab.iloc[k]
            assert row["nsnp"] == len(p[0])
            if len(p[0]) < 2:
                assert np.isnan(row["estimate"])
                assert np.isnan(row["se"])
                continue
            r = fn(*p)
            for col in ("estimate", "se", "ci_lower", "ci_upper", "pval"):
                assert _close(row[col], getattr(r, col)), (model, k, col)
            assert _close(row["q"], r.extras["q"])
            assert _close(row["q_pval"], r.extras["q_pval"])
    for k, p in enumerate(pairs):
        row = egg.iloc[k]
        if len(p[0]) < 3:
            assert np.isnan(row["estimate"])
            assert np.isnan(row["egger_intercept"])
        else:
            r = egger(*p)
            for col in ("estimate", "se", "pval"):
                assert _close(row[col], getattr(r, col)), (k, col)
            for col in ("egger_intercept", "egger_intercept_se", "egger_intercept_pval", "q"):
                assert _close(row[col], r.extras[col]), (k, col)
        if len(p[0]) < 2:
            assert np.isnan(isq[k])
        else:
            assert _close(isq[k], i2gx(p[0], p[1]))
        assert _close(fm[k], f_mean(p[0], p[1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=8),
)
def test_closed_form_random_ragged(seed, sizes):
    _check_closed_form(_random_pairs(seed, sizes))


@requires_shared
def test_closed_form_reference_datasets():
    """All reference datasets stacked as pairs of one batch, plus a 1- and 2-SNP pair."""
    pairs = [ref_arrays(ds) for ds in UNIVARIABLE]
    pairs += [tuple(a[:1] for a in pairs[0]), tuple(a[:2] for a in pairs[0])]
    _check_closed_form(pairs)


def test_group_codes_must_be_integers():
    from mrkit.errors import InputError

    with pytest.raises(InputError, match="integer pair codes"):
        ivw_batch([1.0], [1.0], [1.0], [1.0], [0.5])


# ------------------------------------------------------------------ bootstrap methods


def _check_boot(pairs, seed, nboot=50) -> None:
    bx, sx, by, sy, g = _stack(pairs)
    seeds = seed if not isinstance(seed, list) else np.array(seed)
    med = weighted_median_batch(bx, sx, by, sy, g, nboot=nboot, seed=seeds, max_cells=3000)
    mod = weighted_mode_batch(bx, sx, by, sy, g, nboot=nboot, seed=seeds, max_cells=3000)
    smod = weighted_mode_batch(bx, sx, by, sy, g, kind="simple", nboot=nboot, seed=seeds)
    for k, p in enumerate(pairs):
        s = seed[k] if isinstance(seed, list) else seed
        if len(p[0]) < 3:
            assert med.iloc[k].isna()["estimate"]
            assert mod.iloc[k].isna()["se"]
            continue
        for tab, fn in (
            (med, weighted_median_estimator),
            (mod, weighted_mode),
            (smod, simple_mode),
        ):
            r = fn(*p, nboot=nboot, seed=s)
            row = tab.iloc[k]
            for col in ("estimate", "se", "ci_lower", "ci_upper", "pval"):
                assert _close(row[col], getattr(r, col)), (fn.__name__, k, col)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    shared=st.booleans(),
)
def test_boot_random_ragged(seed, sizes, shared):
    pairs = _random_pairs(seed, sizes)
    _check_boot(pairs, seed if shared else [seed + k for k in range(len(sizes))])


@requires_shared
def test_boot_reference_datasets():
    pairs = [ref_arrays(ds) for ds in UNIVARIABLE]
    _check_boot(pairs, 1, nboot=100)


def test_boot_seed_none_and_bad_seed():
    from mrkit.errors import InputError

    bx, sx, by, sy, g = _stack(_random_pairs(3, [5, 6]))
    tab = weighted_median_batch(bx, sx, by, sy, g, nboot=20, seed=None)
    assert np.isfinite(tab["se"]).all()
    with pytest.raises(InputError, match="one seed per pair"):
        weighted_mode_batch(bx, sx, by, sy, g, nboot=20, seed=[1, 2, 3])
