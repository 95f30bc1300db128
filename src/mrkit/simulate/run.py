"""Synthetic studies with known truth: an LD reference panel and GWAS that carry its LD.

:func:`simulate_study` (or :func:`simulate_from_config` with a TOML config, the
``mrkit simulate`` command) writes a reference panel
(:func:`mrkit.simulate.panel.simulate_panel`: msprime, human-like parameters), one
GWAS per trait (:func:`mrkit.simulate.gwas.simulate_gwas`: the model, with the
liability-threshold treatment of binary traits, is described there) and
``truth.json``. Traits and effects are :class:`~mrkit.simulate.spec.TraitSpec` and
:class:`~mrkit.simulate.spec.EffectSpec`; the TOML format is in :mod:`mrkit.simulate.spec`.

The same seed gives byte-identical files; re-running an unchanged simulation
into the same folder is a no-op.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit.simulate.gwas import COLUMNS, GwasSimulation, simulate_gwas, total_effects
from mrkit.simulate.panel import simulate_panel
from mrkit.simulate.regions import RegionSpec
from mrkit.simulate.spec import EffectSpec, SimulationConfig, TraitSpec, load_config

__all__ = [
    "COLUMNS",
    "EffectSpec",
    "GwasSimulation",
    "RegionSpec",
    "SimulationConfig",
    "TraitSpec",
    "load_config",
    "simulate_from_config",
    "simulate_gwas",
    "simulate_panel",
    "simulate_study",
    "total_effects",
    "write_sumstats",
]

#: Bumped when the simulation changes, so cached outputs are re-made.
SIM_VERSION = 1


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits so the shortest decimal form is short."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    k = digits - 1 - np.floor(np.log10(np.abs(x[ok]))).astype(np.int64)
    ok_idx = np.flatnonzero(ok)
    keep = np.abs(k) <= 280  # beyond, 10**k is not a finite double: leave as is
    ok_idx, k = ok_idx[keep], k[keep]
    up = k >= 0
    vals = x[ok_idx]
    res = np.empty_like(vals)
    res[up] = np.round(vals[up] * 10.0 ** k[up]) / 10.0 ** k[up]
    res[~up] = np.round(vals[~up] / 10.0 ** (-k[~up])) * 10.0 ** (-k[~up])
    out[ok_idx] = res
    return out


def write_sumstats(df: pd.DataFrame, path: str | Path, *, digits: int = 6) -> Path:
    """Write a summary-statistics table as a gzip TSV, byte-identical for equal input.

    Floats are rounded to ``digits`` significant digits; the gzip header holds
    no name or time.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = _round_sig(out[col].to_numpy(), digits)
    buf = pa.BufferOutputStream()
    pacsv.write_csv(
        pa.Table.from_pandas(out, preserve_index=False),
        buf,
        pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none"),
    )
    header = ("\t".join(map(str, out.columns)) + "\n").encode()
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=3) as gz,
    ):
        gz.write(header)
        gz.write(buf.getvalue().to_pybytes())
    return path


def _key(config: SimulationConfig) -> str:
    blob = json.dumps({"v": SIM_VERSION, **config.to_dict()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def simulate_from_config(
    config: SimulationConfig | str | Path,
    out_dir: str | Path,
    *,
    seed: int | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Run :func:`simulate_study` from a config (object or TOML path)."""
    if not isinstance(config, SimulationConfig):
        config = load_config(config, seed=seed)
    elif seed is not None:
        config = SimulationConfig(
            config.traits, config.effects, config.panel, config.gwas, seed, config.regions
        )
    out_dir = Path(out_dir)
    key = _key(config)
    truth_path = out_dir / "truth.json"
    panel_prefix = out_dir / "panel"
    gwas_paths = {t.name: out_dir / f"{t.name}.tsv.gz" for t in config.traits}
    result = {"panel": panel_prefix, "gwas": gwas_paths, "truth": truth_path, "key": key}
    if not force and truth_path.exists():
        try:
            old = json.loads(truth_path.read_text())
        except (OSError, ValueError):
            old = {}
        files = [*gwas_paths.values()] + [
            panel_prefix.with_name("panel" + ext) for ext in (".bed", ".bim", ".fam")
        ]
        if old.get("key") == key and all(f.exists() for f in files):
            return {**result, "cached": True, "timings": {}}
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_path.unlink(missing_ok=True)
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    panel_key = hashlib.sha256(
        json.dumps({"v": SIM_VERSION, "seed": config.seed, **config.panel}, sort_keys=True).encode()
    ).hexdigest()
    panel_json = out_dir / "panel.json"
    panel_files = [panel_prefix.with_name("panel" + ext) for ext in (".bed", ".bim", ".fam")]
    reuse = (
        not force
        and panel_json.exists()
        and all(f.exists() for f in panel_files)
        and json.loads(panel_json.read_text()).get("key") == panel_key
    )
    if not reuse:
        say("simulating the reference panel (msprime)")
        panel_json.unlink(missing_ok=True)
        simulate_panel(panel_prefix, seed=config.seed, workers=workers, **config.panel)
        panel_json.write_text(json.dumps({"key": panel_key, **config.panel}) + "\n")
    t1 = time.perf_counter()
    say("simulating summary statistics")
    sim = simulate_gwas(
        panel_prefix,
        config.traits,
        config.effects,
        seed=config.seed,
        regions=config.regions,
        **config.gwas,
    )
    t2 = time.perf_counter()
    for name, df in sim.items():
        write_sumstats(df, gwas_paths[name])
    t3 = time.perf_counter()
    timings = {"panel_s": t1 - t0, "gwas_s": t2 - t1, "write_s": t3 - t2, "panel_reused": reuse}
    truth = {
        "key": key,
        "sim_version": SIM_VERSION,
        "config": config.to_dict(),
        "panel": "panel",
        "files": {name: p.name for name, p in gwas_paths.items()},
        **sim.truth,
    }
    tmp = truth_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(truth, indent=1, sort_keys=False) + "\n")
    tmp.replace(truth_path)
    return {**result, "cached": False, "timings": timings}


def simulate_study(
    out_dir: str | Path,
    *,
    traits: Sequence[TraitSpec],
    effects: Sequence[EffectSpec | tuple[str, str, float]] = (),
    panel: Mapping[str, Any] | None = None,
    gwas: Mapping[str, Any] | None = None,
    seed: int = 1,
    force: bool = False,
    workers: int | None = None,
    regions: Sequence[RegionSpec] = (),
) -> dict[str, Any]:
    """Simulate a panel and one GWAS per trait into ``out_dir``, with ``truth.json``.

    Parameters
    ----------
    out_dir
        Folder written: ``panel.{bed,bim,fam}`` (and ``panel.json``, its key),
        ``<trait>.tsv.gz`` per trait, ``truth.json`` (config, causal and
        pleiotropic SNPs, true effects), written last.
    traits
        :class:`~mrkit.simulate.spec.TraitSpec` list.
    effects
        :class:`~mrkit.simulate.spec.EffectSpec` or ``(exposure, outcome, gamma)`` tuples.
    panel
        Keyword arguments of :func:`mrkit.simulate.panel.simulate_panel`.
    gwas
        Keyword arguments of :func:`simulate_gwas` (``flip_alleles``, ``ld_window``).
    seed
        Seed of everything.
    force
        Re-simulate even if ``out_dir`` already holds this exact simulation
        (same parameters, seed and simulator version); otherwise that is a no-op,
        and a panel made with the same panel parameters and seed is reused.
    workers
        Processes for the panel's chromosomes (see ``simulate_panel``).
    regions
        :class:`~mrkit.simulate.regions.RegionSpec` list: causal variants shared by
        several traits, or distinct, in given windows (cis-MR, colocalisation).

    Returns
    -------
    dict
        ``panel`` (prefix), ``gwas`` ({trait: path}), ``truth`` (path), ``key``,
        ``cached`` and ``timings`` (seconds per stage).
    """
    effs = tuple(e if isinstance(e, EffectSpec) else EffectSpec(*e) for e in effects)
    config = SimulationConfig(
        tuple(traits), effs, dict(panel or {}), dict(gwas or {}), seed, tuple(regions)
    )
    return simulate_from_config(config, out_dir, force=force, workers=workers)
