"""The report's number rule (mrkit._core.fmt) and a pair's MR-PRESSO rows from a real run."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, requires_shared
from mrkit._core import fmt as nb
from mrkit.report import pairs as pr


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (47429.0, "47,429"),
        (47429, "47,429"),
        (np.int64(68374), "68,374"),
        (115803.0, "115,803"),
        (-8.11e-4, "-0.000811"),
        (0.02801, "0.02801"),
        (123.456, "123.5"),
        (12345.678, "12,346"),
        (1.5e-6, "1.500 × 10⁻⁶"),
        (True, "yes"),
    ],
)
def test_num(value, text):
    assert nb.num(value) == text


@pytest.mark.parametrize(
    ("p", "kw", "text"),
    [
        (0.032, {}, "0.032"),
        (0.0042, {}, "0.0042"),
        (3.2e-8, {}, "3.2 × 10⁻⁸"),
        (0.0, {}, "< 10⁻³⁰⁰"),
        (0.0, {"resolution": 1000}, "< 1/1000"),
        (0.0, {"log10p": 343.314}, "4.9 × 10⁻³⁴⁴"),
        (0.001, {"resolution": 1000}, "0.001"),
    ],
)
def test_pval(p, kw, text):
    assert nb.pval(p, **kw) == text


def test_never_e_notation():
    for x in np.concatenate([-np.logspace(-12, 12, 97), np.logspace(-12, 12, 97)]):
        assert "e" not in nb.num(float(x)), x
        assert "e" not in nb.pval(min(abs(float(x)), 1.0)), x


def test_missing_says_why():
    assert nb.num(None, "needs 3 or more variants") == "NA (needs 3 or more variants)"
    assert nb.pval(float("nan"), "not run") == "NA (not run)"
    assert nb.num(float("nan")) == "NA (not available)"


def test_prose_turns_backticks_into_code():
    assert str(pr.prose("add `presso` <b>")) == "add <code>presso</code> &lt;b&gt;"


@requires_shared
def test_presso_rows_at_resolution_with_outlier_ids():
    """MR-PRESSO's example data (50 variants, 5 outliers): global p at 1/1000 and SNP ids."""
    from mrkit.study.engine import analyse_chunk
    from mrkit.study.filters import TraitInfo

    d = pd.read_csv(REFERENCE / "data" / "presso_summarystats.csv").rename(columns={"SNP": "snp"})
    d = d.assign(keep=True, reason=None)
    (out,) = analyse_chunk(
        [d],
        [(TraitInfo("x"), TraitInfo("y"), "forward")],
        methods=["ivw", "egger"],
        sensitivity=["presso", "heterogeneity", "pleiotropy"],
        seed=1,
    )
    assert out.error is None
    sec = pr.pair_section(
        out,
        labels={"ivw": "IVW", "egger": "MR Egger"},
        sensitivity=["presso"],
        binary_outcome=False,
        n_exposure=10_000,
        power=pr.pw.pair_power(r2=None, n=None),
        presso_correct=False,
    )
    diag = {k: html.unescape(str(v)) for k, v in sec["diag"]}
    # no simulated fit beyond the observed RSS: the bound 1/1000, flagged at the limit
    assert out.diagnostics["presso_global_pval_at_limit"] is True
    assert diag["MR-PRESSO global test p"] == "< 1/1000"
    assert diag["MR-PRESSO outliers"] == "5: snp46; snp47; snp48; snp49; snp50"
    assert "MR-PRESSO outlier-corrected estimate (SE), p" in diag
    # older results: p = 0 with no flag is at the limit too; a flagged-off 1/1000 is 0.001
    old = {**out.diagnostics, "presso_global_pval": 0.0, "presso_global_pval_at_limit": None}
    rows = dict(pr._presso_rows(old, {}, ["presso"], False))
    assert rows["MR-PRESSO global test p"] == "< 1/1000"
    one = {**out.diagnostics, "presso_global_pval": 0.001, "presso_global_pval_at_limit": False}
    assert dict(pr._presso_rows(one, {}, ["presso"], False))["MR-PRESSO global test p"] == "0.001"
    # a PRESSO giving the outliers as SNP ids (no separate id list) is shown the same way
    d2 = {**out.diagnostics, "presso_outliers": ["snp46", "snp47"], "presso_outlier_snps": None}
    rows = dict(pr._presso_rows(d2, {}, ["presso"], False))
    assert rows["MR-PRESSO outliers"] == "2: snp46; snp47"
