"""``mrkit run``: a whole study from its study file.

Stages (each with a progress bar): import -> instruments -> harmonise -> pairs
(methods and diagnostics, through :mod:`mrkit.study.engine`) -> correction -> outputs.
Every SNP that leaves the analysis stays in ``harmonised.parquet`` with its
reason; the manifest records versions, the study file, data checksums, seeds
and timings. A re-run with unchanged inputs does nothing. A run that changes outputs
deletes the old ``manifest.json`` first and writes the new one last (outputs go to
temporary names, then are renamed), so a killed run is never taken for a finished one.
Test hook: ``MRKIT_CRASH_BEFORE_MANIFEST=1`` SIGKILLs the run after its outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mrkit._core.arrays import usable_cores
from mrkit._core.files import atomic_write
from mrkit._core.version import __version__
from mrkit.errors import StudyError
from mrkit.harmonise.many import harmonise_many
from mrkit.instruments import not_in_panel_counts, select_instruments
from mrkit.ld.panel import ReferencePanel
from mrkit.ld.proxies import find_proxies
from mrkit.report.write import write_outputs
from mrkit.store.catalog import Store, same_import
from mrkit.study import coloc_stage
from mrkit.study.correction import families, planned_tests, results_table
from mrkit.study.engine import make_engine
from mrkit.study.filters import TraitInfo
from mrkit.study.parts import PairJob, run_pairs
from mrkit.study.spec import GwasEntry, Study, load_study
from mrkit.study.spec_checks import check_panel


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass
class StudyRun:
    """What :func:`run_study` produced (paths and tables)."""

    out_dir: Path
    results: pd.DataFrame
    harmonised: pd.DataFrame
    diagnostics: pd.DataFrame
    manifest: dict[str, Any]
    skipped_run: bool = False
    files: dict[str, Path] = field(default_factory=dict)


class _Stages:
    """Timings and a progress bar per stage (rich), quiet when asked."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Callable[..., None]]:
        t0 = time.perf_counter()
        if self.quiet:
            yield lambda n=1: None
        else:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            with Progress(
                TextColumn(f"{name:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            ) as prog:
                task = prog.add_task(name, total=max(total, 1))
                yield lambda n=1: prog.advance(task, n)
                prog.update(task, completed=max(total, 1))
        self.timings[name] = round(time.perf_counter() - t0, 3)


def _trait(entry: GwasEntry, info: dict[str, Any]) -> TraitInfo:
    return TraitInfo(
        id=entry.id,
        binary=entry.binary,
        ncase=entry.ncase or info.get("ncase"),
        ncontrol=entry.ncontrol or info.get("ncontrol"),
        prevalence=entry.prevalence,
        n=entry.n or info.get("n"),
    )


def _fingerprint(study_text: str, checksums: dict[str, str]) -> str:
    h = hashlib.sha256()
    h.update(__version__.encode())
    h.update(study_text.encode())
    h.update(json.dumps(checksums, sort_keys=True).encode())
    return h.hexdigest()


def run_study(
    path: str | Path,
    *,
    out: str | Path | None = None,
    quiet: bool = False,
    force: bool = False,
) -> StudyRun:
    """Run every stage of the study in ``path``; see the module docstring."""
    study, base = load_study(path)
    if study.study.panel is not None:  # its files exist (before anything is written)
        check_panel(study.study.panel, base, path)
    text = Path(path).read_text(encoding="utf-8")
    out_dir = Path(out) if out is not None else base / study.study.output
    _check_output(out_dir, base / study.study.store, path)
    stages = _Stages(quiet)
    entries = study.gwas_by_id()
    checksums = {g.id: sha256_file(base / g.file) for g in study.gwas if g.file is not None}
    checksums.update(_stored_checksums(base / study.study.store, study))
    fingerprint = _fingerprint(text, checksums)
    manifest_path = out_dir / "manifest.json"
    if not force and manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if old.get("fingerprint") == fingerprint and (out_dir / "results.parquet").is_file():
            return StudyRun(
                out_dir,
                pd.read_parquet(out_dir / "results.parquet"),
                pd.read_parquet(out_dir / "harmonised.parquet"),
                pd.read_csv(out_dir / "diagnostics.csv"),
                old,
                skipped_run=True,
            )
    # outputs are about to change: no manifest may vouch for them until all are written
    manifest_path.unlink(missing_ok=True)
    store = Store(base / study.study.store)
    # 1. import ------------------------------------------------------------------------
    with stages.stage("import", len(study.gwas)) as tick:
        stored = store.infos()
        for g in study.gwas:
            _import_one(store, g, base, checksums.get(g.id), stored.get(g.id))
            tick()
    stored = store.infos()
    infos = {g.id: stored[g.id] for g in study.gwas}
    traits = {i: _trait(entries[i], infos[i]) for i in entries}
    for g in study.gwas:
        checksums.setdefault(g.id, str(infos[g.id].get("sha256")))

    pairs = study.pairs()
    panel = None
    if study.study.panel is not None:
        panel = ReferencePanel(base / study.study.panel)
    # 2. instruments -------------------------------------------------------------------
    exposures = list(dict.fromkeys(e for e, _, _ in pairs))
    instruments: dict[str, pd.DataFrame] = {}
    with stages.stage("instruments", len(exposures)) as tick:
        for e, cand in _candidates(store, exposures, study.instruments.p):
            instruments[e] = _instruments(cand, study, panel, infos[e])
            tick()
    # 3. harmonise ---------------------------------------------------------------------
    harmonised: dict[tuple[str, str], pd.DataFrame] = {}
    by_outcome: dict[str, list[str]] = {}
    for e, o, _ in pairs:
        by_outcome.setdefault(o, []).append(e)
    with stages.stage("harmonise", len(pairs)) as tick:
        rows = _OutcomeRows(store, pairs, instruments)
        for o, exps in by_outcome.items():  # all exposures of an outcome in one pass
            tables = _harmonise(store, instruments, exps, o, study, panel, rows)
            harmonised.update({(e, o): t for e, t in tables.items()})
            tick(len(exps))
    # 4. pairs -------------------------------------------------------------------------
    engine = make_engine(study.engine)
    a = study.analysis
    params = dict(
        methods=list(a.methods),
        sensitivity=list(a.sensitivity),
        steiger_filter=study.instruments.steiger,
        presso_correct=a.presso_correct,
        options=a.options,
        alpha=a.alpha,
        seed=study.study.seed,
        nboot=a.nboot,
    )
    jobs = [
        PairJob(
            traits[e], traits[o], d, harmonised[(e, o)], _no_instruments(instruments[e], e, study)
        )
        for e, o, d in pairs
    ]
    with stages.stage("analysis", len(jobs)) as tick:
        outputs, pair_log, pair_stats = run_pairs(jobs, params, out_dir, engine, on_pairs=tick)
    # 4b. cis-MR: LD-aware (*_correl) estimates; [coloc] (mrkit.study.coloc_stage) ----------
    coloc_stage.add_correlated_estimates(outputs, study, panel)
    coloc = None
    if study.coloc is not None:
        with stages.stage("coloc", len(pairs)) as tick:
            coloc = coloc_stage.run_coloc(
                study, store, panel, pairs, instruments, traits, out_dir, tick=tick
            )
    # 5. correction --------------------------------------------------------------------
    with stages.stage("correction", 1) as tick:
        estimates = [r for o in outputs for r in o.estimates]
        planned = planned_tests(pairs, study.analysis.family)
        binary = {t: traits[t].binary for t in traits}
        results = results_table(estimates, study.analysis, binary, planned)
        family = families(results, study.analysis, planned)
        tick()
    harm = pd.concat([o.harmonised for o in outputs], ignore_index=True)
    diag = pd.DataFrame(
        [
            {
                "exposure": o.exposure,
                "outcome": o.outcome,
                "direction": o.direction,
                "error": o.error,
                **{
                    k: v
                    for k, v in o.diagnostics.items()
                    if k not in ("exposure", "outcome", "direction")
                },
            }
            for o in outputs
        ]
    )
    # 6. outputs -----------------------------------------------------------------------
    manifest = {
        "mrkit_version": __version__,
        "study_file": str(Path(path).resolve()),
        "study": text,
        "fingerprint": fingerprint,
        "checksums": checksums,
        "seed": study.study.seed,
        "parameters": study.model_dump(mode="json"),
        "versions": _versions(),
        "pairs": [{"exposure": e, "outcome": o, "direction": d} for e, o, d in pairs],
        "analysis": pair_stats,
        "multiple_testing": family,
        "not_in_ld_panel": not_in_panel_counts(instruments),
        "failed_pairs": [
            {"exposure": o.exposure, "outcome": o.outcome, "reason": o.error}
            for o in outputs
            if o.error
        ],
    }
    with stages.stage("report", 1) as tick:
        files = write_outputs(
            out_dir,
            study=study,
            results=results,
            harmonised=harm,
            diagnostics=diag,
            outputs=outputs,
            infos=infos,
            instruments=instruments,
            manifest=manifest,
            pair_log=pair_log,
            traits=traits,
            families=family,
        )
        if coloc is not None:
            files["coloc"] = out_dir / "coloc.csv"
            section = coloc_stage.coloc_section(coloc, results, study.analysis.primary)
            coloc_stage.add_to_report(files.get("report"), section)
        tick()
    manifest["timings_s"] = stages.timings
    if os.environ.get("MRKIT_CRASH_BEFORE_MANIFEST"):  # test hook: killed with outputs written
        os.kill(os.getpid(), signal.SIGKILL)
    text = json.dumps(manifest, indent=2, default=str) + "\n"
    atomic_write(manifest_path, lambda tmp: tmp.write_text(text))
    files["manifest"] = manifest_path
    return StudyRun(out_dir, results, harm, diag, manifest, files=files)


def _check_output(out_dir: Path, store: Path, study_path: str | Path) -> None:
    """Refuse an output folder that is a file, the store, or inside the store's folder."""
    out, st = out_dir.resolve(), store.resolve()
    st_dir = Path(str(st) + ".d")
    if out in (st, st_dir) or st_dir in out.parents:
        msg = (
            f"{study_path}: output {str(out_dir)!r} is the store or inside its folder "
            f"{str(st_dir)!r}, whose files the store manages; choose another output"
        )
        raise StudyError(msg)
    if out.exists() and not out.is_dir():
        raise StudyError(f"{study_path}: output {str(out_dir)!r} is a file, not a folder")


def _stored_checksums(store_path: Path, study: Study) -> dict[str, str]:
    """SHA-256 of the GWAS used straight from the store (no ``file``), for the fingerprint."""
    ids = [g.id for g in study.gwas if g.file is None]
    if not ids or not store_path.is_file():
        return {}
    stored = Store(store_path, read_only=True).infos()
    return {i: str(stored[i].get("sha256")) for i in ids if i in stored}


def _no_instruments(inst: pd.DataFrame, exposure: str, study: Study) -> str | None:
    """The reason a pair cannot run at all because its exposure has no instrument."""
    if len(inst) == 0:
        return f"no instruments: no variant of {exposure!r} reaches p < {study.instruments.p:g}"
    if not inst["keep"].astype(bool).any():
        return f"no instruments: every candidate of {exposure!r} was dropped (harmonised.parquet)"
    return None


def _import_one(
    store: Any, g: GwasEntry, base: Path, sha: str | None, stored: dict[str, Any] | None
) -> None:
    """Import ``g`` unless the store has it from the same file with the same parameters."""
    if g.file is None:
        if stored is None:
            msg = f"gwas id {g.id!r} has no `file` and is not in the store {store.path}"
            raise StudyError(msg)
        return
    params = dict(
        trait=g.trait or g.id, units=g.units, n=g.n, ncase=g.ncase, ncontrol=g.ncontrol,
        build=g.build, population=g.population, format=g.format, bad_rows=g.bad_rows,
    )  # fmt: skip
    if same_import(stored, sha, **params):  # same file and every import parameter
        return
    store.import_gwas(
        base / g.file,
        id=g.id,
        **params,
        # the study decides what `g.id` holds (`stored` was read at the start of the
        # stage); the store still swaps the catalog row atomically, without asking
        # the catalog again whether the id exists
        replace=True,
    )


def _candidates(store: Any, exposures: list[str], p: float) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each exposure's variants with p below ``p``, in order.

    A store query first opens the catalog (a DuckDB connection: mostly waiting),
    so several queries run at once on threads; the selection stays in the caller.
    """
    with ThreadPoolExecutor(max(4, usable_cores())) as pool:
        found = pool.map(lambda e: store.instruments(e, p=p), exposures)
        yield from zip(exposures, found, strict=True)


def _instruments(
    cand: pd.DataFrame, study: Study, panel: Any, info: dict[str, Any]
) -> pd.DataFrame:
    """The exposure's instruments among its candidates ``cand`` (each with keep/reason)."""
    ins = study.instruments
    if len(cand) == 0:
        return cand.assign(keep=pd.Series(dtype=bool), reason=pd.Series(dtype=object))
    return select_instruments(
        cand,
        p=ins.p,
        clump=ins.clump,
        panel=panel,
        r2=ins.r2,
        kb=ins.kb,
        min_f=ins.min_f,
        exclude_mhc=ins.exclude_mhc,
        build=info.get("build") or "GRCh37",
        missing="keep" if ins.keep_missing_from_panel else "drop",
        region=ins.bounds,
    )


class _OutcomeRows:
    """Each outcome's rows for every instrument of its exposures, read once.

    One store lookup per outcome instead of one per pair (a study of many
    exposures against a few outcomes would otherwise spend its time here).
    ``inst`` stacks the instruments of all exposures (column ``_exposure``).
    """

    def __init__(self, store: Any, pairs: list[tuple[str, str, str]], inst: dict) -> None:
        self.store = store
        frames = {e: t for e, t in inst.items() if len(t)}
        empty = pd.DataFrame({"snp": [], "keep": pd.Series(dtype=bool)})
        self.inst = pd.concat(list(frames.values()) or [empty], ignore_index=True)
        self.inst["_exposure"] = np.repeat(list(frames), [len(t) for t in frames.values()])
        kept = self.inst[self.inst["keep"].astype(bool)]
        snps = {e: set(s) for e, s in kept.groupby("_exposure", sort=False)["snp"]}
        self.need: dict[str, set[str]] = {}
        for e, o, _ in pairs:
            self.need.setdefault(o, set()).update(snps.get(e, ()))
        self.rows: dict[str, pd.DataFrame] = {}
        self.snps: dict[str, pd.Series] = {}

    def lookup(self, outcome: str, snps: pd.Series) -> pd.DataFrame:
        if outcome not in self.rows:
            self.rows[outcome] = self.store.lookup(outcome, sorted(self.need.get(outcome, ())))
        rows = self.rows[outcome]
        return rows[rows["snp"].isin(set(snps))].reset_index(drop=True)

    def all_snps(self, outcome: str) -> pd.Series:
        if outcome not in self.snps:
            self.snps[outcome] = self.store.get(outcome, columns=["snp"])["snp"]
        return self.snps[outcome]


def _harmonise(
    store: Any,
    instruments: dict[str, pd.DataFrame],
    exposures: list[str],
    outcome: str,
    study: Study,
    panel: Any,
    rows: _OutcomeRows,
) -> dict[str, pd.DataFrame]:
    """Each exposure's table against ``outcome``, in one pass; LD proxies looked up once."""
    h, tables = study.harmonise, {}
    mine = rows.inst[rows.inst["_exposure"].isin(set(exposures))]
    keep = mine["keep"].astype(bool).to_numpy()
    stacked = mine[keep]
    done = set(stacked["_exposure"])
    for e in [e for e in dict.fromkeys(exposures) if e not in done]:  # no instrument left
        inst = instruments[e]
        pre = pd.DataFrame(
            {
                "snp": inst.get("snp", pd.Series(dtype=object)),
                "beta_exposure": inst.get("beta", pd.Series(dtype=float)),
                "se_exposure": inst.get("se", pd.Series(dtype=float)),
                "p_exposure": inst.get("p", pd.Series(dtype=float)),
                "keep": False,
                "reason": inst.get("reason", pd.Series(dtype=object)),
            }
        )
        full = pd.DataFrame(columns=["snp", "keep", "reason"])
        full = pd.concat([full, pre], ignore_index=True) if len(pre) else full
        full.insert(0, "outcome", outcome)
        full.insert(0, "exposure", e)
        tables[e] = full.astype({"keep": bool})
    if not len(stacked):
        return tables
    out_rows = rows.lookup(outcome, stacked["snp"])
    proxies = None
    missing = stacked.loc[~stacked["snp"].isin(set(out_rows["snp"])), ["_exposure", "snp"]]
    if h.proxies and panel is not None and len(missing):
        cand = rows.all_snps(outcome)
        found = find_proxies(
            panel, pd.unique(missing["snp"]).tolist(), cand, r2=h.proxy_r2, kb=h.proxy_kb
        )
        new = found.loc[~found["proxy_snp"].isin(set(out_rows["snp"])), "proxy_snp"]
        if len(new):
            extra = store.lookup(outcome, pd.unique(new).tolist())
            out_rows = pd.concat([out_rows, extra], ignore_index=True)
        proxies = missing.drop_duplicates().merge(found, left_on="snp", right_on="target_snp")
    res = harmonise_many(
        stacked, out_rows, by="_exposure", action=h.action, proxies=proxies, outcome_id=outcome
    )
    built = res.tables(dropped=mine[~keep], outcome=outcome)
    return tables | {str(k): v for k, v in built.items()}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in (
        "mrkit",
        "numpy",
        "scipy",
        "pandas",
        "pyarrow",
        "duckdb",
        "bed-reader",
        "matplotlib",
        "jinja2",
        "pydantic",
        "dask",
        "distributed",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    import platform

    out["python"] = platform.python_version()
    return out
