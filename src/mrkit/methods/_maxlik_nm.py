"""R's ``optim`` Nelder-Mead and ``optimHess`` on the two-sample likelihood, compiled.

MendelianRandomization ``mr_maxlik`` and TwoSampleMR ``mr_two_sample_ml`` call

.. code-block:: r

    optim(c(bx, ivw), loglikelihood, hessian = TRUE, control = list(maxit = 25000))

on :math:`\\ell(\\gamma, \\beta) = \\tfrac12\\sum_j (\\beta_{Xj} - \\gamma_j)^2/\\sigma_{Xj}^2 +
\\tfrac12\\sum_j (\\beta_{Yj} - \\beta\\gamma_j)^2/\\sigma_{Yj}^2` (J + 1 parameters).
:func:`nelder_mead` follows R's ``nmmin`` (Nash, *Compact Numerical Methods*,
algorithm 19) branch for branch: reflection :math:`\\alpha = 1`, contraction
:math:`\\beta = 0.5`, expansion :math:`\\gamma = 2`; the initial simplex steps each
coordinate in turn by :math:`0.1\\max_i|x_i|` (0.1 if all are 0, times 10 until the
coordinate changes); the search stops when the highest and lowest vertex values
differ by at most ``reltol * (|f(x_0)| + reltol)`` (a tolerance fixed by the
*starting* value; R's default ``reltol = sqrt(.Machine$double.eps)``), once more
than ``maxit`` function evaluations were used (``convergence = 1``), or when a
shrink fails to reduce the simplex size (``convergence = 10``); non-finite values
count as 1e35. :func:`optimhess` is R's ``optimhess``: central differences (step
``ndeps = 1e-3``) of the central-difference gradient, symmetrised.

R sums with an extended-precision accumulator; the objective here sums with
Neumaier's compensated summation, which rounds the same way except in rare ties,
so the sequence of simplex moves, and the answer, is R's (checked to 1e-6 against
the reference results, usually to the last digit).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from mrkit._core.arrays import FloatArray

__all__ = ["nelder_mead", "optimhess"]

_BIG = 1.0e35
_RELTOL = math.sqrt(float(np.finfo(float).eps))


@nb.njit(cache=True, nogil=True)
def _ll(p, bx, sx, by, sy):
    """``loglikelihood`` of mr_maxlik at ``p = (gamma_1..gamma_J, beta)``."""
    n = bx.shape[0]
    beta = p[n]
    out = 0.0
    for part in range(2):
        s = 0.0
        c = 0.0
        for i in range(n):
            if part == 0:
                d = bx[i] - p[i]
                t = d * d / (sx[i] * sx[i])
            else:
                d = by[i] - beta * p[i]
                t = d * d / (sy[i] * sy[i])
            u = s + t
            if abs(s) >= abs(t):
                c += (s - u) + t
            else:
                c += (t - u) + s
            s = u
        out += 0.5 * (s + c)
    return out


@nb.njit(cache=True, nogil=True)
def _fn(p, bx, sx, by, sy):
    v = _ll(p, bx, sx, by, sy)
    return v if np.isfinite(v) else _BIG


@nb.njit(cache=True, nogil=True)
def _nmmin(x0, bx, sx, by, sy, maxit, reltol, abstol, alpha, beta, gamma):
    n = x0.shape[0]
    bvec = x0.copy()
    fval = _ll(bvec, bx, sx, by, sy)
    funcount = 1
    convtol = reltol * (abs(fval) + reltol)
    n1 = n + 1
    cen = n + 1
    p = np.zeros((n1, n + 2))
    p[n, 0] = fval
    for i in range(n):
        p[i, 0] = bvec[i]
    lo = 1
    size = 0.0
    step = 0.0
    for i in range(n):
        if 0.1 * abs(bvec[i]) > step:
            step = 0.1 * abs(bvec[i])
    if step == 0.0:
        step = 0.1
    for j in range(2, n1 + 1):
        for i in range(n):
            p[i, j - 1] = bvec[i]
        trystep = step
        while p[j - 2, j - 1] == bvec[j - 2]:
            p[j - 2, j - 1] = bvec[j - 2] + trystep
            trystep *= 10.0
        size += trystep
    oldsize = size
    calcvert = True
    fail = 0
    while True:
        if calcvert:
            for j in range(n1):
                if j + 1 != lo:
                    for i in range(n):
                        bvec[i] = p[i, j]
                    p[n, j] = _fn(bvec, bx, sx, by, sy)
                    funcount += 1
            calcvert = False
        vl = p[n, lo - 1]
        vh = vl
        hi = lo
        for j in range(1, n1 + 1):
            if j != lo:
                fj = p[n, j - 1]
                if fj < vl:
                    lo = j
                    vl = fj
                if fj > vh:
                    hi = j
                    vh = fj
        if vh <= vl + convtol or vl <= abstol:
            break
        for i in range(n):
            temp = -p[i, hi - 1]
            for j in range(n1):
                temp += p[i, j]
            p[i, cen] = temp / n
        for i in range(n):
            bvec[i] = (1.0 + alpha) * p[i, cen] - alpha * p[i, hi - 1]
        fval = _fn(bvec, bx, sx, by, sy)
        funcount += 1
        vr = fval
        if vr < vl:
            p[n, cen] = fval
            for i in range(n):
                fe = gamma * bvec[i] + (1.0 - gamma) * p[i, cen]
                p[i, cen] = bvec[i]
                bvec[i] = fe
            fval = _fn(bvec, bx, sx, by, sy)
            funcount += 1
            if fval < vr:
                for i in range(n):
                    p[i, hi - 1] = bvec[i]
                p[n, hi - 1] = fval
            else:
                for i in range(n):
                    p[i, hi - 1] = p[i, cen]
                p[n, hi - 1] = vr
        else:
            if vr < vh:
                for i in range(n):
                    p[i, hi - 1] = bvec[i]
                p[n, hi - 1] = vr
            for i in range(n):
                bvec[i] = (1.0 - beta) * p[i, hi - 1] + beta * p[i, cen]
            fval = _fn(bvec, bx, sx, by, sy)
            funcount += 1
            if fval < p[n, hi - 1]:
                for i in range(n):
                    p[i, hi - 1] = bvec[i]
                p[n, hi - 1] = fval
            elif vr >= vh:
                calcvert = True
                size = 0.0
                for j in range(n1):
                    if j + 1 != lo:
                        for i in range(n):
                            p[i, j] = beta * (p[i, j] - p[i, lo - 1]) + p[i, lo - 1]
                            size += abs(p[i, j] - p[i, lo - 1])
                if size < oldsize:
                    oldsize = size
                else:
                    fail = 10
                    break
        if funcount > maxit:
            break
    if funcount > maxit:
        fail = 1
    par = np.empty(n)
    for i in range(n):
        par[i] = p[i, lo - 1]
    return par, p[n, lo - 1], funcount, fail


@nb.njit(cache=True, nogil=True)
def _grad(x, bx, sx, by, sy, ndeps):
    n = x.shape[0]
    df = np.empty(n)
    for i in range(n):
        xi = x[i]
        x[i] = xi + ndeps
        v1 = _ll(x, bx, sx, by, sy)
        x[i] = xi - ndeps
        v2 = _ll(x, bx, sx, by, sy)
        df[i] = (v1 - v2) / (2.0 * ndeps)
        x[i] = xi
    return df


@nb.njit(cache=True, nogil=True)
def _hess(par, bx, sx, by, sy, ndeps):
    n = par.shape[0]
    x = par.copy()
    h = np.empty((n, n))
    for i in range(n):
        xi = x[i]
        x[i] = xi + ndeps
        df1 = _grad(x, bx, sx, by, sy, ndeps)
        x[i] = x[i] - 2.0 * ndeps
        df2 = _grad(x, bx, sx, by, sy, ndeps)
        for j in range(n):
            h[i, j] = (df1[j] - df2[j]) / (2.0 * ndeps)
        x[i] = x[i] + ndeps
    return 0.5 * (h + h.T)


def nelder_mead(
    bx: FloatArray,
    sx: FloatArray,
    by: FloatArray,
    sy: FloatArray,
    *,
    maxit: int = 25000,
    reltol: float = _RELTOL,
) -> tuple[FloatArray, float, int, int]:
    """``optim(c(bx, ivw), loglikelihood, control = list(maxit))``: ``(par, value,
    counts, convergence)``, started where mr_maxlik starts (the IVW estimate)."""
    x, s, y, t = (np.ascontiguousarray(a, dtype=np.float64) for a in (bx, sx, by, sy))
    ivw = float(np.sum(x * y / t**2) / np.sum(x**2 / t**2))
    x0 = np.append(x, ivw)
    nm = _nmmin(x0, x, s, y, t, int(maxit), reltol, -math.inf, 1.0, 0.5, 2.0)
    par, value, counts, fail = nm
    return par, float(value), int(counts), int(fail)


def optimhess(
    par: FloatArray, bx: FloatArray, sx: FloatArray, by: FloatArray, sy: FloatArray
) -> FloatArray:
    """R's ``optimHess(par, loglikelihood)`` (``ndeps = 1e-3``), symmetrised."""
    x, s, y, t = (np.ascontiguousarray(a, dtype=np.float64) for a in (bx, sx, by, sy))
    p = np.asarray(par, dtype=np.float64)
    return np.asarray(_hess(p, x, s, y, t, 1e-3))
