"""Instrument selection without a panel: p and log10p, reasons, MHC, F."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrkit._core.columns import REASON_MHC, reason_weak
from mrkit.instruments import select_instruments, select_mvmr_instruments


def _gwas(p: list[float], **extra: object) -> pd.DataFrame:
    k = len(p)
    return pd.DataFrame(
        {
            "snp": [f"rs{i}" for i in range(k)],
            "chr": ["1"] * k,
            "pos": np.arange(k) * 1000 + 1,
            "effect_allele": ["A"] * k,
            "other_allele": ["G"] * k,
            "beta": [0.1] * k,
            "se": [0.01] * k,
            "p": p,
            **extra,
        }
    )


def test_p_zero_and_threshold_selected():
    sel = select_instruments(_gwas([0.0, 5e-8, 6e-8, np.nan]), clump=False)
    assert sel["snp"].tolist() == ["rs0", "rs1"]
    assert sel["keep"].tolist() == [True, True]


def test_log10p_preferred_over_p():
    g = _gwas([1.0, 1.0, 1.0], log10p=[400.0, 7.0, 8.0])
    assert select_instruments(g, clump=False)["snp"].tolist() == ["rs0", "rs2"]


def test_mhc_in_any_chromosome_spelling_and_weak():
    g = _gwas([1e-10] * 3)
    g["chr"] = ["chr6", "6", "CHR6"]
    g["pos"] = [30_000_000, 30_000_000, 40_000_000]
    g.loc[2, "beta"] = 0.02
    sel = select_instruments(g, clump=False, exclude_mhc=True, min_f=10)
    assert sel["reason"].tolist() == [REASON_MHC, REASON_MHC, reason_weak(10)]
    assert not sel["keep"].any()


def test_mvmr_strongest_exposure_with_empty_log10p_column():
    """A log10p column without values falls back to p, for selection and for ordering."""
    a = _gwas([1e-10, 1e-9, 0.5], log10p=[np.nan] * 3)
    b = _gwas([1e-12, 0.5, 1e-9])
    sel = select_mvmr_instruments({"a": a, "b": b}, clump=False)
    assert sel["snp"].tolist() == ["rs0", "rs1", "rs2"]
    assert sel["strongest_exposure"].tolist() == ["b", "a", "b"]
    assert sel["p"].to_numpy() == pytest.approx([1e-12, 1e-9, 1e-9], rel=1e-12)
    assert sel["keep"].all()
