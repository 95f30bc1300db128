"""Allele alignment rules of TwoSampleMR 0.7.9 ``harmonise_data()``, re-derived.

This private module holds the four allele cases of TwoSampleMR's harmonisation,
written from the package's definitions (``R/harmonise.R``): ``2-2`` (both
studies give two alleles), ``2-1`` (the outcome lacks its other allele),
``1-2`` (the exposure lacks its other allele) and ``1-1``; plus the recoding of
INDELs written as ``D``/``I`` in one study and as sequences in the other.

Every function works on numpy arrays of one case (object arrays of upper-case
allele strings, ``None`` for a missing allele; float arrays for effects and
frequencies) and returns new arrays in a :class:`CaseResult`; nothing is
modified in place. Every step is element-wise, so one call may hold the
variants of many exposure-outcome pairs; the log counts are kept per variant
(:attr:`CaseResult.flags`) so that they can be summed per pair. The order of the
steps is the R order, because later steps test the alleles as earlier steps left
them.

Known difference from R: for the ``1-2`` case, R 0.7.9 passes the outcome
alleles to ``recode_indels_21`` in the wrong argument positions (and then fails
on the ``NA`` it creates when more than one such INDEL is present); mrkit uses
the ``1-2`` recoding that R defines for this case (``recode_indels_12``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def nchar(a: np.ndarray) -> np.ndarray:
    """Number of characters of each allele; a missing one counts 2 (R's ``nchar(NA)``)."""
    return np.array([2 if x is None else len(x) for x in a], dtype=np.int64)


def eq(a: np.ndarray | str, b: np.ndarray | str) -> np.ndarray:
    """Element-wise string equality where a missing allele equals nothing."""
    a_ = np.asarray(a, dtype=object)
    b_ = np.asarray(b, dtype=object)
    a_, b_ = np.broadcast_arrays(a_, b_)
    if a_.size == 0:
        return np.zeros(a_.shape, dtype=bool)
    same = np.asarray(a_ == b_, dtype=bool)
    # (numpy's stubs leave None out of ArrayLike; an object array compares with it)
    return same & ~np.equal(a_, None) & ~np.equal(b_, None)  # type: ignore[call-overload]


def flip(a: np.ndarray) -> np.ndarray:
    """Complement every base (A<->T, C<->G) of each allele; other letters are kept."""
    return np.array([None if x is None else x.upper().translate(_COMPLEMENT) for x in a], object)


def is_palindromic(a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    """``True`` where the pair is A/T, T/A, G/C or C/G."""
    return (
        (eq(a1, "T") & eq(a2, "A"))
        | (eq(a1, "A") & eq(a2, "T"))
        | (eq(a1, "G") & eq(a2, "C"))
        | (eq(a1, "C") & eq(a2, "G"))
    )


@dataclass
class CaseResult:
    """Aligned alleles, effects and flags for the variants of one allele case.

    ``flags`` holds, for each count of TwoSampleMR's log (``switched_alleles``,
    ...), the variants it counts (boolean arrays, in R's key order); ``log`` is
    the case name and their sums.
    """

    A1: np.ndarray
    A2: np.ndarray
    B1: np.ndarray
    B2: np.ndarray
    betaA: np.ndarray  # noqa: N815 (R names)
    betaB: np.ndarray  # noqa: N815 (R names)
    fA: np.ndarray  # noqa: N815 (R names)
    fB: np.ndarray  # noqa: N815 (R names)
    remove: np.ndarray
    palindromic: np.ndarray
    ambiguous: np.ndarray
    log: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, np.ndarray] = field(default_factory=dict)


def _log(name: str, flags: dict[str, np.ndarray]) -> dict[str, Any]:
    """TwoSampleMR's log record of one case: its name and the sum of each flag."""
    return {"alleles": name, **{k: int(v.sum()) for k, v in flags.items()}}


def _swap_b(to_swap, B1, B2, betaB, fB):
    B1, B2 = B1.copy(), B2.copy()
    B1[to_swap], B2[to_swap] = B2[to_swap], B1[to_swap]
    betaB = np.where(to_swap, -betaB, betaB)
    fB = np.where(to_swap, 1 - fB, fB)
    return B1, B2, betaB, fB


def _relabel_b(to_swap, A1, B1, B2, betaB, fB):
    """Where the outcome's effect allele is the exposure's other allele, make the
    exposure's effect allele the outcome's (``B2 <- B1``, ``B1 <- A1``, in place) and
    negate beta and complement frequency; returns the new ``(betaB, fB)``."""
    B2[to_swap] = B1[to_swap]
    B1[to_swap] = A1[to_swap]
    return np.where(to_swap, -betaB, betaB), np.where(to_swap, 1 - fB, fB)


def _freq(f: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(f), 0.5, f)


# --------------------------------------------------------------------------- INDELs


def recode_indels_22(A1, A2, B1, B2):
    """D/I coding against sequence alleles when both studies give two alleles.

    Returns the recoded ``(A1, A2, B1, B2, keep)``; ``keep`` is ``False`` for
    D/I against equal-length sequences and for identical allele pairs.
    """
    A1, A2, B1, B2 = A1.copy(), A2.copy(), B1.copy(), B2.copy()
    ncA1, ncA2, ncB1, ncB2 = nchar(A1), nchar(A2), nchar(B1), nchar(B2)
    # outcome written as I/D or D/I: take the exposure's sequences
    # (each condition is evaluated after the previous step, as in R)
    longer_a, shorter_a = ncA1 > ncA2, ncA1 < ncA2
    for length, b1, b2, first, second in (
        (longer_a, "I", "D", A1, A2),
        (shorter_a, "I", "D", A2, A1),
        (longer_a, "D", "I", A2, A1),
        (shorter_a, "D", "I", A1, A2),
    ):
        cond = length & eq(B1, b1) & eq(B2, b2)
        B1[cond] = first[cond]
        B2[cond] = second[cond]
    # exposure written as I/D or D/I: take the outcome's (already recoded) sequences
    longer_b, shorter_b = ncB1 > ncB2, ncB1 < ncB2
    for length, a1, a2, first, second in (
        (longer_b, "I", "D", B1, B2),
        (shorter_b, "I", "D", B2, B1),
        (longer_b, "D", "I", B2, B1),
        (shorter_b, "D", "I", B1, B2),
    ):
        cond = length & eq(A1, a1) & eq(A2, a2)
        A1[cond] = first[cond]
        A2[cond] = second[cond]
    keep = np.ones(len(A1), dtype=bool)
    keep[(ncA1 > 1) & (ncA1 == ncA2) & (eq(B1, "D") | eq(B1, "I"))] = False
    keep[(ncB1 > 1) & (ncB1 == ncB2) & (eq(A1, "D") | eq(A1, "I"))] = False
    keep[eq(A1, A2)] = False
    keep[eq(B1, B2)] = False
    return A1, A2, B1, B2, keep


def recode_indels_21(A1, A2, B1):
    """D/I coding when the outcome gives only its effect allele (``B2`` is built)."""
    A1, A2, B1 = A1.copy(), A2.copy(), B1.copy()
    B2 = np.full(len(B1), None, dtype=object)
    ncA1, ncA2 = nchar(A1), nchar(A2)
    for length, b1, first, second in (
        (ncA1 > ncA2, "I", A1, A2),
        (ncA1 < ncA2, "I", A2, A1),
        (ncA1 > ncA2, "D", A2, A1),
        (ncA1 < ncA2, "D", A1, A2),
    ):
        cond = length & eq(B1, b1)
        B1[cond] = first[cond]
        B2[cond] = second[cond]
    keep = np.ones(len(A1), dtype=bool)
    keep[eq(A1, "I") & eq(A2, "D")] = False
    keep[eq(A1, "D") & eq(A2, "I")] = False
    keep[(ncA1 > 1) & (ncA1 == ncA2) & (eq(B1, "D") | eq(B1, "I"))] = False
    keep[eq(A1, A2)] = False
    return A1, A2, B1, B2, keep


def recode_indels_12(A1, B1, B2):
    """D/I coding when the exposure gives only its effect allele (``A2`` is built).

    The mirror of :func:`recode_indels_21`: the same rules with the sides swapped.
    """
    B1, B2, A1, A2, keep = recode_indels_21(B1, B2, A1)
    return A1, A2, B1, B2, keep


# --------------------------------------------------------------------------- cases


def harmonise_22(A1, A2, B1, B2, betaA, betaB, fA, fB, tolerance, action) -> CaseResult:
    """Both studies give two alleles: swap, flip strand, then resolve palindromes.

    1. Swap the outcome alleles where they are the exposure's reversed
       (``beta_outcome -> -beta_outcome``, ``eaf_outcome -> 1 - eaf_outcome``).
    2. For non-palindromic variants still unmatched, take the complementary
       strand of the outcome alleles, then swap again if needed.
    3. Anything still unmatched (or an unusable INDEL) is ``remove``.
    4. Palindromic variants are ``ambiguous`` when either frequency lies
       strictly inside ``(0.5 - tolerance, 0.5 + tolerance)`` (a missing
       frequency counts as 0.5); under action 2 the outcome effect is negated
       where the two frequencies lie on opposite sides of 0.5.
    """
    flags: dict[str, np.ndarray] = {}
    A1, A2, B1, B2 = A1.copy(), A2.copy(), B1.copy(), B2.copy()
    indel = (nchar(A1) > 1) | (nchar(A2) > 1) | eq(A1, "D") | eq(A1, "I")
    indel_keep = np.ones(len(A1), dtype=bool)
    if indel.any():
        a1, a2, b1, b2, k = recode_indels_22(A1[indel], A2[indel], B1[indel], B2[indel])
        A1[indel], A2[indel], B1[indel], B2[indel] = a1, a2, b1, b2
        indel_keep[indel] = k

    to_swap = eq(A1, B2) & eq(A2, B1)
    flags["switched_alleles"] = to_swap
    B1, B2, betaB, fB = _swap_b(to_swap, B1, B2, betaB, fB)

    status1 = eq(A1, B1) & eq(A2, B2)
    palindromic = is_palindromic(A1, A2)
    i = ~palindromic & ~status1
    B1, B2 = B1.copy(), B2.copy()
    B1[i] = flip(B1[i])
    B2[i] = flip(B2[i])
    flags["flipped_alleles_basic"] = i

    to_swap = eq(A1, B2) & eq(A2, B1)
    B1, B2, betaB, fB = _swap_b(to_swap, B1, B2, betaB, fB)

    remove = ~(eq(A1, B1) & eq(A2, B2)) | ~indel_keep

    minf, maxf = 0.5 - tolerance, 0.5 + tolerance
    tfA, tfB = _freq(fA), _freq(fB)
    ambiguous_a = (tfA > minf) & (tfA < maxf)
    ambiguous_b = (tfB > minf) & (tfB < maxf)
    if action == 2:
        opposite = ((tfA < 0.5) & (tfB > 0.5)) | ((tfA > 0.5) & (tfB < 0.5))
        to_swap = opposite & palindromic & ~remove
        betaB = np.where(to_swap, -betaB, betaB)
        fB = np.where(to_swap, 1 - fB, fB)
        flags["flipped_alleles_palindrome"] = to_swap
    else:
        flags["flipped_alleles_palindrome"] = np.zeros(len(A1), dtype=bool)
    ambiguous = (ambiguous_a | ambiguous_b) & palindromic
    return CaseResult(
        A1, A2, B1, B2, betaA, betaB, fA, fB, remove, palindromic, ambiguous,
        _log("2-2", flags), flags,
    )  # fmt: skip


def _similar(fA, fB, tolerance):
    minf, maxf = 0.5 - tolerance, 0.5 + tolerance
    tfA, tfB = _freq(fA), _freq(fB)
    same = ((tfA < minf) & (tfB < minf)) | ((tfA > maxf) & (tfB > maxf))
    opposite = ((tfA < minf) & (tfB > maxf)) | ((tfA > maxf) & (tfB < minf))
    return same, opposite


def _match_one_allele(X1, X2, Y1, betaY, fX, fY, tolerance, flags):
    """Match side Y, which gives only its effect allele ``Y1``, to side X's ``X1, X2``.

    The steps shared by :func:`harmonise_21` (X the exposure, Y the outcome) and
    :func:`harmonise_12` (the sides swapped), in R's order: palindromic X pairs
    and unusable INDELs are ``remove``; ``Y2`` is inferred where ``Y1`` matches
    ``X1``; where ``Y1`` is ``X2`` side Y is relabelled to ``X1`` (beta negated,
    frequency complemented); ``Y1`` is strand-flipped where it matches neither
    and ``Y2`` inferred again. Sets ``flags["switched_alleles"]`` and
    ``flags["flipped_alleles_no_oa"]``; returns new arrays
    ``(X1, X2, Y1, Y2, betaY, fY, palindromic, remove, ambiguous)``.
    """
    n = len(X1)
    X1, X2, Y1 = X1.copy(), X2.copy(), Y1.copy()
    Y2 = np.full(n, None, dtype=object)
    ambiguous = np.zeros(n, dtype=bool)
    palindromic = is_palindromic(X1, X2)
    remove = palindromic.copy()
    indel = (nchar(X1) > 1) | (nchar(X2) > 1) | eq(X1, "D") | eq(X1, "I")
    if indel.any():
        x1, x2, y1, y2, k = recode_indels_21(X1[indel], X2[indel], Y1[indel])
        X1[indel], X2[indel], Y1[indel], Y2[indel] = x1, x2, y1, y2
        remove[np.flatnonzero(indel)[~k]] = True

    same, opposite = _similar(fX, fY, tolerance)
    status1 = eq(X1, Y1)
    ambiguous[status1 & ~same] = True
    Y2[status1] = X2[status1]

    to_swap = eq(X2, Y1)
    flags["switched_alleles"] = to_swap
    ambiguous[to_swap & ~opposite] = True
    betaY, fY = _relabel_b(to_swap, X1, Y1, Y2, betaY, fY)

    to_flip = ~eq(X1, Y1) & ~eq(X2, Y1)
    flags["flipped_alleles_no_oa"] = to_flip
    ambiguous[to_flip] = True
    Y1[to_flip] = flip(Y1[to_flip])
    status1 = eq(X1, Y1)
    Y2[status1] = X2[status1]
    return X1, X2, Y1, Y2, betaY, fY, palindromic, remove, ambiguous


def harmonise_21(A1, A2, B1, betaA, betaB, fA, fB, tolerance, action) -> CaseResult:
    """The outcome gives only its effect allele; its other allele is inferred.

    Palindromic exposure alleles are removed. A match (directly, reversed, or on
    the other strand) is ``ambiguous`` unless both frequencies are clearly on
    the expected sides of 0.5; a strand flip is always ``ambiguous``.
    """
    flags: dict[str, np.ndarray] = {}
    A1, A2, B1, B2, betaB, fB, palindromic, remove, ambiguous = _match_one_allele(
        A1, A2, B1, betaB, fA, fB, tolerance, flags
    )
    to_swap = eq(A2, B1)
    betaB, fB = _relabel_b(to_swap, A1, B1, B2, betaB, fB)
    return CaseResult(
        A1, A2, B1, B2, betaA, betaB, fA, fB, remove, palindromic, ambiguous | palindromic,
        _log("2-1", flags), flags,
    )  # fmt: skip


def harmonise_12(A1, B1, B2, betaA, betaB, fA, fB, tolerance, action) -> CaseResult:
    """The exposure gives only its effect allele; its other allele is inferred.

    Mirror image of :func:`harmonise_21` on the exposure side, with R's final
    step kept as written: after a strand flip of the exposure allele, an
    outcome whose effect allele is the exposure's other allele is swapped.
    """
    flags: dict[str, np.ndarray] = {}
    B1, B2, A1, A2, betaA, fA, palindromic, remove, ambiguous = _match_one_allele(
        B1, B2, A1, betaA, fB, fA, tolerance, flags
    )
    to_swap = eq(B2, A1)
    betaB, fB = _relabel_b(to_swap, A1, B1, B2, betaB, fB)
    return CaseResult(
        A1, A2, B1, B2, betaA, betaB, fA, fB, remove, palindromic, ambiguous | palindromic,
        _log("1-2", flags), flags,
    )  # fmt: skip


def harmonise_11(A1, B1, betaA, betaB, fA, fB, tolerance, action) -> CaseResult:
    """Both studies give only the effect allele: keep where they are the same allele.

    A different allele is ``remove``; the same allele is ``ambiguous`` unless
    both frequencies are clearly on the same side of 0.5.
    """
    n = len(A1)
    A2 = np.full(n, None, dtype=object)
    B2 = np.full(n, None, dtype=object)
    status1 = eq(A1, B1)
    remove = ~status1
    same, _ = _similar(fA, fB, tolerance)
    ambiguous = status1 & ~same
    palindromic = np.zeros(n, dtype=bool)
    return CaseResult(
        A1.copy(), A2, B1.copy(), B2, betaA, betaB, fA, fB, remove, palindromic, ambiguous,
        _log("1-1", {}), {},
    )  # fmt: skip
