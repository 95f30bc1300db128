"""Slow, obvious per-pair implementations: the oracle the engine's kernels are held to.

Everything here works on ONE exposure-outcome pair with plain Python loops,
explicit refits and textbook formulas (TwoSampleMR 0.7.9's ``mr_ivw``,
``mr_egger_regression``, ``mr_wald_ratio``, ``mr_heterogeneity``,
``mr_pleiotropy_test``, ``Isq``, ``mr_singlesnp`` and ``mr_leaveoneout``), with no
segment sums, no closed-form shortcuts and no code shared with
:mod:`mrkit.methods._kernels` or :mod:`mrkit.diagnostics.segments`. Regressions
are refitted by a QR decomposition of the weighted design, as R's ``lm`` does.

:func:`analyse_pair` is the per-pair oracle of :func:`mrkit.estimate.analyse`:
every method through its registered one-pair function (with try/except, as a
user would call it), every diagnostic through the slow functions below, giving
the tables the engine gives for one pair. ``tests/test_estimate.py`` compares
them pair by pair.

The functions return ``None`` where TwoSampleMR returns NA (too few variants,
collinear Egger design).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from mrkit.errors import MrkitError
from mrkit.methods import get_method, method_options, resolve

#: R's ``lm`` QR tolerance (``dqrdc2``): a column whose norm falls below this
#: fraction of its original norm is collinear and its coefficient NA.
QR_TOL = 1e-7

Record = dict[str, Any]


# -- distributions ---------------------------------------------------------------------
def _crit(alpha: float, dist: str, df: float) -> float:
    if dist == "normal":
        return float(stats.norm.ppf(1.0 - alpha / 2.0))
    return float(stats.t.ppf(1.0 - alpha / 2.0, df))


def _pval(z: float, dist: str, df: float) -> float:
    if dist == "normal":
        return float(2.0 * stats.norm.sf(abs(z)))
    return float(2.0 * stats.t.sf(abs(z), df))


def _chi2_p(q: float, df: int) -> float:
    return float(stats.chi2.sf(q, df))


def _inference(b: float, se: float, alpha: float, dist: str, df: float) -> Record:
    c = _crit(alpha, dist, df)
    return {
        "estimate": b,
        "se": se,
        "ci_lower": b - c * se,
        "ci_upper": b + c * se,
        "pval": _pval(b / se, dist, df) if se > 0 else math.nan,
    }


def _lists(*arrays: Any) -> list[list[float]]:
    return [[float(v) for v in np.asarray(a, dtype=float)] for a in arrays]


# -- weighted least squares, refitted as lm() does ------------------------------------
def wls(
    columns: Sequence[Sequence[float]], y: Sequence[float], w: Sequence[float]
) -> tuple[list[float], list[float], float] | None:
    """``lm(y ~ 0 + columns, weights = w)``: coefficients, their SEs and sigma.

    Householder QR of the weighted design (numpy), R's collinearity rule: a
    column whose residual norm falls below :data:`QR_TOL` of its norm gives
    ``None`` (R's NA coefficient). ``sigma = sqrt(RSS / (n - p))``.
    """
    n, p = len(y), len(columns)
    sw = [math.sqrt(v) for v in w]
    x = np.array([[sw[i] * col[i] for col in columns] for i in range(n)])
    z = np.array([sw[i] * y[i] for i in range(n)])
    q, r = np.linalg.qr(x)
    for j in range(p):
        if abs(r[j, j]) < QR_TOL * float(np.linalg.norm(x[:, j])):
            return None
    coef = np.linalg.solve(r, q.T @ z)
    rinv = np.linalg.inv(r)
    unscaled = [math.sqrt(float(rinv[j] @ rinv[j])) for j in range(p)]
    rss = 0.0
    for i in range(n):
        fit = sum(float(coef[k]) * columns[k][i] for k in range(p))
        rss += w[i] * (y[i] - fit) ** 2
    sigma = math.sqrt(rss / (n - p)) if n > p else math.nan
    return [float(c) for c in coef], unscaled, sigma


# -- estimators ---------------------------------------------------------------------------
def ivw(
    bx: Any, sx: Any, by: Any, sy: Any, *,
    alpha: float = 0.05, model: str = "random", weights: str = "first", dist: str = "normal",
) -> Record | None:  # fmt: skip
    """IVW: ``lm(by ~ -1 + bx, weights)`` (TwoSampleMR ``mr_ivw`` by default).

    ``model``: ``random`` SE/min(1, sigma) (TwoSampleMR), ``fixed`` SE/sigma,
    ``mre`` the lm SE, ``default`` fixed up to 3 variants else random.
    ``weights``: ``first`` 1/sy², ``second`` 1/(sy² + by² sx²/bx²). ``dist``:
    normal or t(J-1). Q = sigma² (J-1). None below 2 variants.
    """
    bx, sx, by, sy = _lists(bx, sx, by, sy)
    n = len(bx)
    if n < 2:
        return None
    if weights == "first":
        w = [1.0 / s**2 for s in sy]
    else:
        w = []
        for i in range(n):
            with np.errstate(divide="ignore"):  # bx = 0: weight 0, as numpy gives it
                ratio_var = np.float64(by[i] ** 2 * sx[i] ** 2) / np.float64(bx[i] ** 2)
            w.append(float(1.0 / (sy[i] ** 2 + ratio_var)))
    sxx = sum(w[i] * bx[i] ** 2 for i in range(n))
    b = sum(w[i] * bx[i] * by[i] for i in range(n)) / sxx
    rss = sum(w[i] * (by[i] - b * bx[i]) ** 2 for i in range(n))
    sigma = math.sqrt(rss / (n - 1))
    se_lm = sigma / math.sqrt(sxx)
    if model == "default":
        model = "fixed" if n <= 3 else "random"
    se = {
        "random": se_lm / min(1.0, sigma),
        "fixed": 1.0 / math.sqrt(sxx),
        "mre": se_lm,
    }[model]
    q = sigma**2 * (n - 1)
    out = _inference(b, se, alpha, dist, n - 1)
    out.update(q=q, q_df=n - 1, q_pval=_chi2_p(q, n - 1), rse=sigma, model=model)
    return out


def egger(
    bx: Any, sx: Any, by: Any, sy: Any, *, alpha: float = 0.05, dist: str = "t"
) -> Record | None:
    """MR-Egger as TwoSampleMR ``mr_egger_regression``.

    Orient (``sign0``: bx = 0 counts as positive), ``lm(by ~ bx, weights = 1/sy²)``
    refitted by QR, SEs divided by min(1, sigma), t(J-2) (or normal) p-values and
    intervals; Rücker's Q' = sigma² (J-2). None below 3 variants or when the
    design is collinear (all |bx| equal).
    """
    bx, sx, by, sy = _lists(bx, sx, by, sy)
    n = len(bx)
    if n < 3:
        return None
    x, y, flipped = [], [], 0
    for i in range(n):
        s = -1.0 if bx[i] < 0 else 1.0
        flipped += bx[i] < 0
        x.append(bx[i] * s)
        y.append(by[i] * s)
    w = [1.0 / s**2 for s in sy]
    fit = wls([[1.0] * n, x], y, w)
    if fit is None:
        return None
    (b0, b1), (u0, u1), sigma = fit
    scale = 1.0 / min(1.0, sigma)
    se0, se1 = u0 * sigma * scale, u1 * sigma * scale
    df = n - 2
    out = _inference(b1, se1, alpha, dist, df)
    icpt = _inference(b0, se0, alpha, dist, df)
    q = sigma**2 * df
    out.update(
        egger_intercept=b0,
        egger_intercept_se=se0,
        egger_intercept_pval=icpt["pval"],
        egger_intercept_ci_lower=icpt["ci_lower"],
        egger_intercept_ci_upper=icpt["ci_upper"],
        q=q,
        q_df=df,
        q_pval=_chi2_p(q, df),
        rse=sigma,
        n_flipped=flipped,
    )
    return out


def wald_ratio(bx: Any, sx: Any, by: Any, sy: Any, *, alpha: float = 0.05) -> Record | None:
    """``mr_wald_ratio`` of one variant: by/bx, SE sy/|bx|, normal p.

    None unless J == 1, and None for bx = 0 (the ratio is undefined; mrkit skips it).
    """
    bx, _, by, sy = _lists(bx, sx, by, sy)
    if len(bx) != 1 or bx[0] == 0:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        b = float(np.float64(by[0]) / bx[0])
        se = float(np.float64(sy[0]) / abs(bx[0]))
    return _inference(b, se, alpha, "normal", math.inf)


# -- diagnostics ------------------------------------------------------------------------
def cochran_q(bx: Any, sx: Any, by: Any, sy: Any) -> Record | None:
    """Cochran's Q about the IVW line (``mr_heterogeneity``, IVW row). None below 2."""
    bx, _, by, sy = _lists(bx, sx, by, sy)
    n = len(bx)
    if n < 2:
        return None
    w = [1.0 / s**2 for s in sy]
    b = sum(w[i] * bx[i] * by[i] for i in range(n)) / sum(w[i] * bx[i] ** 2 for i in range(n))
    q = sum(w[i] * (by[i] - b * bx[i]) ** 2 for i in range(n))
    return {"method": "ivw", "q": q, "q_df": n - 1, "q_pval": _chi2_p(q, n - 1)}


def rucker_q(bx: Any, sx: Any, by: Any, sy: Any) -> Record | None:
    """Rücker's Q' about the Egger line (``mr_heterogeneity``, Egger row).

    Residuals of the oriented refit; None below 3 variants or when collinear.
    """
    bx, _, by, sy = _lists(bx, sx, by, sy)
    n = len(bx)
    if n < 3:
        return None
    x = [abs(v) for v in bx]
    y = [by[i] * (-1.0 if bx[i] < 0 else 1.0) for i in range(n)]
    w = [1.0 / s**2 for s in sy]
    fit = wls([[1.0] * n, x], y, w)
    if fit is None:
        return None
    (b0, b1), _, _ = fit
    q = sum(w[i] * (y[i] - b0 - b1 * x[i]) ** 2 for i in range(n))
    return {"method": "egger", "q": q, "q_df": n - 2, "q_pval": _chi2_p(q, n - 2)}


def egger_intercept_test(bx: Any, sx: Any, by: Any, sy: Any) -> Record | None:
    """``mr_pleiotropy_test``: Egger intercept, its SE and t(J-2) p-value."""
    e = egger(bx, sx, by, sy)
    if e is None:
        return None
    return {
        "egger_intercept": e["egger_intercept"],
        "se": e["egger_intercept_se"],
        "pval": e["egger_intercept_pval"],
    }


def i2gx(bx: Any, sx: Any, *, absolute: bool = True) -> float:
    """``Isq(abs(bx), sx)``: max(0, (Q - (J-1))/Q); 0 when Q = 0; NaN below 2 variants.

    ``absolute=False``: ``Isq(bx, sx)`` on the signed associations.
    """
    (bx, sx) = _lists(bx, sx)
    n = len(bx)
    if n < 2:
        return math.nan
    y = [abs(v) for v in bx] if absolute else bx
    w = [1.0 / s**2 for s in sx]
    mu = sum(w[i] * y[i] for i in range(n)) / sum(w)
    q = sum(w[i] * (y[i] - mu) ** 2 for i in range(n))
    if q == 0.0:
        return 0.0
    return max(0.0, (q - (n - 1)) / q)


def f_stats(bx: Any, sx: Any) -> list[float]:
    """Per-variant F = (bx/sx)²."""
    (bx, sx) = _lists(bx, sx)
    return [(bx[i] / sx[i]) ** 2 for i in range(len(bx))]


def strength(bx: Any, sx: Any) -> Record:
    """``nsnp``, ``i2gx``, mean and smallest per-variant F."""
    f = f_stats(bx, sx)
    return {
        "nsnp": len(f),
        "i2gx": i2gx(bx, sx),
        "f_mean": sum(f) / len(f) if f else math.nan,
        "f_min": min(f) if f else math.nan,
    }


def single_snp(bx: Any, sx: Any, by: Any, sy: Any, *, alpha: float = 0.05) -> list[Record] | None:
    """``mr_singlesnp`` per-SNP rows: the Wald ratio of each variant. None if a bx is 0."""
    bx, sx, by, sy = _lists(bx, sx, by, sy)
    if any(v == 0.0 for v in bx):
        return None
    out = []
    for j in range(len(bx)):
        r = wald_ratio([bx[j]], [sx[j]], [by[j]], [sy[j]], alpha=alpha)
        assert r is not None
        out.append(r)
    return out


def leave_one_out(
    bx: Any, sx: Any, by: Any, sy: Any, *, alpha: float = 0.05
) -> list[Record] | None:
    """``mr_leaveoneout`` with ``mr_ivw``: IVW refitted J times, each without one variant.

    Each row: the core fields and the refit's Q (``q``, ``q_df``, ``q_pval``) and
    ``rse``. TwoSampleMR gives only the all-variant row below 3 variants: None here.
    """
    bx, sx, by, sy = _lists(bx, sx, by, sy)
    n = len(bx)
    if n < 3:
        return None
    out = []
    for i in range(n):
        rest = [[a[k] for k in range(n) if k != i] for a in (bx, sx, by, sy)]
        r = ivw(*rest, alpha=alpha)
        assert r is not None
        keys = ("estimate", "se", "ci_lower", "ci_upper", "pval", "q", "q_df", "q_pval", "rse")
        out.append({k: r[k] for k in keys})
    return out


# -- the per-pair oracle of analyse() ---------------------------------------------------
ONE_PAIR_ERRORS = (MrkitError, ArithmeticError, ValueError, np.linalg.LinAlgError)


def run_method(
    name: str,
    bx: Any, sx: Any, by: Any, sy: Any, *,
    options: Mapping[str, Any] | None = None,
    alpha: float = 0.05, seed: int | None = 1, nboot: int = 1000,
    snp: Sequence[str] | None = None,
) -> list[Record] | str:  # fmt: skip
    """One registered method on one pair, as a user calls it: its records or why it failed.

    The method's row, then its companion rows (MR-PRESSO's ``presso_corrected``);
    a row's ``outlier_index`` also gives ``outliers``, the SNP ids (``snp``).
    """
    spec = get_method(name)
    kw = {**spec.accepted({"alpha": alpha, "seed": seed, "nboot": nboot}), **(options or {})}
    try:
        res = spec.func(bx, sx, by, sy, **kw)
    except ONE_PAIR_ERRORS as exc:
        return f"{type(exc).__name__}: {exc}"
    out = []
    for r in (res, *res.companions):
        rec = r.to_record()
        if rec.get("outlier_index") is not None and snp is not None:
            rec["outliers"] = [str(snp[i]) for i in rec["outlier_index"]]
        out.append(rec)
    return out


def analyse_pair(
    bx: Any, sx: Any, by: Any, sy: Any,
    methods: Any = "default", *,
    snp: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    alpha: float = 0.05, seed: int | None = 1, nboot: int = 1000, diagnostics: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """What :func:`mrkit.estimate.analyse` must give for this one pair.

    Returns a dict of the engine's tables for one pair: ``estimates`` (records in
    method order), ``skipped`` (``{method: reason}``; ``"*"`` for a pair without
    variants), ``heterogeneity`` (records), ``pleiotropy`` (a record or None),
    ``strength`` (a record or None), ``single_snp`` and ``leave_one_out``
    (records with ``snp``).
    """
    bx, sx, by, sy = (np.asarray(a, dtype=float) for a in (bx, sx, by, sy))
    n = bx.shape[0]
    snp = [str(s) for s in snp] if snp is not None else [str(i) for i in range(n)]
    names = resolve(methods)
    opts = method_options(names, options)
    out: dict[str, Any] = {
        "estimates": [],
        "skipped": {},
        "heterogeneity": [],
        "pleiotropy": None,
        "strength": None,
        "single_snp": [],
        "leave_one_out": [],
    }
    if n == 0:
        out["skipped"]["*"] = "no variants with keep = TRUE; nothing to analyse"
        return out
    for name in names:
        r = run_method(
            name, bx, sx, by, sy, options=opts[name], alpha=alpha, seed=seed, nboot=nboot,
            snp=snp,
        )  # fmt: skip
        if isinstance(r, str):
            out["skipped"][name] = r
        else:
            out["estimates"].extend(r)
    if not diagnostics:
        return out
    skip = out["skipped"]
    q = cochran_q(bx, sx, by, sy)
    if q is None:
        skip["heterogeneity"] = f"`heterogeneity` needs at least 2 variants, got {n}"
    else:
        out["heterogeneity"].append(q)
    qe = rucker_q(bx, sx, by, sy)
    if qe is not None:
        out["heterogeneity"].append(qe)
    elif n >= 3:  # collinear: Rücker's Q' cannot be computed
        skip["heterogeneity"] = "Rücker's Q' of a collinear Egger design"
    pl = egger_intercept_test(bx, sx, by, sy)
    if pl is None:
        skip["pleiotropy"] = "too few variants or collinear" if n >= 3 else "too few variants"
    out["pleiotropy"] = pl
    out["strength"] = strength(bx, sx)
    ss = single_snp(bx, sx, by, sy, alpha=alpha)
    if ss is None:
        skip["single_snp"] = "a variant has bx = 0"
    else:
        out["single_snp"] = [{"snp": snp[j], **r} for j, r in enumerate(ss)]
    loo = leave_one_out(bx, sx, by, sy, alpha=alpha)
    if loo is None:
        skip["leave_one_out"] = f"`leave_one_out (ivw)` needs at least 3 variants, got {n}"
    else:
        out["leave_one_out"] = [{"snp": snp[j], **r} for j, r in enumerate(loo)]
    return out


__all__ = [
    "QR_TOL",
    "analyse_pair",
    "cochran_q",
    "egger",
    "egger_intercept_test",
    "f_stats",
    "i2gx",
    "ivw",
    "leave_one_out",
    "rucker_q",
    "run_method",
    "single_snp",
    "strength",
    "wald_ratio",
    "wls",
]
