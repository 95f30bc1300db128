"""Replay the calls of ``../shared/reference/coloc/results/*.json`` in Python.

Each reference file records R calls such as ``coloc.abf(dataset1=D1, dataset2=D2,
p12=5e-6)`` and, in ``dataset_construction``, how each R object was built from the
CSV files in ``data/``. This module reads both: it builds the datasets from those
descriptions and evaluates a call string with the mrkit function of the same name,
so the tests hold no numbers of their own.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _reference() -> Path:
    env = os.environ.get("MRKIT_SHARED")
    for c in [Path(env)] if env else [ROOT.parent / "shared", ROOT / "shared"]:
        if (c / "reference" / "coloc").is_dir():
            return c / "reference" / "coloc"
    return ROOT.parent / "shared" / "reference" / "coloc"


COLOC = _reference()
DATA = COLOC / "data"
#: Reference files holding results other calls may name.
FILES = ("coloc_abf", "finemap_abf", "sensitivity", "coloc_susie", "coloc_signals")


@cache
def results(name: str) -> dict[str, Any]:
    """One reference file (``results/<name>.json``)."""
    with open(COLOC / "results" / f"{name}.json") as fh:
        return dict(json.load(fh))


def call_ids(name: str) -> list[str]:
    return list(results(name)["calls"])


def find_call(call_id: str) -> dict[str, Any]:
    """The stored call with this id (``-`` or ``_`` alike), from any reference file."""
    for f in FILES:
        if not (COLOC / "results" / f"{f}.json").is_file():
            continue
        for k, v in results(f)["calls"].items():
            if k == call_id or k.replace("-", "_") == call_id:
                return dict(v)
    raise KeyError(call_id)


# ------------------------------------------------------------------------- datasets
@cache
def _csv(path: str) -> pd.DataFrame:
    return pd.read_csv(COLOC / path, keep_default_na=True)


def _from_list(fields: str, path: str) -> dict[str, Any]:
    """``list(snp, position, beta, ..., type='quant', sdY)`` built from a CSV file."""
    df = _csv(path)
    out: dict[str, Any] = {}
    for item in (f.strip() for f in fields.split(",")):
        if "=" in item:
            k, v = (x.strip() for x in item.split("=", 1))
            out[k] = v.strip("'\"")
        elif item in ("N", "s", "sdY", "type"):  # one value per dataset
            out[item] = df[item].iloc[0]
        else:
            out[item] = df[item].to_numpy()
    return out


@cache
def _constructions() -> dict[str, str]:
    out: dict[str, str] = {}
    for f in ("coloc_abf", "finemap_abf"):
        out.update({k: v for k, v in results(f)["dataset_construction"].items() if k != "note"})
    return out


@cache
def dataset(name: str) -> Any:
    """The R object ``name`` of the calls: a dataset mapping or a weight vector."""
    text = _constructions()[name]
    m = re.match(r"list\((.*)\) from (data/[\w.]+)", text)
    if m:
        return _from_list(m.group(1), m.group(2))
    m = re.match(r"same from (data/[\w.]+)", text)
    if m:  # the fields of the nearest earlier list(...) construction, another file
        names = list(_constructions())
        for prev in reversed(names[: names.index(name)]):
            fields = re.match(r"list\((.*)\) from", _constructions()[prev])
            if fields:
                return _from_list(fields.group(1), m.group(1))
    m = re.match(r"(\w+) with every per-SNP vector reordered by sort\(snp\)", text)
    if m:
        return _sorted(dict(dataset(m.group(1))))
    m = re.match(r"exp\(-abs\((\w+)\$position - ([\d.]+)\)/([\d.]+)\)", text)
    if m:
        pos = np.asarray(dataset(m.group(1))["position"], dtype=float)
        return np.exp(-np.abs(pos - float(m.group(2))) / float(m.group(3)))
    m = re.match(r"(\w+) reordered the same way(?:.*belongs to (\w+)\$snp)?", text)
    if m:
        base = dataset(m.group(1))
        if isinstance(base, dict):
            return _sorted(dict(base))
        owner = re.sub(r"s$", "", m.group(2))  # D1s -> D1: the weights follow D1's SNPs
        order = np.argsort(np.asarray(dataset(owner)["snp"], dtype=str), kind="stable")
        return np.asarray(base)[order]
    raise NotImplementedError(f"dataset construction not understood: {name}: {text}")


def _sorted(d: dict[str, Any]) -> dict[str, Any]:
    order = np.argsort(np.asarray(d["snp"], dtype=str), kind="stable")
    m = len(d["snp"])
    return {k: (v[order] if isinstance(v, np.ndarray) and v.size == m else v) for k, v in d.items()}


# ---------------------------------------------------------------------------- calls
def _split_args(text: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_call(text: str) -> tuple[str, list[str], dict[str, str]]:
    """``f(a, k=v)`` -> (``f``, positional texts, keyword texts)."""
    m = re.fullmatch(r"\s*([\w.]+)\((.*)\)\s*", text, flags=re.S)
    if m is None:
        raise ValueError(f"not a call: {text}")
    args: list[str] = []
    kwargs: dict[str, str] = {}
    for part in _split_args(m.group(2)):
        k = re.match(r"([\w.]+)\s*=(?!=)\s*(.*)", part, flags=re.S)
        if k:
            kwargs[k.group(1)] = k.group(2).strip()
        else:
            args.append(part)
    return m.group(1), args, kwargs


def value(text: str, objects: dict[str, Any]) -> Any:
    """An R argument: number, string, TRUE/FALSE, nested call, dataset or stored call."""
    t = text.strip()
    if t in ("TRUE", "FALSE"):
        return t == "TRUE"
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", t):
        return float(t)
    if t[:1] in "'\"":
        return t[1:-1]
    if "(" in t:
        return ("call", t)
    if t in objects:
        return objects[t]
    if t in _constructions():
        return dataset(t)
    return ("ref", t)


def susie_standin(call_id: str) -> Any:
    """R's stored ``coloc.susie`` result as an object with ``summary`` and ``priors``.

    ``sensitivity()`` reads only those; the SuSiE fits themselves are another module's.
    """
    from types import SimpleNamespace

    r = find_call(call_id)["result"]
    s = r["summary"]
    summary = pd.DataFrame(
        {"hit1": s["hit1"], "hit2": s["hit2"], "nsnps": s["nsnps"]}
        | {f"pp_h{h}": s[f"PP.H{h}.abf"] for h in range(5)}
    )
    return SimpleNamespace(summary=summary, priors=dict(r["priors"]))


def evaluate(text: str) -> Any:
    """Run one R call string with mrkit's function of the same name."""
    from mrkit.coloc.abf import coloc_abf, credible_sets, finemap_abf
    from mrkit.coloc.sensitivity import sensitivity

    name, args, kwargs = parse_call(text)

    def resolve(t: str) -> Any:
        v = value(t, {})
        if isinstance(v, tuple) and v[0] == "call":
            return evaluate(v[1])
        if isinstance(v, tuple) and v[0] == "ref":
            stored = find_call(v[1])
            if stored["call"].startswith("coloc.susie"):
                return susie_standin(v[1])
            return evaluate(stored["call"])
        return v

    a = [resolve(x) for x in args]
    k = {key.replace(".", "_"): resolve(x) for key, x in kwargs.items()}
    if name == "coloc.abf":
        d1 = k.pop("dataset1", a[0] if a else None)
        d2 = k.pop("dataset2", a[1] if len(a) > 1 else None)
        return coloc_abf(d1, d2, **k)
    if name == "finemap.abf":
        return finemap_abf(k.pop("dataset", a[0] if a else None), **k)
    if name == "credible.sets":
        return credible_sets(a[0], **{"credible_size": k["credible_size"]} if k else {})
    if name == "sensitivity":
        k.pop("doplot", None)
        if "row" in k:
            k["row"] = int(k["row"])
        return sensitivity(a[0], **k)
    raise NotImplementedError(name)
