"""How long the README's default I–V curve takes, start to finish, as a user runs it:

    .venv/bin/python benchmarks/bench_iv.py [--steps-per-point 40000] [--workers N]

`main.py iv --from -120 --to 40 --step 10` (17 command potentials) on the default cell, as a whole
process (start-up, the local Dask cluster, every point, the tables and figures), in a temporary
directory; then the points' own stepping time (each run's `wall_s`) and the Numba threads each had.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps-per-point", type=int, default=40000)
    p.add_argument("--workers", type=int, default=None, help="default: the command's (one per core)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "iv"
        cmd = [sys.executable, str(ROOT / "main.py"), "iv", "--from", "-120", "--to", "40", "--step", "10",
               "--steps-per-point", str(args.steps_per_point), "--out", str(out), "--no-progress"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        runs = [json.loads(f.read_text()) for f in sorted((out / "runs").glob("*/summary.json"))]
    points = sum(r["wall_s"] for r in runs)
    threads = sorted({r.get("threads") for r in runs})
    print(f"# {os.cpu_count()} cores; iv --from -120 --to 40 --step 10 --steps-per-point {args.steps_per_point}, "
          f"default cell ({runs[0]['particles']} particles)")
    print(f"{len(runs)} points in {wall:.0f} s ({int(wall // 60)} min {wall % 60:.0f} s) from start to finish; "
          f"the points' stepping {points:.0f} s in all, {points / len(runs):.1f} s each, on {threads} thread(s) each")


if __name__ == "__main__":
    main()
