"""Checks of a study file that need more than one key or the file system.

Each raises :class:`~mrkit.errors.StudyError` naming the study file and the key,
before anything is written (see :func:`mrkit.study.spec.load_study`).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable
from pathlib import Path

from mrkit.errors import StudyError
from mrkit.io.plink import fileset_prefix

#: A GWAS id: starts with a letter or digit (never ``..`` or an option-like ``-x``), then
#: letters, digits, ``_``, ``.``, ``-``; at most 128 characters (as the store's ids; they
#: name files).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


def check_id(value: str) -> str:
    """``value`` if it is a valid GWAS id (:data:`ID_PATTERN`), else ValueError saying why."""
    if not ID_PATTERN.fullmatch(value):
        why = "more than 128 characters" if len(value) > 128 else repr(value)
        msg = (
            f"{why} is not an id: start with a letter or digit, then only letters, digits, "
            "`_`, `.` or `-` (no spaces or `/`), at most 128 characters"
        )
        raise ValueError(msg)
    return value


def no_repeats(values: Iterable[str], key: str, path: Path | str) -> None:
    """Refuse a list holding one value twice (``values`` already canonical)."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            msg = f"{path}: {key}: {v!r} is listed twice"
            raise StudyError(msg)
        seen.add(v)


def check_panel(panel: str, base: Path, path: Path | str) -> None:
    """The LD panel's PLINK files exist: ``.bed``, ``.bim`` and ``.fam`` of the prefix.

    A ``{chr}`` or ``{lo..hi}`` pattern needs at least one complete file set.
    """
    prefix = fileset_prefix(base / panel)
    text = str(prefix)
    if "{" in text:
        pattern = re.sub(r"\{chr\}|\{\d+\.\.\d+\}", "*", text)
        sets = [Path(b[: -len(".bed")]) for b in glob.glob(pattern + ".bed")]
        if not any(_complete(p) for p in sets):
            msg = f"{path}: study.panel: no PLINK file set (.bed/.bim/.fam) matches {panel!r}"
            raise StudyError(msg)
        return
    lacking = [e for e in (".bed", ".bim", ".fam") if not _with(prefix, e).is_file()]
    if lacking:
        msg = f"{path}: study.panel: {panel!r} has no {', '.join(lacking)} file (a PLINK prefix)"
        raise StudyError(msg)


def _with(prefix: Path, ext: str) -> Path:
    return prefix.with_name(prefix.name + ext)


def _complete(prefix: Path) -> bool:
    return all(_with(prefix, e).is_file() for e in (".bed", ".bim", ".fam"))


def check_pairs(forward: list[tuple[str, str]], bidirectional: bool) -> None:
    """With ``bidirectional``, no reverse pair may also be a forward pair (analysed twice)."""
    if not bidirectional:
        return
    fwd = set(forward)
    for e, o in forward:
        if (o, e) in fwd:
            msg = (
                f"analysis.bidirectional: {o} -> {e} is already a forward pair "
                f"(exposures and outcomes overlap, so each pair would be analysed twice); "
                "set bidirectional = false or make exposures and outcomes disjoint"
            )
            raise StudyError(msg)
