"""Thread scaling of the model, on a quiet machine and with one other busy process.

    .venv/bin/python benchmarks/bench_threads.py [--sizes 20000,160000] [--seconds 4] [--calls-of 500]

For each size (the default preset with `physics.particles` set): steps per second on one thread,
on every thread, and as `Simulation.step` runs them (the thread governor choosing, trials and all,
from a fresh start), each over about `--seconds`, in calls of `--calls-of` steps (a headless run
steps in calls of up to 2000, the live view in calls of 10). Then the same with a competing
process spinning on one core (a stand-in for a browser or a projector driver). Last, what a user
sees: `main.py run` as a whole process, with every thread (NUMBA_NUM_THREADS = all cores, the
governor choosing) against one (NUMBA_NUM_THREADS=1), in turn, `--pairs` pairs of runs of at least
10 s each with the rival spinning; their wall-time ratio, pair by pair, and its median (below 1:
more threads were faster).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
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


def run_wall(threads: int, particles: int, steps: int, out: str) -> float:
    """Wall seconds of `main.py run` as a whole process on `threads` Numba threads."""
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.join(os.path.dirname(__file__), "..", "main.py"), "run", "--steps", str(steps),
           "--set", f"physics.particles={particles}", "--out", out, "--overwrite", "--no-progress"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:       # the run's own notes (a short run of a small cell warns) only when it failed
        sys.exit(f"bench_threads: {' '.join(cmd)} failed:\n{r.stderr}")
    return wall


def pairs(particles: int, steps: int, n: int, most: int) -> None:
    """n pairs of whole runs, all threads then one, with a rival spinning on one core."""
    rival = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        ratios = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(n):
                many = run_wall(most, particles, steps, os.path.join(tmp, "many"))
                one = run_wall(1, particles, steps, os.path.join(tmp, "one"))
                ratios.append(many / one)
                print(f"{particles:>10} {steps:>8} {many:>9.1f} s {one:>9.1f} s {many / one:>8.3f}", flush=True)
        print(f"median wall ratio, {most} threads / 1 thread, busy: {statistics.median(ratios):.3f}")
    finally:
        rival.kill()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="20000,160000")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--calls-of", type=int, default=500)
    p.add_argument("--pairs", type=int, default=3, help="pairs of whole runs, all threads against one (0: none)")
    p.add_argument("--pair-particles", type=int, default=20000)
    p.add_argument("--pair-steps", type=int, default=120000, help="long enough for 10 s on one thread")
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
    if args.pairs:
        print(f"\n# main.py run as a whole process, a rival spinning on one core: {most} threads, then 1")
        print(f"{'particles':>10} {'steps':>8} {f'{most} threads':>11} {'1 thread':>11} {'ratio':>8}")
        pairs(args.pair_particles, args.pair_steps, args.pairs, most)


if __name__ == "__main__":
    main()
