"""Summary-statistics SuSiE fine-mapping (susieR 0.12.35 ``susie_rss``, coloc's ``runsusie``).

:func:`susie_rss` fits the sum of ``L`` single effects to z-scores and an LD matrix by IBSS
(:mod:`~mrkit.coloc._susie_ibss`) and returns a :class:`SusieFit` with its credible sets;
:func:`runsusie` builds the z-scores from a coloc dataset (``beta/sqrt(varbeta)``, ``n = N``)
as coloc does. Defaults are susieR's: ``L = 10``, ``scaled_prior_variance = 0.2``, prior
variance estimated per effect (``optim``), residual variance fixed at 1, coverage 0.95,
purity (min absolute correlation) 0.5, ``tol = 1e-3``, ``max_iter = 100``.

References
----------
Wang G, Sarkar A, Carbonetto P, Stephens M (2020). J R Stat Soc B 82:1273-1300.
https://doi.org/10.1111/rssb.12388

Zou Y, Carbonetto P, Wang G, Stephens M (2022). Fine-mapping from summary data with the
"Sum of Single Effects" model. PLoS Genet 18:e1010299.
https://doi.org/10.1371/journal.pgen.1010299
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mrkit.coloc._susie_ibss import FloatArray, IbssFit, PriorMethod, ibss
from mrkit.errors import InputError

__all__ = ["CredibleSet", "SusieFit", "credible_sets", "runsusie", "susie_pip", "susie_rss"]

#: Prior variances at or below this are dropped effects (susieR's ``prior_tol`` and CS cut).
PRIOR_TOL = 1e-9


@dataclass(frozen=True)
class CredibleSet:
    """One SuSiE credible set.

    Attributes
    ----------
    effect
        1-based number of the single effect (row ``effect - 1`` of ``alpha``), susieR's
        ``cs_index`` and the ``L<effect>`` name.
    indices
        0-based positions of the member variables in input order, ascending.
    snps
        Their names.
    coverage
        Sum of the effect's ``alpha`` over the members (at least the requested coverage).
    min_abs_corr, mean_abs_corr, median_abs_corr
        Purity: the smallest, mean and median absolute LD correlation among members (1 for
        a single member).
    """

    effect: int
    indices: tuple[int, ...]
    snps: tuple[str, ...]
    coverage: float
    min_abs_corr: float
    mean_abs_corr: float
    median_abs_corr: float

    @property
    def name(self) -> str:
        """susieR's name for the set, ``L<effect>``."""
        return f"L{self.effect}"


@dataclass(frozen=True)
class SusieFit(IbssFit):
    """A SuSiE fit: ``L x p`` posterior matrices, per-effect priors and the credible sets.

    The IBSS state (:class:`~mrkit.coloc._susie_ibss.IbssFit`): ``alpha[l, j]`` is the
    posterior probability that effect ``l`` is variable ``j``, ``mu``/``mu2`` its
    conditional posterior mean and second moment (standardised scale), ``V`` the estimated
    prior variances, ``lbf`` the effect log Bayes factors, ``lbf_variable`` the
    per-variable log BFs (the rows coloc.susie uses), ``KL``, ``sigma2``, ``elbo`` the
    objective after each sweep, ``niter``, ``converged``; and ``snps``, ``pip``
    :math:`1 - \\prod_l (1 - \\alpha_{lj})` over effects with ``V > 1e-9``, ``sets`` the
    credible sets ordered by purity.
    """

    snps: tuple[str, ...]
    pip: FloatArray
    sets: tuple[CredibleSet, ...]
    requested_coverage: float
    warnings: tuple[str, ...] = field(default=())

    def cs_table(self) -> pd.DataFrame:
        """One row per credible-set member: ``cs, effect, snp, pip, alpha, coverage, purity``."""
        rows = [
            {
                "cs": s.name,
                "effect": s.effect,
                "snp": self.snps[j],
                "pip": float(self.pip[j]),
                "alpha": float(self.alpha[s.effect - 1, j]),
                "coverage": s.coverage,
                "min_abs_corr": s.min_abs_corr,
            }
            for s in self.sets
            for j in s.indices
        ]
        cols = ["cs", "effect", "snp", "pip", "alpha", "coverage", "min_abs_corr"]
        return pd.DataFrame(rows, columns=cols)

    def __repr__(self) -> str:
        sets = ", ".join(f"{s.name} ({len(s.snps)} SNPs)" for s in self.sets) or "none"
        state = "converged" if self.converged else "NOT converged"
        return (
            f"SusieFit({len(self.snps)} SNPs, L = {self.alpha.shape[0]}, {state} after "
            f"{self.niter} iterations, credible sets: {sets})"
        )


def susie_pip(alpha: FloatArray, V: FloatArray, prior_tol: float = PRIOR_TOL) -> FloatArray:
    r"""Posterior inclusion probabilities :math:`1 - \prod_{l: V_l > tol}(1 - \alpha_{lj})`."""
    keep = prior_tol < V
    if not keep.any():
        return np.zeros(alpha.shape[1])
    out: FloatArray = 1.0 - np.prod(1.0 - alpha[keep], axis=0)
    return out


def _in_cs(a: FloatArray, coverage: float) -> FloatArray:
    """Members of one effect's set: the fewest top-``alpha`` variables reaching ``coverage``.

    As susieR's ``in_CS_x``: ``n = #{cumsum(sorted alpha) < coverage} + 1``; ties keep
    input order.
    """
    order = np.argsort(-a, kind="stable")
    n = int(np.sum(np.cumsum(a[order]) < coverage)) + 1
    out: FloatArray = np.sort(order[:n])
    return out


def _purity(idx: FloatArray, corr: FloatArray) -> tuple[float, float, float]:
    """Min, mean and median absolute correlation over the distinct pairs of ``idx``."""
    if idx.size == 1:
        return 1.0, 1.0, 1.0
    sub = np.abs(corr[np.ix_(idx, idx)])
    vals = sub[np.triu_indices(idx.size, k=1)]
    return float(vals.min()), float(vals.sum() / vals.size), float(np.median(vals))


def credible_sets(
    alpha: FloatArray,
    V: FloatArray,
    corr: FloatArray,
    snps: Sequence[str],
    *,
    coverage: float = 0.95,
    min_abs_corr: float = 0.5,
) -> tuple[CredibleSet, ...]:
    """Credible sets of a fit as susieR's ``susie_get_cs`` forms them.

    An effect gives a set if ``V > 1e-9`` and its member list is not a repeat of an
    earlier effect's (susieR's ``dedup``); a set is kept if its purity
    (``min_abs_corr``) reaches the threshold; kept sets are ordered by purity,
    decreasing (ties in effect order).

    Notes
    -----
    susieR subsamples 100 members at random to compute the purity of a larger set; here
    all pairs are used, so the purity is exact and reproducible. susieR also reports
    the coverage of the wrong sets when an impure set precedes a pure one (it indexes
    the coverages of all candidate sets by the positions among the pure ones); here each
    set carries its own coverage.
    """
    members = [_in_cs(row, coverage) for row in alpha]
    seen: set[tuple[int, ...]] = set()
    out: list[CredibleSet] = []
    for l, idx in enumerate(members):  # noqa: E741 (susieR's name for the effect)
        key = tuple(int(i) for i in idx)
        duplicate = key in seen
        seen.add(key)
        if not V[l] > PRIOR_TOL or duplicate:
            continue
        lo, mean, med = _purity(idx, corr)
        if lo < min_abs_corr:
            continue
        out.append(
            CredibleSet(
                effect=l + 1,
                indices=key,
                snps=tuple(snps[i] for i in key),
                coverage=float(alpha[l, idx].sum()),
                min_abs_corr=lo,
                mean_abs_corr=mean,
                median_abs_corr=med,
            )
        )
    out.sort(key=lambda s: -s.min_abs_corr)  # stable: ties keep effect order
    return tuple(out)


def susie_rss(
    z: ArrayLike,
    R: ArrayLike,
    n: float,
    *,
    snps: Sequence[str] | None = None,
    L: int = 10,
    scaled_prior_variance: float = 0.2,
    residual_variance: float | None = None,
    estimate_residual_variance: bool = False,
    estimate_prior_variance: bool = True,
    estimate_prior_method: PriorMethod = "optim",
    check_null_threshold: float = 0.0,
    prior_weights: ArrayLike | None = None,
    null_weight: float = 0.0,
    standardize: bool = True,
    max_iter: int = 100,
    coverage: float = 0.95,
    min_abs_corr: float = 0.5,
    tol: float = 1e-3,
    check_prior: bool = True,
) -> SusieFit:
    r"""SuSiE on z-scores and LD, as susieR's ``susie_rss(z, R, n)``.

    The z-scores are PVE-adjusted, :math:`\tilde z_j = z_j\sqrt{(n-1)/(z_j^2+n-2)}`, and the
    sufficient statistics are :math:`X'X = (n-1)R`, :math:`X'y = \sqrt{n-1}\,\tilde z`,
    :math:`y'y = n-1` (standardised :math:`X, y`). IBSS then runs as in
    :func:`mrkit.coloc._susie_ibss.ibss`.

    Parameters
    ----------
    z
        Association z-scores, one per variable (NaN is read as 0, as in susieR).
    R
        The ``p x p`` LD (signed correlation) matrix in the order of ``z``.
    n
        GWAS sample size (> 1).
    snps
        Variable names (default ``"1".."p"``).
    L, scaled_prior_variance, residual_variance, estimate_residual_variance,
    estimate_prior_variance, estimate_prior_method, check_null_threshold, prior_weights,
    standardize, max_iter, coverage, min_abs_corr, tol, check_prior
        As in susieR (its defaults).
    null_weight
        Only 0 (coloc's choice) is supported.

    Returns
    -------
    SusieFit
        A fit that did not converge in ``max_iter`` sweeps carries ``converged = False``
        and a warning.
    """
    zz = np.array(z, dtype=float).ravel()
    p = zz.size
    RR = np.asarray(R, dtype=float)
    if RR.shape != (p, p):
        msg = f"the LD matrix is {RR.shape[0]} x {RR.shape[1]}, expected {p} x {p} (one row per z)"
        raise InputError(msg)
    if not np.all(np.isfinite(RR)):
        msg = "the LD matrix holds missing or infinite values"
        raise InputError(msg)
    if not n > 1:
        msg = f"`n` must be greater than 1, got {n}"
        raise InputError(msg)
    if null_weight != 0:
        msg = "`null_weight` other than 0 is not supported (coloc's runsusie uses 0)"
        raise InputError(msg)
    if np.any(np.isinf(zz)):
        msg = "z-scores must be finite (is some varbeta 0?)"
        raise InputError(msg)
    if not (0 <= scaled_prior_variance <= 1 or (scaled_prior_variance >= 0 and not standardize)):
        msg = "`scaled_prior_variance` must be in [0, 1] with standardize = True"
        raise InputError(msg)
    names = tuple(snps) if snps is not None else tuple(str(i + 1) for i in range(p))
    if len(names) != p:
        msg = f"`snps` has {len(names)} names for {p} z-scores"
        raise InputError(msg)
    zz[np.isnan(zz)] = 0.0
    zz = np.sqrt((n - 1.0) / (zz * zz + n - 2.0)) * zz
    if not np.array_equal(RR, RR.T):
        RR = (RR + RR.T) / 2.0
    xtx = (n - 1.0) * RR
    xty = np.sqrt(n - 1.0) * zz
    yty = n - 1.0
    if standardize:
        csd = np.sqrt(np.diagonal(xtx) / (n - 1.0))
        csd[csd == 0] = 1.0
        xtx = (xtx / csd).T / csd
        xty = xty / csd
    if prior_weights is None:
        pi = np.full(p, 1.0 / p)
    else:
        pi = np.array(prior_weights, dtype=float).ravel()
        if pi.size != p or np.any(pi < 0) or not pi.sum() > 0:
            msg = "`prior_weights` must be p non-negative numbers, not all 0"
            raise InputError(msg)
        pi = pi / pi.sum()
    fit: IbssFit = ibss(
        np.ascontiguousarray(xtx),
        xty,
        yty,
        n,
        L=L,
        scaled_prior_variance=scaled_prior_variance,
        residual_variance=residual_variance,
        estimate_residual_variance=estimate_residual_variance,
        estimate_prior_variance=estimate_prior_variance,
        estimate_prior_method=estimate_prior_method,
        check_null_threshold=check_null_threshold,
        prior_weights=pi,
        max_iter=max_iter,
        tol=tol,
        check_prior=check_prior,
    )
    notes: list[str] = []
    if not fit.converged:
        notes.append(f"IBSS did not converge in {max_iter} iterations")
    d = np.sqrt(np.diagonal(xtx))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (xtx / d).T / d  # cov2cor, as susieR's Xcorr
    sets = credible_sets(
        fit.alpha, fit.V, corr, names, coverage=coverage, min_abs_corr=min_abs_corr
    )
    return SusieFit(
        **vars(fit),
        snps=names,
        pip=susie_pip(fit.alpha, fit.V),
        sets=sets,
        requested_coverage=coverage,
        warnings=tuple(notes),
    )


def runsusie(
    z: ArrayLike,
    R: ArrayLike,
    n: float,
    *,
    snps: Sequence[str] | None = None,
    max_iter: int = 100,
    repeat_until_convergence: bool = True,
    **options: Any,
) -> SusieFit:
    """coloc's ``runsusie``: :func:`susie_rss`, re-run with 100 x ``max_iter`` if not converged.

    The re-run starts afresh in R, so it is the same path continued; here it is one run
    capped at ``100 * max_iter`` sweeps. A fit still not converged then is returned with
    ``converged = False`` and a :class:`UserWarning` (R would multiply the cap again).
    """
    fit = susie_rss(z, R, n, snps=snps, max_iter=max_iter, **options)
    if not fit.converged and repeat_until_convergence:
        fit = susie_rss(z, R, n, snps=snps, max_iter=100 * max_iter, **options)
    if not fit.converged:
        warnings.warn(
            f"SuSiE did not converge in {fit.niter} iterations; check that the LD matches "
            "the summary statistics",
            UserWarning,
            stacklevel=2,
        )
    return fit
