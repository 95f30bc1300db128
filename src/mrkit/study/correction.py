"""Multiple-testing correction of p-values (the definitions of R's ``p.adjust``).

.. math::

    \\text{Bonferroni: } \\tilde p_i = \\min(1, m p_i); \\quad
    \\text{Holm: } \\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)}); \\quad
    \\text{BH: } \\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j).

NaN p-values (a method that could not run) are left NaN. ``m`` is the number of
finite p-values unless given: with ``m`` larger (tests planned but not analysed,
``[analysis] correction_over = "planned"``, the default) the missing tests count
as p = 1, which is what the formulas above give with that ``m``.
:func:`results_table` applies the study's correction to its estimates and
:func:`families` describes each family (planned and analysed tests, ``m`` used).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mrkit.errors import InputError
from mrkit.study.spec import AnalysisSection

Correction = Literal["bonferroni", "holm", "fdr_bh", "none"]


def adjust(
    pvals: ArrayLike, method: Correction = "bonferroni", *, m: int | None = None
) -> NDArray[np.float64]:
    """Adjusted p-values over ``m`` tests; compare them with ``alpha`` to declare significance."""
    p = np.asarray(pvals, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        msg = "p-values must lie in [0, 1]"
        raise InputError(msg)
    q = p[ok]
    k = q.size
    if k == 0:
        return out
    if m is None:
        m = k
    elif m < k:
        msg = f"`m` ({m}) must be at least the number of p-values ({k})"
        raise InputError(msg)
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, q * m)
    elif method == "holm":
        order = np.argsort(q, kind="stable")
        steps = np.minimum(1.0, (m - np.arange(k)) * q[order])
        adj = np.empty(k)
        adj[order] = np.maximum.accumulate(steps)
    elif method == "fdr_bh":
        order = np.argsort(q, kind="stable")[::-1]
        ranks = np.arange(k, 0, -1)
        steps = np.minimum(1.0, m * q[order] / ranks)
        adj = np.empty(k)
        adj[order] = np.minimum.accumulate(steps)
    else:
        msg = f"`method` must be bonferroni, holm, fdr_bh or none, got {method!r}"
        raise InputError(msg)
    out[ok] = adj
    return out


#: The first columns of ``results.csv``, in order.
RESULT_COLUMNS = [
    "exposure",
    "outcome",
    "direction",
    "method",
    "nsnp",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "pval",
    "pval_adjusted",
    "significant",
]
_OR = ["or", "or_ci_lower", "or_ci_upper"]


def _family_masks(res: pd.DataFrame, family: str) -> list[tuple[str, pd.Series]]:
    primary = res["method"].isin(res.attrs.get("primary", ()))
    if family == "all":
        return [("all", primary)]
    return [(d, primary & (res["direction"] == d)) for d in ("forward", "reverse")]


def planned_tests(pairs: Sequence[tuple[str, str, str]], family: str) -> dict[str, int]:
    """Tests planned per family: every pair of the study file, analysed or not."""
    if family == "all":
        return {"all": len(pairs)}
    return {d: sum(1 for p in pairs if p[2] == d) for d in ("forward", "reverse")}


def results_table(
    estimates: list[dict[str, Any]],
    analysis: AnalysisSection,
    binary: Mapping[str, bool],
    planned: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The study's results: one row per pair and method, corrected, with odds ratios.

    The family of the correction holds the ``primary`` method's p-value of each
    pair (the Wald ratio's for a pair with one variant), per direction or all
    together (``analysis.family``); other methods keep their own p-value.
    With ``analysis.correction_over = "planned"`` the number of tests ``m`` of a
    family is its number of planned pairs (``planned``, see :func:`planned_tests`),
    otherwise the pairs analysed. ``binary`` says which outcomes get odds ratios.
    """
    a = analysis
    res = pd.DataFrame(estimates)
    if res.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    res.attrs["primary"] = (a.primary, "wald_ratio")
    res["pval_adjusted"] = np.nan
    primary = res["method"].isin([a.primary, "wald_ratio"])
    for name, mask in _family_masks(res, a.family):
        idx = res.index[mask]
        if len(idx):
            p = res.loc[idx, "pval"]
            m = None
            if a.correction_over == "planned" and planned is not None:
                m = max(int(planned.get(name, 0)), int(np.isfinite(p.to_numpy(float)).sum()))
            res.loc[idx, "pval_adjusted"] = adjust(p, a.correction, m=m)
    sens = ~primary
    res.loc[sens, "pval_adjusted"] = res.loc[sens, "pval"]
    res["significant"] = res["pval_adjusted"] < a.alpha
    res.loc[sens, "significant"] = res.loc[sens, "pval"] < a.alpha
    is_binary = res["outcome"].map(lambda o: binary[o])
    res["or"] = np.where(is_binary, np.exp(res["estimate"]), np.nan)
    res["or_ci_lower"] = np.where(is_binary, np.exp(res["ci_lower"]), np.nan)
    res["or_ci_upper"] = np.where(is_binary, np.exp(res["ci_upper"]), np.nan)
    first = [c for c in RESULT_COLUMNS if c in res.columns]
    rest = [c for c in res.columns if c not in first and c not in _OR]
    out = res[first + _OR + rest]
    out.attrs = {}
    return out


def families(
    results: pd.DataFrame, analysis: AnalysisSection, planned: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Each family of the correction: ``name, planned, analysed, m, correction, alpha, over``.

    ``analysed`` counts the pairs with a finite primary p-value; ``m`` is the
    number of tests the correction divided by (see :func:`results_table`).
    """
    a = analysis
    out = []
    res = results.copy()
    res.attrs["primary"] = (a.primary, "wald_ratio")
    for name, mask in _family_masks(res, a.family) if len(res) else []:
        analysed = int(np.isfinite(res.loc[mask, "pval"].to_numpy(float)).sum())
        n_planned = int(planned.get(name, analysed))
        if n_planned == 0 and analysed == 0:
            continue
        m = max(n_planned, analysed) if a.correction_over == "planned" else analysed
        out.append(
            {
                "name": name,
                "planned": n_planned,
                "analysed": analysed,
                "m": m,
                "correction": a.correction,
                "alpha": a.alpha,
                "over": a.correction_over,
            }
        )
    return out
