"""Names shared by every room: genome builds, ...

Kept in one place so that the readers, the store and the reports spell them alike.
"""

from __future__ import annotations

from mrkit.errors import InputError

#: Common spellings of genome builds -> the store's spelling.
BUILDS = {"grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "grch38": "GRCh38",
          "hg38": "GRCh38", "b38": "GRCh38", "grch36": "NCBI36", "hg18": "NCBI36",
          "ncbi36": "NCBI36"}  # fmt: skip


def normalise_build(build: str | None) -> str | None:
    """``GRCh37``/``GRCh38`` (or ``NCBI36``) from common spellings; None stays None."""
    if build is None:
        return None
    b = BUILDS.get(str(build).strip().lower())
    if b is None:
        raise InputError(f"unknown genome build {build!r}; use GRCh37 or GRCh38")
    return b


__all__ = ["BUILDS", "normalise_build"]
