"""Numbers for humans (console, reprs, report) and plain values for machines (JSON).

One rule everywhere (``mrkit mr``, the result reprs, the HTML report), no ``e-04``:

* integers (and counts stored as floats) with thousands separators: ``47,429``;
* estimates to 4 significant figures in plain decimals (``-0.000811``, ``0.02801``),
  and as ``1.234 × 10⁻⁵`` only below 10⁻⁴ or from 10⁶ up;
* p-values as ``0.032``, ``3.2 × 10⁻⁸``; ``< 1/1000`` at the resolution of a
  simulation with 1,000 draws (a PRESSO p with no draw beyond the observed
  value); from ``log10p`` when the double underflows (``4.9 × 10⁻³⁴⁴``), else
  ``< 10⁻³⁰⁰``;
* a missing value is ``NA (why)``: the report always gives a reason (``not available``
  by default); the console's :func:`fmt_num` and co. print a bare ``NA`` without one.

The report calls :func:`num`, :func:`count`, :func:`pval`, :func:`ci` and
:func:`pct` with the reason of a missing value; :func:`fmt_num`,
:func:`fmt_int` and :func:`fmt_p` are the same rule with the reason as a keyword.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def missing(v: Any) -> bool:
    """None, NaN or pandas' NA."""
    if v is None:
        return True
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return False


def na(reason: str | None = None) -> str:
    """``NA``, or ``NA (reason)``."""
    return f"NA ({reason})" if reason else "NA"


def power10(mantissa: float | str, exponent: int) -> str:
    """``3.2 × 10⁻⁸``."""
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def _sci(x: float, digits: int) -> str:
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    return power10(mant, int(exp))


def num(v: Any, why: str | None = "not available", *, digits: int = 4) -> str:
    """A number for a reader (see the module docstring); ``why`` when missing."""
    if missing(v):
        return na(why)
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    if x == round(x) and 1 <= abs(x) < 1e15:
        return f"{x:,.0f}"
    if abs(x) >= 10**digits and abs(x) < 1e6:
        return f"{x:,.0f}"
    if abs(x) < 1e-4 or abs(x) >= 1e6:
        return _sci(x, digits)
    text = f"{x:.{digits}g}"
    if "e" in text:  # not reached in the ranges above; kept as a guard
        return _sci(x, digits)
    return text


def count(v: Any, why: str | None = "not available") -> str:
    """An integer count with separators."""
    if missing(v):
        return na(why)
    return f"{round(float(v)):,}"


def pval(
    p: Any,
    why: str | None = "not available",
    *,
    resolution: int | None = None,
    log10p: float | None = None,
) -> str:
    """A p-value (see the module docstring)."""
    if missing(p):
        return na(why)
    x = float(p)
    if resolution and x < 1.0 / resolution:
        return f"< 1/{int(resolution)}"
    if x == 0.0:
        if log10p is not None and not missing(log10p) and math.isfinite(log10p) and log10p > 0:
            exp = math.floor(-log10p)
            mant = 10 ** (-log10p - exp)
            return power10(round(mant, 1), exp)
        return "< 10⁻³⁰⁰"
    if x >= 1e-3:
        return f"{x:.2g}" if x < 0.01 else f"{x:.3g}" if x < 0.995 else "1"
    return _sci(x, 2)


def ci(lo: Any, hi: Any, why: str | None = "not available") -> str:
    """``0.1 to 0.3``."""
    if missing(lo) or missing(hi):
        return na(why)
    return f"{num(lo)} to {num(hi)}"


def pct(v: Any, why: str | None = "not available") -> str:
    """A proportion as a percentage to 3 significant figures (``34.8%``)."""
    if missing(v):
        return na(why)
    return f"{float(v) * 100:.3g}%"


def fmt_num(v: Any, digits: int = 4, *, reason: str | None = None) -> str:
    """:func:`num` with the reason as a keyword."""
    return num(v, reason, digits=digits)


def fmt_int(v: Any, *, reason: str | None = None) -> str:
    """:func:`count` with the reason as a keyword."""
    return count(v, reason)


def fmt_p(
    p: Any, *, resolution: int | None = None, reason: str | None = None, log10p: float | None = None
) -> str:
    """:func:`pval` with the reason as a keyword."""
    return pval(p, reason, resolution=resolution, log10p=log10p)


def plain(v: Any) -> Any:
    """A JSON-ready value: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(v, np.ndarray):
        return [plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


__all__ = [
    "ci",
    "count",
    "fmt_int",
    "fmt_num",
    "fmt_p",
    "missing",
    "na",
    "num",
    "pct",
    "plain",
    "power10",
    "pval",
]
