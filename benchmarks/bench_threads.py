"""Thread scaling of the model, on a quiet machine and with one other busy process.

    .venv/bin/python benchmarks/bench_threads.py [--sizes 20000,160000] [--seconds 4] [--calls-of 500]

For each size (the default preset with `physics.particles` set): steps per second on one thread,
on every thread, and as `Simulation.step` runs them (the thread governor choosing, trials and all,
from a fresh start), each over about `--seconds`, in calls of `--calls-of` steps (a headless run
steps in calls of up to 2000, the live view in calls of 10). Then the same with a competing
process spinning on one core (a stand-in for a browser or a projector driver).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numba  # noqa: E402

from simulation.core.config import load  # noqa: E402
from simulation.core.model import Simulation  # noqa: E402
from simulation.core.threads import ThreadGovernor  # noqa: E402


def rate(sim: Simulation, seconds: float, calls_of: int, threads: int | None) -> float:
    """Steps per second over about `seconds`: at a fixed thread count, or governed (None)."""
    if threads is None:
        sim.threads = ThreadGovernor(numba.config.NUMBA_NUM_THREADS)
        call = sim.step
    else:
        numba.set_num_threads(threads)
        call = sim._advance
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        call(calls_of)
        done += calls_of
    return done / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="20000,160000")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--calls-of", type=int, default=500)
    args = p.parse_args()
    most = numba.config.NUMBA_NUM_THREADS
    print(f"# {os.cpu_count()} cores, numba {numba.__version__}, "
          f"up to {most} threads; calls of {args.calls_of} steps, ~{args.seconds:g} s each")
    print(f"{'particles':>10} {'machine':>8} {'1 thread':>10} {f'{most} threads':>10} {'governed':>10} "
          f"{'governed/1':>11}   steps/s")
    sims = {n: Simulation(load(overrides=[f"physics.particles={n}"]), seed=1) for n in map(int, args.sizes.split(","))}
    for sim in sims.values():
        sim.step(20)
    for machine in ("quiet", "busy"):
        rival = None
        if machine == "busy":
            rival = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(0.5)
        try:
            for n, sim in sims.items():
                one = rate(sim, args.seconds, args.calls_of, 1)
                many = rate(sim, args.seconds, args.calls_of, most)
                gov = rate(sim, args.seconds, args.calls_of, None)
                print(f"{n:>10} {machine:>8} {one:>10.0f} {many:>10.0f} {gov:>10.0f} {gov / one:>10.2f}x", flush=True)
        finally:
            if rival is not None:
                rival.kill()


if __name__ == "__main__":
    main()
