"""The deterministic cell beside the stochastic one: the unit that makes the config's relative
permeabilities absolute, measured from a cell's own resting fluxes, and a trial that gives one
cell a stimulus and records what it does next to what Hodgkin and Huxley's equations predict
from the same state (`Simulation.deterministic_response`).

The unit is a property of the pores (their width, length and field, and the access to them),
not of the gates: the tracer fluxes at rest, through the leak channels and the gated ones open
at each moment, measured against GHK's expectation (as `statistics.measured_permeability` does),
give it. No spike is used to measure it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from membrane import theory
from particles.species import CHARGE, Species
from simulation.core.spikes import Spike, find_spikes

@dataclass(frozen=True)
class Unit:
    nm2_per_ns: float     # absolute permeability of one relative unit
    sem: float            # its standard error, from the transits' count (Poisson)
    transits: int         # the transits it rests on
    expected: float       # ∫ Σ P_ion(relative) (c_in f_out + c_out f_in) dt: transits per unit

    def __add__(self, other: "Unit") -> "Unit":
        """Two measurements pooled (the transits over their summed expectation)."""
        n, e = self.transits + other.transits, self.expected + other.expected
        return Unit(n / e, n / e / math.sqrt(n) if n else math.nan, n, e)


class UnitMeter:
    """Measures the unit while a cell runs: call `sample` after every advance (it counts the time
    since the last call, or lets it pass uncounted); `unit()` is the measurement since the meter started (transits = unit × ∫ Σ P_ion
    (c_in f_out(V) + c_out f_in(V)) dt, the permeabilities those placed — relative; a gated type's
    by its channels open at each sample — and the concentrations those of the bulks). Sampling
    once per frame is enough at rest; while V moves fast (a spike) it is coarser, which is why the
    validate rows measure at rest."""

    def __init__(self, sim):
        self.ions = list(sim.channels.crossing())
        self.index = [Species[i] for i in self.ions]
        self.start = float(sim.crossings[:, self.index].sum())
        self.cycles0, self.t0 = float(sim.pump_totals[0]), sim.time_ns
        self.last_ns = sim.time_ns
        self.expected = 0.0

    def sample(self, sim, counted: bool = True) -> None:
        """Add GHK's expectation for the time since the last call (unless not `counted`: a clamp,
        the field or the selectivity off, when the transits follow other rules)."""
        span_ns, self.last_ns = sim.time_ns - self.last_ns, sim.time_ns
        if not counted:
            return
        g = sim.geometry
        counts = sim.region_counts()
        u = sim.v_mV / theory.thermal_voltage_mV(sim.temperature_C)
        p_rel = sim.channels.open_permeability()
        for ion, s in zip(self.ions, self.index):
            z = CHARGE[ion]
            self.expected += span_ns * p_rel[ion] * (counts[s, 0] / g.area_in_nm2 * theory.ghk_efflux_factor(z, u)
                                                     + counts[s, 2] / g.area_out_nm2 * theory.ghk_influx_factor(z, u))

    def unit(self, sim) -> Unit:
        n = int(sim.crossings[:, self.index].sum() - self.start)
        if self.expected <= 0 or n == 0:
            return Unit(math.nan, math.nan, n, self.expected)
        u = n / self.expected
        return Unit(u, u / math.sqrt(n), n, self.expected)

    def pump_cycles_per_ns(self, sim) -> float:
        """The pumps' mean rate since the meter started (cycles/ns)."""
        span = sim.time_ns - self.t0
        return (float(sim.pump_totals[0]) - self.cycles0) / span if span > 0 else 0.0


def permeability_unit(sim, ns: float, every_ns: float = 1.0) -> Unit:
    """Step `sim` for `ns` (it should be at rest) and measure the absolute permeability of one
    relative unit from every permeant ion's tracer fluxes over that time (`UnitMeter`)."""
    k = max(1, int(round(every_ns / sim.dt_ns)))
    meter = UnitMeter(sim)
    t0 = sim.time_ns
    while sim.time_ns - t0 < ns - 1e-9:
        sim.step(k)
        meter.sample(sim)
    return meter.unit(sim)


@dataclass
class Trial:
    """A stimulus given to one cell, and the deterministic cell's answer from the same state."""
    t_ns: np.ndarray          # from the stimulus's start
    v_mV: np.ndarray          # the stochastic cell
    v_theory_mV: np.ndarray   # the deterministic cell, at the same times
    rest_mV: float            # V when the stimulus began
    spikes: list[Spike]
    spikes_theory: list[Spike]
    pore_e: np.ndarray        # the charge the ions in the gated channels' pores induce on the inside (e), at each t
    pore_theory_e: np.ndarray  # the same in the deterministic cell


def trial(sim, protocol: list[tuple[float, float]], unit_nm2_per_ns: float, every_ns: float = 0.5,
          pump_cycles_per_ns: float = 0.0) -> Trial:
    """Give `sim` the stimulus `protocol` ((pA, ns) segments, from now) and record V every
    `every_ns`; beside it, the deterministic cell's V from the same state (V, gates, ions)."""
    theory_run = sim.deterministic_response(protocol, unit_nm2_per_ns, pump_cycles_per_ns, every_ns)
    rest = sim.v_mV
    t0 = sim.time_ns
    k = max(1, int(round(every_ns / sim.dt_ns)))
    t, v, pore = [0.0], [rest], [gated_pore_charge_e(sim)]
    end = 0.0
    for pA, ns in protocol:
        if pA:
            sim.inject(pA, ns)
        end += ns
        while sim.time_ns - t0 < end - 1e-9:
            sim.step(k)
            t.append(sim.time_ns - t0)
            v.append(sim.v_mV)
            pore.append(gated_pore_charge_e(sim))
    t, v = np.array(t), np.array(v)
    v_th = np.interp(t, theory_run["t_ns"], theory_run["V_mV"])
    pore_th = (np.interp(t, theory_run["t_ns"], theory_run["pore_e"]) if "pore_e" in theory_run
               else np.zeros(t.size))
    return Trial(t, v, v_th, rest, find_spikes(t, v), find_spikes(t, v_th), np.array(pore), pore_th)


def gated_pore_charge_e(sim) -> float:
    """The charge (e) the ions in the voltage-gated channels' pores, open or closed, induce on the
    inside now, counted as V counts them (`Simulation.pore_charge_e`): what the deterministic
    cell's pores hold (`theory.deterministic_response`'s `pore_e`)."""
    held = sim.pore_charge_e()
    return float(sum(held[t.name].sum() for t, _ in sim.channels.gated()))
