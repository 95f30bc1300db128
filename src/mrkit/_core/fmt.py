"""Numbers for humans (console, reprs, report) and plain values for machines (JSON).

One rule everywhere (``mrkit mr``, the result reprs, the HTML report):

* integers with thousands separators: ``47,429``;
* estimates to ``digits`` significant figures, in scientific notation only when
  very small or very large: ``0.02801``, ``-8.11e-04``;
* p-values as ``3.2 × 10⁻⁸`` (two significant figures below 0.001), ``< 10⁻³⁰⁰``
  below the double range, ``< 1/N`` at a simulation's resolution;
* missing values as ``NA``, with the reason when one is given: ``NA (too few variants)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(isinstance(v, float | np.floating) and math.isnan(v))
    except TypeError:
        return False


def na(reason: str | None = None) -> str:
    """``NA``, or ``NA (reason)``."""
    return f"NA ({reason})" if reason else "NA"


def fmt_int(v: Any) -> str:
    """An integer with thousands separators (``47,429``); NA when missing."""
    if _missing(v):
        return na()
    return f"{int(v):,}"


def fmt_num(v: Any, digits: int = 4, *, reason: str | None = None) -> str:
    """A number to ``digits`` significant figures; integers exactly, booleans yes/no."""
    if _missing(v):
        return na(reason)
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return fmt_int(v)
    if isinstance(v, float | np.floating):
        x = float(v)
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if abs(x) < 1e15 and ((x == round(x) and abs(x) >= 1) or abs(x) >= 10**digits):
            return f"{x:,.0f}"  # counts stored as floats (47,429) and large values in full
        if x != 0 and abs(x) < 1e-3:
            return f"{x:.{max(digits - 1, 0)}e}"
        return f"{x:.{digits}g}"
    return str(v)


def fmt_p(p: Any, *, resolution: int | None = None, reason: str | None = None) -> str:
    """A p-value: ``0.032``, ``3.2 × 10⁻⁸``, ``< 10⁻³⁰⁰``, or ``< 1/N`` (N draws)."""
    if _missing(p):
        return na(reason)
    x = float(p)
    if resolution and x < 1.0 / resolution:
        return f"< 1/{resolution:,}"
    if x == 0.0:
        return "< 10⁻³⁰⁰"
    if x >= 1e-3:
        return f"{x:.2g}" if x < 0.01 else f"{x:.3g}"
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant} × 10{str(int(exp)).translate(_SUPERSCRIPT)}"


def plain(v: Any) -> Any:
    """A JSON-ready value: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(v, np.ndarray):
        return [plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


__all__ = ["fmt_int", "fmt_num", "fmt_p", "na", "plain"]
