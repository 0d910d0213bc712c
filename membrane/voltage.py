"""The charge-to-voltage step, and the counts the recorders read.

V = Q_in / C_m, with Q_in the charge (in e) induced on the inside (Ramo–Shockley): every free
particle counts z·w(x), w = 1 in the inside bulk, 0 in the outside bulk and linear across the band
(`membrane.crossing.inside_share`); an ion held by a pump counts fully on the side of the mid-line
it is held on. The model updates Q_in incrementally from what each kernel reports;
`inside_charge` recounts it from scratch (tests check they agree). Conservation is checked on the
integer counts (`mid_line_charge` and the species totals), never on Q_in.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from membrane.crossing import inside_share
from particles.state import HELD


IN, MEM, OUT = 0, 1, 2


@njit(cache=True)
def voltage_mV(q_in_e, capacitance_e_per_mV):
    """V = Q_in / C_m: the one place the voltage is computed."""
    return q_in_e / capacitance_e_per_mV


@njit(cache=True)
def inside_charge(x, species, flags, charge, x_left, x_right):
    """Q_in recounted: Σ z·w over free particles, held ones counted by the side they are held on."""
    x_mid = 0.5 * (x_left + x_right)
    q = 0.0
    for i in range(x.size):
        z = charge[species[i]]
        if flags[i] & HELD:
            if x[i] < x_mid:
                q += z
        else:
            q += z * inside_share(x[i], x_left, x_right)
    return q


@njit(cache=True, parallel=True)
def mid_line_charge(x, species, charge, x_mid):
    """Net charge (e) of every particle left of the mid-line: an integer, for conservation checks."""
    q = 0
    for i in prange(x.size):
        if x[i] < x_mid:
            q += charge[species[i]]
    return q


@njit(cache=True)
def region_counts(x, species, n_species, x_left, x_right):
    """Counts[species, region]: region 0 inside bulk, 1 membrane band (pores, pumps), 2 outside.
    (`n_species` is an argument, not the table's global: Numba's cache would keep a stale one.)"""
    out = np.zeros((n_species, 3), dtype=np.int64)
    for i in range(x.size):
        xi = x[i]
        r = IN if xi < x_left else (OUT if xi > x_right else MEM)
        out[species[i], r] += 1
    return out
