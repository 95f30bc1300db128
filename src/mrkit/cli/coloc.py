"""``mrkit coloc``: colocalisation of two traits in one region (coloc.abf, .susie, .signals).

Exit status 0 when the analysis ran (also when a trait has no SuSiE credible set: the
summary is then empty and ``skipped`` says why), 2 for unusable input (a bad file or
option, LD that disagrees with the data). ``--method signals`` runs
:mod:`mrkit.coloc.signals` (and exits 2, "not implemented yet", in a build without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from mrkit.cli import app

#: Default ``p12`` per method (coloc.abf: 1e-5; coloc.susie / coloc.bf_bf: 5e-6).
#: (coloc.signals has none; 1e-6 is its vignette's value and the reference calls').
DEFAULT_P12 = {"abf": 1e-5, "susie": 5e-6, "signals": 1e-6}
METHODS = ("abf", "susie", "signals")
SIGNALS_METHODS = ("single", "mask", "cond")
SIGNALS_MODES = ("iterative", "allbutone")
#: Summary columns of the JSON and CSV, in order.
SUMMARY_KEYS = ("hit1", "hit2", "nsnps", "pp_h0", "pp_h1", "pp_h2", "pp_h3", "pp_h4")
#: Per-SNP rows printed on the console.
TOP_SNPS = 5


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a DataFrame as plain Python values (NaN -> None, numpy scalars unwrapped)."""
    import math

    out = []
    for rec in frame.to_dict(orient="records"):
        row = {}
        for k, v in rec.items():
            v = v.item() if hasattr(v, "item") else v
            row[str(k)] = None if isinstance(v, float) and math.isnan(v) else v
        out.append(row)
    return out


def _run_abf(d1: Any, d2: Any, p1: float, p2: float, p12: float) -> tuple[dict[str, Any], Any]:
    from mrkit.coloc.abf import coloc_abf

    res = coloc_abf(d1, d2, p1, p2, p12)
    summary = {"hit1": None, "hit2": None, **res.summary}
    return {
        "method": "abf",
        "summary": [summary],
        "snps": _records(res.results),
        "priors": dict(res.priors),
        "skipped": [],
        "notes": list(res.notes),
    }, res


def _output(method: str, res: Any, p1: float, p2: float, p12: float) -> dict[str, Any]:
    """The JSON document of a multi-row result (``summary``/``snps`` tables, ``skipped``)."""
    return {
        "method": method,
        "summary": _records(res.summary),
        "snps": _records(res.snps),
        "priors": dict(getattr(res, "priors", None) or {"p1": p1, "p2": p2, "p12": p12}),
        "skipped": [str(s) for s in res.skipped],
        "notes": [str(n) for n in getattr(res, "notes", [])],
    }


def _checked(table: Any, d: Any, source: str) -> tuple[Any, list[str]]:
    """``(matrix, snps)``: the LD of ``d``'s SNPs in their order, checked (missing, PSD, ...)."""
    from mrkit.coloc.ld import ld_for

    snps = [str(s) for s in d.snp]
    return ld_for(snps, table, source=source), snps


def _print(out: dict[str, Any]) -> None:
    from rich.table import Table

    from mrkit._core.fmt import fmt_num
    from mrkit.cli import console

    how = out.get("signals")
    label = out["method"] + (f" {how['method']}, {how['mode']}" if how else "")
    t = Table(title=f"coloc ({label})", title_justify="left")
    cols = [k for k in SUMMARY_KEYS if out["method"] != "abf" or k not in ("hit1", "hit2")]
    for c in cols:
        t.add_column(c, justify="left" if c.startswith("hit") else "right")
    for row in out["summary"]:
        t.add_row(
            *[str(row[c]) if c in ("hit1", "hit2", "nsnps") else fmt_num(row[c], 3) for c in cols]
        )
    console.print(t)
    if out["method"] == "abf" and out["snps"]:
        top = sorted(out["snps"], key=lambda r: -r["snp_pp_h4"])[:TOP_SNPS]
        console.print(
            "  most likely shared variant (if H4): "
            + ", ".join(f"{r['snp']} ({fmt_num(r['snp_pp_h4'], 3)})" for r in top)
        )
    pri = out["priors"]
    console.print(f"  priors: p1 = {pri['p1']:g}, p2 = {pri['p2']:g}, p12 = {pri['p12']:g}")


@app.command("coloc")
def coloc_command(
    data1: Annotated[
        Path, typer.Argument(help="Trait 1: snp, beta, varbeta (or se), ... file; or a GWAS id.")
    ],
    data2: Annotated[Path, typer.Argument(help="Trait 2, the same way.")],
    method: Annotated[
        str, typer.Option(help="abf (one causal variant per trait), susie, or signals.")
    ] = "abf",
    ld: Annotated[
        Path | None,
        typer.Option(help="LD (r) file: square matrix with SNP header, or snp_i, snp_j, r."),
    ] = None,
    panel: Annotated[
        str | None, typer.Option(help="PLINK 1 panel prefix to compute the LD from.")
    ] = None,
    p1: Annotated[float, typer.Option(help="Prior: a SNP is causal for trait 1.")] = 1e-4,
    p2: Annotated[float, typer.Option(help="Prior: a SNP is causal for trait 2.")] = 1e-4,
    p12: Annotated[
        float | None,
        typer.Option(
            help="Prior: a SNP is causal for both (default 1e-5 abf, 5e-6 susie, 1e-6 signals)."
        ),
    ] = None,
    signals_method: Annotated[
        str, typer.Option("--signals-method", help="coloc.signals: single, mask or cond.")
    ] = "single",
    mode: Annotated[
        str, typer.Option(help="coloc.signals: iterative or allbutone (cond, mask).")
    ] = "iterative",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON (`-` = stdout).")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the summary (one row per pair) as CSV.")
    ] = None,
    store: Annotated[
        str | None, typer.Option(help="Store of DATA1/DATA2 given as GWAS ids (with --region).")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(help="CHR:START-END: take both traits' variants there (store or files)."),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option(help="Sensitivity to p12 with this decision rule, e.g. 'H4 > 0.5'."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write the sensitivity plot (PNG, PDF, SVG) here.")
    ] = None,
) -> None:
    """Colocalise two traits in one region: coloc.abf, coloc.susie or coloc.signals."""
    import warnings

    from mrkit.errors import MrkitWarning

    if plot is not None and rule is None:
        raise _input_error("--plot draws the sensitivity to p12: give its decision --rule too")
    if rule is not None:
        from mrkit.coloc.sensitivity import parse_rule

        parse_rule(rule)  # a bad rule fails before the analysis runs
    opts = _Options(
        data1, data2, method, ld, panel, p1, p2, p12, signals_method, mode, store, region
    )
    with warnings.catch_warnings():  # the CLI prints them as notes
        warnings.simplefilter("ignore", MrkitWarning)
        out, res = _coloc(opts)
        if rule is not None:
            out["sensitivity"] = _sensitivity(res, out, rule, plot)
    _write(out, json_out, csv_out)


@dataclass(frozen=True)
class _Options:
    """The analysis options of ``mrkit coloc`` (everything but the outputs)."""

    data1: Path
    data2: Path
    method: str
    ld: Path | None
    panel: str | None
    p1: float
    p2: float
    p12: float | None
    signals_method: str
    mode: str
    store: str | None
    region: str | None


def _input_error(message: str) -> Exception:
    from mrkit.errors import InputError

    return InputError(message)


def _coloc(o: _Options) -> tuple[dict[str, Any], Any]:
    """The JSON document and the result object of one run."""
    from mrkit.coloc.data import read_dataset

    if o.method not in METHODS:
        raise _input_error(f"unknown --method {o.method!r}; use abf, susie or signals")
    if o.signals_method not in SIGNALS_METHODS or o.mode not in SIGNALS_MODES:
        raise _input_error(
            f"--signals-method must be single, mask or cond (got {o.signals_method!r}) and "
            f"--mode iterative or allbutone (got {o.mode!r})"
        )
    if o.ld is not None and o.panel is not None:
        raise _input_error("give --ld FILE or --panel PREFIX, not both")
    p1, p2 = o.p1, o.p2
    p12 = DEFAULT_P12[o.method] if o.p12 is None else o.p12
    for name, value in (("--p1", p1), ("--p2", p2), ("--p12", p12)):
        if not 0 < value < 1:
            raise _input_error(f"{name} must be a probability in (0, 1), got {value:g}")
    signals = _signals_function() if o.method == "signals" else None
    notes: list[str] = []
    if o.region is not None:
        from mrkit.coloc.region import load_region, parse_region

        where = parse_region(o.region)
        d1 = load_region(str(o.data1), where, store=o.store, notes=notes)
        d2 = load_region(str(o.data2), where, store=o.store, notes=notes)
    elif o.store is not None:
        raise _input_error("--store needs --region CHR:START-END (the region to colocalise)")
    else:
        d1 = read_dataset(o.data1)
        d2 = read_dataset(o.data2)
    if o.method == "abf":
        out, res = _run_abf(d1, d2, p1, p2, p12)
        if o.ld is not None or o.panel is not None:
            out["notes"].append("coloc.abf assumes one causal variant and does not use LD")
        out["notes"][:0] = notes
        return out, res
    if (o.method == "susie" or o.signals_method != "single") and o.ld is None and o.panel is None:
        what = "--method susie" if o.method == "susie" else f"--signals-method {o.signals_method}"
        raise _input_error(f"{what} needs LD: give --ld FILE or --panel PREFIX")
    d2, ld1, ld2, flipped = _load_ld(d1, d2, o.ld, o.panel)
    if o.panel is not None:
        notes += [
            f"{d.name} has no effect_allele/other_allele: LD coded by the panel's A1 alleles"
            for d in (d1, d2)
            if d.effect_allele is None
        ]
    if o.method == "susie":
        from mrkit.coloc.susie_coloc import coloc_susie

        res = coloc_susie(d1, d2, ld1, ld2=ld2, p1=p1, p2=p2, p12=p12)
        out = _output("susie", res, p1, p2, p12)
    else:
        assert signals is not None
        res = signals(
            d1, d2, ld1, ld2=ld2, p1=p1, p2=p2, p12=p12, method=o.signals_method, mode=o.mode
        )
        out = _output("signals", res, p1, p2, p12)
        out["signals"] = {"method": o.signals_method, "mode": o.mode}
    if flipped:
        out["notes"].append(f"{flipped} SNP(s) of trait 2 flipped to trait 1's alleles")
    out["notes"][:0] = notes
    return out, res


def _sensitivity(res: Any, out: dict[str, Any], rule: str, plot: Path | None) -> list[Any]:
    """coloc's ``sensitivity()`` for every summary row; ``--plot`` draws each row's figure."""
    from mrkit.coloc.sensitivity import plot_sensitivity, sensitivity

    found = []
    rows = out["summary"]
    for k, row in enumerate(rows, start=1):
        tab = sensitivity(res, rule, row=k, p1=out["priors"]["p1"], p2=out["priors"]["p2"],
                          p12=out["priors"]["p12"])  # fmt: skip
        keep = ["p12", *(f"pp_h{h}" for h in range(5)), "pass"]
        found.append(
            {"hit1": row.get("hit1"), "hit2": row.get("hit2"), "rule": rule,
             "passes": tab.attrs["passes"], "table": _records(tab[keep])}
        )  # fmt: skip
        if plot is not None:
            path = plot if len(rows) == 1 else plot.with_stem(f"{plot.stem}_row{k}")
            hits = f"{row.get('hit1')} / {row.get('hit2')}" if row.get("hit1") else None
            plot_sensitivity(tab, title=hits).savefig(path, dpi=150)
            out["notes"].append(f"wrote the sensitivity plot {path}")
    return found


def _signals_function() -> Any:
    """``mrkit.coloc.signals.coloc_signals``, or exit 2 while it is not there."""
    from mrkit.errors import InputError

    try:
        from mrkit.coloc.signals import coloc_signals
    except ImportError:
        msg = "--method signals (coloc.signals) is not implemented yet; use abf or susie"
        raise InputError(msg) from None
    return coloc_signals


def _load_ld(d1: Any, d2: Any, ld: Path | None, panel: str | None) -> tuple[Any, Any, Any, int]:
    """``(d2, ld1, ld2, flipped)``: each trait's checked LD; with one LD file, trait 2's
    betas are flipped to trait 1's alleles (the file is taken to be coded like trait 1)."""
    from mrkit.coloc.ld import align_alleles, panel_ld, read_ld

    if ld is not None:
        d2, flipped = align_alleles(d2, d1)
        table = read_ld(ld)
        return d2, _checked(table, d1, str(ld)), _checked(table, d2, str(ld)), flipped
    if panel is not None:  # each trait's r coded by its own effect alleles
        where = f"the LD panel {panel}"
        return (
            d2,
            _checked(panel_ld(panel, d1), d1, where),
            _checked(panel_ld(panel, d2), d2, where),
            0,
        )
    return d2, None, None, 0


def _write(out: dict[str, Any], json_out: Path | None, csv_out: Path | None) -> None:
    from mrkit.cli import console, err_console

    for reason in out["skipped"]:
        err_console.print(f"skipped: {reason}", highlight=False, markup=False)
    for note in out["notes"]:
        err_console.print(f"note: {note}", highlight=False, markup=False)
    if csv_out is not None:
        import pandas as pd

        rows = [
            {"method": out["method"], **{k: r.get(k) for k in SUMMARY_KEYS}} for r in out["summary"]
        ]
        pd.DataFrame(rows, columns=["method", *SUMMARY_KEYS]).to_csv(csv_out, index=False)
    if json_out is not None:
        import orjson

        data = orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        if str(json_out) == "-":
            typer.echo(data.decode(), nl=False)
        else:
            json_out.write_bytes(data)
            console.print(f"wrote {json_out}")
    elif csv_out is None:
        _print(out)
