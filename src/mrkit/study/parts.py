"""Running a study's pairs through an engine, with results streamed to Parquet parts.

The pairs of a study run in *chunks* of many pairs per engine task; a task
analyses its chunk with :func:`mrkit.study.engine.analyse_chunk` (each pair's
filters, then one :func:`mrkit.estimate.analyse` over the chunk), so that
scheduling costs little even for thousands of pairs and the estimators run
over many pairs at once. Data reach the tasks as a Parquet path, not as pickled
tables: the columns the analysis needs (``snp``, effects, standard errors,
p-values, allele frequencies, sample sizes, ``keep``, ``reason``) of every pair
still to compute are written once to ``<output>/.pairs/input-*.parquet``, one
row group per chunk; a task reads its row group and slices its pairs.

When its chunk is done, each pair is written, atomically (temporary file, then
rename), to ``<output>/.pairs/<fingerprint>.parquet``: the pair's per-variant
updates (``keep``, ``reason``, Steiger columns) as the table, its estimates,
diagnostics and timing (its filters plus its share of the chunk's estimation)
as JSON in the file's metadata. The fingerprint covers mrkit's version, the
part format, the pair, both traits, the harmonised data and every analysis
parameter (method options and seed included), so a re-run (after a crash, or
with pairs added) computes only the pairs without a valid part, and the
study's outputs are always assembled from the parts.

Test hook: ``MRKIT_CRASH_AFTER_PAIRS=<n>`` kills the process (SIGKILL) once it
has written ``n`` parts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mrkit._core.version import __version__
from mrkit.study.engine import PairOutput, analyse_chunk
from mrkit.study.filters import TraitInfo

#: Bumped when the part format or the pair analysis changes meaning.
PART_VERSION = 2
PARTS_DIR = ".pairs"

#: Read-only columns the pair analysis uses (never sent back in a part).
DATA_COLUMNS = ["snp"] + [
    f"{k}_{side}" for side in ("exposure", "outcome") for k in ("beta", "se", "p", "eaf", "n")
]
#: Columns the pair analysis may change (sent to the task when present, and back).
STATE_COLUMNS = ["keep", "reason", "rsq_exposure", "rsq_outcome", "steiger_dir", "steiger_pval"]

_written = 0  # parts written by this process (crash hook)


def analysis_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that the pair analysis reads, in a fixed order."""
    return [c for c in DATA_COLUMNS + STATE_COLUMNS if c in table.columns]


def pair_fingerprint(
    key: tuple[str, str, str],
    table: pd.DataFrame,
    exposure: TraitInfo,
    outcome: TraitInfo,
    params: dict[str, Any],
) -> str:
    """SHA-256 of everything a pair's results depend on (``table``: analysis columns)."""
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy() if len(table) else None
    columns = [f"{c}:{table[c].dtype}" for c in table.columns]
    return _digest(key, columns, len(table), exposure, outcome, params, rows)


def _digest(
    key: tuple[str, str, str],
    columns: list[str],
    nrow: int,
    exposure: TraitInfo,
    outcome: TraitInfo,
    params: dict[str, Any],
    rows: np.ndarray | None,
) -> str:
    h = hashlib.sha256()
    head = {
        "mrkit": __version__,
        "part_version": PART_VERSION,
        "pair": list(key),
        "exposure": dataclasses.asdict(exposure),
        "outcome": dataclasses.asdict(outcome),
        "params": params,
        "columns": columns,
        "rows": nrow,
    }
    h.update(json.dumps(head, sort_keys=True, default=str).encode())
    if rows is not None:
        h.update(rows.tobytes())
    return h.hexdigest()


def fingerprints(jobs: list[PairJob], params: dict[str, Any]) -> list[str]:
    """:func:`pair_fingerprint` of every job's analysis columns, hashed in bulk.

    Row hashes depend on a row's values only, so the jobs whose analysis
    columns have the same names and types are hashed as one table.
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, j in enumerate(jobs):
        dtypes = j.table.dtypes
        sig = tuple(f"{c}:{dtypes[c]}" for c in analysis_columns(j.table))
        groups.setdefault(sig, []).append(i)
    out = [""] * len(jobs)
    for sig, idx in groups.items():
        cols = [c.rsplit(":", 1)[0] for c in sig]
        sizes = [len(jobs[i].table) for i in idx]
        rows = None
        if sum(sizes) and cols:
            frame = pd.concat([jobs[i].table for i in idx], ignore_index=True)[cols]
            rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        for k, i in enumerate(idx):
            j = jobs[i]
            part = rows[bounds[k] : bounds[k + 1]] if rows is not None and sizes[k] else None
            key = (j.exposure.id, j.outcome.id, j.direction)
            out[i] = _digest(key, list(sig), sizes[k], j.exposure, j.outcome, params, part)
    return out


# -- parts -------------------------------------------------------------------------------
def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def write_part(path: Path, out: PairOutput, *, fingerprint: str) -> None:
    """Write one pair's output atomically (``path.tmp-*`` then rename)."""
    tab = out.harmonised
    updates = [c for c in tab.columns if c not in DATA_COLUMNS]
    meta = {
        "fingerprint": fingerprint,
        "exposure": out.exposure,
        "outcome": out.outcome,
        "direction": out.direction,
        "error": out.error,
        "elapsed_s": out.elapsed_s,
        "estimates": out.estimates,
        "diagnostics": out.diagnostics,
        "heterogeneity": out.heterogeneity,
        "leave_one_out": out.leave_one_out,
        "single_snp": out.single_snp,
        "skipped": out.skipped,
    }
    table = pa.Table.from_pandas(tab, columns=updates, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"mrkit": json.dumps(meta, default=_json_default)}
    )
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    pq.write_table(table, tmp)
    tmp.replace(path)


def read_part(path: Path, fingerprint: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """``(updates, meta)`` of a valid part, or ``None`` (missing, unreadable, stale)."""
    if not path.is_file():
        return None
    try:
        table = pq.ParquetFile(path).read(use_threads=False)
        meta = json.loads(table.schema.metadata[b"mrkit"])
    except Exception:  # a damaged part is recomputed
        return None
    if meta.get("fingerprint") != fingerprint:
        return None
    return table.to_pandas(), meta


def _crash_hook() -> None:
    global _written
    _written += 1
    limit = os.environ.get("MRKIT_CRASH_AFTER_PAIRS")
    if limit and _written >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


# -- the engine task ---------------------------------------------------------------------
def run_chunk(
    *,
    input_path: str,
    row_group: int,
    pairs: list[dict[str, Any]],
    params: dict[str, Any],
    parts_dir: str,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Analyse the pairs of one chunk together; then write each pair's part.

    ``pairs``: ``{exposure, outcome, direction, fingerprint, columns, start,
    stop}`` (rows ``start:stop`` of the row group). Pairs whose part already
    exists (a retried task) are not recomputed. ``threads`` go to the
    analysis (``None``: the usable cores). Returns one small status record
    per pair.
    """
    status: list[dict[str, Any] | None] = [None] * len(pairs)
    todo: list[int] = []
    for k, p in enumerate(pairs):
        part = Path(parts_dir) / f"{p['fingerprint']}.parquet"
        done = read_part(part, p["fingerprint"]) if part.is_file() else None
        if done is None:
            todo.append(k)
        else:
            status[k] = {"error": done[1]["error"], "elapsed_s": done[1]["elapsed_s"]}
    if todo:
        data = pq.ParquetFile(input_path).read_row_group(row_group).to_pandas()
        views: dict[tuple[str, ...], pd.DataFrame] = {}  # the chunk's rows, per column set
        tables = []
        for k in todo:
            cols = tuple(pairs[k]["columns"])
            if cols not in views:
                views[cols] = data[list(cols)]
            rows = views[cols].iloc[pairs[k]["start"] : pairs[k]["stop"]]
            tables.append(rows.reset_index(drop=True))
        keys = [(pairs[k]["exposure"], pairs[k]["outcome"], pairs[k]["direction"]) for k in todo]
        outs = analyse_chunk(tables, keys, **params, threads=threads)
        for k, out in zip(todo, outs, strict=True):
            part = Path(parts_dir) / f"{pairs[k]['fingerprint']}.parquet"
            write_part(part, out, fingerprint=pairs[k]["fingerprint"])
            _crash_hook()
            status[k] = {"error": out.error, "elapsed_s": out.elapsed_s}
    return [s for s in status if s is not None]


# -- the study side ----------------------------------------------------------------------
@dataclasses.dataclass
class PairJob:
    """One pair of the study with its full harmonised table."""

    exposure: TraitInfo
    outcome: TraitInfo
    direction: str
    table: pd.DataFrame
    error: str | None = None  # set: fails without running (e.g. no instruments at all)


#: Most pairs in one task: the estimators run over a whole chunk at once, and
#: memory and progress steps stay bounded.
MOST_PER_TASK = 200


def chunk_size(n_todo: int, slots: int, *, most: int = MOST_PER_TASK) -> int:
    """Pairs per task: about four tasks per worker slot, between 1 and ``most``."""
    if n_todo <= 0:
        return 1
    return max(1, min(most, math.ceil(n_todo / (4 * max(slots, 1)))))


def run_pairs(
    jobs: list[PairJob],
    params: dict[str, Any],
    out_dir: Path,
    engine: Any,
    *,
    on_pairs: Callable[[int], None] | None = None,
) -> tuple[list[PairOutput], pd.DataFrame, dict[str, Any]]:
    """Analyse every pair not already in ``out_dir/.pairs``; assemble all from the parts.

    Returns the outputs (in ``jobs`` order, harmonised tables complete), the
    per-pair log (``exposure, outcome, direction, status, error, nsnp,
    elapsed_s, reused``) and run statistics for the manifest.
    """
    parts = out_dir / PARTS_DIR
    parts.mkdir(parents=True, exist_ok=True)
    fps = fingerprints(jobs, params)
    found = {
        i: read_part(parts / f"{fps[i]}.parquet", fps[i])
        for i, j in enumerate(jobs)
        if j.error is None
    }
    todo = [i for i, got in found.items() if got is None]
    slots = getattr(engine, "slots", 1)
    size = chunk_size(len(todo), slots)
    chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
    t0 = time.perf_counter()
    if on_pairs is not None:
        on_pairs(len(jobs) - len(todo))
    if chunks:
        input_path = parts / f"input-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        order = [i for chunk in chunks for i in chunk]
        frame = pd.concat([jobs[i].table for i in order], ignore_index=True)
        table = pa.Table.from_pandas(frame[analysis_columns(frame)], preserve_index=False)
        tasks = []
        with pq.ParquetWriter(input_path, table.schema) as writer:
            offset = 0
            for g, chunk in enumerate(chunks):
                start, spec = 0, []
                for i in chunk:
                    n = len(jobs[i].table)
                    spec.append(
                        {
                            "exposure": jobs[i].exposure,
                            "outcome": jobs[i].outcome,
                            "direction": jobs[i].direction,
                            "fingerprint": fps[i],
                            "columns": analysis_columns(jobs[i].table),
                            "start": start,
                            "stop": start + n,
                        }
                    )
                    start += n
                writer.write_table(table.slice(offset, start), row_group_size=max(start, 1))
                offset += start
                tasks.append(
                    dict(
                        input_path=str(input_path),
                        row_group=g,
                        pairs=spec,
                        params=params,
                        parts_dir=str(parts),
                        threads=getattr(engine, "threads", None),
                    )
                )
        try:
            engine.map(
                run_chunk,
                tasks,
                on_result=(lambda k, _r: on_pairs(len(chunks[k]))) if on_pairs else None,
            )
        finally:
            input_path.unlink(missing_ok=True)
    wall = time.perf_counter() - t0
    outputs, log = _assemble(jobs, fps, found, parts)
    _prune(parts, set(fps))
    stats = {
        "pairs": len(jobs),
        "computed": len(todo),
        "reused": int(sum(1 for r in log if r["reused"])),
        "failed": int(sum(1 for r in log if r["status"] == "failed")),
        "tasks": len(chunks),
        "pairs_per_task": size,
        "engine": getattr(engine, "kind", "local"),
        "wall_s": round(wall, 3),
        "pair_s_total": round(float(sum(r["elapsed_s"] or 0.0 for r in log)), 3),
    }
    return outputs, pd.DataFrame(log), stats


def _merge(full: pd.DataFrame, updates: pd.DataFrame) -> pd.DataFrame:
    """The full harmonised table with the analysis' per-variant changes applied.

    Changed columns keep their place (object columns get ``None`` for missing
    values); new ones are appended in the order of ``updates``.
    """
    out = full.reset_index(drop=True)  # a new frame: ``full`` is never changed
    for col in updates.columns:
        values = updates[col]
        if col in out.columns and out[col].dtype == object:
            values = values.astype(object).where(values.notna(), None)
        out[col] = values.to_numpy()
    return out


def _assemble(
    jobs: list[PairJob], fps: list[str], found: dict[int, Any], parts: Path
) -> tuple[list[PairOutput], list[dict[str, Any]]]:
    outputs: list[PairOutput] = []
    log: list[dict[str, Any]] = []
    for i, j in enumerate(jobs):
        names = (j.exposure.id, j.outcome.id, j.direction)
        keys = dict(zip(("exposure", "outcome", "direction"), names, strict=True))
        if j.error is not None:
            out = PairOutput(*names, harmonised=j.table.reset_index(drop=True), error=j.error)
            elapsed = 0.0
        else:
            got = found.get(i) or read_part(parts / f"{fps[i]}.parquet", fps[i])
            if got is None:
                msg = f"pair {j.exposure.id} -> {j.outcome.id}: no result part was written"
                raise RuntimeError(msg)
            updates, meta = got
            out = PairOutput(
                *names,
                harmonised=_merge(j.table, updates),
                estimates=meta["estimates"],
                diagnostics=meta["diagnostics"],
                heterogeneity=meta["heterogeneity"],
                leave_one_out=meta["leave_one_out"],
                single_snp=meta["single_snp"],
                skipped=meta["skipped"],
                error=meta["error"],
                elapsed_s=meta["elapsed_s"],
            )
            elapsed = meta["elapsed_s"]
        outputs.append(out)
        log.append(
            {
                **keys,
                "status": "failed" if out.error else "ok",
                "error": out.error,
                "nsnp": int(out.harmonised["keep"].astype(bool).sum())
                if "keep" in out.harmonised
                else 0,
                "elapsed_s": elapsed,
                "reused": found.get(i) is not None,
            }
        )
    return outputs, log


def _prune(parts: Path, keep: set[str]) -> None:
    """Remove parts of pairs no longer in the study, and leftovers of killed writes."""
    for p in parts.iterdir():
        stem = p.name.split(".", 1)[0]
        if p.name.endswith(".parquet") and stem in keep:
            continue
        if p.name.startswith("input-") or ".tmp-" in p.name or p.suffix == ".parquet":
            p.unlink(missing_ok=True)
