"""Where a step's time goes, and how far the full model is from a bare kernel.

    .venv/bin/python benchmarks/bench_phases.py [--particles N] [--steps K] [--preset NAME] [--set KEY=VALUE]

Times each phase of `Simulation.step` on its own, over the same K steps of the default preset
(gating, moves and crossing, transporters, voltage, recording at the default stride of a headless run),
then the whole step as the model runs it (one compiled loop), then a bare Numba kernel over the
same particles: the same counter-based hash, uniform steps, reflecting walls and a membrane that
is a wall except at its pores, and nothing else (no field, no stirring, no transit counting, no
pump list). All at the thread count the model uses. The ratio is bare kernel / whole step.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from numba import njit, prange

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from membrane.channels import gate_channels  # noqa: E402
from membrane.crossing import move_particles  # noqa: E402
from membrane.transporters import advance_transporters  # noqa: E402
from membrane.voltage import voltage_mV  # noqa: E402
from particles.diffusion import propose_step  # noqa: E402
from particles.rng import STREAM_MOVE, step_key  # noqa: E402
from simulation.core.config import load  # noqa: E402
from simulation.core.model import Simulation  # noqa: E402
from simulation.headless.recorders import TimeseriesRecorder  # noqa: E402
from simulation.headless.run import default_sample_every  # noqa: E402


@njit(cache=True, parallel=True)
def bare_membrane(x, y, species, step_a, width, height, x_left, x_right, pore_every, pore_width, seed, step0,
                  n_steps):
    """Uniform steps from the counter-based hash, reflecting walls, and a band that a move may
    enter only at a pore (every `pore_every` nm along y, `pore_width` wide). Nothing else."""
    n = x.size
    per_pore = 1.0 / pore_every
    for t in range(n_steps):
        key = step_key(seed, step0 + t, STREAM_MOVE)
        for i in prange(n):
            a = step_a[species[i]]
            xo, yo = x[i], y[i]
            xn, yn, _ = propose_step(key, i, xo, yo, a, width, height)
            # without branches (so the loop vectorises): a wall in the band except at the pores
            blocked = (xn >= x_left) & (xn <= x_right) & (yn - pore_every * np.floor(yn * per_pore) > pore_width)
            x[i] = xo if blocked else xn
            y[i] = yo if blocked else yn


def phases(sim: Simulation, steps: int) -> dict[str, float]:
    """Seconds per step of each phase, run phase by phase over `steps` steps."""
    st, k, band, pores, table = sim.state, sim.kinds, sim.band, sim.channels.pores, sim.channels.table
    tr = sim.transporters
    sim.compile()
    near = sim._near
    tally = sim.counters.transits
    out = dict.fromkeys(("gating", "moves and crossing", "transporters", "voltage", "recording"), 0.0)
    q = sim.q_in
    rec = TimeseriesRecorder(sim, None, 1)
    rec.sample()   # compiled (or loaded) before the clock starts
    every = default_sample_every(200_000)
    for t in range(steps + 1):      # the first step untimed: each phase's own compiled function loaded
        s = sim.step_count + t
        if t == 1:
            out = dict.fromkeys(out, 0.0)
        t0 = time.perf_counter()
        v = voltage_mV(q, sim.capacitance_e_per_mV)
        t1 = time.perf_counter()
        gate_channels(pores, table, v, sim.seed, s)
        t2 = time.perf_counter()
        dq = move_particles(st, k, band, pores, sim.field, sim.stirring, v, sim.seed, s, tally, near, sim._hard)
        t3 = time.perf_counter()
        dqp = advance_transporters(st, k.charge, band, tr.arrays, tr.cycles, sim.field,
                                   voltage_mV(q + dq, sim.capacitance_e_per_mV), sim.seed, s, tally, near, tr.tallies)
        t4 = time.perf_counter()
        q += dq + dqp
        out["voltage"] += t1 - t0
        out["gating"] += t2 - t1
        out["moves and crossing"] += t3 - t2
        out["transporters"] += t4 - t3
        if t % every == 0:
            t5 = time.perf_counter()
            rec.sample()
            out["recording"] += time.perf_counter() - t5
    return {name: v / steps for name, v in out.items()}


def compiled(sim: Simulation, steps: int) -> float:
    """Seconds per step of the model as it runs: every phase in one compiled loop (no calls from
    Python between the phases, so it is faster than the sum of the phases timed one by one)."""
    sim._advance(2)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        sim._advance(steps // 3)
        best = min(best, (time.perf_counter() - t0) / (steps // 3))
    return best


def bare(sim: Simulation, steps: int) -> float:
    g = sim.geometry
    st = sim.state
    x, y = st.x.copy(), st.y.copy()
    spacing = sim.config["membrane.site_spacing_nm"]
    width = sim.config["membrane.pore_width_nm"]
    args = (x, y, st.species, sim.kinds.step_a_nm, g.width_nm, g.height_nm, g.x_left_nm, g.x_right_nm, spacing,
            width, 1)
    bare_membrane(*args, 0, 2)
    t0 = time.perf_counter()
    bare_membrane(*args, 2, steps)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--particles", type=int, default=None, help="default: the preset's")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--preset", default="mammalian")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    import numba
    sets = ([f"physics.particles={args.particles}"] if args.particles else []) + args.overrides
    sim = Simulation(load(args.preset, None, sets), seed=1)
    sim.step(50)
    n = sim.n_particles
    per = phases(sim, args.steps)
    total = sum(per.values())
    whole = compiled(sim, args.steps)
    b = bare(sim, args.steps)
    print(f"# {os.cpu_count()} cores, numba {numba.__version__}, {numba.get_num_threads()} threads; preset "
          f"{args.preset}, {n} particles, {args.steps} steps")
    print(f"{'phase':<22} {'µs/step':>9} {'share':>7}")
    for name, v in per.items():
        print(f"{name:<22} {v * 1e6:>9.1f} {100 * v / total:>6.1f}%")
    print(f"{'sum of the phases':<22} {total * 1e6:>9.1f}   (each called from Python)")
    print(f"{'whole step':<22} {whole * 1e6:>9.1f}   ({n / whole / 1e6:.0f} M particle-steps/s; the compiled loop, best of 3)")
    print(f"{'bare kernel':<22} {b * 1e6:>9.1f}   ({n / b / 1e6:.0f} M particle-steps/s)")
    print(f"full model / bare kernel: {100 * b / whole:.0f} %")


if __name__ == "__main__":
    main()
