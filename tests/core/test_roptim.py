"""The ports of R's ``optimize`` (Brent's fmin) against answers R computed with it."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit._core.roptim import r_optimize, r_sum

pytestmark = requires_shared


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_r_optimize_reproduces_mr_raps_simple(ds):
    """mr.raps.simple(bx, by, bxse, byse)$beta.hat is
    optimize(profile.loglike, bound * c(-1, 1), maximum = TRUE,
    tol = .Machine$double.eps^0.5)$maximum, bound = 2 * quantile(|by/bx|, 0.95),
    doubled while the maximum is within 5% of it. R stops 1e-8 from the optimum;
    taking R's steps gives R's answer (to the last digit on 6 of the 7 datasets)."""
    bx, sx, by, sy = ref_arrays(ds)

    def neg_loglik(b: float) -> float:
        return 0.5 * r_sum((by - bx * b) ** 2 / (sy**2 + sx**2 * b**2))

    tol = np.finfo(float).eps ** 0.5
    bound = float(np.quantile(np.abs(by / bx), 0.95)) * 2
    b = r_optimize(neg_loglik, -bound, bound, tol=tol)
    while abs(b) > 0.95 * bound:
        bound *= 2
        b = r_optimize(neg_loglik, -bound, bound, tol=tol)
    ref = ref_results(ds)["mr.raps"]["mr.raps.simple"]["result"]["beta.hat"]
    assert rel_close(b, ref, rtol=1e-11)


def test_r_optimize_default_tolerance_is_coarse():
    """optimize(function(x) (x - 1/3)^2, c(0, 1))$minimum: R's default tol
    (eps^0.25 = 1.2e-4) bounds the error; a parabola is found in a few steps."""
    x = r_optimize(lambda v: (v - 1 / 3) ** 2, 0.0, 1.0)
    assert abs(x - 1 / 3) < 1.3e-4
