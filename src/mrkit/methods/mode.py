"""Mode-based estimators (MBE): simple, weighted and penalised mode, with NOME variants.

The estimate is the mode of a (weighted) Gaussian kernel density of the ratio
estimates :math:`\\hat\\theta_j = \\beta_{Yj}/\\beta_{Xj}`, computed exactly as
R's ``density()`` does (see :mod:`mrkit.methods._density`), with Bickel's
modified Silverman bandwidth

.. math::

    h = \\phi \\cdot 0.9 \\min\\big(\\mathrm{sd}(\\hat\\theta),
    \\mathrm{mad}(\\hat\\theta)\\big) / J^{1/5},
    \\qquad \\hat\\beta_{MBE} = \\arg\\max_b \\sum_j w_j K_h(b - \\hat\\theta_j),

:math:`\\mathrm{mad}` with R's constant 1.4826 and :math:`h \\ge 10^{-8}`. The
weights are :math:`w_j \\propto \\mathrm{se}(\\hat\\theta_j)^{-2}` (weighted) or
equal (simple). The ratio SEs are second order,
:math:`\\mathrm{se}_j^2 = \\sigma_{Yj}^2/\\beta_{Xj}^2 + \\beta_{Yj}^2\\sigma_{Xj}^2/\\beta_{Xj}^4`,
or, under the NO Measurement Error assumption (NOME), first order
:math:`\\sigma_{Yj}/|\\beta_{Xj}|`.

The standard error is the median absolute deviation (R's ``mad``) of the
estimate over ``nboot`` parametric bootstrap draws
:math:`\\hat\\theta_j^* \\sim N(\\hat\\theta_j, \\mathrm{se}_j^2)` with the weights
held at their point values; the interval is normal. TwoSampleMR computes the
p-value on the t distribution with :math:`J - 1` degrees of freedom (mrkit's
default, ``dist="t"``), MendelianRandomization ``mr_mbe`` on the normal
(``dist="normal"``).

MendelianRandomization ``mr_mbe(weighting, stderror)`` maps onto these
functions: ``weighted``/``delta`` = :func:`weighted_mode`, ``weighted``/``simple``
= :func:`weighted_mode_nome`, ``unweighted``/``delta`` = :func:`simple_mode`,
``unweighted``/``simple`` = :func:`simple_mode_nome` (all with
``dist="normal"``; MendelianRandomization's default is ``nboot=10000``).

References
----------
Hartwig FP, Davey Smith G, Bowden J (2017). Int J Epidemiol 46:1985-1998.
doi:10.1093/ije/dyx102
"""

from __future__ import annotations

from typing import Literal

from numpy.typing import ArrayLike

from mrkit.methods import _rows as rows
from mrkit.methods import register
from mrkit.methods._kernels import Segments, core_row
from mrkit.methods._ratio import Kind, mode_estimate_rows, mode_rows, ratio_arrays
from mrkit.results import MRResult

MODE_DOI = "doi:10.1093/ije/dyx102"


def _mode_core(
    method: str,
    bx: ArrayLike,
    sx: ArrayLike,
    by: ArrayLike,
    sy: ArrayLike,
    *,
    kind: Kind,
    nome: bool,
    phi: float,
    penk: float,
    nboot: int,
    seed: int | None,
    alpha: float,
    dist: Literal["normal", "t"],
) -> MRResult:
    bx_, sx_, by_, sy_ = ratio_arrays(method, bx, sx, by, sy, nboot)
    n = bx_.shape[0]
    cols = rows.mode(
        bx_, sx_, by_, sy_, Segments.single(n), method=method, kind=kind, nome=nome,
        phi=phi, penk=penk, nboot=nboot, seed=seed, alpha=alpha, dist=dist,
    )  # fmt: skip
    extras = {"phi": phi, "nboot": nboot, "seed": seed, "bandwidth": float(cols["bandwidth"][0])}
    return MRResult(method, *core_row(cols), n, alpha, extras)


_DOC_COMMON = """
    Parameters
    ----------
    phi
        Bandwidth factor (1 in both packages).
    nboot, seed
        Bootstrap draws for the SE (TwoSampleMR 1000, MendelianRandomization
        10000) and the seed of ``numpy.random.default_rng`` (default 1, the
        engine's; None: fresh entropy); R's random streams
        are not reproduced, SEs agree within Monte-Carlo error.
    dist
        p-value distribution: ``"t"`` on :math:`J-1` df (default, TwoSampleMR) or
        ``"normal"`` (MendelianRandomization ``mr_mbe``). The interval is normal
        in both packages.
"""


def _make(name: str, label: str, kind: Kind, nome: bool, default: bool, r_name: str):
    @register(
        name,
        label=label,
        min_snps=3,
        default=default,
        reference=MODE_DOI,
        stochastic=True,
        kernel="rows",
        aliases=(r_name,) if r_name.isidentifier() else (),
    )
    def estimator(
        bx: ArrayLike,
        sx: ArrayLike,
        by: ArrayLike,
        sy: ArrayLike,
        *,
        alpha: float = 0.05,
        phi: float = 1.0,
        nboot: int = 1000,
        seed: int | None = 1,
        dist: Literal["normal", "t"] = "t",
    ) -> MRResult:
        return _mode_core(
            name,
            bx,
            sx,
            by,
            sy,
            kind=kind,
            nome=nome,
            phi=phi,
            penk=20.0,
            nboot=nboot,
            seed=seed,
            alpha=alpha,
            dist=dist,
        )

    estimator.__name__ = estimator.__qualname__ = name
    weights = {
        "simple": "equal weights",
        "weighted": "weights se(ratio)^-2",
        "penalised": "penalised weights (penk = 20) around the weighted mode",
    }[kind]
    ses = "first-order (NOME)" if nome else "second-order"
    estimator.__doc__ = (
        f"{label}: mode of the ratio estimates with {weights}, {ses} ratio SEs "
        f"for the weights and the bootstrap (TwoSampleMR ``{r_name}``).\n" + _DOC_COMMON
    )
    return estimator


simple_mode = _make("simple_mode", "Simple mode", "simple", False, False, "mr_simple_mode")
weighted_mode = _make("weighted_mode", "Weighted mode", "weighted", False, True, "mr_weighted_mode")
penalised_mode = _make(
    "penalised_mode",
    "Penalised mode",
    "penalised",
    False,
    False,
    'mr_mode(mode_method = "Penalised mode")',
)
simple_mode_nome = _make(
    "simple_mode_nome", "Simple mode (NOME)", "simple", True, False, "mr_simple_mode_nome"
)
weighted_mode_nome = _make(
    "weighted_mode_nome", "Weighted mode (NOME)", "weighted", True, False, "mr_weighted_mode_nome"
)

__all__ = [
    "mode_estimate_rows",
    "mode_rows",
    "penalised_mode",
    "simple_mode",
    "simple_mode_nome",
    "weighted_mode",
    "weighted_mode_nome",
]
