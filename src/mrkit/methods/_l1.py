"""Weighted median (L1) regression through the origin: exact and batched.

:func:`l1_fit` solves :math:`\\min_\\beta \\sum_i w_i|y_i - x_i^\\top\\beta|` exactly as a
linear programme (HiGHS), which gives the same vertex solution as quantreg's
``rq(y ~ x - 1, weights = w)`` (quantreg multiplies rows by the weights).
:func:`l1_fit_batch` solves many such problems at once (bootstrap draws) by
iteratively reweighted least squares, vectorised over the draws.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

from mrkit.errors import MrkitError


def l1_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact weighted L1 regression without intercept (``x``: n x k)."""
    n, k = x.shape
    c = np.concatenate([np.zeros(k), w, w])
    a_eq = sparse.hstack([sparse.csr_matrix(x), sparse.eye(n), -sparse.eye(n)]).tocsr()
    bounds = [(None, None)] * k + [(0, None)] * (2 * n)
    res = optimize.linprog(c, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - HiGHS solves these LPs
        msg = f"weighted median regression failed: {res.message}"
        raise MrkitError(msg)
    return np.asarray(res.x[:k])


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, b[..., None])[..., 0]


def _gram(x: np.ndarray, ww: np.ndarray, y: np.ndarray):
    xw = x * ww[:, :, None]
    xt = np.swapaxes(xw, 1, 2)
    return xt @ x, (xt @ y[..., None])[..., 0]


def l1_fit_batch(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, iterations: int = 10):
    """Weighted L1 regression for a batch: ``x`` (B, n, k), ``y`` (B, n) -> (B, k).

    Exact: a few smoothed IRLS steps (weights :math:`w_i/\\sqrt{r_i^2 + \\epsilon^2}`,
    :math:`\\epsilon` shrinking) bring every draw near its optimum; the k observations
    with the smallest residuals give a starting vertex, and simplex pivots with exact
    line searches (all draws at once) move to the optimal vertex, verified by the
    subgradient condition. Draws still not optimal after 100 pivots (degenerate
    cases) are solved by :func:`l1_fit`.
    """
    bsz, n, k = x.shape
    wb = np.broadcast_to(w, (bsz, n))
    beta = _solve(*_gram(x, wb, y))
    scale = np.median(np.abs(y - (x @ beta[..., None])[..., 0]), axis=1)[:, None]
    scale = np.maximum(scale, 1e-300)
    for eps in np.geomspace(1.0, 1e-6, iterations):
        r = y - (x @ beta[..., None])[..., 0]
        beta = _solve(*_gram(x, w[None, :] / np.sqrt(r * r + (eps * scale) ** 2), y))
    r = y - (x @ beta[..., None])[..., 0]
    basis = np.argsort(np.abs(r), axis=1)[:, :k]
    out = np.empty((bsz, k))
    todo = np.arange(bsz)
    eye = np.eye(k)
    for _ in range(100):
        if todo.size == 0:
            return out
        xs, ys, bs = x[todo], y[todo], basis[todo]
        rows = np.arange(todo.size)[:, None]
        xb = xs[rows, bs]
        sing = np.abs(np.linalg.det(xb)) < 1e-300
        xb = np.where(sing[:, None, None], eye[None], xb)
        beta = _solve(xb, ys[rows, bs])
        r = ys - (xs @ beta[..., None])[..., 0]
        sgn = np.sign(r)
        sgn[rows, bs] = 0.0
        g = ((w[None, :] * sgn)[:, None, :] @ xs)[:, 0, :]
        lam = _solve(np.swapaxes(xb, 1, 2), -g) / w[bs]
        j = np.argmax(np.abs(lam), axis=1)
        lj = lam[np.arange(todo.size), j]
        done = (np.abs(lj) <= 1.0 + 1e-9) & ~sing
        out[todo[done]] = beta[done]
        if sing.any():
            for i in todo[sing]:
                out[i] = l1_fit(x[i], y[i], w)
        move = ~done & ~sing
        if not move.any():
            return out
        xs, r, bs, xb, j, lj = xs[move], r[move], bs[move], xb[move], j[move], lj[move]
        m = np.arange(j.size)
        direction = _solve(xb, eye[j]) * -np.sign(lj)[:, None]
        a = (xs @ direction[..., None])[..., 0]
        keep = a[m, bs[m, j]]
        a[m[:, None], bs] = 0.0
        a[m, bs[m, j]] = keep
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(np.abs(a) > 1e-300, r / a, np.inf)
        wt = np.where(np.isfinite(t), w[None, :] * np.abs(a), 0.0)
        order = np.argsort(t, axis=1)
        cw = np.cumsum(np.take_along_axis(wt, order, axis=1), axis=1)
        pos = np.argmax(cw >= cw[:, -1:] / 2.0, axis=1)
        bs = bs.copy()
        bs[m, j] = order[m, pos]
        todo = todo[move]
        basis[todo] = bs
    for i in todo:
        out[i] = l1_fit(x[i], y[i], w)
    return out
