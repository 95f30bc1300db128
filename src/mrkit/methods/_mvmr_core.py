"""Shared pieces of the multivariable estimators: the result type, input checks, WLS.

Used by :mod:`mrkit.methods.mvmr` and :mod:`mrkit.methods.mvmr_extra`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mrkit._core.arrays import critical, pvalue
from mrkit.errors import InputError, TooFewVariantsError
from mrkit.results import Summarised, _plain

Dist = Literal["normal", "t"]


@dataclass(frozen=True, repr=False)
class MVMRResult(Summarised):
    """The result of one multivariable estimator: one row per exposure.

    Attributes
    ----------
    method
        ``mvmr_ivw``, ``mvmr_egger``, ``mvmr_median`` or ``mvmr_lasso``.
    exposures
        Exposure names, in the column order of ``BX``.
    estimate, se, ci_lower, ci_upper, pval
        Arrays of length K (direct effects).
    nsnp
        Number of variants.
    extras
        Method-level quantities (Q, RSE, Egger intercept, valid variants, ...).
    """

    method: str
    exposures: tuple[str, ...]
    estimate: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    pval: np.ndarray
    nsnp: int
    alpha: float = 0.05
    extras: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One row per exposure: method, exposure, estimate, se, ci, pval, nsnp."""
        return pd.DataFrame(
            {
                "method": self.method,
                "exposure": list(self.exposures),
                "estimate": self.estimate,
                "se": self.se,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
                "pval": self.pval,
                "nsnp": self.nsnp,
            }
        )

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict: the per-exposure rows and the extras."""
        return {
            "method": self.method,
            "nsnp": self.nsnp,
            "alpha": self.alpha,
            "exposures": self.summary().drop(columns=["method", "nsnp"]).to_dict("records"),
            **{k: _plain(v) for k, v in self.extras.items()},
        }


def _as_mv(BX, SX, by, sy, *, method: str, min_extra: int = 1):
    """Validate (J x K, J x K, J, J); needs at least K + ``min_extra`` variants."""
    arrs = []
    for name, v, nd in (("BX", BX, 2), ("SX", SX, 2), ("by", by, 1), ("sy", sy, 1)):
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            msg = f"`{method}`: `{name}` is not numeric ({exc})"
            raise InputError(msg) from None
        if nd == 2 and a.ndim == 1:
            a = a[:, None]
        if a.ndim != nd:
            msg = f"`{method}`: `{name}` must be {nd}-dimensional, got shape {a.shape}"
            raise InputError(msg)
        if not np.all(np.isfinite(a)):
            bad = np.argwhere(~np.isfinite(a))[0]
            msg = f"`{method}`: `{name}` is not finite at row {int(bad[0])}"
            raise InputError(msg)
        arrs.append(a)
    bx, sx, byv, syv = arrs
    j, k = bx.shape
    if sx.shape != (j, k) or byv.shape != (j,) or syv.shape != (j,):
        msg = (
            f"`{method}`: shapes differ: BX {bx.shape}, SX {sx.shape}, by {byv.shape}, "
            f"sy {syv.shape} (need J x K, J x K, J, J)"
        )
        raise InputError(msg)
    if np.any(sx <= 0) or np.any(syv <= 0):
        msg = f"`{method}`: standard errors must be > 0"
        raise InputError(msg)
    if j < k + min_extra:
        raise TooFewVariantsError(f"{method} with {k} exposures", k + min_extra, j)
    return bx, sx, byv, syv


def _names(exposures: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if exposures is None:
        return tuple(f"exposure{i + 1}" for i in range(k))
    if len(exposures) != k:
        msg = f"{len(exposures)} exposure names for {k} columns of BX"
        raise InputError(msg)
    return tuple(str(e) for e in exposures)


def _orientated(
    bx: np.ndarray, byv: np.ndarray, orientate: int, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(bx, by)`` with each variant's signs flipped so that column ``orientate`` is positive."""
    k = bx.shape[1]
    if not 0 <= orientate < k:
        msg = f"`{method}`: `orientate` must be a column index in [0, {k}), got {orientate}"
        raise InputError(msg)
    s = np.sign(bx[:, orientate])
    return bx * s[:, None], byv * s


def _wls(x, y, w):
    """Weighted least squares: coef, unscaled SE (sqrt diag (X'WX)^-1), sigma."""
    xw = x * w[:, None]
    inv = np.linalg.inv(xw.T @ x)
    coef = inv @ (xw.T @ y)
    res = y - x @ coef
    df = x.shape[0] - x.shape[1]
    sigma = float(np.sqrt(np.dot(w, res * res) / df)) if df > 0 else float("nan")
    return coef, np.sqrt(np.diag(inv)), sigma


def _finish(method, names, est, se, n, alpha, dist, df, extras) -> MVMRResult:
    c = critical(alpha, dist=dist, df=df)
    z = est / se
    p = pvalue(z, dist=dist, df=df)
    return MVMRResult(method, names, est, se, est - c * se, est + c * se, p, n, alpha, extras)


def _gencov(gencov, j: int, k: int):
    if np.isscalar(gencov) and float(gencov) == 0.0:  # type: ignore[arg-type]
        return None
    g = np.asarray(gencov, dtype=np.float64)
    if g.shape != (j, k, k):
        msg = f"`gencov` must be 0 or an array of J x K x K covariances ({j}, {k}, {k})"
        raise InputError(msg)
    return g


def _strength_q(BX, SX, gencov, method: str) -> tuple[np.ndarray, int]:
    """Sanderson-Windmeijer :math:`Q_{X_k}` per exposure and J (MVMR ``strength_mvmr``).

    .. math:: Q_{X_k} = \\sum_j (\\beta_{Xkj} - B_{X,-k,j}^\\top\\hat\\delta_k)^2
              / \\sigma^2_{kj}

    :math:`\\hat\\delta_k` the unweighted OLS fit of exposure :math:`k`'s associations on
    the others', :math:`\\sigma^2_{kj} = \\sigma_{Xkj}^2 + \\sum_{l\\ne k}\\hat\\delta_{kl}^2
    \\sigma_{Xlj}^2` (``gencov = 0``) or :math:`d^\\top\\Sigma_j d` with
    :math:`d = (-1 \\text{ at } k, \\hat\\delta_k)` for a J x K x K ``gencov``.
    """
    bx = np.asarray(BX, dtype=np.float64)
    sx = np.asarray(SX, dtype=np.float64)
    if bx.ndim != 2 or bx.shape[1] < 2 or sx.shape != bx.shape:
        msg = f"`{method}` needs BX and SX of the same shape J x K with K >= 2 exposures"
        raise InputError(msg)
    j, k = bx.shape
    g = _gencov(gencov, j, k)
    out = np.empty(k)
    for i in range(k):
        others = [m for m in range(k) if m != i]
        delta = np.linalg.lstsq(bx[:, others], bx[:, i], rcond=None)[0]
        if g is None:
            s2 = sx[:, i] ** 2 + (sx[:, others] ** 2) @ (delta**2)
        else:
            d = np.zeros(k)
            d[i] = -1.0
            d[others] = delta
            s2 = np.einsum("k,jkl,l->j", d, g, d)
        out[i] = float(np.sum((bx[:, i] - bx[:, others] @ delta) ** 2 / s2))
    return out, j


__all__ = ["Dist", "MVMRResult"]
