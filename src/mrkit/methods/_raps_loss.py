"""The robust losses of MR-RAPS and their constants under N(0, 1) (mr.raps 0.4.2).

Squared error (``l2``), Huber (:math:`k = 1.345`) and Tukey's biweight
(:math:`k = 4.685`): the loss :math:`\\rho`, its derivatives :math:`\\rho'`
(:func:`psi`) and :math:`\\rho''` (:func:`psi_deriv`), and the constants
:math:`\\delta, c_1, c_2, c_3` of the estimating equations and their sandwich
(:func:`loss_constants`), integrated with R ``integrate()``'s settings.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
from scipy import integrate, stats

from mrkit._core.arrays import FloatArray

__all__ = ["DEFAULT_K", "Loss", "loss_constants", "psi", "psi_deriv", "rho"]

Loss = Literal["l2", "huber", "tukey"]
DEFAULT_K = {"l2": 2.0, "huber": 1.345, "tukey": 4.685}
_EPS = np.finfo(float).eps
_R_INTEGRATE_TOL = _EPS**0.25


def psi(r: FloatArray, loss: Loss, k: float) -> FloatArray:
    """First derivative of the loss, :math:`\\rho'(r)`."""
    if loss == "l2":
        return np.asarray(r, float)
    if loss == "huber":
        return np.clip(r, -k, k)
    u = (np.asarray(r) / k) ** 2
    return np.where(u <= 1.0, r * (1.0 - u) ** 2, 0.0)


def psi_deriv(r: FloatArray, loss: Loss, k: float) -> FloatArray:
    """Second derivative of the loss, :math:`\\rho''(r)`."""
    r = np.asarray(r, float)
    if loss == "l2":
        return np.ones_like(r)
    if loss == "huber":
        return (np.abs(r) <= k).astype(float)
    u = (r / k) ** 2
    return np.where(u < 1.0, (1.0 - u) * (1.0 - 5.0 * u), 0.0)


def rho(r: FloatArray, loss: Loss, k: float) -> FloatArray:
    """The loss itself (as mr.raps's ``rho.*`` with ``deriv = 0``)."""
    r = np.asarray(r, float)
    if loss == "l2":
        return r * r / k
    if loss == "huber":
        a = np.abs(r)
        return np.where(a <= k, r * r / 2.0, k * (a - k / 2.0))
    return np.minimum(1.0 - (1.0 - (r / k) ** 2) ** 3, 1.0)


@cache
def loss_constants(loss: Loss, k: float) -> tuple[float, float, float, float]:
    """``(delta, c1, c2, c3)`` under N(0, 1), as mr.raps computes them with ``integrate``."""

    def integral(f) -> float:
        val = integrate.quad(
            lambda x: float(f(x) * stats.norm.pdf(x)),
            -np.inf,
            np.inf,
            epsabs=_R_INTEGRATE_TOL,
            epsrel=_R_INTEGRATE_TOL,
            limit=100,
        )[0]
        return float(val)

    delta = integral(lambda x: x * psi(x, loss, k))
    c1 = integral(lambda x: psi(x, loss, k) ** 2)
    c2 = integral(lambda x: x * x * psi(x, loss, k) ** 2) - delta**2
    c3 = integral(lambda x: x * x * psi_deriv(x, loss, k))
    return delta, c1, c2, c3
