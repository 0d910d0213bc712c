"""The crossing rule: propose Brownian moves, resolve walls and pores, Metropolis on the field.

The potential is φ = V for x < x_left, 0 for x > x_right, linear across the band (Goldman's
constant field). A move that changes a particle's energy z·φ is accepted with probability
min(1, exp(−z·Δφ / V_T)); in the bulk Δφ = 0, so the field acts only in a pore. The membrane is
a wall except at pores: a particle may enter the band only into an open pore of its own species,
and a closed pore holds still whatever is inside it (no ion enters, leaves or moves in it until it
reopens). So in every gate state the rule is symmetric and detailed balance holds, and a pore open
a fraction p of the time passes exactly p times the ions of an open one, however fast it flickers
compared with the time an ion takes to cross it. Inside a pore its side walls reflect.
Nothing ever jumps the band: the step half-width is a fraction of the band's thickness.

Unidirectional fluxes are counted as tracer fluxes between the two reservoirs: an ion counts as
efflux when it reaches the outside bulk beyond `margin` nm from the membrane having last been in
the inside bulk beyond `margin` (and the reverse for influx). An ion that leaves a pore and
re-enters it at once (frequent in 2D) is not counted twice, so Ussing's flux ratio applies.
Pumps clear these marks on the ions they carry, so only crossings through channels count.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from particles.diffusion import propose_step
from particles.rng import STREAM_METROPOLIS, STREAM_MOVE, draw, step_key, unit
from particles.state import FAR_IN, FAR_OUT, HELD


@njit(cache=True, inline="always")
def potential_mV(x, v_mV, x_left, x_right):
    """Constant-field profile: V inside, 0 outside, linear across the band."""
    if x < x_left:
        return v_mV
    if x > x_right:
        return 0.0
    return v_mV * (x_right - x) / (x_right - x_left)


@njit(cache=True, inline="always")
def pore_index(y, pore_y0, pore_y1):
    """Index of the pore whose span [y0, y1] holds y (pores sorted, disjoint), or -1."""
    lo = 0
    hi = pore_y0.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if pore_y0[mid] <= y:
            lo = mid + 1
        else:
            hi = mid
    j = lo - 1
    if j >= 0 and y <= pore_y1[j]:
        return j
    return -1


@njit(cache=True, parallel=True)
def move_particles(x, y, species, flags, step_a, charge, permeant, width, height,
                   x_left, x_right, x_mid, pore_y0, pore_y1, pore_species, pore_open,
                   v_mV, vt_mV, field_on, selective, margin, seed, step):
    """One Brownian step of every free particle, resolved against the membrane.

    Returns (dQ_in, K, Na, Cl effluxes, K, Na, Cl influxes): the change of the inside charge from
    particles crossing the mid-line, and the reservoir-to-reservoir transits completed this step.
    """
    far_in = x_left - margin
    far_out = x_right + margin
    key = step_key(seed, step, STREAM_MOVE)
    mkey = step_key(seed, step, STREAM_METROPOLIS)
    dq = 0
    e0 = 0
    e1 = 0
    e2 = 0
    i0 = 0
    i1 = 0
    i2 = 0
    for i in prange(x.size):
        f = flags[i]
        if f & HELD:
            continue
        s = species[i]
        a = step_a[s]
        if a == 0.0:
            continue
        xo = x[i]
        yo = y[i]
        xn, yn, _ = propose_step(key, i, xo, yo, a, width, height)
        if (xn < x_left and xo < x_left) or (xn > x_right and xo > x_right):
            x[i] = xn  # bulk to bulk: plain Brownian motion
            y[i] = yn
            if xn < far_in:
                if not (f & FAR_IN):
                    flags[i] = FAR_IN
                    if f & FAR_OUT:
                        if s == 0:
                            i0 += 1
                        elif s == 1:
                            i1 += 1
                        elif s == 2:
                            i2 += 1
            elif xn > far_out:
                if not (f & FAR_OUT):
                    flags[i] = FAR_OUT
                    if f & FAR_IN:
                        if s == 0:
                            e0 += 1
                        elif s == 1:
                            e1 += 1
                        elif s == 2:
                            e2 += 1
            continue
        old_in = xo >= x_left and xo <= x_right
        new_in = xn >= x_left and xn <= x_right
        if not old_in and not new_in:
            continue  # a jump over the band: rejected (unreachable while a < thickness)
        if old_in:
            jo = pore_index(yo, pore_y0, pore_y1)
            if jo < 0 or pore_open[jo] == 0:
                continue  # a closed pore holds its ions still
            if new_in:
                if yn < pore_y0[jo]:
                    yn = 2.0 * pore_y0[jo] - yn
                elif yn > pore_y1[jo]:
                    yn = 2.0 * pore_y1[jo] - yn
        else:
            j = pore_index(yn, pore_y0, pore_y1)
            if j < 0 or pore_open[j] == 0 or not permeant[s]:
                continue
            if selective and pore_species[j] != s:
                continue
        z = charge[s]
        if field_on:
            de = z * (potential_mV(xn, v_mV, x_left, x_right) - potential_mV(xo, v_mV, x_left, x_right))
            if de > 0.0 and unit(draw(mkey, i)) >= np.exp(-de / vt_mV):
                continue
        x[i] = xn
        y[i] = yn
        if (xo < x_mid) != (xn < x_mid):
            dq += z if xn < x_mid else -z
    return dq, e0, e1, e2, i0, i1, i2
