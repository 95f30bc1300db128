"""mrkit: two-sample Mendelian randomization from GWAS summary statistics.

The public API is re-exported here; see ``../shared/DESIGN.md`` for the rooms.
"""

from __future__ import annotations

from mrkit.errors import (
    FileFormatError,
    InputError,
    MrkitError,
    MrkitWarning,
    TooFewVariantsError,
)

# __version__ (importlib.metadata) and MRResult (numpy) are lazy too: `mrkit --help`
# imports this package and must not pay for them.
_LAZY = {
    "__version__": "mrkit._core.version",
    "MRResult": "mrkit.results",
    "mr": "mrkit.estimate",
    "analyse": "mrkit.estimate",
    "Pairs": "mrkit.estimate",
    "MRAnalysis": "mrkit.results",
    "plot_scatter": "mrkit.report.plots",
    "plot_forest": "mrkit.report.plots",
    "plot_leave_one_out": "mrkit.report.plots",
    "plot_funnel": "mrkit.report.plots",
    "plot_radial": "mrkit.report.plots",
}


def __getattr__(name: str) -> object:
    """Import the heavier API modules on first use (keeps ``import mrkit`` fast)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'mrkit' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "FileFormatError",
    "InputError",
    "MRAnalysis",
    "MRResult",
    "MrkitError",
    "MrkitWarning",
    "Pairs",
    "TooFewVariantsError",
    "__version__",
    "analyse",
    "mr",
    "plot_forest",
    "plot_funnel",
    "plot_leave_one_out",
    "plot_radial",
    "plot_scatter",
]
