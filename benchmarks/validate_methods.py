"""Statistical validation of every univariable estimator: coverage, type-I error, bias, SE/SD.

Each cell (scenario x causal effect) simulates ``reps`` independent two-sample
summary-statistics datasets and runs every method on all of them in one call of
:func:`mrkit.estimate.analyse` (one pair per replicate); the estimates are then
summarised per method with their Monte-Carlo standard errors.

Data-generating model (one replicate; no sample overlap, no LD, no selection)
-----------------------------------------------------------------------------
``J`` independent variants with allele frequency :math:`p_j \\sim U(0.05, 0.5)`;
exposure and outcome GWAS of :math:`N_X = N_Y` people, both traits with unit
variance, so :math:`s_{Xj} = 1/\\sqrt{2p_j(1-p_j)N_X}` (likewise :math:`s_{Yj}`).
The per-allele effects on the exposure are

.. math:: \\gamma_j = s_{Xj}\\sqrt{(\\bar F - 1)\\,w_j}, \\qquad w_j \\sim U(0.25, 1.75),

so that :math:`E[\\hat\\gamma_j^2/s_{Xj}^2] = 1 + (\\bar F - 1) w_j` averages
:math:`\\bar F`. A share of the variants (``invalid``) are pleiotropic with
direct effects :math:`\\alpha_j` on the outcome (zero for the others), and

.. math::

    \\hat\\gamma_j = \\gamma_j + s_{Xj}\\varepsilon_{Xj}, \\qquad
    \\hat\\Gamma_j = \\theta\\gamma_j + \\alpha_j + s_{Yj}\\varepsilon_{Yj}.

(the coding allele is the exposure-increasing one). Pleiotropy, in outcome SD per allele:
directional with InSIDE, :math:`\\alpha_j \\sim U(0, 2\\bar\\alpha)`; balanced,
:math:`\\alpha_j \\sim N(0, \\bar\\alpha^2)`; InSIDE violated, the same
:math:`\\alpha_j \\sim U(0, 2\\bar\\alpha)` also act on the exposure through a
confounder, :math:`\\gamma_j \\leftarrow \\gamma_j + \\alpha_j` (so
:math:`\\mathrm{cov}(\\alpha_j, \\gamma_j) > 0`; Bowden et al. 2016, Genet
Epidemiol 40:304, doi:10.1002/gepi.21965, InSIDE-violated scenario).

Run: ``python benchmarks/validate_methods.py --reps 1000 --out docs/validation.md``
(``--quick``: 100 replicates, the fast methods only). The test
``tests/methods/test_validation.py`` imports :func:`simulate` and :func:`run_cell`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mrkit.estimate import Pairs, analyse
from mrkit.methods import get_method, resolve

J = 30
N_EXPOSURE = 50_000
N_OUTCOME = 50_000
#: Non-null causal effect (outcome SD per exposure SD).
THETA = 0.1
#: Mean direct effect of a pleiotropic variant (outcome SD per allele).
ALPHA_MEAN = 0.015
#: Methods of ``resolve("all")`` left out, and why.
EXCLUDED = {
    "wald_ratio": "one variant only",
    "sign": "a sign-concordance test: no causal estimate, SE or interval",
}
#: Slow per-pair methods: at most this many replicates per cell, and lighter options
#: (cML needs the GWAS sample size for its BIC).
OPTIONS: dict[str, dict[str, Any]] = {
    "cml_ma_bic": {"n": min(N_EXPOSURE, N_OUTCOME)},
    "cml_ma_dp": {"n": min(N_EXPOSURE, N_OUTCOME), "num_pert": 100},
}
#: Slow per-pair methods (> 0.01 s a dataset): ``--slow-reps`` replicates per cell.
SLOW = frozenset(
    {
        "raps",
        "cml_ma_bic",
        "cml_ma_dp",
        "lasso",
        "simple_mode",
        "penalised_mode",
        "ivw_robust",
        "egger_robust",
    }
)
#: Fast methods used by ``--quick`` and the regression test.
QUICK_METHODS = ("ivw", "egger", "weighted_median", "weighted_mode", "divw")


@dataclass(frozen=True)
class Scenario:
    """One data-generating scenario (see the module docstring)."""

    key: str
    label: str
    mean_f: float
    invalid: float = 0.0
    pleiotropy: str = "none"  # none | directional | balanced | correlated


SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("a", "valid, strong (F = 50)", 50.0),
        Scenario("b", "valid, weak (F = 10)", 10.0),
        Scenario("c", "30% directional pleiotropy, InSIDE holds", 50.0, 0.3, "directional"),
        Scenario("d", "30% balanced pleiotropy", 50.0, 0.3, "balanced"),
        Scenario("e", "30% directional pleiotropy, InSIDE violated", 50.0, 0.3, "correlated"),
    )
}


@dataclass
class Batch:
    """``reps`` simulated datasets stacked for :meth:`Pairs.from_arrays`."""

    bx: np.ndarray
    sx: np.ndarray
    by: np.ndarray
    sy: np.ndarray
    group: np.ndarray
    mean_f: float
    mean_i2gx: float


def simulate(
    scenario: Scenario,
    theta: float,
    reps: int,
    seed: int,
    *,
    j: int = J,
    n_x: int = N_EXPOSURE,
    n_y: int = N_OUTCOME,
) -> Batch:
    """``reps`` independent datasets of ``j`` variants under ``scenario`` (module docstring).

    Replicate ``r`` is drawn from its own stream ``(seed, scenario, r)``, so the
    first ``k`` replicates do not depend on ``reps``, and the cells at
    :math:`\\theta = 0` and :math:`\\theta \\neq 0` share their draws.
    """
    out = [
        _one(scenario, theta, np.random.default_rng([seed, ord(scenario.key), r]), j, n_x, n_y)
        for r in range(reps)
    ]
    bx, sx, by, sy = (np.concatenate([o[k] for o in out]) for k in range(4))
    group = np.repeat(np.arange(reps, dtype=np.int64), j)
    i2 = [i2gx(o[0], o[1]) for o in out]
    return Batch(bx, sx, by, sy, group, float(np.mean((bx / sx) ** 2)), float(np.mean(i2)))


def i2gx(bx: np.ndarray, sx: np.ndarray) -> float:
    """Bowden et al. (2016, IJE 45:1961, doi:10.1093/ije/dyw220) I²GX of one dataset.

    :math:`Q = \\sum_j (|\\hat\\gamma_j| - \\bar\\gamma_w)^2/s_{Xj}^2`,
    :math:`\\bar\\gamma_w` the inverse-variance weighted mean of :math:`|\\hat\\gamma_j|`,
    :math:`I^2_{GX} = (Q - (J-1))/Q`. MR-Egger is attenuated by about :math:`1 - I^2_{GX}`.
    """
    g, w = np.abs(bx), 1 / sx**2
    q = float(np.sum(w * (g - np.sum(w * g) / np.sum(w)) ** 2))
    return (q - (len(g) - 1)) / q


def _one(
    scenario: Scenario, theta: float, rng: np.random.Generator, j: int, n_x: int, n_y: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One dataset: ``bx, sx, by, sy``."""
    p = rng.uniform(0.05, 0.5, j)
    h = 2 * p * (1 - p)
    sx = 1 / np.sqrt(h * n_x)
    sy = 1 / np.sqrt(h * n_y)
    gamma = sx * np.sqrt((scenario.mean_f - 1) * rng.uniform(0.25, 1.75, j))
    alpha = np.zeros(j)
    n_bad = round(scenario.invalid * j)
    if n_bad:
        bad = rng.permutation(j)[:n_bad]
        if scenario.pleiotropy == "balanced":
            alpha[bad] = rng.normal(0.0, ALPHA_MEAN, n_bad)
        else:
            alpha[bad] = rng.uniform(0.0, 2 * ALPHA_MEAN, n_bad)
        if scenario.pleiotropy == "correlated":
            gamma = gamma + alpha
    bx = gamma + sx * rng.standard_normal(j)
    by = theta * gamma + alpha + sy * rng.standard_normal(j)
    return bx, sx, by, sy


def _delta_ratio_se(se: np.ndarray, est: np.ndarray) -> float:
    """Monte-Carlo SE of mean(se)/sd(est) by the delta method on (mean se, mean squared dev)."""
    n = len(se)
    if n < 3:
        return math.nan
    dev2 = (est - est.mean()) ** 2
    m, v = se.mean(), dev2.mean()
    if v <= 0:
        return math.nan
    grad = np.array([1 / math.sqrt(v), -m / (2 * v**1.5)])
    cov = np.cov(np.vstack([se, dev2]))
    return float(math.sqrt(max(grad @ cov @ grad, 0.0) / n))


def summarise(est: pd.DataFrame, method: str, theta: float, reps: int) -> dict[str, Any]:
    """Coverage, rejection rate, bias and SE/SD of one method's rows, with Monte-Carlo SEs."""
    rows = est[est["method"] == method]
    b = rows["estimate"].to_numpy(float)
    se = rows["se"].to_numpy(float)
    lo, hi = rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float)
    pv = rows["pval"].to_numpy(float)
    ok = np.isfinite(b)
    n = int(ok.sum())
    out: dict[str, Any] = {"method": method, "n": n, "skipped": 1 - n / reps}
    if n == 0:
        return out
    b, se, lo, hi, pv = b[ok], se[ok], lo[ok], hi[ok], pv[ok]
    cover = (lo <= theta) & (theta <= hi)
    # rejection of theta = 0: the p-value, or the interval when there is none
    reject = np.where(np.isnan(pv), (lo > 0) | (hi < 0), pv < 0.05)

    def prop(x: np.ndarray) -> tuple[float, float]:
        m = float(x.mean())
        return m, math.sqrt(m * (1 - m) / len(x))

    out["coverage"], out["coverage_mcse"] = prop(cover)
    out["reject"], out["reject_mcse"] = prop(reject)
    sd = float(b.std(ddof=1)) if n > 1 else math.nan
    out["bias"] = float(b.mean() - theta)
    out["bias_mcse"] = sd / math.sqrt(n)
    out["median_bias"] = float(np.median(b) - theta)
    fin = np.isfinite(se)
    out["se_sd"] = float(se[fin].mean() / b[fin].std(ddof=1)) if fin.sum() > 1 else math.nan
    out["se_sd_mcse"] = _delta_ratio_se(se[fin], b[fin])
    return out


def run_cell(
    scenario: Scenario,
    theta: float,
    methods: Sequence[str],
    reps: int,
    seed: int,
    *,
    nboot: int = 1000,
    options: dict[str, dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, Batch]:
    """Simulate ``reps`` datasets and summarise every method on them (one ``analyse`` call).

    Returns the per-method summary and the simulated datasets.
    The datasets depend only on ``seed``, the scenario and ``theta`` (see
    :func:`simulate`), so methods run on fewer replicates see the first
    replicates of the same cell.
    """
    batch = simulate(scenario, theta, reps, seed)
    pairs = Pairs.from_arrays(batch.bx, batch.sx, batch.by, batch.sy, group=batch.group)
    opts = {m: o for m, o in (options or {}).items() if m in methods}
    res = analyse(pairs, list(methods), options=opts, diagnostics=False, seed=seed, nboot=nboot)
    est = res.estimates
    # a method's companion rows (``presso_corrected``) are summarised as methods too
    names = list(dict.fromkeys([*methods, *est["method"]]))
    table = pd.DataFrame([summarise(est, m, theta, reps) for m in names])
    return table, batch


# -- the report ------------------------------------------------------------------------
def _fmt(x: float, mcse: float, digits: int = 3) -> str:
    if not np.isfinite(x):
        return "–"
    if np.isfinite(mcse):
        return f"{x:.{digits}f} ({mcse:.{digits}f})"
    return f"{x:.{digits}f}"


def markdown(results: pd.DataFrame, used: pd.DataFrame, header: str) -> str:
    """The tables of ``results`` (one row per scenario x theta x method) as markdown."""
    lines = [header]
    for key, sc in SCENARIOS.items():
        sub = results[results["scenario"] == key]
        if sub.empty:
            continue
        f, i2 = sub["mean_f"].iloc[0], sub["mean_i2gx"].iloc[0]
        lines += [
            "",
            f"### ({key}) {sc.label}",
            "",
            f"Mean F of the simulated instruments: {f:.1f}; mean I²GX: {i2:.2f}. "
            "Entries: value (Monte-Carlo SE).",
            "",
            "| method | reps | type-I error (θ = 0) | power (θ = "
            f"{THETA:g}) | coverage (θ = {THETA:g}) | bias (θ = {THETA:g}) | median bias | "
            f"SE / SD (θ = {THETA:g}) | skipped |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in dict.fromkeys(sub["method"]):
            z = sub[(sub["method"] == m) & (sub["theta"] == 0)].iloc[0]
            t = sub[(sub["method"] == m) & (sub["theta"] != 0)].iloc[0]
            skipped = max(z["skipped"], t["skipped"])
            if m == "presso_corrected":  # reported only when outliers were found
                m = "presso_corrected ¹"
            lines.append(
                f"| {m} | {int(t['reps'])} | {_fmt(z.get('reject'), z.get('reject_mcse'))} "
                f"| {_fmt(t.get('reject'), t.get('reject_mcse'))} "
                f"| {_fmt(t.get('coverage'), t.get('coverage_mcse'))} "
                f"| {_fmt(t.get('bias'), t.get('bias_mcse'), 4)} "
                f"| {_fmt(t.get('median_bias'), math.nan, 4)} "
                f"| {_fmt(t.get('se_sd'), t.get('se_sd_mcse'), 2)} | {skipped:.1%} |"
            )
    lines += [
        "",
        "¹ MR-PRESSO's outlier-corrected estimate exists only when outliers were found: its "
        "skipped share is the share of replicates without outliers, and its other columns "
        "are over the replicates with outliers.",
        "",
        "### What each method was run with",
        "",
    ]
    lines += ["| method | replicates per cell | options |", "|---|---:|---|"]
    for _, r in used.iterrows():
        lines.append(f"| {r['method']} | {r['reps']} | {r['options']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000, help="replicates per cell (batch methods)")
    ap.add_argument(
        "--slow-reps",
        type=int,
        default=None,
        help="replicates for the slow methods (default: --reps)",
    )
    ap.add_argument("--methods", default="all", help="'all' or a comma-separated list")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--nboot", type=int, default=1000, help="bootstrap draws of batch methods")
    ap.add_argument("--scenarios", default="abcde")
    ap.add_argument("--out", default=None, help="write the markdown tables here")
    ap.add_argument("--csv", default=None, help="also write the raw summary table")
    ap.add_argument("--quick", action="store_true", help="100 replicates, fast methods only")
    a = ap.parse_args(argv)
    methods = [m for m in resolve(a.methods) if m not in EXCLUDED]
    if a.quick:
        a.reps = min(a.reps, 100)
        if a.methods == "all":
            methods = list(QUICK_METHODS)
    slow_reps = min(a.reps, a.slow_reps if a.slow_reps is not None else a.reps)
    fast = [m for m in methods if m not in SLOW]
    slow = [m for m in methods if m in SLOW]
    used = []
    for m in methods:
        opts = dict(OPTIONS.get(m, {}))
        spec = get_method(m)
        if "nboot" in spec.options and "nboot" not in opts:
            opts["nboot"] = a.nboot
        used.append({"method": m, "reps": slow_reps if m in SLOW else a.reps, "options": opts})
    used_df = pd.DataFrame(used)
    print(used_df.to_string(index=False), flush=True)
    rows = []
    for key in a.scenarios:
        sc = SCENARIOS[key]
        for theta in (0.0, THETA):
            for group, reps in ((fast, a.reps), (slow, slow_reps)):
                if not group:
                    continue
                t0 = time.perf_counter()
                tab, batch = run_cell(
                    sc, theta, group, reps, a.seed, nboot=a.nboot, options=OPTIONS
                )
                tab["scenario"], tab["theta"], tab["reps"] = key, theta, reps
                tab["mean_f"], tab["mean_i2gx"] = batch.mean_f, batch.mean_i2gx
                rows.append(tab)
                dt = time.perf_counter() - t0
                print(
                    f"({key}) theta={theta:g} {len(group)} methods x {reps} reps: {dt:.1f} s",
                    flush=True,
                )
    results = pd.concat(rows, ignore_index=True)
    names = list(dict.fromkeys([*methods, *results["method"]]))
    results["_o"] = results["method"].map({m: i for i, m in enumerate(names)})
    results = results.sort_values(["scenario", "_o", "theta"], kind="stable").drop(columns="_o")
    if a.csv:
        results.to_csv(a.csv, index=False)
    header = (
        f"Seed {a.seed}; {a.reps} replicates per cell for the batch methods, {slow_reps} for "
        f"the slow per-pair methods ({', '.join(sorted(set(slow))) or 'none'}); "
        f"bootstrap methods with {a.nboot} draws unless listed below. "
        f"Generated by `python benchmarks/validate_methods.py {_shown(argv)}`."
    )
    text = markdown(results, used_df, header)
    if a.out:
        write_page(a.out, text)
    else:
        sys.stdout.write(text)
    return 0


def _shown(argv: Sequence[str] | None) -> str:
    """The command-line arguments that change the numbers (not ``--out``/``--csv``)."""
    args, out, skip = list(argv if argv is not None else sys.argv[1:]), [], False
    for x in args:
        if skip:
            skip = False
        elif x in ("--out", "--csv"):
            skip = True
        elif not x.startswith(("--out=", "--csv=")):
            out.append(x)
    return " ".join(out)


BEGIN, END = "<!-- results: begin -->", "<!-- results: end -->"


def write_page(path: str, tables: str) -> None:
    """Put ``tables`` between the result markers of the page at ``path``.

    The hand-written text around the markers (the commentary) is kept; a page
    without markers is created with a title and the tables.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    except FileNotFoundError:
        old = ""
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        _, _, tail = rest.partition(END)
    else:
        head, tail = "# Statistical validation of the estimators\n\n", "\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{head}{BEGIN}\n{tables}{END}{tail}")


if __name__ == "__main__":
    raise SystemExit(main())
