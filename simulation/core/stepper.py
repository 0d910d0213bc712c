"""The compiled time step: every phase of one step, in the order `Simulation.step` documents.

A single @njit loop advances k steps without returning to Python, so the live view and headless
runs pay no per-step interpreter cost. It only calls the membrane's and particles' kernels, and
takes its arguments as named bundles: the particles, the species' parameters, the band, the
pores, the pumps, the step's parameters and the counters.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from membrane.channels import gate_channels
from membrane.crossing import Field, Transits, move_particles
from membrane.pump import advance_pumps
from membrane.voltage import voltage_mV
from particles.diffusion import Stirring


class StepParams(NamedTuple):
    seed: int
    capacitance_e_per_mV: float
    field: Field
    stirring: Stirring
    pumps_on: bool
    clamped: bool            # a voltage clamp holds V at command_mV (and `field` has no charging term)
    command_mV: float
    electrode_e: float       # charge the clamp's electrode has put into the inside (e); part of V


class Counters(NamedTuple):
    transits: Transits       # cumulative transits and charge carried, per block (membrane.crossing)
    pump_totals: np.ndarray  # int64[2]: cycles completed, ATP spent
    pump_charge: np.ndarray  # float64[1]: induced inside charge the pumps carried in (e), cumulative


@njit(cache=True)
def advance(n_steps, step0, q_in, particles, kinds, band, pores, pumps, params, counters, near, hard):
    """n_steps steps; updates arrays and counters in place and returns the new Q_in (e), the
    induced charge of the particles. `near` (membrane.crossing.FaceList) is where the move pass
    lists the ions the pumps may bind; `hard` (uint8[n]) its scratch mark of the moves that need
    the whole crossing rule. V is (Q_in + the electrode's charge) / C, or the command potential
    while clamped (the electrode then supplies whatever the ions carry, so V does not move)."""
    seed = params.seed
    for t in range(n_steps):
        step = step0 + t
        # 1. gate channels; 2-3. propose moves and resolve the membrane with V of the last step
        gate_channels(pores, seed, step)
        if params.clamped:
            v = params.command_mV
        else:
            v = voltage_mV(q_in + params.electrode_e, params.capacitance_e_per_mV)
        q_in += move_particles(particles, kinds, band, pores, params.field, params.stirring, v, seed, step,
                               counters.transits, near, hard)
        # 4. pumps advance their cycle
        if params.pumps_on:
            dqp, cycles, atp = advance_pumps(particles, kinds.charge, band, pumps, seed, step, counters.transits,
                                             near)
            q_in += dqp
            counters.pump_charge[0] += dqp
            counters.pump_totals[0] += cycles
            counters.pump_totals[1] += atp
        # 5. the inside charge is now q_in; V is read from it at the next step
    return q_in
