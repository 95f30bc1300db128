"""``mrkit run``: a whole study from a study file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mrkit.cli import app, console


@app.command("run")
def run_command(
    study: Annotated[Path, typer.Argument(help="Study file (TOML).")],
    out: Annotated[Path | None, typer.Option(help="Output folder (default: study.output).")] = None,
    force: Annotated[bool, typer.Option(help="Re-run even if nothing changed.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Import, select instruments, harmonise, estimate, correct and report."""
    from mrkit.study import run_study

    res = run_study(study, out=out, quiet=quiet, force=force)
    if res.skipped_run:
        console.print(f"nothing changed since the last run; results in {res.out_dir}")
        return
    n_pairs = len(res.manifest["pairs"])
    failed = res.manifest["failed_pairs"]
    sig = res.results[
        res.results["method"].isin(
            [res.manifest["parameters"]["analysis"]["primary"], "wald_ratio"]
        )
        & res.results["significant"].astype(bool)
    ]
    console.print(
        f"{n_pairs} pairs analysed, {len(failed)} failed, {len(sig)} significant after correction"
    )
    for f in failed:
        console.print(f"  [yellow]{f['exposure']} -> {f['outcome']}[/]: {f['reason']}")
    console.print(f"report: {res.out_dir / 'report.html'}")
