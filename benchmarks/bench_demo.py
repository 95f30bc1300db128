"""The default demo's wall time and peak memory, broken down by stage.

Runs ``mrkit simulate`` (timed, cached data removed first) and ``mrkit run`` on
``examples/brain-iron-ms`` in a scratch copy, then prints the manifest's stage
timings and the peak resident memory of each step (its own process, so the
figures do not mix). Goal (issue 6): under 90 s after installation on 2 cores.
Run: ``.venv/bin/python benchmarks/bench_demo.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "brain-iron-ms"
MRKIT = Path(sys.executable).with_name("mrkit")


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t0
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    return wall, peak_kib / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "demo"
        work.mkdir()
        for name in ("study.toml", "simulation.toml"):
            shutil.copy(DEMO / name, work / name)
        sim = _timed(
            [
                str(MRKIT),
                "simulate",
                "--config",
                str(work / "simulation.toml"),
                "--out",
                str(work / "data"),
            ]
        )
        run = _timed([str(MRKIT), "run", str(work / "study.toml"), "--quiet"])
        manifest = json.loads((work / "results" / "manifest.json").read_text())
    print("stage            seconds")
    print(f"simulate         {sim[0]:8.2f}   (peak {sim[1]:.0f} MiB)")
    for stage, secs in manifest["timings_s"].items():
        print(f"  run/{stage:<11} {secs:8.2f}")
    print(f"run (total)      {run[0]:8.2f}   (peak {run[1]:.0f} MiB)")
    total = sim[0] + run[0]
    print(f"demo total       {total:8.2f}   goal < 90 s -> {'met' if total < 90 else 'NOT met'}")
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
