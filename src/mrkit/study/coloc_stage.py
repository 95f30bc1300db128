"""cis-MR in a study: LD-aware estimates and colocalisation of each pair (``[coloc]``).

Two steps run after the pairs' analysis (:mod:`mrkit.study.pipeline`):

* :func:`add_correlated_estimates`: the ``*_correl`` methods of
  ``analysis.methods`` (:mod:`mrkit.methods.correlated`) need the LD matrix
  :math:`\\rho` of each pair's instruments. It is read from the study's panel for
  the variants the pair kept, signed by the harmonised effect alleles
  (:meth:`mrkit.ld.panel.ReferencePanel.ld_matrix`), and the method runs with
  it; its result replaces the engine's "needs rho" skip.
* :func:`run_coloc`: for every exposure-outcome pair and every region
  (``coloc.regions``, or else each kept instrument of the exposure ± ``window_kb``,
  overlapping windows merged), both traits' summary statistics in the region
  are read from the store, matched by SNP with the outcome's alleles aligned to
  the exposure's, and colocalised with ``coloc.abf`` or ``coloc.susie``
  (:mod:`mrkit.coloc`; SuSiE with the panel's LD). Writes ``coloc.csv`` (one row per
  pair, region and, for SuSiE, pair of credible sets) and, with ``coloc.plots``,
  a regional association plot per pair and region (``coloc/*.png``,
  :func:`mrkit.coloc.plot.regional_plot`, r² to the exposure's lead variant from
  the panel). :func:`coloc_section` is the report's table: per pair and region the
  best PP.H4 and its PP.H3 beside the pair's primary MR estimate.

For ``abf``, ``hit1``/``hit2`` are the variants with the largest :math:`|z|` of each
trait in the region (coloc.abf itself names none). A quantitative trait's
``sdY`` is estimated from MAF, N and varbeta as coloc does; a binary one is
case-control with ``s = ncase / (ncase + ncontrol)``.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mrkit._core.fmt import fmt_num, fmt_p
from mrkit.coloc.abf import coloc_abf
from mrkit.coloc.data import ColocDataset
from mrkit.coloc.plot import regional_plot
from mrkit.coloc.susie_coloc import coloc_susie
from mrkit.errors import MrkitError
from mrkit.methods import get_method
from mrkit.study.spec import Region, Study

if TYPE_CHECKING:
    from mrkit.study.engine import PairOutput
    from mrkit.study.filters import TraitInfo

__all__ = [
    "COLUMNS",
    "add_correlated_estimates",
    "coloc_section",
    "instrument_regions",
    "pair_datasets",
    "run_coloc",
]

PP = [f"pp_h{h}" for h in range(5)]
#: Columns of ``coloc.csv``.
COLUMNS = [
    "exposure",
    "outcome",
    "direction",
    "pair",
    "region",
    "nsnps",
    *PP,
    "method",
    "hit1",
    "hit2",
    "note",
    "plot",
]
_SUMSTATS = ["snp", "chr", "pos", "effect_allele", "other_allele", "eaf", "beta", "se"]
_SUMSTATS += ["log10p", "n"]


# -- LD-aware estimates ------------------------------------------------------------------
def correl_methods(study: Study) -> list[str]:
    """Canonical names of the study's ``*_correl`` methods."""
    names = [get_method(m).name for m in study.analysis.methods]
    return [m for m in dict.fromkeys(names) if m.endswith("_correl")]


def add_correlated_estimates(outputs: Sequence[PairOutput], study: Study, panel: Any) -> None:
    """Run the ``*_correl`` methods of each pair with the panel's LD (in place).

    The LD of the pair's kept variants is coded by the harmonised effect
    alleles; the estimate record replaces the method's skip. A pair whose
    variants are not all in the panel keeps a skip saying so.
    """
    names = correl_methods(study)
    if not names or panel is None:
        return
    a = study.analysis
    for out in outputs:
        if out.error:
            continue
        used = out.harmonised[out.harmonised["keep"].astype(bool)]
        if len(used) < 2:
            continue  # one variant: the Wald ratio only
        snps = used["snp"].astype(str).tolist()
        try:
            rho = panel.ld_matrix(snps, effect_alleles=used["effect_allele"].tolist()).to_numpy()
        except MrkitError as exc:
            for m in names:
                _set_skip(out, m, f"LD from the panel: {exc}")
            continue
        vec = [used[c].to_numpy(float) for c in _VECTORS]
        for m in names:
            spec = get_method(m)
            if len(used) < spec.min_snps:
                continue  # the engine's skip (too few variants) stays
            try:
                res = spec.func(*vec, rho=rho, alpha=a.alpha, **a.options.get(m, {}))
            except MrkitError as exc:
                _set_skip(out, m, str(exc))
                continue
            out.skipped = [s for s in out.skipped if s.get("method") != m]
            out.estimates = [r for r in out.estimates if r.get("method") != m]
            for r in (res, *res.companions):
                rec = r.to_record()
                out.estimates.append(
                    {"exposure": out.exposure, "outcome": out.outcome, "direction": out.direction}
                    | rec
                )


_VECTORS = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")


def _set_skip(out: PairOutput, method: str, reason: str) -> None:
    out.skipped = [s for s in out.skipped if s.get("method") != method]
    out.skipped.append({"method": method, "reason": reason})


# -- regions -----------------------------------------------------------------------------
def region_label(region: Region) -> str:
    """``"chr:start-end"``."""
    return f"{region[0]}:{region[1]}-{region[2]}"


def instrument_regions(instruments: pd.DataFrame, window_kb: float) -> list[Region]:
    """Each kept instrument ± ``window_kb``, overlapping windows merged, by chromosome."""
    if len(instruments) == 0 or "keep" not in instruments:
        return []
    kept = instruments[instruments["keep"].astype(bool)]
    w = round(window_kb * 1000)
    out: list[Region] = []
    chrom = kept["chr"].astype(str).str.upper().str.removeprefix("CHR")
    for c, pos in pd.Series(kept["pos"].to_numpy(np.int64), index=chrom).groupby(level=0):
        lo_hi = sorted((max(0, int(p) - w), int(p) + w) for p in pos)
        cur = list(lo_hi[0])
        for lo, hi in lo_hi[1:]:
            if lo <= cur[1]:
                cur[1] = max(cur[1], hi)
            else:
                out.append((str(c), cur[0], cur[1]))
                cur = [lo, hi]
        out.append((str(c), cur[0], cur[1]))
    return sorted(out, key=lambda r: (_chrom_key(r[0]), r[1]))


def _chrom_key(c: str) -> tuple[int, str]:
    return (int(c), "") if c.isdigit() else (100, c)


def _in_region(table: pd.DataFrame, region: Region) -> pd.DataFrame:
    chrom = table["chr"].astype(str).str.upper().str.removeprefix("CHR")
    pos = table["pos"].to_numpy(np.float64)
    inside = (chrom == region[0]).to_numpy() & (pos >= region[1]) & (pos <= region[2])
    return table[inside].drop_duplicates("snp").reset_index(drop=True)


# -- datasets ----------------------------------------------------------------------------
def pair_datasets(
    t1: pd.DataFrame,
    t2: pd.DataFrame,
    trait1: TraitInfo,
    trait2: TraitInfo,
    panel: Any = None,
    *,
    need_panel: bool = False,
) -> tuple[ColocDataset, ColocDataset, np.ndarray | None, list[str]]:
    """Two traits' region rows as coloc datasets on their common SNPs, trait 2 aligned.

    SNPs are matched by id; trait 2's effects are flipped where its alleles are
    trait 1's swapped, and SNPs with other alleles are left out (counted in the
    notes). With ``panel``, the signed LD (trait 1's effect alleles) of the SNPs
    in the panel is returned; ``need_panel`` leaves out the SNPs it lacks.
    Raises :class:`~mrkit.errors.MrkitError` when nothing is left.
    """
    notes: list[str] = []
    m = t1.merge(t2, on="snp", suffixes=("_1", "_2"))
    ea1, oa1 = (m[f"{c}_1"].astype(str).str.upper() for c in ("effect_allele", "other_allele"))
    ea2, oa2 = (m[f"{c}_2"].astype(str).str.upper() for c in ("effect_allele", "other_allele"))
    same = ((ea1 == ea2) & (oa1 == oa2)).to_numpy()
    swap = ((ea1 == oa2) & (oa1 == ea2)).to_numpy() & ~same
    ok = same | swap
    for k in (1, 2):
        ok &= np.isfinite(m[f"beta_{k}"].to_numpy(float)) & (m[f"se_{k}"].to_numpy(float) > 0)
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} SNP(s) with other alleles or no estimate left out")
    m, swap = m[ok].reset_index(drop=True), swap[ok]
    ld = None
    if panel is not None and len(m):
        rows = panel.find(
            m["snp"].astype(str).tolist(),
            effect_allele=ea1[ok].tolist(),
            other_allele=oa1[ok].tolist(),
        )
        inp = rows >= 0
        if need_panel:
            if (~inp).sum():
                notes.append(f"{int((~inp).sum())} SNP(s) not in the LD panel left out")
            m, swap, inp = m[inp].reset_index(drop=True), swap[inp], inp[inp]
        if inp.any():
            sub = m[inp]
            r = panel.ld_matrix(sub["snp"].astype(str).tolist(), sub["effect_allele_1"].tolist())
            ld = np.full((len(m), len(m)), np.nan)
            idx = np.flatnonzero(inp)
            ld[np.ix_(idx, idx)] = r.to_numpy()
    if len(m) < 2:
        msg = f"{len(m)} SNP(s) in common between the two traits in the region"
        raise MrkitError(msg)
    sign = np.where(swap, -1.0, 1.0)
    eaf2 = m["eaf_2"].to_numpy(float)
    d1 = _dataset(m, 1, trait1, m["beta_1"].to_numpy(float), m["eaf_1"].to_numpy(float))
    d2 = _dataset(m, 2, trait2, sign * m["beta_2"].to_numpy(float), np.where(swap, 1 - eaf2, eaf2))
    return d1, d2, ld, notes


def _dataset(m: pd.DataFrame, k: int, trait: TraitInfo, beta: np.ndarray, eaf: np.ndarray):
    cc = trait.binary and trait.ncase is not None and trait.ncontrol is not None
    n = m[f"n_{k}"].to_numpy(float) if f"n_{k}" in m else np.full(len(m), np.nan)
    if trait.n is not None:
        n = np.where(np.isfinite(n), n, float(trait.n))
    maf = np.minimum(eaf, 1 - eaf)
    has_maf = bool(np.all(np.isfinite(maf)) and np.all((maf > 0) & (maf < 1)))
    if not cc and not (has_maf and np.all(np.isfinite(n))):
        msg = f"{trait.id}: quantitative trait needs eaf and n in the region (to estimate sdY)"
        raise MrkitError(msg)
    share = None
    if cc:
        share = float(trait.ncase or 0) / (float(trait.ncase or 0) + float(trait.ncontrol or 0))
    ds = ColocDataset(
        snp=m["snp"].astype(str).to_numpy(dtype=object),
        type="cc" if cc else "quant",
        beta=beta,
        varbeta=m[f"se_{k}"].to_numpy(float) ** 2,
        maf=maf if has_maf else None,
        n=n if np.all(np.isfinite(n)) else None,
        s=share,
        position=m["pos_1"].to_numpy(float),
        effect_allele=m["effect_allele_1"].astype(str).str.upper().to_numpy(dtype=object),
        other_allele=m["other_allele_1"].astype(str).str.upper().to_numpy(dtype=object),
        name=trait.id,
    )
    return ds.check()


# -- the stage ---------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def run_coloc(
    study: Study,
    store: Any,
    panel: Any,
    pairs: Sequence[tuple[str, str, str]],
    instruments: dict[str, pd.DataFrame],
    traits: dict[str, TraitInfo],
    out_dir: Path,
    *,
    tick: Callable[..., None] = lambda n=1: None,
) -> pd.DataFrame:
    """Colocalise every pair in its regions; writes ``coloc.csv`` (and plots). See module."""
    cfg = study.coloc
    assert cfg is not None
    given = cfg.bounds
    tasks = [
        (e, o, d, reg)
        for e, o, d in pairs
        for reg in (given or instrument_regions(instruments.get(e, pd.DataFrame()), cfg.window_kb))
    ]
    need: dict[str, set[Region]] = {}
    for e, o, _, reg in tasks:
        need.setdefault(e, set()).add(reg)
        need.setdefault(o, set()).add(reg)
    rows: dict[tuple[str, Region], pd.DataFrame] = {}
    for trait, regs in need.items():
        table = store.get(trait, columns=_SUMSTATS)
        for reg in regs:
            rows[(trait, reg)] = _in_region(table, reg)
        del table
    plot_dir = out_dir / "coloc"
    records: list[dict[str, Any]] = []
    done: set[tuple[str, str]] = set()
    for e, o, d, reg in tasks:
        base = {"exposure": e, "outcome": o, "direction": d, "pair": f"{e} -> {o}"}
        base |= {"region": region_label(reg), "method": cfg.method}
        try:
            res, plot = _one(cfg, rows[(e, reg)], rows[(o, reg)], traits[e], traits[o], panel)
        except MrkitError as exc:
            records.append(base | {"nsnps": 0, "note": str(exc)})
            continue
        name = ""
        if plot is not None and cfg.plots:
            plot_dir.mkdir(parents=True, exist_ok=True)
            name = f"coloc/{_slug(e)}__{_slug(o)}__{_slug(region_label(reg))}.png"
            plot.suptitle(f"{e} and {o}, chromosome {region_label(reg)}", fontsize=11)
            plot.savefig(out_dir / name, dpi=90)
        records.extend(base | r | {"plot": name} for r in res)
        if (e, o) not in done:
            done.add((e, o))
            tick()
    table = pd.DataFrame(records, columns=COLUMNS)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "coloc.csv", index=False, float_format="%.10g")
    return table


def _one(cfg: Any, t1, t2, tr1, tr2, panel) -> tuple[list[dict[str, Any]], Any]:
    """coloc of one pair in one region: summary rows and the regional plot."""
    susie = cfg.method == "susie"
    d1, d2, ld, notes = pair_datasets(t1, t2, tr1, tr2, panel, need_panel=susie)
    p12 = cfg.prior_p12
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if susie:
            assert ld is not None
            res = coloc_susie(d1, d2, ld=(ld, list(d1.snp)), p1=cfg.p1, p2=cfg.p2, p12=p12)
            out = [
                {"nsnps": int(r["nsnps"]), "hit1": r["hit1"], "hit2": r["hit2"]}
                | {k: r[k] for k in PP}
                for r in res.summary.to_dict("records")
            ]
            if not out:
                out = [{"nsnps": len(d1), "note": "; ".join(res.skipped)}]
            notes += res.notes
        else:
            abf = coloc_abf(d1, d2, p1=cfg.p1, p2=cfg.p2, p12=p12)
            hit1, hit2 = (str(d1.snp[int(np.argmax(np.abs(z)))]) for z in (abf.z1, abf.z2))
            out = [{**abf.summary, "hit1": hit1, "hit2": hit2}]
            notes += abf.notes
    notes += [str(w.message) for w in caught]
    notes = [x for x in dict.fromkeys(notes) if "sdY estimated" not in x]  # expected, see module
    for r in out:
        r["note"] = "; ".join(x for x in [r.get("note", ""), *notes] if x)
    lp1, lp2 = (_log10p(d) for d in (d1, d2))
    lead = int(np.argmax(lp1))
    r2 = None if ld is None else ld[lead] ** 2
    fig = regional_plot(
        np.asarray(d1.position),
        lp1,
        lp2,
        r2,
        lead=lead,
        labels=(tr1.id, tr2.id),
        chrom=str(t1["chr"].iloc[0]),
    )
    return out, fig


def _log10p(d: ColocDataset) -> np.ndarray:
    from scipy import stats

    z = np.abs(d.z)
    return -(stats.norm.logsf(z) + np.log(2.0)) / np.log(10.0)


# -- the report's table ------------------------------------------------------------------
def coloc_section(table: pd.DataFrame, results: pd.DataFrame, primary: str) -> str:
    """A self-contained HTML section: per pair and region, PP.H4/PP.H3 beside the MR estimate.

    For SuSiE the row with the largest PP.H4 of the region is shown. The MR
    estimate is the pair's ``primary`` method (``results``: the study's results
    table, columns ``exposure, outcome, method, estimate, ci_lower, ci_upper, pval``).
    """
    if table.empty:
        return ""
    best = (
        table.assign(_h4=table["pp_h4"].fillna(-1.0))
        .sort_values("_h4", ascending=False, kind="stable")
        .drop_duplicates(["pair", "direction", "region"])
    )
    est = results[results["method"] == primary].set_index(["exposure", "outcome"])
    parts = [
        '<section id="coloc"><h2>Colocalisation</h2>',
        "<p>Posterior probabilities of a shared causal variant (PP.H4) and of two distinct "
        "causal variants (PP.H3) in each region; coloc.abf assumes at most one causal "
        "variant per trait, coloc.susie tests every pair of credible sets (best shown). "
        "PP.H4 above 0.8 supports colocalisation; a high PP.H3 warns that the MR estimate "
        "may rest on a variant in LD with, not shared by, the exposure's signal.</p>",
    ]
    for (pair, _d), rows in best.groupby(["pair", "direction"], sort=False):
        e, o = rows["exposure"].iloc[0], rows["outcome"].iloc[0]
        mr = ""
        if (e, o) in est.index:
            r = est.loc[(e, o)]
            r = r.iloc[0] if isinstance(r, pd.DataFrame) else r
            mr = (
                f"{html.escape(primary)}: {fmt_num(r['estimate'])} "
                f"({fmt_num(r['ci_lower'])} to {fmt_num(r['ci_upper'])}), p = {fmt_p(r['pval'])}"
            )
        parts.append(
            f"<h3>{html.escape(str(pair))}</h3><p>MR estimate, {mr or 'not available'}</p>"
        )
        parts.append(
            '<div class="scroll"><table><thead><tr><th>Region</th><th>Method</th><th>SNPs</th>'
            "<th>PP.H4</th><th>PP.H3</th><th>Lead variants</th><th>Note</th></tr></thead><tbody>"
        )
        for r in rows.to_dict("records"):
            h4 = "NA" if pd.isna(r["pp_h4"]) else f"{r['pp_h4']:.3f}"
            h3 = "NA" if pd.isna(r["pp_h3"]) else f"{r['pp_h3']:.3f}"
            hits = " / ".join(str(h) for h in (r["hit1"], r["hit2"]) if isinstance(h, str))
            region = html.escape(str(r["region"]))
            if isinstance(r["plot"], str) and r["plot"]:
                region = f'<a href="{html.escape(r["plot"])}">{region}</a>'
            note = r["note"] if isinstance(r["note"], str) else ""
            parts.append(
                f'<tr><td class="l">{region}</td><td class="l">{r["method"]}</td>'
                f"<td>{int(r['nsnps'])}</td><td>{h4}</td><td>{h3}</td>"
                f'<td class="l">{html.escape(hits)}</td><td class="l">{html.escape(note)}</td></tr>'
            )
        parts.append("</tbody></table></div>")
        parts += _figures(rows)
    parts.append("</section>")
    return "\n".join(parts)


#: Regional plots shown per pair in the report (the regions with the strongest H3 or H4).
MAX_FIGURES = 6


def _figures(rows: pd.DataFrame) -> list[str]:
    """``<figure>`` tags of a pair's plots: the ``MAX_FIGURES`` regions of strongest evidence."""
    score = rows[["pp_h3", "pp_h4"]].max(axis=1).fillna(-1.0)
    top = score.sort_values(ascending=False, kind="stable").index[:MAX_FIGURES]
    out = []
    for r in rows.loc[rows.index.isin(top)].to_dict("records"):  # in the table's order
        if isinstance(r["plot"], str) and r["plot"]:
            region = html.escape(str(r["region"]))
            out.append(
                f'<figure><img alt="regional association plot, {region}" '
                f'src="{html.escape(r["plot"])}"><figcaption>{region}: −log10 p of both traits; '
                "colour: r² with the exposure's lead variant (diamond).</figcaption></figure>"
            )
    return out


def add_to_report(report: Path | None, section: str) -> None:
    """Put ``section`` into the written report.

    At a ``<!-- coloc -->`` marker if the template has one, else before the
    STROBE-MR section, else before ``</body>``.
    """
    if report is None or not section or not Path(report).is_file():
        return
    text = Path(report).read_text(encoding="utf-8")
    if "<!-- coloc -->" in text:
        text = text.replace("<!-- coloc -->", section, 1)
    elif '<section id="strobe">' in text:
        text = text.replace('<section id="strobe">', section + '\n<section id="strobe">', 1)
    elif "</body>" in text:
        head, _, tail = text.rpartition("</body>")
        text = head + section + "\n</body>" + tail
    else:
        text += section
    Path(report).write_text(text, encoding="utf-8")
