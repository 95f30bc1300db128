"""Result records returned by every estimator.

An estimator returns one :class:`MRResult`: a frozen record with the fields of
DESIGN.md (``method, estimate, se, ci_lower, ci_upper, pval, nsnp``) and a
mapping of named extras (Egger intercept, Q, PRESSO global p, ...). Odds
ratios are derived at the report, never here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CORE_FIELDS: tuple[str, ...] = (
    "method",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "pval",
    "nsnp",
)


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays to plain Python objects for JSON and DataFrames."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@dataclass(frozen=True)
class MRResult:
    """The estimate of one method on one exposure-outcome pair.

    Attributes
    ----------
    method
        Canonical snake_case method name (a key of :data:`mrkit.methods.REGISTRY`).
    estimate, se
        Causal effect of the exposure on the outcome (outcome units per exposure
        unit) and its standard error.
    ci_lower, ci_upper
        ``1 - alpha`` confidence interval.
    pval
        Two-sided p-value of the estimate.
    nsnp
        Number of variants the estimate used.
    alpha
        Significance level of the interval.
    extras
        Method-specific named quantities (e.g. ``egger_intercept``, ``q``).
    """

    method: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pval: float
    nsnp: int
    alpha: float = 0.05
    extras: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """A flat dict: the core fields, then the extras (plain Python types)."""
        rec: dict[str, Any] = {k: _plain(getattr(self, k)) for k in CORE_FIELDS}
        for key, value in self.extras.items():
            rec[key] = _plain(value)
        return rec

    def __repr__(self) -> str:
        return (
            f"MRResult(method={self.method!r}, estimate={self.estimate:.6g}, se={self.se:.6g}, "
            f"ci=[{self.ci_lower:.6g}, {self.ci_upper:.6g}], pval={self.pval:.4g}, "
            f"nsnp={self.nsnp})"
        )

    def _repr_html_(self) -> str:
        cells = "".join(f"<td>{_fmt(getattr(self, k))}</td>" for k in CORE_FIELDS)
        head = "".join(f"<th>{k}</th>" for k in CORE_FIELDS)
        return f"<table><tr>{head}</tr><tr>{cells}</tr></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "NA" if math.isnan(value) else f"{value:.4g}"
    return str(value)
