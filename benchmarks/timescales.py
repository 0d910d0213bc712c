"""How fast the resting potential settles, and how slowly the gradients run down, in wall time.

    .venv/bin/python benchmarks/timescales.py [--preset mammalian] [--steps 40000]

Starts the preset from its neutral state (V = 0), steps it in chunks, and prints: the plateau
(mean V over the second half), the wall time at which the running mean of V over 1000 steps
first comes within 3 mV of the plateau (start-up included), and how far the GHK potential and V
move per wall minute over the run (the run-down of the gradients).
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="mammalian")
    p.add_argument("--steps", type=int, default=40000)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    t0 = time.perf_counter()
    sim = Simulation(load(args.preset, None, args.overrides), seed=1)
    sim.compile()
    chunk = 50
    steps, walls, vs, ghk = [], [], [], []
    while sim.step_count < args.steps:
        sim.step(chunk)
        steps.append(sim.step_count)
        walls.append(time.perf_counter() - t0)
        vs.append(sim.v_mV)
        if sim.step_count % 2000 == 0:
            ghk.append((walls[-1], sim.theory()["V_GHK_mV"]))
    steps, walls, vs = np.array(steps), np.array(walls), np.array(vs)
    plateau = vs[len(vs) // 2:].mean()
    k = 1000 // chunk
    running = np.convolve(vs, np.ones(k) / k, mode="valid")
    inside = np.flatnonzero(np.abs(running - plateau) <= 3.0)
    settle_i = inside[0] + k - 1 if inside.size else None
    rate = args.steps / (walls[-1] - walls[0])
    print(f"{args.preset}: {sim.n_particles} particles, {rate:.0f} steps/s, start-up {walls[0]:.2f} s")
    print(f"plateau (second half) {plateau:.1f} mV; V std {vs[len(vs) // 2:].std():.1f} mV")
    if settle_i is not None:
        print(f"running mean within 3 mV of the plateau at step {steps[settle_i]} = {walls[settle_i]:.1f} s wall "
              f"(simulated {steps[settle_i] * sim.dt_ns:.0f} ns)")
    g = np.array(ghk)
    if len(g) > 2:
        slope = np.polyfit(g[:, 0], g[:, 1], 1)[0] * 60
        print(f"GHK potential drifts {slope:+.1f} mV per wall minute over the run "
              f"({g[0, 1]:.1f} -> {g[-1, 1]:.1f} mV); Donnan {sim.theory()['V_Donnan_mV']:.1f} mV")


if __name__ == "__main__":
    main()
