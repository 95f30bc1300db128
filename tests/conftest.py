"""Shared fixtures: the R reference datasets and results in ../shared/reference."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    env = os.environ.get("MRKIT_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared", ROOT / "shared"]
    for c in candidates:
        if (c / "reference").is_dir():
            return c
    return candidates[-1]


SHARED = _find_shared()
REFERENCE = SHARED / "reference"
DATA = SHARED / "data"

requires_shared = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="../shared/reference not present"
)


@cache
def ref_results(dataset: str) -> dict[str, Any]:
    """The R packages' results for one dataset (``results/<dataset>.json``)."""
    with open(REFERENCE / "results" / f"{dataset}.json") as fh:
        return json.load(fh)


@cache
def ref_data(dataset: str) -> pd.DataFrame:
    """The harmonised input table of one dataset (``data/<dataset>.csv``)."""
    return pd.read_csv(REFERENCE / "data" / f"{dataset}.csv")


def ref_arrays(dataset: str):
    """``(bx, sx, by, sy)`` for the rows R used (``snps_used`` in the results file)."""
    df = ref_data(dataset)
    res = ref_results(dataset)
    used = res.get("snps_used")
    if used is not None and "SNP" in df.columns:
        df = df.set_index("SNP").loc[used].reset_index()
    return (
        df["beta_exposure"].to_numpy(float),
        df["se_exposure"].to_numpy(float),
        df["beta_outcome"].to_numpy(float),
        df["se_outcome"].to_numpy(float),
    )


# datasets with univariable TwoSampleMR/MendelianRandomization results
UNIVARIABLE = [
    "mr_ldlc_chd",
    "mr_hdlc_chd",
    "mr_trig_chd",
    "tsmr_bmi_chd",
    "mrraps_bmi_sbp",
    "mrraps_bmi_bmi",
    "presso_summarystats",
]


def rel_close(actual: float, expected: float, rtol: float = 1e-6, atol: float = 1e-12) -> bool:
    """``|a - e| <= rtol * |e| + atol``."""
    return abs(actual - expected) <= rtol * abs(expected) + atol
