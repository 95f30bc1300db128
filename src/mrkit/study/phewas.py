"""Phenome-wide shortcuts: one exposure against every GWAS in a store, or every GWAS
against one outcome.

:func:`phewas_study` builds the equivalent study file (every GWAS taken from the
store, with the trait, units and case/control counts of the catalog);
:func:`run_phewas` writes it to ``<out>/study.toml`` and runs it with
:func:`mrkit.study.pipeline.run_study`, so the outputs, the resume-after-crash and the
no-op re-run are those of ``mrkit run`` (``mrkit run <out>/study.toml`` repeats it).
GWAS without instruments are failed pairs with their reason; the others go on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mrkit.errors import StudyError
from mrkit.methods import resolve
from mrkit.store.catalog import Store
from mrkit.study.pipeline import StudyRun, run_study

CORRECTIONS = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh"}
CORRECTIONS["none"] = "none"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    msg = f"cannot write {v!r} to TOML"
    raise TypeError(msg)


def to_toml(doc: dict[str, Any]) -> str:
    """A study dict as TOML: sections of scalars and lists, ``gwas`` a list of tables,
    nested dicts as sub-tables (``analysis.options.presso`` -> ``[analysis.options.presso]``)."""
    lines: list[str] = []
    for section, body in doc.items():
        tables = body if isinstance(body, list) else [body]
        for table in tables:
            _table(lines, section, table, array=isinstance(body, list))
    return "\n".join(lines)


def _table(lines: list[str], name: str, table: dict[str, Any], *, array: bool = False) -> None:
    subs = {k: v for k, v in table.items() if isinstance(v, dict)}
    own = [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None and k not in subs]
    if own or array or not subs:
        lines += [f"[[{name}]]" if array else f"[{name}]", *own, ""]
    for key, sub in subs.items():
        if sub:
            _table(lines, f"{name}.{key}", sub)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f > 0 else None


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def phewas_study(
    store: str | Path,
    *,
    exposure: str | None = None,
    outcome: str | None = None,
    methods: str | list[str] | None = "default",
    p_threshold: float = 5e-8,
    panel: str | Path | None = None,
    clump: bool = True,
    seed: int = 1,
    nboot: int = 1000,
    engine: str = "local",
    workers: int | None = None,
    correction: str = "bonferroni",
    name: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The study (as a dict, ready for :func:`to_toml`) of a phenome-wide scan.

    Exactly one of ``exposure`` (against every other GWAS of the store) and
    ``outcome`` (every other GWAS against it) is given. ``clump`` needs
    ``panel``; with a panel, missing instruments are also looked up as LD proxies.
    ``options`` become ``[analysis.options.METHOD]`` tables (checked when the
    study runs).
    """
    if (exposure is None) == (outcome is None):
        msg = "give exactly one of --exposure and --outcome"
        raise StudyError(msg)
    if clump and panel is None:
        msg = "clumping needs a reference panel: give --panel PREFIX (or --no-clump)"
        raise StudyError(msg)
    if correction not in CORRECTIONS:
        msg = f"--correction must be one of {', '.join(CORRECTIONS)} (got {correction!r})"
        raise StudyError(msg)
    store = Path(store).resolve()
    if not store.is_file():
        msg = f"store {store} not found; import GWAS with `mrkit import` first"
        raise StudyError(msg)
    catalog = Store(store, read_only=True).catalog()
    ids = catalog["id"].tolist()
    focus = exposure if exposure is not None else outcome
    if focus not in ids:
        shown = ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "")
        msg = f"no GWAS with id {focus!r} in store {store} (ids: {shown or 'none'})"
        raise StudyError(msg)
    others = [i for i in ids if i != focus]
    if not others:
        msg = f"store {store} holds only {focus!r}: a phenome-wide scan needs other GWAS"
        raise StudyError(msg)
    gwas = []
    for rec in catalog.to_dict("records"):
        build = rec.get("build") if rec.get("build") in ("GRCh37", "GRCh38") else None
        ncase, ncontrol = _num(rec.get("ncase")), _num(rec.get("ncontrol"))
        if ncase is None or ncontrol is None:
            ncase = ncontrol = None
        gwas.append(
            {
                "id": rec["id"],
                "trait": _str(rec.get("trait")),
                "units": _str(rec.get("units")),
                "ncase": ncase,
                "ncontrol": ncontrol,
                "build": build,
                "population": _str(rec.get("population")),
            }
        )
    names = resolve(methods)
    title = f"{focus} against every GWAS" if exposure else f"every GWAS against {focus}"
    doc: dict[str, Any] = {
        "study": {
            "name": name or f"Phenome-wide MR: {title}",
            "store": str(store),
            "panel": str(Path(panel).resolve()) if panel is not None else None,
            "output": ".",
            "seed": seed,
        },
        "gwas": gwas,
        "instruments": {"p": float(p_threshold), "clump": clump},
        "harmonise": {"proxies": panel is not None},
        "analysis": {
            "exposures": [focus] if exposure else others,
            "outcomes": others if exposure else [focus],
            "methods": names,
            "primary": "ivw" if "ivw" in names else names[0],
            "correction": CORRECTIONS[correction],
            "nboot": nboot,
            "options": {str(m): dict(o) for m, o in (options or {}).items()},
        },
        "engine": {"kind": engine, "workers": workers},
    }
    return doc


def run_phewas(
    store: str | Path,
    *,
    out: str | Path | None = None,
    quiet: bool = False,
    force: bool = False,
    **options: Any,
) -> StudyRun:
    """Write ``<out>/study.toml`` for :func:`phewas_study` and run it; a StudyRun.

    ``out`` defaults to ``phewas_<id>`` in the current folder.
    """
    doc = phewas_study(store, **options)
    focus = options.get("exposure") or options.get("outcome")
    out_dir = Path(out) if out is not None else Path(f"phewas_{focus}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "study.toml"
    text = "# written by `mrkit phewas`; `mrkit run` on this file repeats the scan\n" + to_toml(doc)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return run_study(path, out=out_dir, quiet=quiet, force=force)
