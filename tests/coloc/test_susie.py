"""SuSiE (susie_rss / runsusie) and coloc.susie against susieR 0.12.35 and coloc 6.0.1.

Every call of ``../shared/reference/coloc/results/coloc_susie.json`` is replayed from its
call string and dataset construction (``coloc_ref``); the expected numbers are read from
the JSON. mrkit replays susieR's IBSS (same start, update order, Brent search of the prior
variance, ELBO and stopping rule), so it must reach R's iteration count; then, as the
reference README asks, ``V`` and the ``lbf_variable`` rows agree to 1e-5 absolute, the
credible sets exactly (members and order), and the coloc.susie posteriors to 1e-5 relative.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from coloc_ref import COLOC, call_ids, dataset, find_call, parse_call, results, value

from mrkit._core.roptim import r_optimize
from mrkit.coloc._susie_ibss import BRENT_TOL
from mrkit.coloc.susie import SusieFit, credible_sets, runsusie, susie_rss
from mrkit.coloc.susie_coloc import (
    ColocSusie,
    coloc_bf_bf,
    coloc_susie,
    ld_matrix,
    runsusie_dataset,
)
from mrkit.errors import InputError

pytestmark = pytest.mark.skipif(not COLOC.is_dir(), reason="../shared/reference/coloc absent")

#: README "How to compare", test 1 (same niter as R): PP.H* relative, V and lbf rows absolute.
PP_RTOL = 1e-5
ABS_TOL = 1e-5
#: Per-SNP posteriors: |a - b| <= PP_RTOL |b| + 1e-12.
SNP_ATOL = 1e-12


# --------------------------------------------------------------------------- replay
@cache
def _ld_file(path: str) -> pd.DataFrame:
    return pd.read_csv(COLOC / path)


def susie_dataset(name: str) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The dataset ``name`` of coloc_susie.json and its LD (long table, upper triangle)."""
    built = results("coloc_susie")["dataset_construction"]
    text = built[name]
    if "plus the same LD" in text:  # the LD of the nearest earlier dataset that has one
        names = list(built)
        for prev in reversed(names[: names.index(name)]):
            if "plus LD" in built[prev]:
                text = built[prev]
                break
    m = re.search(r"plus LD = .* from (data/[\w.]+)", text)
    return dataset(name), (_ld_file(m.group(1)) if m else None)


@cache
def evaluate(text: str) -> Any:
    """Run a ``runsusie(...)`` or ``coloc.susie(...)`` call string with mrkit."""
    name, args, kwargs = parse_call(text)
    objs: list[Any] = []
    lds: list[Any] = []
    for a in args:
        v = value(a, {})
        if isinstance(v, tuple) and v[0] == "ref":  # another call's result
            objs.append(evaluate(find_call(v[1])["call"]))
            lds.append(None)
        else:
            d, ld = susie_dataset(a)
            objs.append(d)
            lds.append(ld)
    opts = {k: value(v, {}) for k, v in kwargs.items()}
    if name == "runsusie":
        return runsusie_dataset(objs[0], lds[0], **opts)
    if name == "coloc.susie":
        return coloc_susie(objs[0], objs[1], lds[0], ld2=lds[1], **opts)
    raise NotImplementedError(name)


def susie_calls() -> list[str]:
    return [c for c in call_ids("coloc_susie") if c.startswith("runsusie")]


def coloc_calls() -> list[str]:
    return [c for c in call_ids("coloc_susie") if c.startswith("coloc_susie")]


def r_summary(call_id: str) -> pd.DataFrame:
    s = find_call(call_id)["result"]["summary"]
    return pd.DataFrame(s)


def r_per_snp(call_id: str) -> pd.DataFrame:
    r = find_call(call_id)["result"]
    if "results" not in r:
        r = find_call(r["same_per_snp_results_as"])["result"]
    return pd.DataFrame(r["results"])


def check_summary(res: ColocSusie, s: pd.DataFrame) -> None:
    assert res.skipped == []
    assert res.summary["hit1"].tolist() == s["hit1"].tolist()
    assert res.summary["hit2"].tolist() == s["hit2"].tolist()
    assert res.summary["nsnps"].tolist() == s["nsnps"].tolist()
    assert res.summary["idx1"].tolist() == s["idx1"].tolist()
    assert res.summary["idx2"].tolist() == s["idx2"].tolist()
    for h in range(5):
        np.testing.assert_allclose(
            res.summary[f"pp_h{h}"], s[f"PP.H{h}.abf"], rtol=PP_RTOL, atol=0, err_msg=f"H{h}"
        )


def check_per_snp(res: ColocSusie, r: pd.DataFrame) -> None:
    wide = res.snps_wide()
    assert wide["snp"].tolist() == r["snp"].tolist()
    cols = [c for c in r.columns if c != "snp"]
    assert len(cols) == wide.shape[1] - 1
    for k, c in enumerate(cols, start=1):  # SNP.PP.H4.row<k>, or SNP.PP.H4.abf for one pair
        want = r[c].to_numpy(dtype=float)
        got = wide[f"snp_pp_h4_row{k}"].to_numpy(dtype=float)
        assert np.all(np.abs(got - want) <= PP_RTOL * np.abs(want) + SNP_ATOL), c


# ----------------------------------------------------------------------- the R calls
@pytest.mark.parametrize("call_id", susie_calls())
def test_runsusie_matches_susier(call_id: str) -> None:
    ref = find_call(call_id)
    r = ref["result"]
    fit = evaluate(ref["call"])
    assert isinstance(fit, SusieFit)
    assert fit.converged is r["converged"]
    assert fit.niter == r["niter"]
    np.testing.assert_allclose(fit.elbo, r["elbo"], rtol=1e-9)
    assert fit.sigma2 == pytest.approx(r["sigma2"], rel=1e-12)
    np.testing.assert_allclose(fit.V, r["V"], rtol=PP_RTOL, atol=ABS_TOL * 1e-3)
    assert [v == 0 for v in fit.V] == [v == 0 for v in r["V"]]
    np.testing.assert_allclose(fit.lbf, r["lbf"], rtol=0, atol=ABS_TOL)
    np.testing.assert_allclose(fit.pip, r["pip"], rtol=PP_RTOL, atol=1e-9)
    sets = r["sets"]
    assert [s.name for s in fit.sets] == list(sets["cs"])
    assert [list(s.snps) for s in fit.sets] == list(sets["cs"].values())
    assert [s.effect for s in fit.sets] == sets["cs_index"]
    assert fit.requested_coverage == sets["requested_coverage"]
    np.testing.assert_allclose([s.coverage for s in fit.sets], sets["coverage"], atol=1e-6)
    pur = sets["purity"]
    for attr, key in (
        ("min_abs_corr", "min.abs.corr"),
        ("mean_abs_corr", "mean.abs.corr"),
        ("median_abs_corr", "median.abs.corr"),
    ):
        np.testing.assert_allclose([getattr(s, attr) for s in fit.sets], pur[key], rtol=1e-12)
    rows = r["lbf_variable_cs_rows"]
    assert rows["colnames"] == list(fit.snps)
    effects = [int(n[1:]) - 1 for n in rows["rownames"]]
    np.testing.assert_allclose(fit.lbf_variable[effects], rows["rows"], rtol=0, atol=ABS_TOL)
    # alpha of a set's row is the softmax of its lbf row (uniform prior weights)
    lv = fit.lbf_variable[effects]
    soft = np.exp(lv - lv.max(axis=1, keepdims=True))
    np.testing.assert_allclose(fit.alpha[effects], soft / soft.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("call_id", coloc_calls())
def test_coloc_susie_matches_r(call_id: str) -> None:
    ref = find_call(call_id)
    res = evaluate(ref["call"])
    check_summary(res, r_summary(call_id))
    check_per_snp(res, r_per_snp(call_id))
    assert res.priors == ref["result"]["priors"]


@pytest.mark.parametrize("call_id", coloc_calls())
def test_coloc_bf_bf_on_stored_lbf_rows(call_id: str) -> None:
    """The closed form alone, on R's own lbf rows: 1e-6 relative (README: 4e-15 reachable)."""
    _, args, kwargs = parse_call(find_call(call_id)["call"])
    names = [a if a.startswith("runsusie") else f"runsusie_{a}" for a in args]
    fits = [find_call(n)["result"] for n in names]
    rows = [f["lbf_variable_cs_rows"] for f in fits]
    res = coloc_bf_bf(
        rows[0]["rows"],
        rows[1]["rows"],
        rows[0]["colnames"],
        rows[1]["colnames"],
        idx1=fits[0]["sets"]["cs_index"],
        idx2=fits[1]["sets"]["cs_index"],
        **{k: value(v, {}) for k, v in kwargs.items()},
    )
    s = r_summary(call_id)
    for h in range(5):
        np.testing.assert_allclose(res.summary[f"pp_h{h}"], s[f"PP.H{h}.abf"], rtol=1e-6)
    r = r_per_snp(call_id)
    wide = res.snps_wide()
    for k, c in enumerate([c for c in r.columns if c != "snp"], start=1):
        want = r[c].to_numpy(dtype=float)
        got = wide[f"snp_pp_h4_row{k}"].to_numpy(dtype=float)
        assert np.all(np.abs(got - want) <= 1e-6 * np.abs(want) + 1e-12)


def _sweep() -> list[dict[str, Any]]:
    return list(results("coloc_susie")["tolerance_sweep"])


@pytest.mark.parametrize("entry", _sweep(), ids=lambda e: f"tol{e['tol']:g}")
def test_tolerance_sweep(entry: dict[str, Any]) -> None:
    """runsusie(D3/D4, tol) and coloc.susie at each tol of R's sweep (1e-3 .. 1e-12)."""
    d3, ld = susie_dataset("D3")
    d4, _ = susie_dataset("D4")
    res = coloc_susie(d3, d4, ld, tol=entry["tol"])
    assert res.fit1 is not None
    assert res.fit2 is not None
    for fit, tag in ((res.fit1, "D3"), (res.fit2, "D4")):
        assert fit.niter == entry[f"niter_{tag}"]
        assert fit.elbo[-1] == pytest.approx(entry[f"elbo_last_{tag}"], rel=1e-9)
        np.testing.assert_allclose(fit.V, entry[f"V_{tag}"], rtol=PP_RTOL, atol=1e-8)
        assert [s.effect for s in fit.sets] == entry[f"cs_index_{tag}"]
    check_summary(res, pd.DataFrame(entry["coloc_susie_summary"]))


# ----------------------------------------------------------------- behaviour checks
def _d3() -> tuple[dict[str, Any], pd.DataFrame]:
    d, ld = susie_dataset("D3")
    assert ld is not None
    return d, ld


def test_ld_forms_agree() -> None:
    d, ld = _d3()
    snps = [str(s) for s in d["snp"]]
    R = ld_matrix(ld, snps)
    assert np.array_equal(R, R.T)
    assert np.all(np.diag(R) == 1.0)
    square = pd.DataFrame(R, index=snps, columns=snps)
    shuffled = square.iloc[::-1, ::-1]
    for form in (square, shuffled, (R, snps), R):
        np.testing.assert_array_equal(ld_matrix(form, snps), R)
    with pytest.raises(InputError, match="1 of 500 SNPs are not in"):
        ld_matrix(square.iloc[1:, 1:], snps)
    with pytest.raises(InputError, match="lacks 2 of the data's 500 SNPs"):
        ld_matrix((R[2:, 2:], snps[2:]), snps)
    with pytest.raises(InputError, match="no value for the pair"):
        ld_matrix(ld.drop(index=1), snps)  # the long table without its entry (s1, s2)
    np.testing.assert_array_equal(ld_matrix(ld[ld.snp_i != ld.snp_j], snps), R)


def test_dataframe_input_as_from_a_file() -> None:
    """A plain pandas table (NaN in the empty cells) gives the same fit as the R dataset."""
    d, ld = _d3()
    table = pd.read_csv(COLOC / "data" / "test_D3.csv")
    a = runsusie_dataset(table, ld)
    b = runsusie_dataset(d, ld)
    np.testing.assert_array_equal(a.alpha, b.alpha)
    assert a.snps == b.snps


def test_runsusie_repeats_with_more_iterations() -> None:
    """coloc's runsusie re-runs with 100 x max_iter when susie_rss has not converged."""
    d, ld = _d3()
    snps = [str(s) for s in d["snp"]]
    z = d["beta"] / np.sqrt(d["varbeta"])
    R = ld_matrix(ld, snps)
    short = susie_rss(z, R, float(d["N"]), snps=snps, max_iter=3)
    assert not short.converged
    assert short.niter == 3
    assert short.warnings
    fit = runsusie(z, R, float(d["N"]), snps=snps, max_iter=3)
    assert fit.converged
    assert fit.niter == find_call("runsusie_D3")["result"]["niter"]
    with pytest.warns(UserWarning, match="did not converge"):
        runsusie(z, R, float(d["N"]), snps=snps, max_iter=3, repeat_until_convergence=False)


def test_no_credible_set_is_skipped_with_reason() -> None:
    rng = np.random.default_rng(1)
    p = 60
    snps = [f"v{i}" for i in range(p)]
    R = np.eye(p)
    noise = {"snp": snps, "beta": rng.normal(0, 0.01, p), "varbeta": np.full(p, 1e-3)}
    noise |= {"N": 1000, "type": "quant", "sdY": 1.0}
    signal = dict(noise, beta=noise["beta"] + np.where(np.arange(p) == 7, 0.5, 0.0))
    res = coloc_susie(signal, noise, (R, snps))
    assert res.fit1 is not None
    assert [s.snps for s in res.fit1.sets] == [("v7",)]
    assert res.summary.empty
    assert res.snps.empty
    assert res.skipped == ["trait 2 has no credible set"]
    assert "no pairs" in repr(res)


def test_partial_overlap_trims_pairs() -> None:
    """A pair whose shared SNPs hold < overlap_min of a set's posterior is not tested."""
    snps1 = ["a", "b", "c", "d"]
    snps2 = ["b", "c", "d", "e"]
    bf1 = np.array([[10.0, 0.0, 0.0, 0.0], [0.0, 8.0, 0.0, 0.0]])  # set 1 sits on `a`
    bf2 = np.array([[0.0, 9.0, 0.0, 0.0]])
    res = coloc_bf_bf(bf1, bf2, snps1, snps2, idx1=[3, 5], idx2=[2])
    assert res.summary[["idx1", "idx2", "hit1", "hit2"]].values.tolist() == [[5, 2, "b", "c"]]
    assert res.summary["nsnps"].tolist() == [3]
    assert len(res.skipped) == 1
    assert res.skipped[0].startswith("sets 3/2")
    assert res.snps["snp"].tolist() == ["b", "c", "d"]
    np.testing.assert_allclose(res.snps["snp_pp_h4"].sum(), 1.0)
    none = coloc_bf_bf(bf1, bf2, snps1, ["x", "y", "z", "w"])
    assert none.summary.empty
    assert none.skipped == ["the two datasets share no SNP"]


def test_credible_sets_dedup_purity_and_order() -> None:
    p = 6
    corr = np.eye(p)
    corr[0, 1] = corr[1, 0] = 0.9
    corr[3, 4] = corr[4, 3] = 0.6
    corr[2, 5] = corr[5, 2] = 0.1  # impure pair
    alpha = np.full((5, p), 1e-6)
    alpha[0, [3, 4]] = 0.5  # set {3, 4}, purity 0.6
    alpha[1, [0, 1]] = 0.5  # set {0, 1}, purity 0.9
    alpha[2, [3, 4]] = 0.5  # repeat of effect 1: dropped (dedup)
    alpha[3, [2, 5]] = 0.5  # impure: dropped
    alpha[4, 0] = 1.0  # V = 0: dropped
    alpha /= alpha.sum(axis=1, keepdims=True)
    V = np.array([0.1, 0.1, 0.1, 0.1, 0.0])
    sets = credible_sets(alpha, V, corr, [f"s{i}" for i in range(p)])
    assert [s.effect for s in sets] == [2, 1]
    assert [s.snps for s in sets] == [("s0", "s1"), ("s3", "s4")]
    assert [s.min_abs_corr for s in sets] == [0.9, 0.6]
    want = [alpha[1, [0, 1]].sum(), alpha[0, [3, 4]].sum()]
    np.testing.assert_allclose([s.coverage for s in sets], want, rtol=1e-15)


def test_brent_matches_a_known_minimum() -> None:
    for c in (-29.5, -3.0, 0.0, 2.0, 14.9):
        x = r_optimize(lambda t, c=c: (t - c) ** 2 + 1.0, -30.0, 15.0, tol=BRENT_TOL)
        assert abs(x - c) < 1e-6
    # a minimum at the boundary stays inside [lower, upper]
    x = r_optimize(lambda t: t, -30.0, 15.0, tol=BRENT_TOL)
    assert -30.0 <= x < -30.0 + 1e-6


def test_input_errors() -> None:
    d, ld = _d3()
    snps = [str(s) for s in d["snp"]]
    R = ld_matrix(ld, snps)
    z = d["beta"] / np.sqrt(d["varbeta"])
    with pytest.raises(InputError, match="expected 500 x 500"):
        susie_rss(z, R[:10, :10], 1000)
    with pytest.raises(InputError, match="greater than 1"):
        susie_rss(z, R, 1)
    with pytest.raises(InputError, match="null_weight"):
        susie_rss(z, R, 1000, null_weight=0.1)
    with pytest.raises(InputError, match="needs signed effects"):
        coloc_susie(
            {
                "snp": snps,
                "pvalues": np.full(500, 0.5),
                "MAF": np.full(500, 0.3),
                "N": 1000,
                "type": "quant",
            },
            d,
            ld,
        )
    with pytest.raises(InputError, match="needs an LD matrix"):
        coloc_susie(d, d)


def test_wide_and_long_per_snp_tables_agree() -> None:
    res = evaluate(find_call("coloc_susie_D3_D4_default")["call"])
    wide = res.snps_wide()
    assert wide.shape == (500, 1 + len(res.summary))
    for row in range(1, len(res.summary) + 1):
        part = res.snps[res.snps["row"] == row]
        np.testing.assert_array_equal(part["snp_pp_h4"], wide[f"snp_pp_h4_row{row}"])
        assert part["hit1"].iloc[0] == res.summary["hit1"].iloc[row - 1]
    s = r_summary("coloc_susie_D3_D4_default")
    assert f"{s['hit1'][0]}/{s['hit2'][0]}" in repr(res)


# ---------------------------------------------------------- slow, obvious oracles
def _sufficient(z: np.ndarray, R: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    zt = z * np.sqrt((n - 1) / (z * z + n - 2))
    return (n - 1) * R, np.sqrt(n - 1) * zt


def test_one_effect_fixed_prior_is_the_closed_form_ser() -> None:
    """L = 1, V fixed: alpha is the softmax of Wakefield-type log BFs, one sweep settles it."""
    d, ld = _d3()
    snps = [str(s) for s in d["snp"]]
    R = ld_matrix(ld, snps)
    n = float(d["N"])
    z = d["beta"] / np.sqrt(d["varbeta"])
    fit = susie_rss(z, R, n, L=1, estimate_prior_variance=False, scaled_prior_variance=0.1)
    xtx, xty = _sufficient(z, R, n)
    dd = np.diag(xtx)
    bhat, s2 = xty / dd, 1.0 / dd
    lbf = np.array(
        [
            math.log(math.sqrt(s / (0.1 + s))) + 0.5 * b * b * (1 / s - 1 / (0.1 + s))
            for b, s in zip(bhat, s2, strict=True)
        ]
    )
    np.testing.assert_allclose(fit.lbf_variable[0], lbf, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fit.alpha[0], np.exp(lbf) / np.exp(lbf).sum(), rtol=1e-10)
    np.testing.assert_allclose(fit.mu[0], xty / (1 / 0.1 + dd), rtol=1e-12)
    assert fit.niter == 2  # the second sweep repeats the first exactly
    assert fit.elbo[1] == fit.elbo[0]


def test_elbo_is_the_direct_formula() -> None:
    """The ELBO trace's last value, recomputed with full matrix products (susieR's get_ER2_ss)."""
    fit = evaluate(find_call("runsusie_D3")["call"])
    d, ld = _d3()
    snps = [str(s) for s in d["snp"]]
    n = float(d["N"])
    xtx, xty = _sufficient(d["beta"] / np.sqrt(d["varbeta"]), ld_matrix(ld, snps), n)
    B = fit.alpha * fit.mu
    bbar = B.sum(axis=0)
    er2 = (
        (n - 1)
        - 2 * bbar @ xty
        + bbar @ xtx @ bbar
        - np.sum((B @ xtx) * B)
        + np.diag(xtx) @ (fit.alpha * fit.mu2).sum(axis=0)
    )
    elbo = -n / 2 * math.log(2 * math.pi * fit.sigma2) - er2 / (2 * fit.sigma2) - fit.KL.sum()
    assert fit.elbo[-1] == pytest.approx(elbo, rel=1e-12)
    assert np.all(np.diff(fit.elbo) >= 0)


def test_estimated_residual_variance_and_options() -> None:
    d, ld = _d3()
    snps = [str(s) for s in d["snp"]]
    R = ld_matrix(ld, snps)
    n = float(d["N"])
    z = d["beta"] / np.sqrt(d["varbeta"])
    fit = susie_rss(z, R, n, snps=snps, estimate_residual_variance=True, tol=1e-6)
    assert fit.converged
    assert 0 < fit.sigma2 < 1  # the signals explain part of var(y) = 1
    assert [s.snps for s in fit.sets][:1] == [
        s.snps for s in evaluate(find_call("runsusie_D3")["call"]).sets
    ][:1]
    small = susie_rss(z[:5], R[:5, :5], n, L=10)
    assert small.alpha.shape == (5, 5)  # L is capped at p, as in susieR
    w = np.ones(500)
    w[snps.index("s105")] = 0.0  # a variable with prior weight 0 is never chosen
    fit_w = susie_rss(z, R, n, prior_weights=w)
    assert np.all(fit_w.alpha[:, snps.index("s105")] == 0)
