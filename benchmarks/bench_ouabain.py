"""How long the ouabain run-down takes in wall time: the `ouabain` preset (pumps blocked, a cell 4×
thinner) from its start until V comes within 5 mV of the Donnan potential.

    .venv/bin/python benchmarks/bench_ouabain.py [--preset ouabain] [--limit-s 300] [--set KEY=VALUE]

Steps the preset in chunks of 2000 steps (50 ns) and prints, every 30 s of wall time, the model
time, V (mean of the last 10 chunks, 500 ns), the GHK and Donnan potentials of the box's contents
now; then the wall time (start-up and compiling included) at which that mean first came within
5 mV of the Donnan potential, or that it did not within --limit-s.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from simulation.core.config import load  # noqa: E402
from simulation.core.model import Simulation  # noqa: E402

WITHIN_mV = 5.0
CHUNK = 2000
MEAN_OF = 10


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="ouabain")
    p.add_argument("--limit-s", type=float, default=300.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    t0 = time.perf_counter()
    sim = Simulation(load(args.preset, None, args.overrides), seed=args.seed)
    print(f"{args.preset}: {sim.n_particles} particles, Donnan at the start {sim.donnan_mV():.1f} mV, "
          f"GHK {sim.theory()['V_GHK_mV']:.1f} mV", flush=True)
    vs, last_print, reached = [], 0.0, None
    while True:
        sim.step(CHUNK)
        vs.append(sim.v_mV)
        wall = time.perf_counter() - t0
        v = float(np.mean(vs[-MEAN_OF:]))
        donnan = sim.donnan_mV()
        if reached is None and len(vs) >= MEAN_OF and abs(v - donnan) <= WITHIN_mV:
            reached = (wall, sim.time_ns, v, donnan)
        if wall - last_print >= 30.0 or reached is not None or wall >= args.limit_s:
            print(f"{wall:6.1f} s  t = {sim.time_ns / 1000:6.2f} µs  V {v:6.1f}  GHK {sim.theory()['V_GHK_mV']:6.1f}  "
                  f"Donnan {donnan:6.1f} mV  ({sim.step_count / wall:.0f} steps/s)", flush=True)
            last_print = wall
        if reached is not None or wall >= args.limit_s:
            break
    if reached:
        w, t, v, d = reached
        print(f"V within {WITHIN_mV:g} mV of Donnan after {w:.0f} s of wall time (t = {t / 1000:.1f} µs, "
              f"V {v:.1f}, Donnan {d:.1f} mV)")
    else:
        print(f"V not within {WITHIN_mV:g} mV of Donnan after {args.limit_s:g} s (V {v:.1f}, Donnan {donnan:.1f} mV)")


if __name__ == "__main__":
    main()
