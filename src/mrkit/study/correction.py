"""Multiple-testing correction of p-values (the definitions of R's ``p.adjust``).

.. math::

    \\text{Bonferroni: } \\tilde p_i = \\min(1, m p_i); \\quad
    \\text{Holm: } \\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)}); \\quad
    \\text{BH: } \\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j).

NaN p-values (a method that could not run) are left NaN and not counted in ``m``.
:func:`results_table` applies the study's correction to its estimates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mrkit.errors import InputError
from mrkit.study.spec import AnalysisSection

Correction = Literal["bonferroni", "holm", "fdr_bh", "none"]


def adjust(pvals: ArrayLike, method: Correction = "bonferroni") -> NDArray[np.float64]:
    """Adjusted p-values; compare them with ``alpha`` to declare significance."""
    p = np.asarray(pvals, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        msg = "p-values must lie in [0, 1]"
        raise InputError(msg)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, q * m)
    elif method == "holm":
        order = np.argsort(q, kind="stable")
        steps = np.minimum(1.0, (m - np.arange(m)) * q[order])
        adj = np.empty(m)
        adj[order] = np.maximum.accumulate(steps)
    elif method == "fdr_bh":
        order = np.argsort(q, kind="stable")[::-1]
        ranks = np.arange(m, 0, -1)
        steps = np.minimum(1.0, m * q[order] / ranks)
        adj = np.empty(m)
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


def results_table(
    estimates: list[dict[str, Any]], analysis: AnalysisSection, binary: Mapping[str, bool]
) -> pd.DataFrame:
    """The study's results: one row per pair and method, corrected, with odds ratios.

    The family of the correction holds the ``primary`` method's p-value of each
    pair (the Wald ratio's for a pair with one variant), per direction or all
    together (``analysis.family``); other methods keep their own p-value.
    ``binary`` says which outcomes get odds ratios.
    """
    a = analysis
    res = pd.DataFrame(estimates)
    if res.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    res["pval_adjusted"] = np.nan
    primary = res["method"].isin([a.primary, "wald_ratio"])
    groups = (
        [res.index[primary]]
        if a.family == "all"
        else [res.index[primary & (res["direction"] == d)] for d in ("forward", "reverse")]
    )
    for idx in groups:
        if len(idx):
            res.loc[idx, "pval_adjusted"] = adjust(res.loc[idx, "pval"], a.correction)
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
    return res[first + _OR + rest]
