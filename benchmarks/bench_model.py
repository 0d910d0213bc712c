"""Particle-steps per second of the full model against a bare NumPy diffusion of the same particles.

    .venv/bin/python benchmarks/bench_model.py [--sizes 10000,100000,1000000] [--seconds 3]

The full model is the default preset (membrane, gating, pumps, voltage, transit counting) with
`physics.particles` set to each size; compilation is excluded (it is cached after the first run).
The NumPy baseline moves the same number of particles with Gaussian steps and reflecting walls,
vectorised, with numpy's default generator. The bare Numba line is the free-diffusion kernel
(`particles.diffusion.diffuse_free`): the same random numbers and steps, no membrane.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from particles.diffusion import diffuse_free  # noqa: E402
from simulation.core.config import load  # noqa: E402
from simulation.core.model import Simulation  # noqa: E402


def timed(fn, n_particles: int, seconds: float) -> float:
    """Run fn(steps) with growing step counts until one call lasts `seconds`; particle-steps/s."""
    steps = 10
    while True:
        t0 = time.perf_counter()
        fn(steps)
        dt = time.perf_counter() - t0
        if dt >= seconds or steps > 10_000_000:
            return n_particles * steps / dt
        steps = int(steps * min(10.0, max(2.0, 1.2 * seconds / max(dt, 1e-4))))


def full_model(n: int, seconds: float) -> float:
    sim = Simulation(load(overrides=[f"physics.particles={n}"]), seed=1)
    sim.step(20)  # compile or load from the cache
    return timed(sim.step, sim.n_particles, seconds)


def _particles_in_the_default_box(n: int):
    """(config, width, height, x, y, generator): n particles spread uniformly over the box."""
    cfg = load()
    w, h = cfg["box.width_nm"], cfg["box.height_nm"]
    rng = np.random.default_rng(1)
    return cfg, w, h, rng.uniform(0, w, n), rng.uniform(0, h, n), rng


def numpy_diffusion(n: int, seconds: float) -> float:
    cfg, w, h, x, y, rng = _particles_in_the_default_box(n)
    sigma = np.sqrt(2 * 1.96 * cfg["physics.dt_ns"])

    def step(k):
        for _ in range(k):
            for u, top in ((x, w), (y, h)):
                u += sigma * rng.standard_normal(n)
                np.abs(u, out=u)
                np.subtract(top, np.abs(top - u), out=u)
    return timed(step, n, seconds)


def numba_diffusion(n: int, seconds: float) -> float:
    cfg, w, h, x, y, _ = _particles_in_the_default_box(n)
    species = np.zeros(n, dtype=np.int8)
    a = np.array([np.sqrt(6 * 1.96 * cfg["physics.dt_ns"])])
    diffuse_free(x, y, species, a, w, h, 1, 0, 1)
    counter = [0]

    def step(k):
        diffuse_free(x, y, species, a, w, h, 1, counter[0], k)
        counter[0] += k
    return timed(step, n, seconds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--seconds", type=float, default=3.0, help="minimum duration of each measurement")
    args = p.parse_args()
    import numba
    print(f"# {os.cpu_count()} cores, numba {numba.__version__} with {numba.get_num_threads()} threads, "
          f"numpy {np.__version__}")
    print(f"{'particles':>10} {'full model':>14} {'bare NumPy':>14} {'model/NumPy':>12} {'bare Numba':>14}")
    print(f"{'':>10} {'M p-steps/s':>14} {'M p-steps/s':>14} {'':>12} {'M p-steps/s':>14}")
    for n in (int(s) for s in args.sizes.split(",")):
        full = full_model(n, args.seconds)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)   # the governor may have left one thread set
        base = numpy_diffusion(n, args.seconds)
        bare = numba_diffusion(n, args.seconds)
        print(f"{n:>10} {full / 1e6:>14.1f} {base / 1e6:>14.1f} {full / base:>11.2f}x {bare / 1e6:>14.1f}", flush=True)


if __name__ == "__main__":
    main()
