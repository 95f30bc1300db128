"""R's ``optimize``, step for step, for every estimator whose R answers depend on it.

* :func:`r_optimize`: ``stats::optimize`` (Brent's ``fmin`` as in R's
  ``src/library/stats/src/optimize.c``): golden-section search with parabolic
  interpolation, stopping when :math:`|x - m| \\le 2t - (b - a)/2` with
  :math:`t = \\sqrt{\\epsilon}|x| + \\mathrm{tol}/3` and default
  ``tol = .Machine$double.eps^0.25``. RadialMR's exact weights and mr.raps's
  first-generation fits use it; with R's tolerance the minimiser is only found to
  about 1e-4, so matching R means taking the same steps. susieR's prior-variance
  search (``optim(method = "Brent")``, which is ``optimize`` with
  ``tol = sqrt(.Machine$double.eps)``) uses it too, from :mod:`mrkit.coloc`.
* :func:`r_sum`: R's ``sum()`` of doubles.

R's ``optim`` Nelder-Mead and ``optimHess``, compiled for the maximum-likelihood
objective, are in :mod:`mrkit.methods._maxlik_nm`. These ports are written from the
algorithms' descriptions so that the R packages' numbers (RadialMR, mr.raps,
MendelianRandomization ``mr_maxlik``, susieR) can be reproduced; mrkit's defaults use
exact solvers instead.

References
----------
Brent RP (1973). Algorithms for Minimization without Derivatives, ch. 5; the ``fmin``
of Forsythe, Malcolm & Moler (1977) that R's ``optimize`` implements.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["OPTIMIZE_TOL", "r_optimize", "r_sum"]

_EPS = float(np.finfo(float).eps)
#: R's ``optimize`` default tolerance, ``.Machine$double.eps^0.25``.
OPTIMIZE_TOL = _EPS**0.25


def r_sum(x: np.ndarray) -> float:
    """R's ``sum()`` of doubles: left to right in extended precision, then rounded.

    Objectives written with R's ``sum`` decide Brent's and Nelder-Mead's branches by
    comparing values; summing as R does keeps those comparisons, and so the steps,
    identical.
    """
    return float(np.cumsum(np.asarray(x, dtype=np.longdouble))[-1])


def r_optimize(
    f: Callable[[float], float], lower: float, upper: float, tol: float = OPTIMIZE_TOL
) -> float:
    """The minimiser R's ``optimize(f, c(lower, upper), tol = tol)$minimum`` returns.

    Brent's ``fmin``: the first point is the golden section of the interval, and the
    search stops when ``|x - m| <= 2 t - (b - a)/2`` with ``m`` the midpoint and
    ``t = sqrt(eps) |x| + tol/3``. A non-finite ``f`` counts as the largest double,
    as in R. For ``maximum = TRUE`` pass ``-f``.
    """

    def fn(x: float) -> float:
        v = float(f(x))
        return v if math.isfinite(v) else float(np.finfo(float).max)

    c = (3.0 - math.sqrt(5.0)) * 0.5
    eps = math.sqrt(_EPS)
    a, b = lower, upper
    v = a + c * (b - a)
    w = x = v
    d = e = 0.0
    fx = fn(x)
    fv = fw = fx
    tol3 = tol / 3.0
    while True:
        xm = (a + b) * 0.5
        tol1 = eps * abs(x) + tol3
        t2 = tol1 * 2.0
        if abs(x - xm) <= t2 - (b - a) * 0.5:
            break
        p = q = r = 0.0
        if abs(e) > tol1:  # fit a parabola
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = (q - r) * 2.0
            if q > 0.0:
                p = -p
            else:
                q = -q
            r = e
            e = d
        if abs(p) >= abs(q * 0.5 * r) or p <= q * (a - x) or p >= q * (b - x):
            e = b - x if x < xm else a - x  # golden-section step
            d = c * e
        else:  # parabolic-interpolation step
            d = p / q
            u = x + d
            if u - a < t2 or b - u < t2:
                d = tol1 if x < xm else -tol1
        if abs(d) >= tol1:
            u = x + d
        elif d > 0.0:
            u = x + tol1
        else:
            u = x - tol1
        fu = fn(u)
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv = w, fw
                w, fw = u, fu
            elif fu <= fv or v in (x, w):
                v, fv = u, fu
    return x
