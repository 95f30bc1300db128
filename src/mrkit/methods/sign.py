"""Sign concordance test (TwoSampleMR ``mr_sign``).

Counts the variants whose exposure and outcome associations have the same sign
(variants with either association exactly zero are left out) and tests the count
against Binomial(n, 1/2). The "estimate" is the concordance
:math:`2(x/n - 1/2) \\in [-1, 1]`: +1 when all signs agree, 0 when half do. It is
not a causal effect size.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrkit._core.arrays import as_arrays
from mrkit.errors import TooFewVariantsError
from mrkit.methods import register
from mrkit.results import MRResult

MIN_SIGN_SNPS = 6


@register(
    "sign",
    label="Sign concordance test",
    min_snps=MIN_SIGN_SNPS,
    reference="TwoSampleMR mr_sign",
    kernel="pair",
    aliases=("mr_sign",),
)
def sign(
    bx: ArrayLike, sx: ArrayLike, by: ArrayLike, sy: ArrayLike, *, alpha: float = 0.05
) -> MRResult:
    """Sign concordance test, TwoSampleMR ``mr_sign``.

    .. math:: \\hat b = 2\\,(x/n - 1/2), \\qquad p = \\text{two-sided exact binomial p}

    Notes
    -----
    ``se`` is NaN (TwoSampleMR: ``NA``); ``ci_lower``/``ci_upper`` are the
    Clopper-Pearson interval of ``binom.test`` mapped to the concordance scale
    (TwoSampleMR reports none). ``nsnp`` counts only variants with both
    associations non-zero. Extras: ``n_concordant``. Needs 6 such variants, as
    TwoSampleMR.
    """
    bx_, _, by_, _ = as_arrays(bx, sx, by, sy, method="sign", min_snps=1)
    valid = (bx_ != 0) & (by_ != 0)
    n = int(np.count_nonzero(valid))
    if n < MIN_SIGN_SNPS:
        raise TooFewVariantsError("sign", MIN_SIGN_SNPS, n)
    x = int(np.count_nonzero(np.sign(bx_[valid]) == np.sign(by_[valid])))
    test = stats.binomtest(x, n, 0.5)
    ci = test.proportion_ci(confidence_level=1.0 - alpha, method="exact")
    b = (x / n - 0.5) * 2.0
    return MRResult(
        "sign",
        b,
        float("nan"),
        (ci.low - 0.5) * 2.0,
        (ci.high - 0.5) * 2.0,
        float(test.pvalue),
        n,
        alpha,
        {"n_concordant": x},
    )


__all__ = ["sign"]
