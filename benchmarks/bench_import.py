"""Import speed: ``Store.import_gwas`` on a gzip GWAS vs DuckDB's own ``read_csv``.

Generates a GWAS-SSF-like gzip file of N rows (default 10 million; cached in
benchmarks/_work/), then times in the same run:

* baseline: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (DuckDB's
  auto-detecting reader, all columns materialised);
* mrkit: ``Store.import_gwas`` (sniff, parse, validate, normalise, sort by
  chr/pos, write Parquet, SHA-256, commit), in a child process so that its
  peak memory (ru_maxrss) is measured alone;
* the instrument query ``Store.instruments(id, p=5e-8)`` on the stored table.

Usage: ``.venv/bin/python benchmarks/bench_import.py [--rows N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import gzip
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
    """Write a GWAS-SSF-like gzip file of ``n`` rows (sorted by chr, pos)."""
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".partial")
    chunk = 1_000_000
    bases = np.array(list("ACGT"))
    with gzip.open(tmp, "wt", compresslevel=4) as fh:
        fh.write(
            "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\t"
            "standard_error\teffect_allele_frequency\tp_value\trsid\tn\n"
        )
        done = 0
        while done < n:
            m = min(chunk, n - done)
            idx = np.arange(done, done + m)
            chrom = 1 + idx * 22 // n
            pos = 10_000 + (idx - (chrom - 1) * n // 22) * 97
            ea = rng.integers(0, 4, m)
            oa = (ea + rng.integers(1, 4, m)) % 4
            se = rng.uniform(0.005, 0.05, m)
            z = rng.standard_normal(m)
            hit = rng.random(m) < 2e-4
            z[hit] *= 12
            beta = z * se
            from scipy.special import log_ndtr

            log10p = -(log_ndtr(-np.abs(z)) + np.log(2)) / np.log(10)
            p = 10.0**-log10p
            eaf = rng.uniform(0.01, 0.99, m)
            cols = [
                chrom.astype(str),
                pos.astype(str),
                bases[ea],
                bases[oa],
                np.char.mod("%.5g", beta),
                np.char.mod("%.5g", se),
                np.char.mod("%.4f", eaf),
                np.char.mod("%.4g", p),
                np.char.add("rs", (idx + 1).astype(str)),
                np.full(m, "250000"),
            ]
            lines = cols[0]
            for c in cols[1:]:
                lines = np.char.add(np.char.add(lines, "\t"), c)
            fh.write("\n".join(lines.tolist()) + "\n")
            done += m
    tmp.rename(path)


def _child_import(file: str, store: str) -> None:
    from mrkit.store import Store

    t0 = time.perf_counter()
    rec = Store(store).import_gwas(file, id="bench", trait="bench", build="GRCh37")
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    print(json.dumps({"seconds": dt, "peak_mib": peak, "rows": rec["rows"]}))


def _child_duckdb(file: str) -> None:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{file}')")
    dt = time.perf_counter() - t0
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "peak_mib": peak, "rows": rows}))


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
        best_d = d if best_d is None or d["seconds"] < best_d["seconds"] else best_d
        best_m = m if best_m is None or m["seconds"] < best_m["seconds"] else best_m
    assert best_d["rows"] == best_m["rows"] == a.rows, (best_d, best_m)
    ratio = best_m["seconds"] / best_d["seconds"]
    print(
        f"duckdb read_csv : {best_d['seconds']:7.2f} s   peak {best_d['peak_mib']:7.0f} MiB"
    )
    print(
        f"mrkit import    : {best_m['seconds']:7.2f} s   peak {best_m['peak_mib']:7.0f} MiB"
    )
    print(f"ratio mrkit / duckdb: {ratio:.2f}x (goal <= 1.3x); peak memory goal <= 3072 MiB")
    from mrkit.store import Store

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
