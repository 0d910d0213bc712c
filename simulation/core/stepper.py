"""The compiled time step: every phase of one step, in the order `Simulation.step` documents.

A single @njit loop advances k steps without returning to Python, so the live view and headless
runs pay no per-step interpreter cost. It only calls the membrane's and particles' kernels, and
takes its arguments as named bundles: the particles, the species' parameters, the band, the
membrane (pores, gates, transporters), the step's parameters and the counters.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from membrane.channels import Pores, gate_channels
from membrane.crossing import Field, Transits, move_particles, single_file_relabel, single_file_scan
from membrane.gating import GateTable, refresh_reversal
from membrane.transporters import Agents, Cycles, Tallies, advance_transporters
from membrane.voltage import voltage_mV
from particles.diffusion import Stirring


class Membrane(NamedTuple):
    """What the membrane holds, as the kernels read it."""
    pores: Pores
    gates: GateTable
    agents: Agents
    cycles: Cycles


class StepParams(NamedTuple):
    seed: int
    capacitance_e_per_mV: float
    field: Field
    stirring: Stirring
    transporters_on: bool    # any transporter type runs and has agents
    clamped: bool            # a voltage clamp holds V at command_mV (and `field` has no charging term)
    command_mV: float
    electrode_e: float       # charge the electrodes (clamp, stimulus) have put into the inside (e); part of V
    stimulus_e: float = 0.0  # charge the stimulus puts in per step (e) ...
    stimulus_offset: int = 0  # ... and the steps it has done so since `electrode_e` was its charge


class Counters(NamedTuple):
    transits: Transits       # cumulative transits and charge carried, per block (membrane.crossing)
    transporters: Tallies    # cumulative cycles, ATP, charge carried per transporter type


@njit(cache=True)
def _v(q_in, params, t):
    """V at the start of step t of this call. The electrode's charge is written as its value when
    the stimulus last changed plus a whole number of its steps, so a run is bit-identical however
    its steps are split into calls."""
    if params.clamped:
        return params.command_mV
    electrode = params.electrode_e + (params.stimulus_offset + t) * params.stimulus_e
    return voltage_mV(q_in + electrode, params.capacitance_e_per_mV)


@njit(cache=True)
def advance(n_steps, step0, q_in, particles, kinds, band, membrane, params, counters, near, hard):
    """n_steps steps; updates arrays and counters in place and returns the new Q_in (e), the
    induced charge of the particles. `near` (membrane.crossing.FaceList) is where the move pass
    lists the ions the transporters may bind; `hard` (uint8[n]) its scratch mark of the moves that
    need the whole crossing rule. V is (Q_in + the electrode's charge) / C, or the command
    potential while clamped (the electrode then supplies whatever the ions carry, so V does not
    move)."""
    seed = params.seed
    gates = membrane.gates
    # single-file pores: the ions in them before each move, for the order of their tracer marks
    single_file = membrane.pores.single_file.any()
    cap = particles.x.size if single_file else 0
    b_i, b_j, b_x = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64), np.empty(cap)
    a_i, a_j, a_x = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64), np.empty(cap)
    m_before = single_file_scan(particles, band, membrane.pores, b_i, b_j, b_x) if single_file else 0
    for t in range(n_steps):
        step = step0 + t
        # 1. gate channels with V of the last step (and the reversal potentials a gate reads,
        # recounted from the bulk at fixed steps, so whatever the calls' lengths)
        v = _v(q_in, params, t)
        if gates.refresh_steps > 0 and step % gates.refresh_steps == 0:
            refresh_reversal(particles, kinds.charge, band, gates, params.field.vt_mV)
        gate_channels(membrane.pores, gates, v, seed, step)
        # 2-3. propose moves and resolve the membrane with V of the last step
        q_in += move_particles(particles, kinds, band, membrane.pores, params.field, params.stirring, v, seed, step,
                               counters.transits, near, hard)
        if single_file:
            m_before = single_file_relabel(particles, band, membrane.pores, hard, m_before, b_i, b_j, b_x,
                                           a_i, a_j, a_x)
            b_i, a_i = a_i, b_i
            b_j, a_j = a_j, b_j
            b_x, a_x = a_x, b_x
        # 4. transporters advance their cycles, at V after the moves
        if params.transporters_on:
            q_in += advance_transporters(particles, kinds.charge, band, membrane.agents, membrane.cycles,
                                         params.field, _v(q_in, params, t + 1), seed, step, counters.transits, near,
                                         counters.transporters)
        # 5. the inside charge is now q_in; V is read from it at the next step
    return q_in

