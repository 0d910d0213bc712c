"""Brownian steps with reflecting box walls.

Each mobile particle proposes, per axis, a step uniform on (-a, a) with a = sqrt(6·D·dt), so the
variance is a²/3 = 2·D·dt and the mean squared displacement grows as 4·D·t in 2D. The uniform
kernel is symmetric (all Metropolis needs) and bounded, so no step can jump the membrane band.
`propose_step` is shared by the full model's kernel (`membrane.crossing`); `diffuse_free` is the
bare kernel without a membrane (tests and benchmarks).

Stirring: beyond `from_nm` from the membrane's faces the bulk is stirred — the step there is
`scale` times longer in both directions (D times scale²), growing from 1 over `ramp_nm`. It
stands for what a 2D strip of cytoplasm lacks: the volume of a real cell, which carries ions to and
away from a channel's mouth in three dimensions, so the bulk stays well mixed and the membrane, not
the diffusion to it, limits the fluxes. A move between places of different scale is proposed from
a wider or narrower step than its reverse, so it is accepted with the Metropolis–Hastings ratio
of the two proposal densities (`stirred_weights`): the uniform distribution of the bulk stays
stationary, as without stirring. Near the membrane (and in it) the scale is 1, so nothing
changes where the field acts.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from particles.rng import STREAM_MOVE, draw, hi_symmetric, lo_symmetric, step_key


class Stirring(NamedTuple):
    """The stirred far bulk, as the kernels see it."""
    from_nm: float          # distance from the membrane's faces where stirring starts
    per_ramp_nm: float      # 1 / the distance over which the step grows to its full scale
    extra_scale: float      # full scale − 1 (0: no stirring)


NO_STIRRING = Stirring(0.0, 1.0, 0.0)


def stirring(from_nm: float, ramp_nm: float, d_factor: float) -> Stirring:
    """The kernels' bundle from the config's `[stirring]` keys (D × d_factor far from the membrane)."""
    return Stirring(float(from_nm), 1.0 / float(ramp_nm), float(np.sqrt(d_factor)) - 1.0)


@njit(cache=True, inline="always")
def stirred_scale(stir, depth):
    """The factor on the step of a particle `depth` nm from the membrane's face (0 in the band):
    1 up to `from_nm`, growing linearly to its full scale over the ramp (no branches)."""
    return 1.0 + stir.extra_scale * min(1.0, max(0.0, (depth - stir.from_nm) * stir.per_ramp_nm))


@njit(cache=True, inline="always")
def _paths(v_new, v_old, half, upper):
    """In how many ways (0 to 3) a uniform step of half-width `half` with reflecting walls at 0
    and `upper` (one reflection: steps << box) leads from v_old to v_new: the proposal's density
    there is this / (2·half). (Without branches: the move pass's vectorised loop computes it.)"""
    return ((1.0 if abs(v_new - v_old) <= half else 0.0) + (1.0 if v_new + v_old <= half else 0.0)
            + (1.0 if 2.0 * upper - v_new - v_old <= half else 0.0))


@njit(cache=True, inline="always")
def stirred_weights(xo, yo, xn, yn, half_old, half_new, width, height, clear):
    """The Metropolis–Hastings factor q(reverse) / q(forward) of a bulk move whose step half-width
    differs at its two ends, as (num, den): accept when den > 0 and u · den < num (u uniform on
    [0, 1); num ≥ den: always). Uniform squares of side 2·half, so q = paths / (2·half)²; `clear`:
    no wall within reach of either proposal, so one path each way, or none outside the reverse's
    square. (Without divisions or branches: the move pass's vectorised loop computes it for every
    particle, and a division costs as much as the rest.)"""
    if clear:
        inside = max(abs(xn - xo), abs(yn - yo)) <= half_new
        fwd, rev = 1.0, (1.0 if inside else 0.0)
    else:
        fwd = _paths(xn, xo, half_old, width) * _paths(yn, yo, half_old, height)
        rev = _paths(xo, xn, half_new, width) * _paths(yo, yn, half_new, height)
    return rev * (half_old * half_old), fwd * (half_new * half_new)


@njit(cache=True, inline="always")
def stirred_accepts(num, den, u):
    """Whether a move with Metropolis–Hastings factor num / den (`stirred_weights`) is accepted
    given a uniform u; both move rules decide with this one expression, so they agree bit for bit."""
    return (den > 0.0) & ((num >= den) | (u * den < num))


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
