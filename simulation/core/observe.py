"""What is read from a running cell, declared once: the observation, the units, the columns.

A column is a name, a unit and a reader, as Mesa's DataCollector declares what it collects. The
time series (`timeseries_columns`) reads one `Observation` of the cell and the one before it (the
currents are charge carried between the two, over the time between them); the summary table
(`summary_columns`) reads a summary.json dict. timeseries.csv, the sweep's tables, the golden test
and the Python API's tables are all built from these lists, and compare columns by name, never by
position. The lists derive from the species table, the cell's channel types and the transporter
table, so a new species, channel type or transporter brings its columns with it.

Units: the model's charge (e) and time (ns) are real, so 1 e/µs is 0.1602 pA; currents are
outward positive (charge leaving the inside), as electrophysiologists write them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from particles.species import NAMES, PERMEANT_NAMES, SOLUTES, Species

PA_PER_E_PER_US = 1.602176634e-19 / 1e-6 * 1e12   # 1 e/µs is 0.1602 pA


def charge_e(current_pA: float, duration_ns: float) -> float:
    """The charge (e) a current of `current_pA` carries in `duration_ns`."""
    return current_pA / PA_PER_E_PER_US * 1e-3 * duration_ns
IN, MEM, OUT = 0, 1, 2                            # regions of Observation.counts (membrane.voltage)


@dataclass
class Observation:
    """What a recorder reads at one instant (counts are particles, charges e, cumulative)."""
    step: int
    time_ns: float
    v_mV: float
    counts: np.ndarray                 # [species, region], regions IN, MEM, OUT
    efflux: np.ndarray                 # complete transits out through channels, per species
    influx: np.ndarray
    conc_in_mM: dict = field(default_factory=dict)
    conc_out_mM: dict = field(default_factory=dict)
    carried_in_e: np.ndarray | None = None   # charge carried in through channels, per species
    counters: dict = field(default_factory=dict)            # transporter counters by column name
    transporter_charge_in_e: dict = field(default_factory=dict)   # per transporter type
    channels_open: dict = field(default_factory=dict)       # channels open now, per channel type
    type_charge_in_e: dict = field(default_factory=dict)    # charge carried in, per channel type
    clamp_mV: float | None = None      # the clamp's command, or None (V free)
    electrode_e: float = 0.0           # charge the clamp's electrode has put in
    theory: dict = field(default_factory=dict)               # membrane.theory at these concentrations


Reader = Callable[[Observation, "Observation | None"], Any]


@dataclass(frozen=True)
class Column:
    """One column: its name, its unit, how it is read, and how many decimals files keep (None:
    a whole number as it is)."""
    name: str
    unit: str
    read: Reader
    digits: int | None = None
    meaning: str = ""

    def value(self, now: Observation, before: Observation | None):
        """The value as files hold it: rounded, and "" where there is none (NaN, or no interval)."""
        v = self.read(now, before)
        if v is None:
            return ""
        if self.digits is None:
            return int(v)
        v = float(v)
        return round(v, self.digits) if math.isfinite(v) else ""


def _current(charge: Callable[[Observation], float]) -> Reader:
    """Outward current (pA) from a cumulative charge carried in: −Δq / Δt between two samples."""
    def read(now: Observation, before: Observation | None):
        if before is None or now.time_ns <= before.time_ns:
            return None
        return -(charge(now) - charge(before)) * (1e3 / (now.time_ns - before.time_ns)) * PA_PER_E_PER_US
    return read


def timeseries_columns(channel_types: tuple[str, ...] = (), transporters: tuple = (),
                       theory_keys: tuple[str, ...] = ()) -> tuple[Column, ...]:
    """The columns of timeseries.csv, in order: SPEC §4's first (step, time, V, the counts per
    species and region, the transporters' counters, the tracer transits, the theory), then the
    clamp and the currents: each ion's through the channels, each transporter's and the total, and
    each channel type's open channels and current.

    `channel_types` are the cell's channel type names; `transporters` its transporter types (each
    with `name` and `counters`: the names of its counter columns); `theory_keys` the theory
    potentials recorded (E_<ion>_mV for every ion that can cross, V_GHK_mV, a reversible
    transporter's reversal potential)."""
    cols = [Column("step", "", lambda o, b: o.step, meaning="time steps done"),
            Column("time_ns", "ns", lambda o, b: o.time_ns, 6, "model time"),
            Column("V_mV", "mV", lambda o, b: o.v_mV, 4, "membrane potential, inside relative to outside")]
    for name in NAMES:
        s = int(Species[name])
        for suffix, region, where in (("in", IN, "inside bulk"), ("out", OUT, "outside bulk"),
                                      ("mem", MEM, "membrane band or held by a transporter")):
            cols.append(Column(f"{name}_{suffix}", "particles", lambda o, b, s=s, r=region: o.counts[s, r],
                               meaning=f"{name} particles in the {where}"))
    for t in transporters:
        for counter in t.counters:
            cols.append(Column(counter, "", lambda o, b, c=counter: o.counters[c],
                               meaning=f"{t.name}: {counter.replace('_', ' ')} (cumulative)"))
    for ion in PERMEANT_NAMES:
        s = int(Species[ion])
        cols += [Column(f"{ion}_efflux", "transits", lambda o, b, s=s: o.efflux[s],
                        meaning=f"{ion} transits inside to outside bulk through channels (cumulative)"),
                 Column(f"{ion}_influx", "transits", lambda o, b, s=s: o.influx[s],
                        meaning=f"{ion} transits outside to inside bulk through channels (cumulative)")]
    for key in theory_keys:
        cols.append(Column(key, "mV", lambda o, b, k=key: o.theory.get(k, math.nan), 4,
                           "theory at the concentrations of this sample (never fed to the model)"))
    cols += [Column("clamp_mV", "mV", lambda o, b: o.clamp_mV, 4, "the clamp's command (empty: V free)"),
             Column("electrode_e", "e", lambda o, b: o.electrode_e, 6, "charge the clamp's electrode put in")]
    ion_charge = {ion: (lambda o, s=int(Species[ion]): float(o.carried_in_e[s])) for ion in PERMEANT_NAMES}
    t_charge = {t.name: (lambda o, n=t.name: o.transporter_charge_in_e[n]) for t in transporters}
    for ion, q in ion_charge.items():
        cols.append(Column(f"{ion}_charge_in_e", "e", lambda o, b, q=q: q(o), 6,
                           f"charge carried in by {ion} through the channels (cumulative)"))
    for name, q in t_charge.items():
        cols.append(Column(f"{name}_charge_in_e", "e", lambda o, b, q=q: q(o), 6,
                           f"charge the {name} agents carried in (cumulative)"))
    parts = [_current(q) for q in (*ion_charge.values(), *t_charge.values())]
    for name, read in zip((*ion_charge, *t_charge), parts):
        cols.append(Column(f"I_{name}_pA", "pA", read, 6, f"current of {name} since the last sample, outward +"))
    cols.append(Column("I_total_pA", "pA", lambda o, b: _total(parts, o, b), 6,
                       "total membrane current since the last sample, outward +"))
    for name in channel_types:
        cols += [Column(f"ch_{name}_open", "channels", lambda o, b, n=name: o.channels_open[n],
                        meaning=f"channels of type {name} open now"),
                 Column(f"I_ch_{name}_pA", "pA", _current(lambda o, n=name: o.type_charge_in_e[n]), 6,
                        f"current through the channels of type {name} since the last sample, outward +")]
    return tuple(cols)


def _total(parts: list[Reader], now: Observation, before: Observation | None):
    values = [read(now, before) for read in parts]
    return None if any(v is None for v in values) else sum(values)


def column_names(columns) -> list[str]:
    return [c.name for c in columns]


def summary_columns(summary: dict) -> tuple[Column, ...]:
    """The columns of a sweep's table, each read from one run's summary.json dict (its varied keys,
    seed and directory come before them): V and its error, the window's concentrations, the theory,
    the pump's rate, each ion's permeabilities, flux ratio and transits, each current, the scale of
    the cell and the wall time. Which ions and currents: the species table's, and the summary's own."""
    def get(*path, default=None):
        def read(s, _=None):
            node = s
            for p in path:
                if not isinstance(node, dict) or p not in node:
                    return default
                node = node[p]
            return node
        return read

    cols = [Column("version", "", get("version")), Column("steps", "steps", get("steps")),
            Column("V_mean_mV", "mV", get("V_mean_mV")), Column("V_sem_mV", "mV", get("V_sem_mV")),
            # whether the run's V settled in its window, and what its settling notes said (a sweep
            # counts, names and draws apart the runs that did not: simulation.headless.sweep)
            Column("settled", "", lambda s, _=None: bool((s.get("settling") or {}).get("settled", False))),
            Column("warnings", "", lambda s, _=None: "; ".join((s.get("settling") or {}).get("warnings", [])))]
    for side in ("in", "out"):
        cols += [Column(f"{ion}_{side}_mM", "mM", get("concentrations_mM", side, ion)) for ion in SOLUTES]
    theory = [f"E_{ion}_mV" for ion in PERMEANT_NAMES] + ["V_GHK_mV", "V_MN_mV", "V_pump_mV", "V_Donnan_mV"]
    theory += [k for k in summary.get("theory") or {} if k not in theory]
    cols += [Column(k, "mV", get("theory", k)) for k in theory]
    cols += [Column("zero_current_mV", "mV", get("zero_current_mV")),
             Column("pump_enabled", "", lambda s, _=None: bool(s["config"]["pump"]["enabled"]
                                                               and s["config"]["pump"]["count"] > 0)),
             Column("pump_cycles_per_us", "1/µs", get("pump_cycles_per_us"))]
    for ion in PERMEANT_NAMES:
        cols += [Column(f"P_{ion}_effective", "P/P_K", get("effective_permeability", ion)),
                 Column(f"P_{ion}_measured", "P/P_K", get("measured_permeability", ion)),
                 Column(f"ussing_{ion}_measured", "", get("ussing", ion, "measured_ratio")),
                 Column(f"ussing_{ion}_expected", "", get("ussing", ion, "expected_ratio")),
                 Column(f"{ion}_transits", "transits", lambda s, _=None, i=ion: _transits(s, i)),
                 Column(f"P_{ion}_abs_nm2_per_ns", "nm²/ns", get("measured_permeability_abs_nm2_per_ns", ion))]
    for name in summary.get("currents") or {}:
        cols += [Column(f"I_{name}_pA", "pA", get("currents", name, "pA")),
                 Column(f"I_{name}_pA_sem", "pA", get("currents", name, "pA_sem"))]
    cols += [Column("spikes", "spikes", get("spikes", "count")),
             Column("spike_rate_per_us", "1/µs", get("spikes", "rate_per_us")),
             Column("hold_spikes", "spikes", get("spikes", "hold", "count")),
             Column("hold_rate_per_us", "1/µs", get("spikes", "hold", "rate_per_us")),
             Column("hold_interval_ns", "ns", get("spikes", "hold", "interval_mean_ns"))]
    cols += [Column("mM_per_density", "mM·nm²", get("mM_per_density")),
             Column("window_span_ns", "ns", get("window_span_ns")), Column("wall_s", "s", get("wall_s")),
             Column("threads", "", get("threads"))]
    return tuple(cols)


def _transits(summary: dict, ion: str) -> int:
    u = (summary.get("ussing") or {}).get(ion)
    return u["influx"] + u["efflux"] if u else 0
