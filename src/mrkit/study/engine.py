"""How a chunk of a study's pairs is analysed, and where chunks run.

:func:`analyse_chunk` is the analysis of several pairs at once: each pair's SNP
filters (:mod:`mrkit.study.filters`: Steiger, MR-PRESSO outliers), then ONE
:func:`mrkit.estimate.analyse` call over every pair of the chunk (segment
kernels, compiled bootstrap rows, per-pair methods on threads), split back into
one :class:`PairOutput` per pair. A pair's output does not depend on the other
pairs of its chunk: every random method uses the study seed for every pair.
A pair that fails (bad values, a filter that breaks) gets its ``error`` and
never stops the others.

An engine maps the chunk task (:func:`mrkit.study.parts.run_chunk`) over the
chunks and returns the results in task order. ``kind = "local"`` runs the
chunks one after another in this process, each chunk on every usable core
(the engine's threads); ``kind = "dask"`` starts a ``distributed.LocalCluster``
(one single-threaded worker process per core, or ``workers``) on loopback, or
connects to a running scheduler at ``address`` (for SLURM/PBS, start one with
dask-jobqueue and pass its address; see ``docs/engine.md``). Dask retries a task
whose worker died, so a lost worker does not lose the study.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mrkit._core.arrays import usable_cores
from mrkit.errors import MrkitError, StudyError
from mrkit.estimate import Pairs, analyse
from mrkit.methods import get_method, resolve
from mrkit.results import CORE_FIELDS, MRAnalysis, records
from mrkit.study.filters import FilterNotes, TraitInfo, apply_filters

#: Columns naming a pair in every record of a :class:`PairOutput`.
KEYS = ("exposure", "outcome", "direction")
#: Error of a pair whose filters left no variant.
NO_VARIANTS = "no instruments left after harmonisation"


@dataclass
class PairOutput:
    """Records produced for one pair; ``error`` is set when the pair could not run."""

    exposure: str
    outcome: str
    direction: str
    harmonised: pd.DataFrame
    estimates: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    heterogeneity: list[dict[str, Any]] = field(default_factory=list)
    leave_one_out: list[dict[str, Any]] = field(default_factory=list)
    single_snp: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    elapsed_s: float = 0.0


# -- the analysis of a chunk ---------------------------------------------------------------
def analyse_chunk(
    tables: Sequence[pd.DataFrame],
    pairs: Sequence[tuple[TraitInfo, TraitInfo, str]],
    *,
    methods: Sequence[str],
    sensitivity: Sequence[str] = (),
    steiger_filter: bool = False,
    presso_correct: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    alpha: float = 0.05,
    seed: int = 1,
    nboot: int = 1000,
    threads: int | None = None,
) -> list[PairOutput]:
    """Filter, estimate and diagnose the pairs ``(exposure, outcome, direction)``.

    ``tables[i]`` is pair ``i``'s harmonised table (every variant with ``keep``
    and ``reason``; not modified: each output holds a changed copy). A pair with
    a single variant left gets the Wald ratio only, as TwoSampleMR. ``options``
    are validated per-method options (``presso`` ones also reach the PRESSO
    filter); ``threads`` default to the usable cores. ``elapsed_s`` of a pair is
    its filters' time plus its share of the chunk's estimation.
    """
    names = resolve(list(methods))
    opts = {get_method(k).name: dict(v) for k, v in (options or {}).items()}
    outs = [PairOutput(e.id, o.id, d, t.copy()) for t, (e, o, d) in zip(tables, pairs, strict=True)]
    threads = threads or usable_cores()
    with warnings.catch_warnings():
        # methods report their notes in the `warnings` extra; keep the console clean
        warnings.simplefilter("ignore")
        notes = _filter_all(
            outs, pairs, list(sensitivity), steiger_filter, presso_correct, seed, opts, threads
        )
        t0 = time.perf_counter()
        live, stacked = _stack(outs, pairs)
        if live:
            per_method = {k: v for k, v in opts.items() if k in names}
            run = functools.partial(
                analyse, options=per_method, alpha=alpha, seed=seed, nboot=nboot, threads=threads
            )
            _estimate(outs, live, stacked, names, run)
        share = (time.perf_counter() - t0) / max(len(live), 1)
    for i, out in enumerate(outs):
        _finish(out, notes[i], share if i in live else 0.0)
    return outs


def _filter_all(
    outs: list[PairOutput],
    pairs: Sequence[tuple[TraitInfo, TraitInfo, str]],
    sensitivity: list[str],
    steiger_filter: bool,
    presso_correct: bool,
    seed: int,
    opts: dict[str, dict[str, Any]],
    threads: int,
) -> list[FilterNotes]:
    """Each pair's filters (threads when MR-PRESSO runs); errors stay with their pair."""
    notes = [FilterNotes() for _ in outs]

    def one(i: int) -> None:
        t0 = time.perf_counter()
        try:
            outs[i].harmonised = apply_filters(
                outs[i].harmonised,
                notes[i],
                pairs[i][0],
                pairs[i][1],
                sensitivity=sensitivity,
                steiger_filter=steiger_filter,
                presso_correct=presso_correct,
                seed=seed,
                presso_options=opts.get("presso"),
            )
        except MrkitError as exc:
            outs[i].error = str(exc)
        except Exception as exc:  # one broken pair must not stop the study
            outs[i].error = f"internal error: {type(exc).__name__}: {exc}"
        outs[i].elapsed_s = time.perf_counter() - t0

    if "presso" in sensitivity and threads > 1 and len(outs) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(len(outs))))
    else:
        for i in range(len(outs)):
            one(i)
    return notes


_VECTORS = ("beta_exposure", "se_exposure", "beta_outcome", "se_outcome")


def _stack(
    outs: list[PairOutput], pairs: Sequence[tuple[TraitInfo, TraitInfo, str]]
) -> tuple[dict[int, int], dict[str, Any]]:
    """The kept variants of every pair still without error: ``({pair: nsnp}, arrays)``.

    A pair with no variant left, or with values :class:`~mrkit.estimate.Pairs`
    rejects, gets its error here (the message of the one-pair check).
    """
    live: dict[int, int] = {}
    parts: dict[str, list[Any]] = {k: [] for k in (*_VECTORS, "snp", "size")}
    for i, out in enumerate(outs):
        if out.error is not None:
            continue
        tab = out.harmonised
        try:
            used = tab[tab["keep"].astype(bool).to_numpy()]
            if len(used) == 0:
                out.error = NO_VARIANTS
                continue
            arrays = [used[c].to_numpy(float) for c in _VECTORS]
            bad = ~np.isfinite(np.vstack(arrays)).all(axis=0) | (arrays[1] <= 0)
            if bad.any() or (arrays[3] <= 0).any():
                Pairs.from_arrays(*arrays)  # raises with the message naming the row
        except MrkitError as exc:
            out.error = str(exc)
            continue
        except Exception as exc:
            out.error = f"internal error: {type(exc).__name__}: {exc}"
            continue
        live[i] = len(used)
        for k, a in zip(_VECTORS, arrays, strict=True):
            parts[k].append(a)
        parts["snp"].append(used["snp"].astype(str).to_numpy(object))
        parts["size"].append(np.array([_sample_size(used, pairs[i])]))
    stacked = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    stacked["group"] = np.repeat(np.arange(len(live), dtype=np.int64), list(live.values()))
    return live, stacked


def _sample_size(used: pd.DataFrame, traits: tuple[TraitInfo, TraitInfo, str]) -> float:
    """The smaller GWAS sample size of a pair (option ``n`` of cML), or NaN: the variants'
    ``n_exposure``/``n_outcome``, else the traits' N (cases plus controls)."""
    cols = [c for c in ("n_exposure", "n_outcome") if c in used.columns]
    n = used[cols].to_numpy(float) if cols else np.zeros(0)
    if np.isfinite(n).any():
        return float(np.nanmin(n))
    sizes = [t.n or ((t.ncase or 0) + (t.ncontrol or 0)) for t in traits[:2]]
    return float(min(sizes)) if all(sizes) else np.nan


def _estimate(
    outs: list[PairOutput],
    live: dict[int, int],
    stacked: dict[str, Any],
    names: list[str],
    run: Callable[..., MRAnalysis],
) -> None:
    """ONE analysis of every live pair; if it raises, each pair alone (errors per pair)."""
    index = list(live)
    single = [i for i in index if live[i] == 1]
    every = names if not single or "wald_ratio" in names else [*names, "wald_ratio"]
    keys = pd.DataFrame(
        {
            "exposure": [outs[i].exposure for i in index],
            "outcome": [outs[i].outcome for i in index],
            "direction": [outs[i].direction for i in index],
            "pair": index,
        }
    )
    try:
        pairs = Pairs.from_arrays(
            *(stacked[k] for k in _VECTORS), group=stacked["group"], snp=stacked["snp"], keys=keys
        )
        pairs = replace(pairs, sample_size=stacked["size"])
        _split(outs, live, run(pairs, every), names)
        return
    except Exception:  # one bad pair must not stop the others: each pair alone
        for i in index:  # forget anything a failed split left behind
            outs[i].estimates, outs[i].skipped = [], []
            outs[i].heterogeneity, outs[i].leave_one_out, outs[i].single_snp = [], [], []
            outs[i].diagnostics = {}
    bounds = np.concatenate([[0], np.cumsum(list(live.values()))])
    for k, i in enumerate(index):
        lo, hi = bounds[k], bounds[k + 1]
        own = names if live[i] > 1 else ["wald_ratio"]
        try:
            one = Pairs.from_arrays(
                *(stacked[c][lo:hi] for c in _VECTORS),
                snp=stacked["snp"][lo:hi],
                keys=keys.iloc[[k]].reset_index(drop=True),
            )
            one = replace(one, sample_size=stacked["size"][k : k + 1])
            _split(outs, {i: live[i]}, run(one, own), names)
        except MrkitError as exc:
            outs[i].error = str(exc)
        except Exception as exc:
            outs[i].error = f"internal error: {type(exc).__name__}: {exc}"


@functools.cache
def method_columns(name: str) -> tuple[str, ...]:
    """The extras a method's result rows carry (even when ``None``), from a probe pair.

    A pair's estimates carry the extras of its own methods only, whatever the
    other pairs of its chunk ran; ``()`` when the probe could not run the method.
    """
    rng = np.random.default_rng(0)
    bx = rng.uniform(0.05, 0.2, 12)
    by = 0.3 * bx + rng.normal(0, 0.01, 12)
    probe = Pairs.from_arrays(bx, np.full(12, 0.01), by, np.full(12, 0.01))
    if get_method(name).max_snps == 1:
        probe = Pairs.from_arrays(bx[:1], np.full(1, 0.01), by[:1], np.full(1, 0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = analyse(probe, [name], diagnostics=False, nboot=10, threads=1).estimates
    return tuple(c for c in est.columns if c not in CORE_FIELDS)


def _split(outs: list[PairOutput], live: dict[int, int], res: MRAnalysis, names: list[str]) -> None:
    """Distribute the tables of ``res`` (key column ``pair``) to the pairs' outputs."""
    allowed = {i: {"wald_ratio"} if n == 1 else set(names) for i, n in live.items()}
    ran = list(res.parameters["methods"])
    est = res.estimates
    base = [*KEYS, *CORE_FIELDS]
    extras = [c for c in est.columns if c not in base and c != "pair"]
    cols: dict[str, list[str]] = {m: list(method_columns(m)) for m in ran}
    for m, rows in est.groupby("method", sort=False)[extras]:
        cols[str(m)] += [c for c in rows.columns[rows.notna().any()] if c not in cols[str(m)]]
    by_pair: dict[int, list[dict[str, Any]]] = {i: [] for i in live}
    for p, rec in zip(est["pair"], records(est[base + extras]), strict=True):
        if rec["method"] in allowed[p]:
            by_pair[p].append(rec)
    for i, recs in by_pair.items():
        # as a one-pair analysis: the columns of every vectorised method asked for
        # (a table even when it skips the pair), and of each per-pair method that ran
        shown = {m for m in allowed[i] & set(ran) if get_method(m).kernel != "pair"}
        shown |= {r["method"] for r in recs}
        keep = list(base)
        for m in res.parameters["methods"]:
            if m in shown:
                keep += [c for c in cols[m] if c not in keep]
        outs[i].estimates = [{k: r[k] for k in keep} for r in recs]
    for name in ("heterogeneity", "leave_one_out", "single_snp", "pleiotropy", "strength"):
        table = getattr(res, name)
        cols_ = [c for c in table.columns if c != "pair"]
        for p, rec in zip(table["pair"], records(table[cols_]), strict=True):
            _put(outs[p], name, rec)
    for p, rec in zip(res.skipped["pair"], records(res.skipped[["method", "reason"]]), strict=True):
        if rec["method"] not in ran or rec["method"] in allowed[p]:
            outs[p].skipped.append(rec)


def _put(out: PairOutput, name: str, rec: dict[str, Any]) -> None:
    """One row of an analysis table into a pair's output (diagnostics: flattened)."""
    if name in ("heterogeneity", "leave_one_out", "single_snp"):
        getattr(out, name).append(rec)
    else:  # one row per pair at most; read by _finish
        out.diagnostics[f"_{name}"] = rec


def _finish(out: PairOutput, notes: FilterNotes, share: float) -> None:
    """The pair's diagnostics in the order of its outputs; skipped filters first."""
    found = out.diagnostics
    diag = dict(notes.diagnostics)
    out.skipped = [*notes.skipped, *out.skipped]
    out.elapsed_s = round(out.elapsed_s + share, 6)
    warn = list(notes.warnings)
    if out.error is None:
        tab = out.harmonised
        used = tab[tab["keep"].astype(bool).to_numpy()]
        bx, sx = used["beta_exposure"].to_numpy(float), used["se_exposure"].to_numpy(float)
        strength = found.get("_strength", {})
        diag.update({k: getattr(out, k) for k in KEYS})
        diag["nsnp"] = len(used)
        diag["f_mean"] = strength.get("f_mean")
        diag["f_min"] = float(((bx / sx) ** 2).min())
        diag["i2gx"] = strength.get("i2gx")
        rsq = used.get("rsq_exposure", pd.Series(dtype=float))
        diag["r2_exposure_sum"] = float(np.nansum(rsq))
        if (pl := found.get("_pleiotropy")) is not None:
            diag["egger_intercept"] = pl["egger_intercept"]
            diag["egger_intercept_se"] = pl["se"]
            diag["egger_intercept_pval"] = pl["pval"]
        for h in out.heterogeneity:
            diag[f"q_{h['method']}"], diag[f"q_{h['method']}_pval"] = h["q"], h["q_pval"]
        for r in out.estimates:
            warn.extend(r.get("warnings") or [])
    if warn:
        diag["warnings"] = "; ".join(sorted(set(warn)))
    out.diagnostics = diag


# -- engines -------------------------------------------------------------------------------
class Engine(Protocol):
    """Maps ``func(**task)`` over tasks; results in task order."""

    kind: str

    @property
    def slots(self) -> int:
        """Tasks that run at once (for sizing chunks)."""
        ...

    @property
    def threads(self) -> int | None:
        """Threads each task may use (``None``: the usable cores)."""
        ...

    def map(
        self,
        func: Callable[..., Any],
        tasks: Sequence[dict[str, Any]],
        *,
        on_done: Callable[[], None] | None = None,
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """Run every task; ``on_done()`` / ``on_result(index, result)`` as each finishes."""
        ...


class LocalEngine:
    """Runs tasks one after another in this process, each on every usable core."""

    kind = "local"
    slots = 1
    threads = None

    def map(
        self,
        func: Callable[..., Any],
        tasks: Sequence[dict[str, Any]],
        *,
        on_done: Callable[[], None] | None = None,
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """Run every task here, in order."""
        out = []
        for i, task in enumerate(tasks):
            out.append(func(**task))
            if on_done is not None:
                on_done()
            if on_result is not None:
                on_result(i, out[-1])
        return out


class DaskEngine:
    """Runs tasks on a Dask ``distributed`` cluster (per-pair work on one thread per task).

    Parameters
    ----------
    workers
        Worker processes of the ``LocalCluster`` (default: number of cores).
    address
        Scheduler address of a running cluster (``tcp://host:8786``); no local
        cluster is started then.
    retries
        Times a task is re-run when its worker dies.
    connect_timeout
        Seconds to wait for the scheduler at ``address`` before a one-line error.
    """

    kind = "dask"
    threads = 1

    def __init__(
        self,
        *,
        workers: int | None = None,
        address: str | None = None,
        retries: int = 2,
        connect_timeout: float = 10.0,
    ) -> None:
        self.workers = workers
        self.address = address
        self.retries = retries
        self.connect_timeout = connect_timeout

    @property
    def slots(self) -> int:
        """Tasks that run at once (for sizing chunks): ``workers`` or the cores."""
        return self.workers or os.cpu_count() or 1

    def map(
        self,
        func: Callable[..., Any],
        tasks: Sequence[dict[str, Any]],
        *,
        on_done: Callable[[], None] | None = None,
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """Submit every task; results in task order, callbacks as tasks finish."""
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if self.address is None:
            cluster = LocalCluster(
                n_workers=self.slots,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(self.address, timeout=self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                msg = (
                    f"engine.address: cannot reach the Dask scheduler at {self.address} "
                    f"({str(exc).splitlines()[0]}); is it running, and is the address right?"
                )
                raise StudyError(msg) from None
        try:
            futures = [
                client.submit(func, pure=False, retries=self.retries, **task) for task in tasks
            ]
            index = {f.key: i for i, f in enumerate(futures)}
            out: list[Any] = [None] * len(futures)
            for fut in as_completed(futures):
                i = index[fut.key]
                out[i] = fut.result()
                if on_done is not None:
                    on_done()
                if on_result is not None:
                    on_result(i, out[i])
            return out
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_engine(cfg: Any) -> Engine:
    """Build the engine of a study's ``[engine]`` section (or ``None`` for local)."""
    if cfg is None or cfg.kind == "local":
        return LocalEngine()
    return DaskEngine(workers=cfg.workers, address=cfg.address)
