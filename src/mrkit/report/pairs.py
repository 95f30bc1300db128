"""One pair's section of the report: its numbers, already formatted, each NA with its reason.

:func:`pair_section` turns a pair's output (estimates, diagnostics, harmonised
table, skipped methods) into rows of text cells for ``template.html``;
:func:`instrument_rows` gives the per-instrument table (also written to the
supplement); :func:`pair_power` the power and minimum detectable effect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from mrkit._core import fmt as nb
from mrkit.diagnostics import power as pw

#: Methods shown in a pair's estimates table, TwoSampleMR's labels.
IVW_MODELS = {
    "random": "multiplicative random effects (TwoSampleMR's default; fixed-effect SE when Q < df)",
    "fixed": "fixed effects",
    "mre": "multiplicative random effects",
}


def prose(text: str | None) -> Markup:
    """A message for the page: HTML-escaped, `code` spans as <code> (no literal backticks)."""
    safe = str(escape(text or ""))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", safe))


def _f(d: Mapping[str, Any], key: str) -> Any:
    v = d.get(key)
    return None if nb.missing(v) else v


def instrument_r2(tab: pd.DataFrame, n_exposure: float | None) -> tuple[np.ndarray, str]:
    """Per-variant R² of the exposure: Steiger's (``rsq_exposure``) when computed, else
    :math:`t^2/(t^2 + N - 2)` from β, SE and the exposure N; and how it was obtained."""
    if "rsq_exposure" in tab.columns:
        r = tab["rsq_exposure"].to_numpy(float)
        if np.isfinite(r).all() and len(r) and (r > 0).any():
            return r, "Steiger R² (TwoSampleMR's get_r_from_lor / get_r_from_bsen)"
    n = tab["n_exposure"].to_numpy(float) if "n_exposure" in tab.columns else None
    if n is None or not np.isfinite(n).any():
        n = np.full(len(tab), n_exposure if n_exposure else np.nan)
    elif n_exposure:
        n = np.where(np.isfinite(n), n, n_exposure)
    t2 = (tab["beta_exposure"].to_numpy(float) / tab["se_exposure"].to_numpy(float)) ** 2
    return t2 / (t2 + n - 2.0), "t²/(t² + N − 2) from β, SE and the exposure N"


def instrument_rows(tab: pd.DataFrame, n_exposure: float | None) -> tuple[list[list[str]], int]:
    """The per-instrument table of a pair (variants removed by clumping are counted, not listed)."""
    clumped = tab["reason"].astype(str).eq("clumped") & ~tab["keep"].astype(bool)
    t = tab[~clumped]
    if t.empty:
        return [], int(clumped.sum())
    r2, _ = instrument_r2(t, n_exposure)
    f = (t["beta_exposure"].to_numpy(float) / t["se_exposure"].to_numpy(float)) ** 2
    rows = []
    for i, (_, r) in enumerate(t.iterrows()):
        proxy = "no"
        if str(r.get("proxy")) == "True" or not nb.missing(r.get("proxy_snp")):
            proxy = (
                f"{r.get('proxy_snp')} (r² {nb.num(r.get('proxy_r2'), 'not recorded', digits=3)})"
            )
        keep = bool(r["keep"])
        why = "" if keep else str(r.get("reason") or "no reason recorded")
        rows.append(
            [
                str(r["snp"]),
                f"{r.get('effect_allele', '?')}/{r.get('other_allele', '?')}",
                nb.num(r.get("eaf_exposure"), "not in the file", digits=3),
                nb.num(r.get("beta_exposure")),
                nb.num(r.get("se_exposure")),
                nb.pval(r.get("p_exposure"), log10p=r.get("log10p_exposure")),
                nb.num(r.get("eaf_outcome"), "not in the file", digits=3),
                nb.num(r.get("beta_outcome"), "not in the outcome GWAS"),
                nb.num(r.get("se_outcome"), "not in the outcome GWAS"),
                nb.pval(
                    r.get("p_outcome"), "not in the outcome GWAS", log10p=r.get("log10p_outcome")
                ),
                nb.num(f[i], digits=3),
                nb.num(r2[i], "exposure N not known", digits=3),
                proxy,
                nb.num(bool(r["palindromic"])) if not nb.missing(r.get("palindromic")) else "no",
                "yes" if keep else "no",
                why,
            ]
        )
    return rows, int(clumped.sum())


INSTRUMENT_HEADER = [
    "SNP", "EA/OA", "EAF exp.", "β exp.", "SE exp.", "p exp.", "EAF out.", "β out.",
    "SE out.", "p out.", "F", "R²", "Proxy", "Palindromic", "Used", "Reason",
]  # fmt: skip


def _why(skipped: Mapping[str, str], method: str, default: str) -> str:
    return skipped.get(method) or default


def pair_section(
    o: Any,
    *,
    labels: Mapping[str, str],
    sensitivity: Sequence[str],
    binary_outcome: bool,
    n_exposure: float | None,
    power: pw.Power,
    presso_correct: bool,
) -> dict[str, Any]:
    """Formatted numbers of one analysed pair for ``template.html``."""
    d = o.diagnostics
    skipped = {s["method"]: s["reason"] for s in o.skipped}
    est_rows = []
    ivw_model = None
    for r in o.estimates:
        m = r["method"]
        if m in ("ivw", "ivw_mre", "ivw_fe") and r.get("model"):
            ivw_model = IVW_MODELS.get(str(r["model"]), str(r["model"]))
        why = skipped.get(m, "not estimated")
        row = {
            "method": labels.get(m, m),
            "nsnp": nb.count(r.get("nsnp")),
            "estimate": f"{nb.num(r.get('estimate'), why)} ({nb.num(r.get('se'), why)})",
            "ci": nb.ci(r.get("ci_lower"), r.get("ci_upper"), why),
            "p": nb.pval(r.get("pval"), why),
        }
        has = not nb.missing(r.get("ci_lower")) and not nb.missing(r.get("estimate"))
        if binary_outcome and has:
            row["ci"] = (
                f"{nb.num(math.exp(r['estimate']), digits=3)} "
                f"({nb.num(math.exp(r['ci_lower']), digits=3)} to "
                f"{nb.num(math.exp(r['ci_upper']), digits=3)})"
            )
        est_rows.append(row)
    nsnp = _f(d, "nsnp")
    few = "needs 3 or more variants"
    egger_why = _why(skipped, "egger", few if (nsnp or 0) < 3 else "not run")
    q = _f(d, "q_ivw")
    i2 = None if q is None or not nsnp or q <= 0 else max(0.0, (q - (nsnp - 1)) / q)
    used = o.harmonised[o.harmonised["keep"].astype(bool)]
    r2v, r2_how = instrument_r2(used, n_exposure) if len(used) else (np.array([]), "")
    r2 = float(np.nansum(r2v)) if len(r2v) and np.isfinite(r2v).any() else None
    steiger_why = (
        _why(skipped, "steiger", "not computed")
        if "steiger" in sensitivity
        else 'not requested: add "steiger" to analysis.sensitivity'
    )
    two = "needs 2 or more variants"

    def g(key: str, why: str, digits: int = 4) -> str:
        return nb.num(_f(d, key), why, digits=digits)

    def gp(key: str, why: str) -> str:
        return nb.pval(_f(d, key), why)

    f_text = f"{g('f_mean', 'not computed', 3)} / {g('f_min', 'not computed', 3)}"
    q_text = f"{nb.num(q, two)}, {nb.count((nsnp or 1) - 1)}, {gp('q_ivw_pval', two)}"
    egger_q = f"{g('q_egger', egger_why)}, {gp('q_egger_pval', egger_why)}"
    icpt = (
        f"{g('egger_intercept', egger_why)} ({g('egger_intercept_se', egger_why)}), "
        f"{gp('egger_intercept_pval', egger_why)}"
    )
    st_r2 = (
        f"{g('steiger_r2_exposure', steiger_why, 3)} / {g('steiger_r2_outcome', steiger_why, 3)}"
    )
    st_dir = f"{g('steiger_correct_direction', steiger_why)} ({gp('steiger_pval', steiger_why)})"
    diag = [
        ("Variants used", nb.count(nsnp, "no variant left")),
        ("Mean F / min F", f_text),
        ("R² of the instruments (sum)", nb.pct(r2, "exposure N not known")),
        ("I²GX (NOME)", g("i2gx", few, 3)),
        ("IVW model", ivw_model or nb.na("IVW not run")),
        ("Cochran's Q (IVW), df, p", q_text),
        ("Heterogeneity I² = (Q − df)/Q", nb.pct(i2, two)),
        ("Rücker's Q′ (Egger), p", egger_q),
        ("MR-Egger intercept (SE), p", icpt),
        ("Steiger R² exposure / outcome", st_r2),
        ("Steiger: correct direction (p)", st_dir),
    ]
    diag += _presso_rows(d, skipped, sensitivity, presso_correct)
    return {
        "estimates": est_rows,
        "binary": binary_outcome,
        "diag": [(k, prose(v)) for k, v in diag],
        "r2_how": r2_how,
        "power": power,
        "skipped": [(s["method"], prose(s["reason"])) for s in o.skipped],
        "warnings": prose(d.get("warnings")) if d.get("warnings") else None,
    }


def _presso_rows(
    d: Mapping[str, Any], skipped: Mapping[str, str], sensitivity: Sequence[str], correct: bool
) -> list[tuple[str, str]]:
    if "presso" not in sensitivity:
        return [("MR-PRESSO", nb.na('not requested: add "presso" to analysis.sensitivity'))]
    why = _why(skipped, "presso", "not computed")
    res = _f(d, "presso_n_distributions")
    ids = d.get("presso_outlier_snps")
    n_out = _f(d, "presso_outliers")
    if isinstance(n_out, list | tuple):  # a method giving the ids themselves
        ids = ids or "; ".join(map(str, n_out))
        n_out = len(n_out)
    if nb.missing(ids) or not ids:
        outliers = "none" if n_out == 0 else nb.na(why if n_out is None else "ids not recorded")
    else:
        outliers = f"{nb.count(n_out)}: {ids}"

    def limited(key: str, why: str) -> str:
        """A simulated p: ``< 1/D`` at the resolution limit (no draw beyond the observed
        value: p of 0, or the bound 1/D flagged ``*_at_limit``)."""
        p = _f(d, key)
        if p is not None and res and d.get(f"{key}_at_limit"):
            return f"< 1/{int(res)}"
        return nb.pval(p, why, resolution=res)

    rows = [
        ("MR-PRESSO global test p", limited("presso_global_pval", why)),
        ("MR-PRESSO outliers", outliers),
    ]
    if n_out:
        rows.append(
            (
                "MR-PRESSO outlier-corrected estimate (SE), p",
                f"{nb.num(_f(d, 'presso_corrected_estimate'), 'no outlier-corrected fit')} "
                f"({nb.num(_f(d, 'presso_corrected_se'), 'no outlier-corrected fit')}), "
                f"{nb.pval(_f(d, 'presso_corrected_pval'), 'no outlier-corrected fit')}",
            )
        )
        rows.append(
            (
                "MR-PRESSO distortion test p",
                limited("presso_distortion_pval", "distortion test not run"),
            )
        )
        rows.append(("Outliers removed before estimation", "yes" if correct else "no"))
    return rows


def pair_power(
    o: Any,
    *,
    r2: float | None,
    outcome: Any,
    primary: str,
    alpha: float,
) -> pw.Power:
    """Power of the pair (outcome N and cases from its trait), at the primary estimate."""
    est = next(
        (r.get("estimate") for r in o.estimates if r["method"] in (primary, "wald_ratio")), None
    )
    n = outcome.n or ((outcome.ncase or 0) + (outcome.ncontrol or 0)) or None
    return pw.pair_power(
        r2=r2, n=n, ncase=outcome.ncase, estimate=est, binary=outcome.binary, alpha=alpha
    )


__all__ = [
    "INSTRUMENT_HEADER",
    "instrument_r2",
    "instrument_rows",
    "pair_power",
    "pair_section",
    "prose",
]
