"""Multiple-testing correction of p-values (the definitions of R's ``p.adjust``).

.. math::

    \\text{Bonferroni: } \\tilde p_i = \\min(1, m p_i); \\quad
    \\text{Holm: } \\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)}); \\quad
    \\text{BH: } \\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j).

NaN p-values (a method that could not run) are left NaN and not counted in ``m``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrkit.errors import InputError

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
