"""Writing a file whole: to a temporary name beside it, renamed when complete."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` to ``.NAME.partial`` beside ``path``, then rename it to ``path``.

    A killed process leaves the old file or the new one, never half of one (a
    rename within a folder is atomic); a leftover ``.NAME.partial`` is replaced
    by the next write, and a ``write`` that raises leaves none behind.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


__all__ = ["atomic_write"]
