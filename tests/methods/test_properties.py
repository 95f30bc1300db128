"""Invariances every univariable estimator must have (hypothesis-driven).

* flipping a variant's coding allele (negating its bx and by) and permuting the
  variants leave the estimate unchanged;
* expressing the outcome in other units (by, sy times c) multiplies the estimate
  and SE by c; the exposure in other units (bx, sx times c) divides them by c;
* the same seed gives the same result.

Bootstrap SEs are compared only where the draws map onto each other under the
transformation with the same seed: rescaling (every method) and, for the mode
estimators (which resample the ratios, invariant to coding), flipping.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrkit.methods import get_method

DETERMINISTIC = ["ivw", "ivw_fe", "ivw_mre", "egger"]
MEDIANS = ["simple_median", "weighted_median", "penalised_weighted_median"]
MODES = ["simple_mode", "weighted_mode", "simple_mode_nome", "weighted_mode_nome", "penalised_mode"]
ALL = DETERMINISTIC + MEDIANS + MODES
OPTS = {"seed": 17, "nboot": 40}

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def _data(seed: int, n: int):
    rng = np.random.default_rng(seed)
    bx = rng.choice([-1.0, 1.0], n) * rng.uniform(0.05, 1.0, n)
    sx = rng.uniform(0.005, 0.05, n)
    sy = rng.uniform(0.01, 0.2, n)
    by = 0.3 * bx + rng.normal(0.0, 1.0, n) * sy * 1.5 + rng.normal(0, 0.01, n)
    return bx, sx, by, sy, rng


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-300)


def _run(name, *arrays):
    return get_method(name)(*arrays, **OPTS)


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30))
def test_flip_orientation(name, seed, n):
    bx, sx, by, sy, rng = _data(seed, n)
    flip = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    r0 = _run(name, bx, sx, by, sy)
    r1 = _run(name, bx * flip, sx, by * flip, sy)
    assert _close(r0.estimate, r1.estimate)
    if name in DETERMINISTIC or name in MODES:
        assert _close(r0.se, r1.se)


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30))
def test_permutation(name, seed, n):
    bx, sx, by, sy, rng = _data(seed, n)
    p = rng.permutation(n)
    r0 = _run(name, bx, sx, by, sy)
    r1 = _run(name, bx[p], sx[p], by[p], sy[p])
    assert _close(r0.estimate, r1.estimate)
    if name in DETERMINISTIC:
        assert _close(r0.se, r1.se)
        assert _close(r0.pval, r1.pval)


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30), c=st.floats(0.05, 20.0))
def test_outcome_units(name, seed, n, c):
    bx, sx, by, sy, _ = _data(seed, n)
    r0 = _run(name, bx, sx, by, sy)
    r1 = _run(name, bx, sx, by * c, sy * c)
    assert _close(r1.estimate, c * r0.estimate)
    assert _close(r1.se, c * r0.se)


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30), c=st.floats(0.05, 20.0))
def test_exposure_units(name, seed, n, c):
    bx, sx, by, sy, _ = _data(seed, n)
    r0 = _run(name, bx, sx, by, sy)
    r1 = _run(name, bx * c, sx * c, by, sy)
    assert _close(r1.estimate, r0.estimate / c)
    assert _close(r1.se, r0.se / c)


@pytest.mark.parametrize("name", MEDIANS + MODES)
def test_same_seed_same_result(name):
    bx, sx, by, sy, _ = _data(3, 20)
    assert _run(name, bx, sx, by, sy) == _run(name, bx, sx, by, sy)
