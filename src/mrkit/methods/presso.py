"""MR-PRESSO: pleiotropy residual sum and outlier test (Verbanck et al. 2018).

Three tests on the IVW regression through the origin of the variant-outcome on
the variant-exposure associations (after orienting every variant so that
:math:`\\beta_{Xj} > 0`), weighted by :math:`w_j = \\sigma_{Yj}^{-2}`:

**Global test.** With :math:`\\hat\\beta_{-j}` the IVW slope leaving variant
:math:`j` out,

.. math::

    \\mathrm{RSS}_{obs} = \\sum_j w_j \\big(\\beta_{Yj} - \\hat\\beta_{-j}\\beta_{Xj}\\big)^2 .

Its null distribution is simulated: :math:`\\beta^*_{Xj} \\sim N(\\beta_{Xj},
\\sigma_{Xj}^2)`, :math:`\\beta^*_{Yj} \\sim N(\\mu_j, \\sigma_{Yj}^2)` with
:math:`\\mu_j` the leave-one-out prediction, and the same statistic computed on
each simulated dataset; :math:`p = \\#\\{\\mathrm{RSS}^* > \\mathrm{RSS}_{obs}\\}/D`
over :math:`D` draws, reported as ``"<1/D"`` when no draw exceeds it.

**Outlier test** (run when the global test is significant). For each variant,
the squared (unweighted) residual :math:`(\\beta_{Yj} - \\hat\\beta_{-j}\\beta_{Xj})^2`
against the same simulated draws, Bonferroni-multiplied by the number of variants
(capped at 1). Outliers have corrected p :math:`\\le` ``sig_threshold``.

**Distortion test.** The relative change :math:`100(\\hat\\beta_{all} -
\\hat\\beta_{-out})/|\\hat\\beta_{-out}|` when the outliers are removed, against
fits on the outliers plus variants resampled from the non-outliers.

The causal estimates ("raw" and "outlier-corrected") are R's ``lm(by ~ -1 + bx,
weights = 1/sy^2)``: standard error with the residual scale (no floor at 1), and
t statistics on :math:`J - 1` degrees of freedom.

Everything is vectorised over the simulated datasets: leave-one-out slopes for
all draws come from the totals :math:`\\sum w x y` and :math:`\\sum w x^2` minus each
variant's own term.

References
----------
Verbanck M, Chen CY, Neale B, Do R (2018). Nat Genet 50:693-698.
doi:10.1038/s41588-018-0099-7. Reference implementation: R package MRPRESSO 1.0
(rondolab/MR-PRESSO).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrkit._core.arrays import FloatArray, as_arrays, critical
from mrkit.errors import InputError, StatisticalWarning, TooFewVariantsError
from mrkit.methods import register
from mrkit.results import MRResult

PRESSO_DOI = "doi:10.1038/s41588-018-0099-7"
OUTLIER_REASON = "outlier (MR-PRESSO)"
_CHUNK_ELEMENTS = 2_000_000  # draws x variants per block: bounds memory at a few 10 MB


def _lm_origin(bx: FloatArray, by: FloatArray, w: FloatArray) -> dict[str, float]:
    """R's ``summary(lm(by ~ -1 + bx, weights = w))`` coefficient row."""
    n = bx.shape[0]
    sxx = float(np.dot(w, bx * bx))
    b = float(np.dot(w, bx * by)) / sxx
    df = n - 1
    if df < 1:
        return {
            "estimate": b,
            "se": float("nan"),
            "t": float("nan"),
            "pval": float("nan"),
            "df": df,
        }
    resid = by - b * bx
    sigma2 = float(np.dot(w, resid * resid)) / df
    se = float(np.sqrt(sigma2 / sxx))
    t = b / se
    return {"estimate": b, "se": se, "t": t, "pval": float(2.0 * stats.t.sf(abs(t), df)), "df": df}


def _blocks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, count)`` of consecutive blocks of at most ``size`` draws out of ``total``."""
    for start in range(0, total, size):
        yield start, min(size, total - start)


def _loo_slopes(x: FloatArray, y: FloatArray) -> FloatArray:
    """Leave-one-out slopes through the origin of already-weighted ``y`` on ``x``.

    Works on the last axis, so ``x`` and ``y`` may be ``(draws, n)``.
    """
    sxy = np.sum(x * y, axis=-1, keepdims=True)
    sxx = np.sum(x * x, axis=-1, keepdims=True)
    return (sxy - x * y) / (sxx - x * x)


def _pval_text(count: int, ndraw: int, scale: int = 1) -> str:
    """R's formatting: ``"<scale/D"`` when no draw exceeds, else the number."""
    if count == 0:
        return f"<{scale / ndraw:g}"
    return f"{min(1.0, scale * count / ndraw):g}"


def _simulate(
    bx: FloatArray,
    sx: FloatArray,
    by: FloatArray,
    sy: FloatArray,
    loo_obs: FloatArray,
    mean_y: FloatArray,
    rss_obs: float,
    dif2: FloatArray,
    ndraw: int,
    rng: np.random.Generator,
) -> tuple[int, np.ndarray]:
    """Global-test exceedances and per-variant outlier-test exceedances, in blocks."""
    n = bx.shape[0]
    sqw = 1.0 / sy
    block = max(1, _CHUNK_ELEMENTS // n)
    global_count = 0
    outlier_count = np.zeros(n, dtype=np.int64)
    for _, m in _blocks(ndraw, block):
        bxs = bx + sx * rng.standard_normal((m, n))
        bys = mean_y + sy * rng.standard_normal((m, n))
        x = bxs * sqw
        y = bys * sqw
        loo = _loo_slopes(x, y)
        rss = np.sum((y - loo * x) ** 2, axis=1)
        global_count += int(np.count_nonzero(rss > rss_obs))
        exp2 = (bys - bxs * loo_obs) ** 2
        outlier_count += np.count_nonzero(exp2 > dif2, axis=0)
    return global_count, outlier_count


def _distortion(
    bx: FloatArray,
    by: FloatArray,
    w: FloatArray,
    outliers: np.ndarray,
    b_all: float,
    b_clean: float,
    ndraw: int,
    rng: np.random.Generator,
) -> tuple[float, int]:
    """Distortion coefficient (%) and the count of more extreme simulated fits.

    As MRPRESSO: each simulated fit uses the outliers followed by variants drawn
    with replacement from the non-outliers, keeping the first ``n - #outliers``.
    """
    n = bx.shape[0]
    n_out = outliers.shape[0]
    keep = n - n_out
    clean = np.setdiff1d(np.arange(n), outliers)
    bias_obs = (b_all - b_clean) / abs(b_clean)
    n_rand = keep - n_out  # random non-outliers among the first `keep` indices
    wxx = w * bx * bx
    wxy = w * bx * by
    if n_rand > 0:
        base_xx = float(wxx[outliers].sum())
        base_xy = float(wxy[outliers].sum())
        block = max(1, _CHUNK_ELEMENTS // n_rand)
        coefs = np.empty(ndraw)
        for done, m in _blocks(ndraw, block):
            idx = clean[rng.integers(0, clean.shape[0], size=(m, n_rand))]
            coefs[done : done + m] = (base_xy + wxy[idx].sum(axis=1)) / (
                base_xx + wxx[idx].sum(axis=1)
            )
    else:
        first = outliers[:keep]
        coefs = np.full(ndraw, float(wxy[first].sum() / wxx[first].sum()))
    bias_exp = (b_all - coefs) / np.abs(coefs)
    return 100.0 * bias_obs, int(np.count_nonzero(np.abs(bias_exp) > abs(bias_obs)))


@register(
    "presso",
    label="MR-PRESSO",
    min_snps=4,
    reference=PRESSO_DOI,
    stochastic=True,
    kernel="pair",
    aliases=("mr_presso", "mr_presso_global"),
)
def presso(
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    alpha: float = 0.05,
    n_distributions: int = 1000,
    sig_threshold: float = 0.05,
    outlier_test: bool = True,
    distortion_test: bool = True,
    seed: int | None = 1,
) -> MRResult:
    """MR-PRESSO global, outlier and distortion tests (R package MRPRESSO 1.0).

    Parameters
    ----------
    n_distributions
        Number of simulated datasets (MRPRESSO ``NbDistribution``); must exceed
        the number of variants. p-values have resolution ``1/n_distributions``
        (outlier test: ``J/n_distributions`` after Bonferroni).
    sig_threshold
        Level of the global test that triggers the outlier test, and of the
        Bonferroni-corrected outlier p-values (``SignifThreshold``).
    outlier_test, distortion_test
        Run the outlier and distortion tests (``OUTLIERtest``, ``DISTORTIONtest``;
        mrkit defaults both to true, MRPRESSO to false).
    seed
        Seed of :func:`numpy.random.default_rng`; default 1 (the engine's), so
        repeated runs agree; None draws fresh entropy. R's random streams are not
        reproduced: p-values agree with MRPRESSO within Monte-Carlo error.

    Returns
    -------
    MRResult
        ``estimate``/``se``/``pval`` are the raw IVW fit (t on ``J - 1`` df, as
        MRPRESSO's "Raw" row; the interval uses the same t quantile). Extras:
        ``global_rss``, ``global_pval`` (count/D; when no draw exceeds, the
        resolution limit ``1/D`` with ``global_pval_at_limit`` true, so that it
        reads ``< 1/D``, never 0), ``p_resolution`` (``1/D``), ``global_pval_text``
        (``"<0.001"`` style), ``outlier_test_run``, ``outlier_rss`` and
        ``outlier_pvals`` (Bonferroni, per variant; at the limit ``J/D``, flagged in
        ``outlier_pvals_at_limit``), ``outlier_pvals_text``, ``outliers`` (the
        outliers' SNP ids: :func:`mrkit.estimate.analyse` puts the table's ids
        here; called directly, the variants' positions as text, the names the
        engine gives unnamed variants), ``outlier_index`` (0-based positions),
        ``distortion_coef`` (%), ``distortion_pval`` (at the limit ``1/D``, flagged
        in ``distortion_pval_at_limit``) and ``distortion_pval_text``,
        ``corrected_estimate``/``corrected_se``/``corrected_t``/``corrected_pval``
        (IVW without the outliers; ``None`` when there are none),
        ``n_distributions``, ``seed`` and ``warnings``.

        When outliers were removed the result carries the outlier-corrected IVW
        fit as a second row, method ``presso_corrected`` (in
        :attr:`~mrkit.results.MRResult.companions`; the engine lists it after the
        ``presso`` row), with ``nsnp`` the variants kept and t on their number
        minus one.

    Raises
    ------
    TooFewVariantsError
        Fewer than 4 variants: the leave-one-out fits need more than
        ``k + 2 = 3`` variants.
    InputError
        ``n_distributions`` not larger than the number of variants.
    """
    bx_, sx_, by_, sy_ = as_arrays(bx, sx, by, sy, method="presso", min_snps=1)
    n = bx_.shape[0]
    if n <= 3:
        raise TooFewVariantsError("presso", 4, n)
    if n_distributions <= n:
        msg = (
            f"`presso`: n_distributions ({n_distributions}) must exceed the number of "
            f"variants ({n}) to compute empirical p-values; increase n_distributions"
        )
        raise InputError(msg)
    if not 0.0 < sig_threshold <= 1.0:
        msg = f"`presso`: sig_threshold must be in (0, 1], got {sig_threshold!r}"
        raise InputError(msg)

    # orient on the exposure, as MRPRESSO does
    s = np.sign(bx_)
    bx_ = bx_ * s
    by_ = by_ * s
    w = sy_**-2.0
    sqw = 1.0 / sy_
    rng = np.random.default_rng(seed)
    notes: list[str] = []

    loo_obs = _loo_slopes(bx_ * sqw, by_ * sqw)
    rss_obs = float(np.sum((by_ * sqw - loo_obs * bx_ * sqw) ** 2))
    mean_y = loo_obs * bx_  # leave-one-out prediction of each variant
    dif2 = (by_ - bx_ * loo_obs) ** 2
    g_count, o_count = _simulate(
        bx_, sx_, by_, sy_, loo_obs, mean_y, rss_obs, dif2, n_distributions, rng
    )
    # decisions on the counts as MRPRESSO (a count of 0 is p = 0 there); reported
    # p-values at the limit are the bound 1/D (J/D after Bonferroni), flagged, never 0
    run_outliers = bool(outlier_test and g_count / n_distributions < sig_threshold)
    o_raw = np.minimum(1.0, o_count / n_distributions * n)
    outliers = np.flatnonzero(o_raw <= sig_threshold) if run_outliers else np.array([], int)
    global_p = max(g_count, 1) / n_distributions
    o_p = np.minimum(1.0, np.maximum(o_count, 1) / n_distributions * n)
    if run_outliers and n / n_distributions > sig_threshold:
        note = (
            f"MR-PRESSO outlier test unstable: the threshold {sig_threshold} is not "
            f"achievable with {n_distributions} distributions for {n} variants (precision "
            f"<{n / n_distributions:g}); increase n_distributions"
        )
        notes.append(note)
        warnings.warn(note, StatisticalWarning, stacklevel=2)

    raw = _lm_origin(bx_, by_, w)
    extras: dict[str, Any] = {
        "global_rss": rss_obs,
        "global_pval": global_p,
        "global_pval_text": _pval_text(g_count, n_distributions),
        "outlier_test_run": run_outliers,
        "outlier_rss": dif2.tolist(),
        "outlier_pvals": o_p.tolist() if run_outliers else None,
        "outlier_pvals_text": (
            [_pval_text(int(c), n_distributions, n) for c in o_count] if run_outliers else None
        ),
        "outliers": [str(int(i)) for i in outliers],
        "outlier_index": [int(i) for i in outliers],
        "p_resolution": 1.0 / n_distributions,
        "global_pval_at_limit": g_count == 0,
        "outlier_pvals_at_limit": (o_count == 0).tolist() if run_outliers else None,
        "distortion_pval_at_limit": None,
        "distortion_coef": None,
        "distortion_pval": None,
        "distortion_pval_text": None,
        "corrected_estimate": None,
        "corrected_se": None,
        "corrected_t": None,
        "corrected_pval": None,
        "raw_t": raw["t"],
        "n_distributions": n_distributions,
        "seed": seed,
    }
    if run_outliers and 0 < outliers.shape[0] < n:
        mask = np.ones(n, bool)
        mask[outliers] = False
        corr = _lm_origin(bx_[mask], by_[mask], w[mask])
        extras.update(
            corrected_estimate=corr["estimate"],
            corrected_se=corr["se"],
            corrected_t=corr["t"],
            corrected_pval=corr["pval"],
        )
        if distortion_test:
            coef, d_count = _distortion(
                bx_, by_, w, outliers, raw["estimate"], corr["estimate"], n_distributions, rng
            )
            extras.update(
                distortion_coef=coef,
                distortion_pval=max(d_count, 1) / n_distributions,
                distortion_pval_at_limit=d_count == 0,
                distortion_pval_text=_pval_text(d_count, n_distributions),
            )
    elif run_outliers and outliers.shape[0] == n:
        notes.append("MR-PRESSO: all variants were flagged as outliers")
    extras["warnings"] = notes
    c = critical(alpha, dist="t", df=n - 1)
    est, se = raw["estimate"], raw["se"]
    companions: tuple[MRResult, ...] = ()
    if extras["corrected_estimate"] is not None:
        k = n - outliers.shape[0]
        cc = critical(alpha, dist="t", df=k - 1)
        b, b_se = extras["corrected_estimate"], extras["corrected_se"]
        corrected_extras = {
            "outliers": extras["outliers"],
            "outlier_index": extras["outlier_index"],
            "n_outliers": int(outliers.shape[0]),
            "global_pval": global_p,
            "distortion_pval": extras["distortion_pval"],
            "n_distributions": n_distributions,
            "seed": seed,
        }
        companions = (
            MRResult(
                "presso_corrected",
                b,
                b_se,
                b - cc * b_se,
                b + cc * b_se,
                extras["corrected_pval"],
                k,
                alpha,
                corrected_extras,
            ),
        )
    return MRResult(
        "presso",
        est,
        se,
        est - c * se,
        est + c * se,
        raw["pval"],
        n,
        alpha,
        extras,
        companions=companions,
    )


def mark_presso_outliers(table: Any, result: MRResult) -> Any:
    """Flag MR-PRESSO outliers in a harmonised pair table.

    ``result.extras["outlier_index"]`` holds 0-based positions among the rows the
    estimator saw, i.e. the rows of ``table`` with ``keep`` true, in table order.
    Those rows get ``keep = False`` and ``reason = "outlier (MR-PRESSO)"``; rows are
    never deleted. Returns a new table (the input is not modified).
    """
    if "outlier_index" not in result.extras:
        msg = "mark_presso_outliers needs a result of `presso` (no `outlier_index` extra)"
        raise InputError(msg)
    for col in ("keep", "reason"):
        if col not in table.columns:
            msg = f"mark_presso_outliers: the table has no `{col}` column"
            raise InputError(msg)
    out = table.copy()
    kept = np.flatnonzero(out["keep"].to_numpy(bool))
    if kept.shape[0] != result.nsnp:
        msg = (
            f"mark_presso_outliers: the table keeps {kept.shape[0]} variants but the "
            f"MR-PRESSO result used {result.nsnp}; pass the table the estimate was run on"
        )
        raise InputError(msg)
    rows = out.index[kept[np.asarray(result.extras["outlier_index"], dtype=int)]]
    out.loc[rows, "keep"] = False
    out.loc[rows, "reason"] = OUTLIER_REASON
    return out


__all__ = ["OUTLIER_REASON", "mark_presso_outliers", "presso"]
