"""``mrkit simulate``: a synthetic study with known truth (panel + GWAS + truth.json)."""

from __future__ import annotations

from pathlib import Path

import typer

from mrkit.cli import app, console
from mrkit.errors import InputError


@app.command("simulate")
def simulate_cmd(
    out: str | None = typer.Option(None, "--out", help="Output folder (required)."),
    config: str | None = typer.Option(
        None, "--config", help="Simulation config (TOML); default: a small built-in design."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed (overrides the config's)."),
    force: bool = typer.Option(
        False, "--force", help="Re-simulate even if OUT already holds this simulation."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Processes for the panel's chromosomes (default: CPU count)."
    ),
    print_default: bool = typer.Option(
        False, "--print-default", help="Print the built-in config (a template) and exit."
    ),
) -> None:
    """Simulate an LD reference panel (msprime) and GWAS summary statistics with known
    causal effects between traits.

    Writes to OUT: `panel.bed/.bim/.fam` (PLINK 1), `<trait>.tsv.gz` per trait
    (columns snp, chr, pos, effect_allele, other_allele, eaf, beta, se, p,
    log10p, n, plus ncase, ncontrol for binary traits) and `truth.json` (the
    config, causal and pleiotropic SNPs, and the true effect of every trait on
    every other). Re-running with the same config and seed is a no-op.

    The config is TOML with a top-level `seed` and these tables:
    `panel` (n_individuals, n_chromosomes, chrom_length, n_snps, population_size,
    mutation_rate, recombination_rate, min_maf); `gwas` (flip_alleles,
    ld_window); one `trait` array entry per trait (name, h2, n_causal, and n
    for a continuous trait or ncase, ncontrol and prevalence for a binary one;
    alpha); one `effect` array entry per causal effect (exposure, outcome,
    gamma in outcome units per exposure unit, SD or log-odds;
    pleiotropy_fraction, pleiotropy_h2, pleiotropy_directional).

    See `mrkit simulate --print-default` for a complete example and
    examples/brain-iron-ms/simulation.toml for the demo's design.
    """
    from mrkit.simulate.run import simulate_from_config
    from mrkit.simulate.spec import DEFAULT_TOML, default_config

    if print_default:
        console.print(DEFAULT_TOML, highlight=False, markup=False, end="")
        return
    if out is None:
        raise InputError("`--out` is required: the folder to write the simulation to")
    cfg = default_config(seed=seed) if config is None else Path(config)
    with console.status("simulating") as status:
        res = simulate_from_config(
            cfg,
            Path(out),
            seed=seed,
            force=force,
            workers=workers,
            progress=lambda msg: status.update(msg),
        )
    if res["cached"]:
        console.print(f"{out} already holds this simulation (use --force to redo it)")
    else:
        t = res["timings"]
        console.print(
            f"panel {t['panel_s']:.1f} s, summary statistics {t['gwas_s']:.1f} s, "
            f"writing {t['write_s']:.1f} s"
        )
    console.print(f"panel:  {res['panel']}.bed/.bim/.fam", highlight=False)
    for name, path in res["gwas"].items():
        console.print(f"gwas:   {name}  {path}", highlight=False)
    console.print(f"truth:  {res['truth']}", highlight=False)
