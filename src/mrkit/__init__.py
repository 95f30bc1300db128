"""mrkit: two-sample Mendelian randomization from GWAS summary statistics.

The public API is re-exported here; see ``../shared/DESIGN.md`` for the rooms.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mrkit.errors import (
    FileFormatError,
    InputError,
    MrkitError,
    MrkitWarning,
    TooFewVariantsError,
)
from mrkit.results import MRResult

try:
    __version__ = version("mrkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "FileFormatError",
    "InputError",
    "MRResult",
    "MrkitError",
    "MrkitWarning",
    "TooFewVariantsError",
    "__version__",
]
