"""The charge-to-voltage step, and the counts the recorders read.

V = Q_in / C_m, with Q_in the net charge (in e) of every particle left of the membrane mid-line
(held ions included, where the pump holds them). The model updates Q_in incrementally from the
crossings each kernel reports; `inside_charge` recounts it from scratch (tests check they agree).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from particles.species import N_SPECIES

IN, MEM, OUT = 0, 1, 2


@njit(cache=True)
def voltage_mV(q_in_e, capacitance_e_per_mV):
    """V = Q_in / C_m: the one place the voltage is computed."""
    return q_in_e / capacitance_e_per_mV


@njit(cache=True, parallel=True)
def inside_charge(x, species, charge, x_mid):
    """Net charge (e) of every particle left of the mid-line."""
    q = 0
    for i in prange(x.size):
        if x[i] < x_mid:
            q += charge[species[i]]
    return q


@njit(cache=True)
def region_counts(x, species, x_left, x_right):
    """Counts[species, region]: region 0 inside bulk, 1 membrane band (pores, pumps), 2 outside."""
    out = np.zeros((N_SPECIES, 3), dtype=np.int64)
    for i in range(x.size):
        xi = x[i]
        r = IN if xi < x_left else (OUT if xi > x_right else MEM)
        out[species[i], r] += 1
    return out
