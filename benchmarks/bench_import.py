"""Import speed: ``Store.import_gwas`` on a gzip GWAS vs DuckDB's own ``read_csv``.

Generates a GWAS-SSF-like gzip file of N rows (default 10 million; cached in
benchmarks/_work/), then times in the same run:

* baseline: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (DuckDB's
  auto-detecting reader, all columns materialised);
* mrkit: ``Store.import_gwas`` (sniff, inflate ahead with ISA-L into plain
  chunks, parse, validate, normalise, check the chr/pos order, write Parquet
  and the top-hits file, SHA-256, commit), in a child process so that its
  peak memory (VmHWM) is measured alone;
* the instrument query ``Store.instruments(id, p=5e-8)`` on the stored table.

Each repeat runs both, one after the other, and the best time of each is
reported; the load average is printed before and after because the machine
may be shared.

Usage: ``.venv/bin/python benchmarks/bench_import.py [--rows N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORK = Path(__file__).resolve().parent / "_work"


def make_file(n: int, path: Path, seed: int = 1) -> None:
    """Write a GWAS-SSF-like gzip file of ``n`` rows (sorted by chr, pos), with DuckDB."""
    import duckdb

    tmp = path.with_suffix(".partial.gz")
    con = duckdb.connect()
    con.execute(f"SELECT setseed({1 / (seed + 1)})")
    con.execute(
        f"""COPY (
        SELECT 1 + i * 22 // {n} AS chromosome,
               10000 + (i - (i * 22 // {n}) * {n} // 22) * 97 AS base_pair_location,
               ['A', 'C', 'G', 'T'][1 + (hash(i) % 4)::INT] AS effect_allele,
               ['C', 'G', 'T', 'A'][1 + (hash(i) % 4)::INT] AS other_allele,
               format('{{:.5g}}', (random() - 0.5) * 0.1) AS beta,
               format('{{:.5g}}', 0.005 + random() * 0.045) AS standard_error,
               format('{{:.4f}}', 0.01 + random() * 0.98) AS effect_allele_frequency,
               format('{{:.4g}}', CASE WHEN random() < 2e-4 THEN pow(10, -8 - random() * 40)
                                       ELSE random() END) AS p_value,
               'rs' || (i + 1) AS rsid,
               250000 AS n
        FROM range({n}) t(i)
    ) TO '{tmp}' (FORMAT csv, DELIMITER '\t', HEADER, COMPRESSION gzip)"""
    )
    con.close()
    tmp.rename(path)


def _peak_mib() -> float:
    """Peak resident memory of this process (VmHWM, reset at exec unlike ru_maxrss)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _child_import(file: str, store: str) -> None:
    from mrkit.store.catalog import Store

    c0, t0 = _cpu(), time.perf_counter()
    rec = Store(store).import_gwas(file, id="bench", trait="bench", build="GRCh37")
    dt, cpu = time.perf_counter() - t0, _cpu() - c0
    peak = _peak_mib()
    print(json.dumps({"seconds": dt, "cpu": cpu, "peak_mib": peak, "rows": rec["rows"]}))


def _child_duckdb(file: str) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    c0, t0 = _cpu(), time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{file}')")
    dt, cpu = time.perf_counter() - t0, _cpu() - c0
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    peak = _peak_mib()
    print(json.dumps({"seconds": dt, "cpu": cpu, "peak_mib": peak, "rows": rows}))


def _run(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        if a.child[0] == "import":
            _child_import(a.child[1], a.child[2])
        else:
            _child_duckdb(a.child[1])
        return
    WORK.mkdir(exist_ok=True)
    file = WORK / f"gwas_{a.rows}.tsv.gz"
    if not file.exists():
        t0 = time.perf_counter()
        make_file(a.rows, file)
        print(f"generated {file.name} in {time.perf_counter() - t0:.1f} s")
    size = file.stat().st_size / 2**20
    print(f"file: {file.name}, {a.rows:,} rows, {size:.0f} MiB gzip, {os.cpu_count()} CPUs")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    store = WORK / "bench.duckdb"
    best_d = best_m = None
    for _ in range(a.repeat):
        d = _run(["--child", "duckdb", str(file)])
        for p in (store, Path(str(store) + ".d"), Path(str(store) + ".wal")):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        m = _run(["--child", "import", str(file), str(store)])
        print(
            f"  run: duckdb {d['seconds']:.2f} s (cpu {d['cpu']:.2f} s), "
            f"mrkit {m['seconds']:.2f} s (cpu {m['cpu']:.2f} s)",
            flush=True,
        )
        best_d = d if best_d is None or d["seconds"] < best_d["seconds"] else best_d
        best_m = m if best_m is None or m["seconds"] < best_m["seconds"] else best_m
    assert best_d["rows"] == best_m["rows"] == a.rows, (best_d, best_m)
    ratio = best_m["seconds"] / best_d["seconds"]
    for label, r in (("duckdb read_csv", best_d), ("mrkit import   ", best_m)):
        print(
            f"{label}: {r['seconds']:7.2f} s (cpu {r['cpu']:6.2f} s)   "
            f"peak RSS {r['peak_mib']:6.0f} MiB"
        )
    print(f"ratio mrkit / duckdb: {ratio:.2f}x (goal <= 1.3x); peak memory goal <= 3072 MiB")
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    from mrkit.store.catalog import Store

    st = Store(store, read_only=True)
    st.instruments("bench")  # warm the OS cache
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        inst = st.instruments("bench", p=5e-8)
        times.append(time.perf_counter() - t0)
    print(
        f"instruments(p<5e-8): {len(inst):,} variants, median {np.median(times) * 1000:.0f} ms "
        f"(best {min(times) * 1000:.0f} ms) on {a.rows:,} stored rows"
    )


if __name__ == "__main__":
    main()
