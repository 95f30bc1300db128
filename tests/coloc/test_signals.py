"""coloc.signals and finemap.signals against R's coloc 6.0.1.

Every call of ``../shared/reference/coloc/results/coloc_signals.json`` is replayed from its
call string and dataset construction; posteriors must agree to 1e-6 relative (summary rows
matched by ``(hit1, hit2)``, since coloc re-sorts them), per-SNP values to
``1e-6 |R| + 1e-12``. The reference calls never mask (each has one hit per trait under
``mask``), so the masking path is checked against a literal transcription of coloc's
``coloc.process`` (all Q^2 SNP pairs, masked values assigned as coloc assigns them).
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
from scipy.stats import norm

from mrkit.coloc.bf import labf_from_estimates
from mrkit.coloc.data import as_dataset
from mrkit.coloc.signals import coloc_signals, est_cond, finemap_signals
from mrkit.errors import InputError

pytestmark = pytest.mark.skipif(not COLOC.is_dir(), reason="../shared/reference/coloc absent")

RTOL = 1e-6
ATOL = 1e-12


@cache
def _ld_file(path: str) -> pd.DataFrame:
    return pd.read_csv(COLOC / path)


def signals_dataset(name: str) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Dataset ``name`` of coloc_signals.json and its LD (``plus the same LD``: the last one)."""
    built = results("coloc_signals")["dataset_construction"]
    text = built[name]
    if "plus the same LD" in text:
        names = list(built)
        text = next(built[p] for p in reversed(names[: names.index(name)]) if "plus LD" in built[p])
    m = re.search(r"plus LD = .* from (data/[\w.]+)", text)
    return dataset(name), (_ld_file(m.group(1)) if m else None)


def run(call: str) -> Any:
    name, args, kwargs = parse_call(call)
    opts = {k: value(v, {}) for k, v in kwargs.items()}
    data = [signals_dataset(a) for a in args]
    if name == "finemap.signals":
        ((d, ld),) = data
        return finemap_signals(d, ld, **opts)
    if name == "coloc.signals":
        (d1, ld1), (d2, ld2) = data
        return coloc_signals(d1, d2, ld1, ld2=ld2, **opts)
    raise NotImplementedError(name)


@pytest.mark.parametrize("call_id", call_ids("coloc_signals"))
def test_signals_match_r(call_id: str) -> None:
    ref = find_call(call_id)
    res = run(ref["call"])
    r = ref["result"]
    if "hits" in r:  # finemap.signals
        assert list(res) == list(r["hits"])
        np.testing.assert_allclose(list(res.values()), list(r["hits"].values()), rtol=1e-9)
        return
    s = pd.DataFrame(r["summary"])
    ours = res.summary.set_index(["hit1", "hit2"])
    assert sorted(ours.index) == sorted(zip(s["hit1"], s["hit2"], strict=True))
    for _, row in s.iterrows():
        got = ours.loc[(row["hit1"], row["hit2"])]
        assert got["nsnps"] == row["nsnps"]
        for h in range(5):
            assert got[f"pp_h{h}"] == pytest.approx(row[f"PP.H{h}.abf"], rel=RTOL, abs=0)
        for b in ("best1", "best2", "best4"):
            assert got[b] == row[b]
        assert got["hit1_margz"] == pytest.approx(row["hit1.margz"], rel=1e-9)
        assert got["hit2_margz"] == pytest.approx(row["hit2.margz"], rel=1e-9)
    assert res.priors == {
        "p1": 1e-4,
        "p2": 1e-4,
        "p12": value(parse_call(ref["call"])[2]["p12"], {}),
    }
    per = pd.DataFrame(r["results"])
    wide = res.snps_wide()
    assert wide["snp"].tolist() == per["snp"].tolist()
    for col in per.columns[1:]:
        ours_col = col.replace("SNP.PP.H4", "snp_pp_h4").replace("z.df", "z_df")
        ours_col = ours_col.replace(".row", "_row")
        if "_row" not in ours_col:  # one combination: coloc leaves the suffix off
            ours_col += "_row1"
        want = per[col].to_numpy(dtype=float)
        got_col = wide[ours_col].to_numpy(dtype=float)
        assert np.all(np.abs(got_col - want) <= RTOL * np.abs(want) + ATOL), col


# ------------------------------------------------------ masking: literal coloc.process
def two_blocks(seed: int = 3) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame]:
    """Two LD blocks of 40 SNPs; trait 1 has a signal in each, trait 2 in the first only."""
    rng = np.random.default_rng(seed)
    m = 40
    idx = np.arange(m)
    block = 0.7 ** np.abs(idx[:, None] - idx[None, :])
    R = np.zeros((2 * m, 2 * m))
    R[:m, :m] = R[m:, m:] = block
    snps = [f"v{i:02d}" for i in range(2 * m)]
    chol = np.linalg.cholesky(R)
    se = 0.05

    def trait(effects: dict[int, float]) -> dict[str, Any]:
        ncp = np.zeros(2 * m)
        for j, z in effects.items():
            ncp += R[:, j] * z
        z = ncp + chol @ rng.normal(size=2 * m)
        return {
            "snp": np.array(snps),
            "position": np.arange(2 * m, dtype=float),
            "beta": z * se,
            "varbeta": np.full(2 * m, se * se),
            "MAF": rng.uniform(0.1, 0.5, 2 * m),
            "N": 2000,
            "type": "quant",
            "sdY": 1.1,
        }

    d1 = trait({10: 9.0, 55: 7.0})
    d2 = trait({10: 8.0})
    return d1, d2, pd.DataFrame(R, index=snps, columns=snps)


def literal_process(
    l1: np.ndarray, l2: np.ndarray, drop1: np.ndarray, drop2: np.ndarray, p: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """coloc.process for one masked combination, step by step on all SNP pairs."""
    p1, p2, p12 = p

    def logsum(x: np.ndarray) -> float:
        mx = np.max(x)
        return float(mx + np.log(np.sum(np.exp(x - mx))))

    lbf1, lbf2, lbf4 = l1.copy(), l2.copy(), l1 + l2
    lbf1[drop1] = -1.1
    lbf4[drop1] = -1.1
    lbf2[drop2] = -1.1
    lbf4[drop2] = -1.1
    lbf3 = l1[:, None] + l2[None, :]
    lbf3[drop1, :] = 0.0
    lbf3[:, drop2] = 0.0
    lh = np.array(
        [
            0.0,
            math.log(p1) + logsum(lbf1),
            math.log(p2) + logsum(lbf2),
            math.log(p1) + math.log(p2) + logsum(lbf3.ravel()),
            math.log(p12) + logsum(lbf4),
        ]
    )
    return np.exp(lh - logsum(lh)), np.exp(lbf4 - logsum(lbf4))


@pytest.mark.parametrize("mode", ["iterative", "allbutone"])
def test_masking_matches_literal_coloc_process(mode: str) -> None:
    d1, d2, ld = two_blocks()
    p = (1e-4, 1e-4, 1e-6)
    res = coloc_signals(d1, d2, ld, p12=p[2], method="mask", mode=mode)
    hits1 = list(res.hits1)
    assert len(hits1) == 2  # one per block
    assert len(res.hits2) == 1
    order = np.argsort(d1["snp"])
    snps = d1["snp"][order]
    l1 = labf_from_estimates(d1["beta"], d1["varbeta"], sdy=d1["sdY"])[order]
    l2 = labf_from_estimates(d2["beta"], d2["varbeta"], sdy=d2["sdY"])[order]
    r2 = ld.loc[hits1, snps].to_numpy() ** 2
    assert len(res.summary) == 2
    for k, h1 in enumerate(hits1):
        others = [i for i in range(2) if i != k] if mode == "allbutone" else list(range(k))
        drop1 = np.zeros(snps.size, dtype=bool)
        for i in others:
            drop1 |= r2[i] > 0.01
        drop2 = np.zeros(snps.size, dtype=bool)
        pp, snp_pp = literal_process(l1, l2, drop1, drop2, p)
        row = res.summary[res.summary["hit1"] == h1].iloc[0]
        np.testing.assert_allclose(row[[f"pp_h{h}" for h in range(5)]].astype(float), pp, rtol=1e-9)
        part = res.snps[res.snps["row"] == row["row"]]
        assert part["snp"].tolist() == snps.tolist()
        np.testing.assert_allclose(part["snp_pp_h4"], snp_pp, rtol=1e-9, atol=1e-300)
        assert np.all(part["z_df1"].to_numpy()[drop1] == 0)
    if mode == "iterative":  # the first hit is tested unmasked
        assert res.summary["hit1"].iloc[0] == hits1[0]


def test_iterative_cond_keeps_the_all_conditioned_combination() -> None:
    """Iterative cond: one more conditioned dataset than hits; its per-SNP rows stay."""
    d3, ld = signals_dataset("D3")
    d4, _ = signals_dataset("D4")
    res = coloc_signals(d3, d4, ld, p12=1e-6, method="cond", mode="iterative", pthr=0.01)
    h1, h2 = list(res.hits1), list(res.hits2)
    assert len(h1) == 3
    v1 = [*h1, None]  # conditioned on none, on hit 1, on hits 1-2, on all three
    v2 = [*h2, None] if len(h2) > 1 else h2
    combos = [(a, b) for b in v2 for a in v1]  # coloc's expand.grid order, trait 1 fastest
    kept = [(k, a, b) for k, (a, b) in enumerate(combos, 1) if a is not None and b is not None]
    assert res.summary["row"].tolist() == [k for k, _, _ in kept]
    assert res.summary[["hit1", "hit2"]].values.tolist() == [[a, b] for _, a, b in kept]
    assert sorted(res.snps["row"].unique().tolist()) == list(range(1, len(combos) + 1))


def test_est_cond_on_one_hit_is_the_exact_formula() -> None:
    """Conditioning on one SNP: beta_j - r_jk sqrt(v_k/v_j) beta_k, checked by hand."""
    d3, ld = signals_dataset("D3")
    ds = as_dataset(d3, "D3")
    snps = [str(s) for s in ds.snp]
    R = ld.pivot(index="snp_i", columns="snp_j", values="r").reindex(index=snps, columns=snps)
    R = R.fillna(R.T).to_numpy()
    k = snps.index("s105")
    beta, _ = est_cond(ds, R, [k])
    vx = 2 * ds.maf * (1 - ds.maf)
    want = ds.beta - R[:, k] * np.sqrt(vx[k] / vx) * ds.beta[k]
    use = (R[k] ** 2 <= 0.8) & (np.arange(len(snps)) != k)
    np.testing.assert_allclose(beta[use], want[use], rtol=1e-10)
    assert np.all(beta[~use] == 0)


def test_signals_input_errors() -> None:
    d1, d2, ld = two_blocks()
    with pytest.raises(InputError, match="needs LD"):
        coloc_signals(d1, d2, p12=1e-6, method="mask")
    cc = dict(d1, type="cc", s=0.4)
    cc.pop("sdY")
    with pytest.raises(InputError, match="not supported"):
        coloc_signals(cc, d2, ld, p12=1e-6, method="cond")
    with pytest.raises(TypeError):
        coloc_signals(d1, d2, ld)  # type: ignore[call-arg]  # p12 has no default, as in coloc
    none = dict(d1, beta=d1["beta"] * 0.01)  # no signal at pthr: the top SNP stands in
    res = coloc_signals(none, d2, ld, p12=1e-6)
    top = str(none["snp"][np.argmax(np.abs(none["beta"]))])
    assert res.summary["hit1"].tolist() == [top]


def test_single_from_p_values_matches_literal_process() -> None:
    """p-value datasets (positive z from p/2) through the one-signal branch."""
    from mrkit.coloc.bf import labf_from_pvalues

    d1, d2, _ = two_blocks()
    p = (1e-4, 1e-4, 1e-6)
    pv = []
    for d in (d1, d2):
        z = d["beta"] / np.sqrt(d["varbeta"])
        pv.append({k: d[k] for k in ("snp", "position", "MAF", "N", "type")})
        pv[-1]["pvalues"] = 2 * norm.sf(np.abs(z))
    res = coloc_signals(pv[0], pv[1], p12=p[2])
    order = np.argsort(d1["snp"])
    ls = [labf_from_pvalues(q["pvalues"], q["MAF"], q["N"])[order] for q in pv]
    none = np.zeros(order.size, dtype=bool)
    pp, snp_pp = literal_process(ls[0], ls[1], none, none, p)
    np.testing.assert_allclose(res.summary[[f"pp_h{h}" for h in range(5)]].iloc[0], pp, rtol=1e-9)
    np.testing.assert_allclose(res.snps["snp_pp_h4"], snp_pp, rtol=1e-9, atol=1e-300)
    assert np.all(res.snps["z_df1"] > 0)
