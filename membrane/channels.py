"""Leak channels: how many of each type, where, and their two-state stochastic gating.

A channel of species s is a pore `pore_width_nm` wide through the band. Its permeability is
proportional to p_open · D_s (the pore geometry is the same for every type, and so is the access
to its mouths, which scales with D as well). Relative permeability 1 is the permeability of
`channels_per_unit_permeability` K⁺ channels of this config, so a species with relative
permeability P_s gets n_s = round(P_s · N_unit · p_K · D_K / (p_s · D_s)) channels. The achieved
effective permeability after rounding is reported; the measured one comes from the fluxes.

Gating is a two-state Markov chain per channel: closing rate 1/τ_open, opening rate
p/(1-p)/τ_open, so the open fraction is p and the mean open time τ_open.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from particles.rng import STREAM_GATING, STREAM_PLACE, draw, step_key, unit, uniform_array


def channel_count(rel_perm: float, p_open: float, d_nm2_per_ns: float, unit_permeability: float) -> int:
    """Channels of one type needed for `rel_perm` (unit_permeability = N_unit · p_K · D_K)."""
    if rel_perm <= 0.0 or p_open <= 0.0:
        return 0
    return int(round(rel_perm * unit_permeability / (p_open * d_nm2_per_ns)))


def achieved_permeability(n: int, p_open: float, d_nm2_per_ns: float, unit_permeability: float) -> float:
    return n * p_open * d_nm2_per_ns / unit_permeability


def step_probabilities(p_open: float, mean_open_ns: float, dt_ns: float) -> tuple[float, float]:
    """Per-step probabilities (close if open, open if closed) of the two-state chain."""
    if p_open >= 1.0:
        return 0.0, 1.0
    k_close = 1.0 / mean_open_ns
    k_open = k_close * p_open / (1.0 - p_open)
    return -np.expm1(-k_close * dt_ns), -np.expm1(-k_open * dt_ns)


def initial_open(p_open: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Open/closed at start, drawn from the stationary distribution."""
    u = uniform_array(seed, STREAM_PLACE, 1000 + salt, p_open.size)
    return (u < p_open).astype(np.uint8)


@njit(cache=True)
def gate_channels(is_open, p_close, p_open, seed, step):
    """One step of every channel's two-state Markov chain."""
    key = step_key(seed, step, STREAM_GATING)
    for j in range(is_open.size):
        u = unit(draw(key, j))
        if is_open[j]:
            if u < p_close[j]:
                is_open[j] = 0
        elif u < p_open[j]:
            is_open[j] = 1
