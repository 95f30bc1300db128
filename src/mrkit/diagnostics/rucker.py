"""Rücker's framework: choosing between IVW and MR-Egger, fixed or random effects.

Four models are fitted to the oriented data (every :math:`\\beta_{Xj} \\ge 0`,
the outcome effect flipped with it): IVW and MR-Egger, each with a fixed-effect
SE (the regression SE divided by :math:`\\max(1, \\hat\\phi)`) and a
multiplicative random-effects SE (the regression SE as is). Cochran's
:math:`Q` (IVW residuals) and Rücker's :math:`Q'` (Egger residuals) decide:

.. math::

    Q = \\sum_j w_j(\\beta_{Yj} - \\hat\\beta\\beta_{Xj})^2, \\qquad
    Q' = \\sum_j w_j(\\beta_{Yj} - \\hat\\beta_0 - \\hat\\beta_1\\beta_{Xj})^2, \\qquad
    w_j = \\sigma_{Yj}^{-2},

with :math:`Q \\sim \\chi^2_{J-1}`, :math:`Q' \\sim \\chi^2_{J-2}` and
:math:`Q - Q' \\sim \\chi^2_1` under homogeneity. As TwoSampleMR ``mr_rucker``
(threshold ``qthresh`` = ``Qthresh`` = 0.05):

* A: :math:`p_Q > q_{thr}`: IVW fixed effects;
* B: :math:`p_Q \\le q_{thr}` and :math:`p_{Q-Q'} > q_{thr}`: IVW random effects;
* C: :math:`p_Q, p_{Q-Q'} \\le q_{thr}` and :math:`p_{Q'} > q_{thr}`: Egger fixed effects;
* D: all three :math:`\\le q_{thr}`: Egger random effects.

References
----------
Rücker G, Schwarzer G, Carpenter JR, Binder H, Schumacher M (2011). Treatment-effect
estimates adjusted for small-study effects via a limit meta-analysis. Biostatistics
12:122-142. doi:10.1093/biostatistics/kxq046

Bowden J, Del Greco M F, Minelli C, et al. (2017). A framework for the investigation of
pleiotropy in two-sample summary data Mendelian randomization. Stat Med 36:1783-1802.
doi:10.1002/sim.7221
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from mrkit._core.arrays import Distribution, FloatArray, as_arrays, interval, pvalue, wls_slope
from mrkit.methods.egger import egger_fit, orient
from mrkit.results import CORE_FIELDS, MRResult, Summarised

RuckerModel = Literal["A", "B", "C", "D"]

RUCKER_DOI = "doi:10.1002/sim.7221"

_MODEL_NAMES: dict[str, str] = {
    "A": "IVW fixed effects",
    "B": "IVW random effects",
    "C": "Egger fixed effects",
    "D": "Egger random effects",
}


def cooks_distance(resid: FloatArray, hat: FloatArray, w: FloatArray, p: int) -> FloatArray:
    """Cook's distance of each observation of a weighted fit with ``p`` coefficients.

    .. math:: D_j = \\frac{w_j e_j^2}{p\\,\\hat\\sigma^2}\\frac{h_j}{(1 - h_j)^2},
              \\qquad \\hat\\sigma^2 = \\frac{\\sum_j w_j e_j^2}{J - p}

    with :math:`e_j` the residuals and :math:`h_j` the leverages (R ``cooks.distance``).
    """
    rw = w * resid * resid
    sigma2 = float(rw.sum()) / (resid.shape[0] - p)
    return rw * hat / (p * sigma2 * (1.0 - hat) ** 2)


@dataclass(frozen=True, repr=False)
class RuckerResult(Summarised):
    """The four models of Rücker's framework and the one it selects.

    Attributes
    ----------
    ivw_fixed, ivw_random, egger_fixed, egger_random
        Slope estimates (TwoSampleMR ``rucker`` table rows).
    intercept_fixed, intercept_random
        Egger intercept with its fixed- and random-effects SE (``intercept`` table).
    q_ivw, q_ivw_df, q_ivw_pval
        Cochran's :math:`Q`.
    q_egger, q_egger_df, q_egger_pval
        Rücker's :math:`Q'`.
    q_diff, q_diff_pval
        :math:`\\max(0, Q - Q')` on 1 degree of freedom.
    model
        ``"A"``, ``"B"``, ``"C"`` or ``"D"`` (TwoSampleMR ``res``).
    selected
        The chosen model's estimate, ``method="rucker"`` (TwoSampleMR ``selected``).
    cooks_distance
        Cook's distance of each variant in the selected regression (IVW for A/B,
        Egger for C/D).
    qthresh
        The threshold used for the three tests.
    """

    ivw_fixed: MRResult
    ivw_random: MRResult
    egger_fixed: MRResult
    egger_random: MRResult
    intercept_fixed: MRResult
    intercept_random: MRResult
    q_ivw: float
    q_ivw_df: int
    q_ivw_pval: float
    q_egger: float
    q_egger_df: int
    q_egger_pval: float
    q_diff: float
    q_diff_pval: float
    model: RuckerModel
    selected: MRResult
    cooks_distance: FloatArray
    qthresh: float = 0.05

    @property
    def verdict(self) -> str:
        """One line naming the selected model and why."""
        why = {
            "A": f"no heterogeneity (p_Q = {self.q_ivw_pval:.3g} > {self.qthresh:g})",
            "B": (
                f"heterogeneity (p_Q = {self.q_ivw_pval:.3g}) but Egger does not fit "
                f"better (p_Q-Q' = {self.q_diff_pval:.3g} > {self.qthresh:g})"
            ),
            "C": (
                f"Egger fits better (p_Q-Q' = {self.q_diff_pval:.3g}) and leaves no "
                f"heterogeneity (p_Q' = {self.q_egger_pval:.3g} > {self.qthresh:g})"
            ),
            "D": (
                f"Egger fits better (p_Q-Q' = {self.q_diff_pval:.3g}) and heterogeneity "
                f"remains (p_Q' = {self.q_egger_pval:.3g} <= {self.qthresh:g})"
            ),
        }[self.model]
        return f"{self.model}: {_MODEL_NAMES[self.model]}; {why}"

    def summary(self) -> pd.DataFrame:
        """The four models and the selected one, one row each (core result fields)."""
        rows = [self.ivw_fixed, self.ivw_random, self.egger_fixed, self.egger_random, self.selected]
        df = pd.DataFrame([{k: getattr(r, k) for k in CORE_FIELDS} for r in rows])
        df.insert(1, "model", [*_MODEL_NAMES.values(), _MODEL_NAMES[self.model]])
        df["selected"] = [m == self.model for m in _MODEL_NAMES] + [True]
        return df

    def q_table(self) -> pd.DataFrame:
        """Q, Q' and their difference with degrees of freedom and p-values."""
        return pd.DataFrame(
            {
                "statistic": ["q_ivw", "q_egger", "q_diff"],
                "q": [self.q_ivw, self.q_egger, self.q_diff],
                "df": [self.q_ivw_df, self.q_egger_df, 1],
                "pval": [self.q_ivw_pval, self.q_egger_pval, self.q_diff_pval],
            }
        )


def _result(
    method: str,
    b: float,
    se: float,
    n: int,
    alpha: float,
    *,
    dist: Distribution = "normal",
    df: float | None = None,
) -> MRResult:
    """One model's row: normal interval; p-value from ``dist`` (TwoSampleMR's choices)."""
    lo, hi = interval(b, se, alpha)
    p = float(pvalue(b / se, dist=dist, df=df))
    return MRResult(method, float(b), float(se), lo, hi, p, n, alpha, {})


def rucker(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    qthresh: float = 0.05,
) -> RuckerResult:
    """Rücker's model selection between IVW and MR-Egger (TwoSampleMR ``mr_rucker``).

    Parameters
    ----------
    bx, sx, by, sy
        Variant-exposure and variant-outcome associations and their SEs.
    alpha
        Level of the normal-based confidence intervals.
    qthresh
        Significance threshold of the three heterogeneity tests (TwoSampleMR
        ``Qthresh``).

    Notes
    -----
    With :math:`s` the regression SE from weighted least squares and
    :math:`\\hat\\phi` the residual standard error, the fixed-effect SE is
    :math:`s/\\max(1,\\hat\\phi)` and the random-effects SE is :math:`s` (no floor, so
    it can fall below the fixed-effect SE when :math:`\\hat\\phi < 1`, as in
    TwoSampleMR). P-values as TwoSampleMR's default ``test_dist = "z"``: normal for
    the IVW models and the intercepts; the Egger slopes use :math:`t_{J-2}`.
    Needs at least 3 variants.
    """
    bx_, _sx, by_, sy_ = as_arrays(bx, sx, by, sy, method="rucker", min_snps=3)
    n = bx_.shape[0]
    x, y = orient(bx_, by_)
    w = sy_**-2.0

    # IVW: lm(y ~ 0 + x, weights = w); its SE is se_fixed * sigma
    b_ivw, se1_ivw, sig_ivw = wls_slope(x, y, w)
    s_ivw = se1_ivw * sig_ivw
    se_ivw_fe = s_ivw / max(sig_ivw, 1.0)
    ivw_fixed = _result("ivw_fe", b_ivw, se_ivw_fe, n, alpha)
    ivw_random = _result("ivw_mre", b_ivw, s_ivw, n, alpha)

    # Egger: lm(y ~ x, weights = w)
    b1, b0, se1_b1, se1_b0, sig_egg = egger_fit(x, y, w, method="rucker")
    s1, s0 = se1_b1 * sig_egg, se1_b0 * sig_egg
    scale = max(sig_egg, 1.0)
    dft = n - 2
    egger_fixed = _result("egger_fe", b1, s1 / scale, n, alpha, dist="t", df=dft)
    egger_random = _result("egger_mre", b1, s1, n, alpha, dist="t", df=dft)
    intercept_fixed = _result("egger_intercept_fe", b0, s0 / scale, n, alpha)
    intercept_random = _result("egger_intercept_mre", b0, s0, n, alpha)

    q_ivw, q_egger = sig_ivw**2 * (n - 1), sig_egg**2 * dft
    p_ivw = float(stats.chi2.sf(q_ivw, n - 1))
    p_egger = float(stats.chi2.sf(q_egger, n - 2))
    q_diff = max(0.0, q_ivw - q_egger)
    p_diff = float(stats.chi2.sf(q_diff, 1))

    model: RuckerModel
    if p_ivw > qthresh:
        model = "A"
    elif p_diff > qthresh:
        model = "B"
    elif p_egger > qthresh:
        model = "C"
    else:
        model = "D"
    chosen = {"A": ivw_fixed, "B": ivw_random, "C": egger_fixed, "D": egger_random}[model]
    selected = MRResult(
        "rucker",
        chosen.estimate,
        chosen.se,
        chosen.ci_lower,
        chosen.ci_upper,
        chosen.pval,
        n,
        alpha,
        {"model": model, "model_name": _MODEL_NAMES[model]},
    )
    if model in ("A", "B"):
        cooks = cooks_distance(y - b_ivw * x, w * x * x / float(np.dot(w, x * x)), w, 1)
    else:
        mx = float(np.dot(w, x)) / float(w.sum())
        hat = w * (1.0 / float(w.sum()) + (x - mx) ** 2 / float(np.dot(w, (x - mx) ** 2)))
        cooks = cooks_distance(y - b0 - b1 * x, hat, w, 2)
    return RuckerResult(
        ivw_fixed,
        ivw_random,
        egger_fixed,
        egger_random,
        intercept_fixed,
        intercept_random,
        q_ivw,
        n - 1,
        p_ivw,
        q_egger,
        n - 2,
        p_egger,
        q_diff,
        p_diff,
        model,
        selected,
        cooks,
        qthresh,
    )


__all__ = ["RUCKER_DOI", "RuckerResult", "cooks_distance", "rucker"]
