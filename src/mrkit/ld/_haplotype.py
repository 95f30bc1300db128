"""PLINK 1.9's haplotype r² between two variants, from their 3 x 3 genotype-count table.

PLINK 1.9 does *not* use the genotype (dosage) correlation for ``--clump``: it
estimates the two-locus haplotype frequencies by maximum likelihood from the
3 x 3 genotype-count table (the double heterozygotes are the only phase-unknown
cell; the likelihood equation is a cubic, solved exactly) and reports

.. math::

    r^2 = \\frac{(f_{11} - p_1 q_1)^2}{p_1 (1 - p_1) q_1 (1 - q_1)}

on the samples genotyped at both variants (Hill & Robertson 1968,
doi:10.1007/BF01245622; the cubic is Gaunt, Rodriguez & Day 2007,
doi:10.1186/1471-2105-8-428). :func:`haplotype_r2` reproduces that estimate,
including PLINK's choice among the cubic's roots, vectorised over any number of
variant pairs. Used by :mod:`mrkit.ld.clump`; verified against plink1.9 b6.26 in
``tests/ld``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["haplotype_r2"]

_SMALL_EPS = 2.0**-35  # PLINK's SMALL_EPSILON: |D| or the denominator below it gives r² = 0
_SMALLISH_EPS = 2.0**-35


def _cubic_roots(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Real roots of ``x³ + a x² + b x + c`` for arrays of coefficients.

    Returns an ``(k, 3)`` array sorted ascending, NaN where a root is complex.
    """
    q = (a * a - 3.0 * b) / 9.0
    r = (2.0 * a**3 - 9.0 * a * b + 27.0 * c) / 54.0
    q3 = q**3
    out = np.full((a.size, 3), np.nan)
    three = (r * r) < q3
    if three.any():
        qs = q[three]
        sq = np.sqrt(qs)
        ratio = np.clip(r[three] / (sq**3), -1.0, 1.0)
        theta = np.arccos(ratio)
        shift = a[three] / 3.0
        out[three, 0] = -2.0 * sq * np.cos(theta / 3.0) - shift
        out[three, 1] = -2.0 * sq * np.cos((theta + 2.0 * np.pi) / 3.0) - shift
        out[three, 2] = -2.0 * sq * np.cos((theta - 2.0 * np.pi) / 3.0) - shift
    one = ~three
    if one.any():
        rr = r[one]
        big_a = -np.sign(rr) * np.cbrt(np.abs(rr) + np.sqrt(np.maximum(rr * rr - q3[one], 0.0)))
        big_b = np.divide(q[one], big_a, out=np.zeros_like(big_a), where=big_a != 0)
        out[one, 0] = big_a + big_b - a[one] / 3.0
    return np.sort(out, axis=1)  # NaN sorts last


def _lnlike(k11, k12, k21, k22, center, f11, f12, f21, f22, half, incr):
    g11 = f11 + incr
    g22 = f22 + incr
    g12 = f12 + half - incr
    g21 = f21 + half - incr
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = center * np.log(g11 * g22 + g12 * g21)
        for k, g in ((k11, g11), (k12, g12), (k21, g21), (k22, g22)):
            ll = ll + np.where(k != 0, k * np.log(np.where(k != 0, g, 1.0)), 0.0)
    return ll


def haplotype_r2(counts: np.ndarray) -> np.ndarray:
    """PLINK 1.9's maximum-likelihood haplotype r² from 3 x 3 genotype counts.

    Parameters
    ----------
    counts
        ``(k, 3, 3)`` array: ``counts[j, a, b]`` is the number of samples with
        ``a`` copies of the first variant's counted allele and ``b`` of the
        second's (samples missing either genotype left out).

    Returns
    -------
    numpy.ndarray
        ``k`` signed r values (sign of D for the counted alleles); 0 where a
        variant is monomorphic over the shared samples or D is negligible.
    """
    c = np.asarray(counts, dtype=float).reshape(-1, 3, 3)
    # haplotype "1" = counted allele (2 copies = homozygous counted)
    k11 = 2 * c[:, 2, 2] + c[:, 2, 1] + c[:, 1, 2]
    k12 = 2 * c[:, 2, 0] + c[:, 2, 1] + c[:, 1, 0]
    k21 = 2 * c[:, 0, 2] + c[:, 0, 1] + c[:, 1, 2]
    k22 = 2 * c[:, 0, 0] + c[:, 0, 1] + c[:, 1, 0]
    center = c[:, 1, 1]
    twice = k11 + k12 + k21 + k22 + 2 * center
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(twice > 0, 1.0 / twice, 0.0)
    f11, f12, f21, f22 = k11 * inv, k12 * inv, k21 * inv, k22 * inv
    half = center * inv
    p1 = f11 + f12 + half
    q1 = f11 + f21 + half
    p1122 = f11 * f22
    p1221 = f12 * f21
    incr = np.zeros_like(f11)

    has_center = center > 0
    cubic = has_center & ((p1122 != 0) | (p1221 != 0))
    if cubic.any():
        i = cubic
        h = half[i]
        roots = _cubic_roots(
            0.5 * (f11[i] + f22[i] - f12[i] - f21[i] - 3 * h),
            0.5 * (p1122[i] + p1221[i] + h * (f12[i] + f21[i] - f11[i] - f22[i] + h)),
            -0.5 * h * p1122[i],
        )
        hh = h[:, None]
        ok = (roots >= -_SMALLISH_EPS) & (roots <= hh + _SMALLISH_EPS)
        none = ~ok.any(axis=1)
        roots = np.clip(roots, 0.0, hh)
        # "lost root": check the two boundary points
        roots[none] = np.column_stack([np.zeros(none.sum()), h[none], np.full(none.sum(), np.nan)])
        ok[none] = [True, True, False]
        incr[i] = _pick(
            roots, ok, k11[i], k12[i], k21[i], k22[i], center[i], f11[i], f12[i], f21[i], f22[i], h
        )
    flat = has_center & ~cubic
    if flat.any():
        i = flat
        h = half[i]
        mid = (h + f21[i] - f22[i]) * 0.5
        three = (f22[i] + _SMALLISH_EPS < h + f21[i]) & (f21[i] + _SMALLISH_EPS < h + f22[i])
        roots = np.column_stack([np.zeros_like(h), np.where(three, mid, h), h])
        ok = np.column_stack([np.ones_like(three), np.ones_like(three), three])
        incr[i] = _pick(
            roots, ok, k11[i], k12[i], k21[i], k22[i], center[i], f11[i], f12[i], f21[i], f22[i], h
        )
    freq11 = f11 + incr
    expected = p1 * q1
    d = freq11 - expected
    denom = expected * (1.0 - p1) * (1.0 - q1)
    zero = (np.abs(d) < _SMALL_EPS) | (np.abs(denom) < _SMALL_EPS) | (twice == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(zero, 0.0, d / np.sqrt(np.where(zero, 1.0, denom)))
    return r


def _pick(roots, ok, k11, k12, k21, k22, center, f11, f12, f21, f22, h):
    """Choose among the admissible roots as PLINK 1.9 does.

    PLINK starts from the smallest admissible root and moves to any later root
    whose log-likelihood beats the *first* root's (its running best is never
    updated), so the last such root wins; reproduced here on purpose.
    """
    k = roots.shape[0]
    first = np.argmax(ok, axis=1)
    rows = np.arange(k)
    best = roots[rows, first]
    base_ll = _lnlike(k11, k12, k21, k22, center, f11, f12, f21, f22, h, best)
    for j in range(1, 3):
        sel = np.flatnonzero(ok[:, j] & (j > first))  # the likelihood only where needed
        if sel.size == 0:
            continue
        cand = roots[sel, j]
        args = (k11, k12, k21, k22, center, f11, f12, f21, f22, h)
        ll = _lnlike(*(x[sel] for x in args), cand)
        better = ll > base_ll[sel]
        best[sel[better]] = cand[better]
    return best
