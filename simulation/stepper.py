"""The compiled time step: every phase of one step, in the order `Simulation.step` documents.

A single @njit loop advances k steps without returning to Python, so the live view and headless
runs pay no per-step interpreter cost. It only calls the membrane's and particles' kernels.
"""
from __future__ import annotations

from numba import njit

from membrane.channels import gate_channels
from membrane.crossing import move_particles
from membrane.pump import advance_pumps
from membrane.voltage import voltage_mV


@njit(cache=True)
def advance(n_steps, step0, seed, q_in, capacitance, vt_mV, field_on, selective, margin,
            x, y, species, flags, held_by, step_a, charge, permeant, width, height,
            x_left, x_right, x_mid, pore_y0, pore_y1, pore_species, pore_open, p_close, p_open,
            pump_y, pump_phase, pump_n_held, pump_slots, pumps_on, p_flip, capture_r,
            crossings, pump_totals):
    """n_steps steps; updates arrays and counters in place and returns the new Q_in (e)."""
    for t in range(n_steps):
        step = step0 + t
        # 1. gate channels; 2-3. propose moves and resolve the membrane with V of the last step
        gate_channels(pore_open, p_close, p_open, seed, step)
        v = voltage_mV(q_in, capacitance)
        dq, e0, e1, e2, i0, i1, i2 = move_particles(
            x, y, species, flags, step_a, charge, permeant, width, height, x_left, x_right, x_mid,
            pore_y0, pore_y1, pore_species, pore_open, v, vt_mV, field_on, selective, margin, seed, step)
        crossings[0, 0] += e0
        crossings[0, 1] += e1
        crossings[0, 2] += e2
        crossings[1, 0] += i0
        crossings[1, 1] += i1
        crossings[1, 2] += i2
        q_in += dq
        # 4. pumps advance their cycle
        if pumps_on:
            dqp, cycles, atp = advance_pumps(x, y, species, flags, held_by, charge, pump_y, pump_phase,
                                             pump_n_held, pump_slots, p_flip, capture_r, x_left, x_right,
                                             x_mid, height, seed, step)
            q_in += dqp
            pump_totals[0] += cycles
            pump_totals[1] += atp
        # 5. the inside charge is now q_in; V = Q_in / C is read from it at the next step
    return q_in
