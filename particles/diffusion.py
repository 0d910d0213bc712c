"""Brownian steps with reflecting box walls.

Each mobile particle proposes, per axis, a step uniform on (-a, a) with a = sqrt(6·D·dt), so the
variance is a²/3 = 2·D·dt and the mean squared displacement grows as 4·D·t in 2D. The uniform
kernel is symmetric (all Metropolis needs) and bounded, so no step can jump the membrane band.
`propose_step` is shared by the full model's kernel (`membrane.crossing`); `diffuse_free` is the
bare kernel without a membrane (tests and benchmarks).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from particles.rng import STREAM_MOVE, draw, hi_symmetric, lo_symmetric, step_key


def step_half_width_nm(d_nm2_per_ns: np.ndarray, dt_ns: float) -> np.ndarray:
    """a = sqrt(6 D dt): the half-width of the uniform step per species."""
    return np.sqrt(6.0 * np.asarray(d_nm2_per_ns, dtype=np.float64) * dt_ns)


@njit(cache=True, inline="always")
def reflect(v, upper):
    """Mirror a coordinate back into [0, upper] (one reflection suffices: steps << box)."""
    if v < 0.0:
        return -v
    if v > upper:
        return 2.0 * upper - v
    return v


@njit(cache=True, inline="always")
def propose_step(key, i, x, y, a, width, height):
    """Proposed position of particle i under the step key, with the outer walls reflecting."""
    h = draw(key, i)
    return reflect(x + a * hi_symmetric(h), width), reflect(y + a * lo_symmetric(h), height), h


@njit(cache=True, parallel=True)
def diffuse_free(x, y, species, step_a, width, height, seed, step, n_steps):
    """n_steps of free diffusion in a box without membrane; returns nothing, moves in place."""
    n = x.size
    for t in range(n_steps):
        key = step_key(seed, step + t, STREAM_MOVE)
        for i in prange(n):
            a = step_a[species[i]]
            if a > 0.0:
                xn, yn, _ = propose_step(key, i, x[i], y[i], a, width, height)
                x[i] = xn
                y[i] = yn
