"""Harmonising many exposure-outcome pairs: one pass per outcome against the per-pair loop.

Synthetic summary statistics (numpy): ``--outcomes`` outcome GWAS over ``--snps``
variants and ``--exposures`` exposures with ``--instruments`` instruments each, so
``exposures x outcomes`` pairs (default 200 x 5 = 1,000). The alleles are mixed
as in real data: reported on either allele (swaps), on the other strand (flips),
palindromic SNPs with informative and ambiguous frequencies, a few INDELs and
outcomes without the other allele; 5% of the instruments are absent from each
outcome and have an LD proxy (a table per exposure, as a study looks them up).

Timed, per outcome (the study's harmonise stage does the same):

* **many-pair**: :func:`mrkit.harmonise.many.harmonise_many` on the stacked
  instruments of all exposures, then :meth:`HarmonisedMany.tables` (every pair's
  table as a DataFrame);
* **baseline**: the per-pair loop it replaced, one call of the old
  ``harmonise()`` per pair (``tests/harmonise/harmonise_reference.py``, the
  code as it was), measured in the same run;
* for information, the loop over today's ``harmonise()`` (a batch of one).

Every pair's table is checked equal (dtypes included) between many-pair and
baseline before the times are printed.

    .venv/bin/python benchmarks/bench_harmonise.py [--exposures 200] [--outcomes 5]
        [--instruments 12] [--snps 4000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "harmonise"))

import harmonise_reference as reference  # noqa: E402

from mrkit.harmonise.core import harmonise  # noqa: E402
from mrkit.harmonise.many import harmonise_many  # noqa: E402

COMP = str.maketrans("ACGT", "TGCA")
SNV = np.array([(a, b) for a in "ACGT" for b in "ACGT" if a != b], dtype=object)


def synth(n_exp: int, n_out: int, n_instr: int, n_snps: int, seed: int = 1):
    """Stacked exposures, the outcome tables, and per outcome a keyed proxies table."""
    rng = np.random.default_rng(seed)
    snp = np.array([f"rs{i}" for i in range(n_snps)], dtype=object)
    pair = SNV[rng.integers(0, len(SNV), n_snps)]
    a1, a2 = pair[:, 0].copy(), pair[:, 1].copy()
    indel = rng.random(n_snps) < 0.02
    a1[indel], a2[indel] = "A", "AT"
    eaf = np.round(rng.uniform(0.05, 0.95, n_snps), 3)
    rows = []
    for k in range(n_exp):
        idx = rng.choice(n_snps, n_instr, replace=False)
        swap = rng.random(n_instr) < 0.5
        rows.append(
            pd.DataFrame(
                {
                    "exposure": f"x{k}",
                    "snp": snp[idx],
                    "chr": "1",
                    "pos": pd.array(idx * 100 + 1, dtype="Int64"),
                    "effect_allele": np.where(swap, a2[idx], a1[idx]),
                    "other_allele": np.where(swap, a1[idx], a2[idx]),
                    "eaf": np.where(swap, 1 - eaf[idx], eaf[idx]),
                    "beta": rng.normal(0, 0.05, n_instr),
                    "se": 0.005,
                    "p": 1e-10,
                    "log10p": 10.0,
                    "n": 50000.0,
                }
            )
        )
    exposures = pd.concat(rows, ignore_index=True)
    instr = pd.unique(exposures["snp"])
    outcomes, proxies = [], []
    for j in range(n_out):
        swap = rng.random(n_snps) < 0.5
        flip = (rng.random(n_snps) < 0.1) & ~indel
        b1, b2 = np.where(swap, a2, a1), np.where(swap, a1, a2)
        b1 = np.array([x.translate(COMP) if f else x for x, f in zip(b1, flip, strict=True)])
        b2 = np.array([x.translate(COMP) if f else x for x, f in zip(b2, flip, strict=True)])
        b2 = np.where(rng.random(n_snps) < 0.02, None, b2).astype(object)
        out = pd.DataFrame(
            {
                "snp": snp,
                "chr": "1",
                "pos": np.arange(n_snps) * 100 + 1,
                "effect_allele": b1,
                "other_allele": b2,
                "eaf": np.where(swap, 1 - eaf, eaf),
                "beta": rng.normal(0, 0.02, n_snps),
                "se": 0.01,
                "p": 0.5,
                "log10p": 0.3,
                "n": 80000.0,
            }
        )
        absent = set(rng.choice(instr, max(1, len(instr) // 20), replace=False))
        proxy_of = {t: f"px{j}_{t}" for t in absent}
        keep = ~out["snp"].isin(absent)
        px = out[~keep].assign(snp=out.loc[~keep, "snp"].map(proxy_of))  # the proxies' rows
        outcomes.append(pd.concat([out[keep], px], ignore_index=True))
        need = exposures.loc[exposures["snp"].isin(absent), ["exposure", "snp"]]
        t = dict(zip(snp, zip(a1, a2, strict=True), strict=True))
        proxies.append(
            pd.DataFrame(
                {
                    "exposure": need["exposure"].to_numpy(),
                    "target_snp": need["snp"].to_numpy(),
                    "proxy_snp": [proxy_of[s] for s in need["snp"]],
                    "r2": 0.9,
                    "target_effect_allele": [t[s][0] for s in need["snp"]],
                    "target_other_allele": [t[s][1] for s in need["snp"]],
                    "proxy_effect_allele": [t[s][0] for s in need["snp"]],
                    "proxy_other_allele": [t[s][1] for s in need["snp"]],
                }
            )
        )
    return exposures, outcomes, proxies


def many_pass(exposures, outcomes, proxies):
    """The new way: per outcome one harmonise_many, then every pair's table."""
    res = {}
    for j, (out, px) in enumerate(zip(outcomes, proxies, strict=True)):
        tables = harmonise_many(exposures, out, proxies=px).tables()
        res.update({(e, j): t for e, t in tables.items()})
    return res


def per_pair(fn, exposures, outcomes, proxies):
    """A harmonise call per pair (``fn``: the old function, or today's ``harmonise``)."""
    res = {}
    groups = dict(tuple(exposures.groupby("exposure", sort=False)))
    for j, (out, px) in enumerate(zip(outcomes, proxies, strict=True)):
        by_exp = dict(tuple(px.groupby("exposure", sort=False)))
        for e, ex in groups.items():
            p = by_exp.get(e)
            res[(e, j)] = fn(ex.drop(columns="exposure"), out, proxies=p, exposure_id=e).table
    return res


def best_of(repeat: int, fn, *args):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exposures", type=int, default=200)
    ap.add_argument("--outcomes", type=int, default=5)
    ap.add_argument("--instruments", type=int, default=12)
    ap.add_argument("--snps", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs of each")
    args = ap.parse_args()
    data = synth(args.exposures, args.outcomes, args.instruments, args.snps)
    npairs = args.exposures * args.outcomes
    print(
        f"{npairs} pairs: {args.exposures} exposures x {args.outcomes} outcomes, "
        f"{args.instruments} instruments each, outcomes of {args.snps} SNPs; best of "
        f"{args.repeat}"
    )
    t_many, new = best_of(args.repeat, many_pass, *data)
    t_old, old = best_of(args.repeat, per_pair, reference.harmonise, *data)
    t_now, _ = best_of(1, per_pair, harmonise, *data)
    for key, table in old.items():
        pd.testing.assert_frame_equal(new[key], table, check_exact=True)
    n_proxy = sum(int(t["proxy"].sum()) for t in new.values())
    print(f"  every pair's table identical to the per-pair baseline ({n_proxy} proxy rows)")
    rows = [
        ("baseline: old harmonise() per pair", t_old),
        ("harmonise() per pair (batch of one)", t_now),
        ("harmonise_many per outcome + tables", t_many),
    ]
    for name, t in rows:
        print(f"  {name:<38} {t:8.3f} s  {1e3 * t / npairs:7.3f} ms/pair")
    print(f"  baseline / many-pair = {t_old / t_many:.1f}x")


if __name__ == "__main__":
    main()
