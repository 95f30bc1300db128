"""MR-cML (MendelianRandomization 0.10.0 ``mr_cML``).

The reference has only the data-perturbation fit (``DP = TRUE``, R's default), which
is Monte-Carlo: mrkit agrees within Monte-Carlo error. The fits underneath (one per
K, and MA-BIC without perturbation) are checked against a literal, loop-by-loop
transcription of R's ``cML_estimate``/``cML_SdTheta`` below.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.errors import InputError
from mrkit.estimate import mr
from mrkit.methods import get_method
from mrkit.methods._sizes import min_per_pair
from mrkit.methods.cml import fit_all

pytestmark = requires_shared


def _oracle_fit(b_exp, b_out, se_exp, se_out, k, maxit=100):
    """R's cML_estimate + cML_SdTheta + the negative log-likelihood, as written in R."""
    p = len(b_exp)
    theta, theta_old, mu = 0.0, -1.0, np.zeros(p)
    v = np.zeros(p)
    ite = 0
    while abs(theta_old - theta) > 1e-7 and ite < maxit:
        theta_old = theta
        ite += 1
        v = np.zeros(p)
        if k > 0:
            imp = (b_out - theta * mu) ** 2 / se_out**2
            nz = np.sort(np.argsort(-imp, kind="stable")[:k])
            v[nz] = (b_out - theta * mu)[nz]
        mu = (b_exp / se_exp**2 + theta * (b_out - v) / se_out**2) / (
            1 / se_exp**2 + theta**2 / se_out**2
        )
        theta = np.sum((b_out - v) * mu / se_out**2) / np.sum(mu**2 / se_out**2)
    nz = v != 0
    mu[nz] = b_exp[nz]
    v[nz] = (b_out - theta * mu)[nz]
    negl = np.sum((b_exp - mu) ** 2 / (2 * se_exp**2)) + np.sum(
        (b_out - theta * mu - v) ** 2 / (2 * se_out**2)
    )
    z = ~nz
    var = 1 / (
        np.sum((mu**2 / se_out**2)[z])
        - np.sum(
            ((2 * mu * theta - b_out) ** 2 / se_out**4 / (1 / se_exp**2 + theta**2 / se_out**2))[z]
        )
    )
    return theta, (np.sqrt(var) if var > 0 else np.nan), negl


def _oracle_ma_bic(bx, sx, by, sy, n):
    ks = np.arange(len(bx) - 1)
    fits = np.array([_oracle_fit(bx, by, sx, sy, k) for k in ks])
    bic = np.log(n) * ks + 2 * fits[:, 2]
    w = np.exp(-0.5 * (bic - bic.min()))
    w /= w.sum()
    est = np.sum(w * fits[:, 0])
    se = np.nansum(w * np.sqrt(fits[:, 1] ** 2 + (fits[:, 0] - est) ** 2))
    return est, se


@pytest.mark.parametrize("ds", ["mr_ldlc_chd", "mr_hdlc_chd", "tsmr_bmi_chd"])
def test_fits_and_ma_bic_equal_the_literal_r_algorithm(ds):
    bx, sx, by, sy = ref_arrays(ds)
    ks = np.arange(len(bx) - 1)
    f = fit_all(bx[None], by[None], sx, sy, ks, 100)
    for k in (0, 1, 3, len(bx) // 2, len(bx) - 2):
        t, s, nl = _oracle_fit(bx, by, sx, sy, k)
        assert rel_close(f.theta[0, k], t, rtol=1e-9)
        assert rel_close(f.negl[0, k], nl, rtol=1e-9)
        assert (np.isnan(s) and np.isnan(f.se[0, k])) or rel_close(f.se[0, k], s, rtol=1e-9)
    est, se = _oracle_ma_bic(bx, sx, by, sy, 184305.0)
    x = get_method("cml_ma_bic")(bx, sx, by, sy, n=184305)
    assert rel_close(x.estimate, est, rtol=1e-9)
    assert rel_close(x.se, se, rtol=1e-9)


@pytest.mark.parametrize("ds", ["tsmr_bmi_chd", "mrraps_bmi_sbp"])
def test_dp_matches_r_within_monte_carlo_error(ds):
    """``set.seed`` inside: ``MendelianRandomization::mr_cML(mri, n = nmin, random_seed = 314)``
    (MA = TRUE, DP = TRUE, num_pert = 200), n = min(samplesize_exposure, samplesize_outcome).

    Both sides average 200 perturbed fits: the estimates differ by about
    SE * sqrt(2/200) (sd), the SEs (a standard deviation over 200 draws) by about
    sqrt(2/(2*199)) relative; 4 sd allowed.
    """
    ref = ref_results(ds)["MendelianRandomization"]["cML_MA_DP"]
    assert ref["call"] == "MendelianRandomization::mr_cML(mri, n = nmin, random_seed = 314)"
    n = float(re.search(r"= (\d+)", ref["note"]).group(1))
    e = ref["result"]
    x = get_method("cml_ma_dp")(*ref_arrays(ds), n=n)
    assert x.nsnp == e["SNPs"]
    assert abs(x.estimate - e["Estimate"]) <= 4 * e["StdError"] * np.sqrt(2 / 200)
    assert abs(x.se / e["StdError"] - 1) <= 4 * np.sqrt(2 / (2 * 199))
    # R's goodness-of-fit p-values (0.107, 0.105 on BMI -> CHD) are themselves noisy
    assert 0 <= x.extras["gof1_pval"] <= 1
    assert 0 <= x.extras["gof2_pval"] <= 1
    assert x == get_method("cml_ma_dp")(*ref_arrays(ds), n=n)  # seeded


def test_engine_takes_n_from_the_table_or_the_option():
    table = REFERENCE / "data" / "tsmr_bmi_chd.csv"
    res = mr(table, methods="cml_ma_bic", diagnostics=False)
    assert res.estimates["n"].iloc[0] == 184305  # min(samplesize_exposure, _outcome)
    bx, sx, by, sy = ref_arrays("tsmr_bmi_chd")
    one = get_method("cml_ma_bic")(bx, sx, by, sy, n=184305)
    assert res.estimates["estimate"].iloc[0] == pytest.approx(one.estimate, rel=1e-12)
    res2 = mr(table, methods="cml_ma_bic", options={"cml_ma_bic": {"n": 50000}}, diagnostics=False)
    assert res2.estimates["n"].iloc[0] == 50000


def test_without_a_sample_size_it_is_skipped_with_the_fix():
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    with pytest.raises(InputError, match=r"--set cml_ma_dp.n=N"):
        get_method("cml_ma_dp")(bx, sx, by, sy)
    res = mr(
        pd.DataFrame(
            {"beta_exposure": bx, "se_exposure": sx, "beta_outcome": by, "se_outcome": sy}
        ),
        methods="cml_ma_bic",
        diagnostics=False,
    )
    assert "sample size" in res.skipped["reason"].iloc[0]


def test_min_per_pair_sample_size():
    got = min_per_pair(
        np.array([[5.0, 3.0], [np.nan, 7.0], [np.nan, np.nan]]), np.array([0, 1, 1]), 3
    )
    np.testing.assert_array_equal(got, [3.0, 7.0, np.nan])
    assert np.isnan(min_per_pair(np.empty((0, 2)), np.array([], dtype=np.int64), 2)).all()
    assert np.isnan(min_per_pair(np.empty((3, 0)), np.array([0, 0, 1]), 2)).all()
