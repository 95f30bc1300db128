"""Diagnostics against TwoSampleMR 0.7.9 (heterogeneity, pleiotropy, I²GX, single-SNP,
leave-one-out, Rücker) on every univariable reference dataset."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import UNIVARIABLE, ref_arrays, ref_results, rel_close, requires_shared
from mrkit.diagnostics import core as diag
from mrkit.errors import InputError, TooFewVariantsError

pytestmark = requires_shared


def _tsmr(ds: str, key: str):
    return ref_results(ds)["TwoSampleMR"][key]


def _close(actual, expected, what: str) -> None:
    assert rel_close(actual, expected), f"{what}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_heterogeneity_matches_tsmr(ds):
    """R: ``mr_heterogeneity(dat)`` (methods MR Egger and IVW)."""
    got = {r["method"]: r for r in diag.heterogeneity(*ref_arrays(ds))}
    assert list(got) == ["ivw", "egger"]
    names = {"Inverse variance weighted": "ivw", "MR Egger": "egger"}
    for row in _tsmr(ds, "mr_heterogeneity_default")["result"]:
        mine = got[names[row["method"]]]
        _close(mine["q"], row["Q"], "Q")
        assert mine["q_df"] == row["Q_df"]
        _close(mine["q_pval"], row["Q_pval"], "Q_pval")


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_pleiotropy_matches_tsmr(ds):
    """R: ``mr_pleiotropy_test(dat)``."""
    got = diag.pleiotropy(*ref_arrays(ds))
    ref = _tsmr(ds, "mr_pleiotropy_test")["result"][0]
    assert set(got) == {"egger_intercept", "se", "pval"}
    for k in got:
        _close(got[k], ref[k], k)


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_i2gx_matches_tsmr(ds):
    """R: ``Isq(abs(dat$beta.exposure), dat$se.exposure)`` and ``Isq(dat$beta.exposure, ...)``."""
    bx, sx, _, _ = ref_arrays(ds)
    _close(diag.i2gx(bx, sx), _tsmr(ds, "Isq_GX_abs")["result"], "Isq abs")
    _close(diag.i2gx(bx, sx, absolute=False), _tsmr(ds, "Isq_raw")["result"], "Isq raw")


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_single_snp_matches_tsmr(ds):
    """R: ``mr_singlesnp(dat)`` (per-SNP rows, matched by SNP name) and
    ``mr_wald_ratio(bx[i], by[i], bxse[i], byse[i], default_parameters())`` per SNP."""
    got = diag.single_snp(*ref_arrays(ds))
    snps = ref_results(ds)["snps_used"]
    by_name = {r["SNP"]: r for r in _tsmr(ds, "mr_singlesnp_default")["result"]}
    per_snp = _tsmr(ds, "mr_wald_ratio_per_snp")["result"]
    assert len(got) == len(snps) == len(per_snp)
    for j, (res, snp, w) in enumerate(zip(got, snps, per_snp, strict=True)):
        ref = by_name[snp]
        assert res.extras["index"] == j
        assert res.nsnp == 1
        _close(res.estimate, ref["b"], f"{snp} b")
        _close(res.se, ref["se"], f"{snp} se")
        _close(res.pval, ref["p"], f"{snp} p")
        _close(res.estimate, w["b"], f"{snp} wald b")
        _close(res.se, w["se"], f"{snp} wald se")
        _close(res.pval, w["pval"], f"{snp} wald p")


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_leave_one_out_matches_tsmr(ds):
    """R: ``mr_leaveoneout(dat)`` (mr_ivw), rows matched by the left-out SNP's name."""
    got = diag.leave_one_out(*ref_arrays(ds))
    snps = ref_results(ds)["snps_used"]
    by_name = {r["SNP"]: r for r in _tsmr(ds, "mr_leaveoneout_ivw")["result"]}
    assert len(got) == len(snps)
    for i, (res, snp) in enumerate(zip(got, snps, strict=True)):
        ref = by_name[snp]
        assert res.extras["excluded"] == i
        assert res.nsnp == len(snps) - 1
        _close(res.estimate, ref["b"], f"-{snp} b")
        _close(res.se, ref["se"], f"-{snp} se")
        _close(res.pval, ref["p"], f"-{snp} p")


@pytest.mark.parametrize("ds", UNIVARIABLE)
def test_rucker_matches_tsmr(ds):
    """R: ``mr_rucker(dat)``: the four models, intercepts, Q table, selection, Cook's diag."""
    bx, sx, by, sy = ref_arrays(ds)
    got = diag.rucker(bx, sx, by, sy)
    ref = _tsmr(ds, "mr_rucker")["result"][0]

    def check(res, row, what):
        for mine, key in (
            (res.estimate, "Estimate"),
            (res.se, "SE"),
            (res.ci_lower, "CI_low"),
            (res.ci_upper, "CI_upp"),
            (res.pval, "P"),
        ):
            _close(mine, row[key], f"{what} {key}")

    models = [got.ivw_fixed, got.ivw_random, got.egger_fixed, got.egger_random]
    for res, row in zip(models, ref["rucker"], strict=True):
        check(res, row, row["Method"])
        assert res.nsnp == row["nsnp"]
    for res, row in zip([got.intercept_fixed, got.intercept_random], ref["intercept"], strict=True):
        check(res, row, f"intercept {row['Method']}")
    q = {r["Method"]: r for r in ref["Q"]}
    for (val, df, p), key in (
        ((got.q_ivw, got.q_ivw_df, got.q_ivw_pval), "Q_ivw"),
        ((got.q_egger, got.q_egger_df, got.q_egger_pval), "Q_egger"),
        ((got.q_diff, 1, got.q_diff_pval), "Q_diff"),
    ):
        _close(val, q[key]["Q"], key)
        assert df == q[key]["df"]
        _close(p, q[key]["P"], f"{key} P")
    assert got.model == ref["res"]
    check(got.selected, ref["selected"][0], "selected")
    assert got.verdict.startswith(ref["res"] + ":")
    cd = np.array([ref["cooksdistance"][str(i + 1)] for i in range(bx.shape[0])])
    np.testing.assert_allclose(got.cooks_distance, cd, rtol=1e-6, atol=1e-12)

    summary = got.summary()
    assert list(summary["model"])[:4] == [r["Method"] for r in ref["rucker"]]
    assert summary["selected"].sum() == 2
    assert summary.iloc[-1]["estimate"] == got.selected.estimate
    assert list(got.q_table()["statistic"]) == ["q_ivw", "q_egger", "q_diff"]


def test_f_statistics_and_r2():
    bx = np.array([0.1, -0.2, 0.05])
    sx = np.array([0.01, 0.02, 0.02])
    f = diag.f_statistics(bx, sx)
    np.testing.assert_allclose(f, [100.0, 100.0, 6.25])
    assert diag.f_mean(bx, sx) == pytest.approx(np.mean([100, 100, 6.25]))
    n = 10_000
    r2 = diag.r2_from_bsen(bx, sx, n)
    np.testing.assert_allclose(r2, f / (n - 2 + f))
    np.testing.assert_allclose(diag.r2_from_f(f, n), r2)
    # r2 -> F round trip: F = r2 (n - 2) / (1 - r2)
    np.testing.assert_allclose(r2 * (n - 2) / (1 - r2), f)
    np.testing.assert_allclose(diag.r2_from_eaf([0.1], [0.3]), [2 * 0.01 * 0.3 * 0.7])
    with pytest.raises(InputError, match="eaf"):
        diag.r2_from_eaf([0.1], [1.3])
    with pytest.raises(InputError, match="n"):
        diag.r2_from_f([10.0], [2])


def test_i2gx_edge_cases():
    # identical |bx|: Q = 0 -> I² = 0 (not NaN); signed version sees the spread
    assert diag.i2gx([0.1, -0.1, 0.1], [0.01, 0.01, 0.01]) == 0.0
    assert diag.i2gx([0.1, -0.1, 0.1], [0.01, 0.01, 0.01], absolute=False) > 0.9
    with pytest.raises(TooFewVariantsError, match="i2gx"):
        diag.i2gx([0.1], [0.01])


def test_too_few_and_bad_input():
    bx, sx, by, sy = ([0.1, 0.2], [0.01, 0.01], [0.02, 0.05], [0.01, 0.02])
    het = diag.heterogeneity(bx, sx, by, sy)  # 2 SNPs: IVW only, as TwoSampleMR
    assert [r["method"] for r in het] == ["ivw"]
    with pytest.raises(TooFewVariantsError, match=r"leave_one_out.*at least 3 variants, got 2"):
        diag.leave_one_out(bx, sx, by, sy)
    with pytest.raises(TooFewVariantsError, match=r"egger.*at least 4 variants, got 3"):
        diag.leave_one_out([*bx, 0.3], [*sx, 0.01], [*by, 0.1], [*sy, 0.01], method="egger")
    with pytest.raises(TooFewVariantsError, match="pleiotropy"):
        diag.pleiotropy(bx, sx, by, sy)
    with pytest.raises(TooFewVariantsError, match="rucker"):
        diag.rucker(bx, sx, by, sy)
    with pytest.raises(TooFewVariantsError, match="heterogeneity"):
        diag.heterogeneity([0.1], [0.01], [0.1], [0.01])
    with pytest.raises(InputError, match="bx` is 0 at row 1"):
        diag.single_snp([0.1, 0.0], sx, by, sy)
    with pytest.raises(InputError, match="sy"):
        diag.single_snp(bx, sx, by, [0.01, -1.0])


def test_leave_one_out_other_method_and_options():
    """Any registered method; its options pass through."""
    bx, sx, by, sy = ref_arrays("mr_ldlc_chd")
    fe = diag.leave_one_out(bx, sx, by, sy, model="fixed")
    assert all(r.method == "ivw" and r.extras["model"] == "fixed" for r in fe)
    eg = diag.leave_one_out(bx, sx, by, sy, method="egger", alpha=0.1)
    assert len(eg) == bx.shape[0]
    assert eg[0].method == "egger"
    assert eg[0].alpha == 0.1
    keep = np.arange(bx.shape[0]) != 5
    from mrkit.methods import get_method

    direct = get_method("egger")(bx[keep], sx[keep], by[keep], sy[keep], alpha=0.1)
    assert eg[5].estimate == direct.estimate
    assert eg[5].se == direct.se
