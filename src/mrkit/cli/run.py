"""``mrkit run``: a whole study from a study file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    from mrkit.study.pipeline import run_study

    res = run_study(study, out=out, quiet=quiet, force=force)
    print_summary(res)


def print_summary(res: Any, *, show_failed: int = 20) -> None:
    """Pairs analysed / reused / failed / significant, the failed pairs and the report path."""
    if res.skipped_run:
        console.print(f"nothing changed since the last run; results in {res.out_dir}")
        return
    n_pairs = len(res.manifest["pairs"])
    stats = res.manifest.get("analysis", {})
    failed = res.manifest["failed_pairs"]
    sig = res.results[
        res.results["method"].isin(
            [res.manifest["parameters"]["analysis"]["primary"], "wald_ratio"]
        )
        & res.results["significant"].astype(bool)
    ]
    reused = f" ({stats['reused']} reused from an earlier run)" if stats.get("reused") else ""
    console.print(
        f"{n_pairs} pairs analysed{reused}, {len(failed)} failed, "
        f"{len(sig)} significant after correction"
    )
    for f in failed[:show_failed]:
        console.print(f"  [yellow]{f['exposure']} -> {f['outcome']}[/]: {f['reason']}")
    if len(failed) > show_failed:
        console.print(f"  ... and {len(failed) - show_failed} more (pairs.csv)")
    console.print(f"report: {res.out_dir / 'report.html'}")
