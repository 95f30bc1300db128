"""Per-pair sample sizes for the methods that need one (cML's BIC)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrkit._core.arrays import FloatArray


def min_per_pair(values: ArrayLike, group: NDArray[np.int64], npairs: int) -> FloatArray:
    """Smallest finite value of each pair's rows (all columns of ``values``), NaN if none.

    ``values`` has one row per variant (e.g. ``samplesize_exposure``,
    ``samplesize_outcome``); ``group`` the pair code of each row.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    rowmin = np.fmin.reduce(v, axis=1) if v.size else np.full(len(group), np.nan)
    out = np.full(npairs, np.inf)
    ok = np.isfinite(rowmin)
    np.minimum.at(out, np.asarray(group)[ok], rowmin[ok])
    out[np.isinf(out)] = np.nan
    return out


__all__ = ["min_per_pair"]
