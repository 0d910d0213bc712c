"""`Simulation`: a running cell, composed of its particles, its channel set and its transporters.

It is built from a validated `Config` and a seed, advances with `step(k)` and is read from
outside (recorders, the live view) through its parts, `observe()` and `theory()`. The channel set
(`membrane.channels.ChannelSet`: every channel type, its pores and gates) and the transporter set
(`membrane.transporters.TransporterSet`: pumps, exchangers) own their arrays and their own
interventions; `Simulation` owns the particles, the clock, the inside charge (so V) and the
counters. Everything that changes the cell while it runs is an explicit method here (block the
pumps, set a concentration, set a channel type's permeability, switch the field or the
selectivity off), so the view, lecture scenarios and tests all make the same change; each is a
change of config keys that passes the config's rules (`Config.replace`) before anything moves,
and is logged in `events` with its step and the keys it changed, so a run can be replayed from
its config and its events.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from membrane import gating, theory
from membrane.channels import ChannelSet, resting_potentials
from membrane.crossing import Field, new_face_list, new_transits
from membrane.geometry import MembraneGeometry, SiteLayout, transporter_site
from membrane.transporters import COUNTERS, PUMP, TABLE as TRANSPORTERS, TransporterSet, binding_faces, reversal_mV
from membrane.voltage import IN, OUT, inside_charge, mid_line_charge, region_counts, voltage_mV
from particles.diffusion import NO_STIRRING, step_half_width_nm, stirring
from particles.rng import STREAM_PLACE, uniform_array
from particles.species import (ANION_FILLER, CATION_FILLER, CHARGE, DIFFUSING_NAMES, FIXED_ANION, NAMES, N_SPECIES,
                               PERMEANT_NAMES, SOLUTES, TABLE, Species, charges_array)
from particles.state import (FAR_IN, FAR_OUT, HELD, ParticleState, SpeciesArrays, compartment_counts, filler_counts,
                             place, species_totals)
from simulation.core.config import Config, ConfigError, channel_plan
from simulation.core.perfusion import bath_shares, perfuse
from simulation.core.observe import PA_PER_E_PER_US, Observation, charge_e, timeseries_columns
from simulation.core.stepper import Counters, Membrane, StepParams, advance
from simulation.core.threads import ThreadGovernor


HOLD_FOREVER = 2 ** 62   # the step a held current ends at: never


@dataclass
class Event:
    step: int
    time_ns: float
    label: str
    changes: dict = field(default_factory=dict)   # the config keys the change set, and their values


# the theory potentials every time series records: each ion's Nernst potential, the reversal
# potential of each transporter that ATP does not drive (E_NCX_mV), GHK
THEORY_KEYS = (tuple(f"E_{ion}_mV" for ion in PERMEANT_NAMES)
               + tuple(t.reversal_key for t in TRANSPORTERS if t.reversal_key) + ("V_GHK_mV",))
PUMP_RATIO = -PUMP.stoichiometry["Na"] / PUMP.stoichiometry["K"]   # Mullins & Noda's r: 3/2


class Simulation:
    """A running cell. Build it from a config and a seed; advance it with `step(k)`."""

    def __init__(self, config: Config, seed: int = 0):
        self.config = config           # the config as it is now: live changes replace it
        self.initial_config = config   # the config the run started from
        self.seed = int(seed)
        d = config.data
        box, phys = d["box"], d["physics"]
        half = box["membrane_thickness_nm"] / 2
        self.geometry = MembraneGeometry(
            width_nm=box["width_nm"], height_nm=box["height_nm"],
            x_left_nm=box["membrane_x_nm"] - half, x_right_nm=box["membrane_x_nm"] + half,
            site_spacing_nm=d["membrane"]["site_spacing_nm"], pore_width_nm=d["membrane"]["pore_width_nm"])
        g = self.geometry
        self.temperature_C = phys["temperature_C"]
        self.vt_mV = theory.thermal_voltage_mV(self.temperature_C)
        self.dt_ns = phys["dt_ns"]
        self.capacitance_e_per_mV = phys["capacitance_e_per_mV"]
        self.field = Field(float(self.vt_mV), 1.0 / float(self.capacitance_e_per_mV), bool(phys["field"]),
                           bool(phys["selectivity"]))

        st = d["stirring"]
        self.stirring = stirring(st["from_nm"], st["ramp_nm"], st["D_factor"]) if st["enabled"] else NO_STIRRING

        d_coef = np.zeros(N_SPECIES)
        for name in DIFFUSING_NAMES:
            d_coef[Species[name]] = d["diffusion"][name]
        d_coef[FIXED_ANION] = d["fixed_anions"]["D_nm2_per_ns"]
        self.d_nm2_per_ns = d_coef
        self.kinds = SpeciesArrays(step_half_width_nm(d_coef, self.dt_ns), charges_array(d["fixed_anions"]["charge"]),
                                   np.array([s.permeant for s in TABLE], dtype=np.bool_))

        counts = compartment_counts(d["inside"], d["outside"], d["fixed_anions"]["charge"],
                                    d["fixed_anions"]["enabled"], g.area_in_nm2, g.area_out_nm2,
                                    phys["particles"])
        self.mM_per_density = counts.mM_per_density
        self.fillers = filler_counts(counts)    # placed for neutrality: {"inside": {"X": n, "Y": n}, ...}
        self.state = place(counts, self.seed, g.height_nm, (0.0, g.x_left_nm), (g.x_right_nm, g.width_nm))
        # transits are counted between the reservoirs beyond this distance from the membrane
        self.band = g.band(min(g.site_spacing_nm, 0.3 * min(g.x_left_nm, g.width_nm - g.x_right_nm)))
        # every ion starts as from the bulk it is in (also those nearer the membrane than the transit
        # margin: in the steady state almost all of them last came from there), so transits count at
        # their steady rate from the first step
        self.state.flags[self.state.x < g.x_left_nm] = FAR_IN
        self.state.flags[self.state.x > g.x_right_nm] = FAR_OUT

        # channels and transporters on the membrane's sites
        self.step_count = 0
        self.q_in = self.recount_inside_charge()
        types = config.channel_types()
        plan = channel_plan(d)
        self.channels_per_unit = plan.channels_per_unit
        layout = SiteLayout(g, [(k, plan.counts[t.name]) for k, t in enumerate(types)]
                            + [(transporter_site(k), d[t.name]["count"]) for k, t in enumerate(TRANSPORTERS)])
        table = gating.build_table(types, {n: int(Species[n]) for n in NAMES}, N_SPECIES, self.temperature_C,
                                   d["membrane"]["hh_time_scale_ns_per_ms"], self.dt_ns,
                                   self.mM_per_density / g.area_out_nm2)
        gating.refresh_reversal(self.state, self.kinds.charge, self.band, table, self.vt_mV)
        start_mV = d["clamp"]["command_mV"] if d["clamp"]["enabled"] else self.q_in / self.capacitance_e_per_mV
        if d["clamp"]["enabled"] and d["clamp"]["protocol"]:
            start_mV = d["clamp"]["protocol"][0]["command_mV"]
        self.channels = ChannelSet(g, layout, types, plan, {n: float(d_coef[Species[n]]) for n in PERMEANT_NAMES},
                                   table, self.dt_ns, self.seed, start_mV, d["membrane"]["min_channels_per_type"])
        self.pore_ions_placed = self.channels.fill_pores(self.state, self.kinds.charge, self._fill_mV(d, start_mV),
                                                         self.vt_mV)
        self.pore_balance = self._balance_inside(d)
        self.q_in = self.recount_inside_charge()
        self.transporters = TransporterSet(
            {t.name: g.site_y_nm[layout.sites_of(transporter_site(k))] for k, t in enumerate(TRANSPORTERS)},
            {t.name: d[t.name] for t in TRANSPORTERS}, self.dt_ns, self.mM_per_density)

        self.counters = Counters(new_transits(N_SPECIES, len(types)), self.transporters.tallies)
        # the voltage clamp: its command now (None: V is free), the charge its electrode has put
        # into the inside (V = (Q_in + that) / C), and the config's protocol as (first step, end, mV)
        self.clamp_mV: float | None = None
        self.electrode_e = 0.0
        self._protocol = self._protocol_steps(d["clamp"]["protocol"])
        # the current stimulus: (first step, end step, charge per step in e) of the config's protocol
        # and of the pulses injected since; the electrode's charge grows by their sum each step
        self._stimulus = self._stimulus_steps(d["stimulus"]["protocol"], 0) + self._hold_steps(d["stimulus"])
        self._segment = (0.0, 0.0, 0)     # (e per step, the electrode's charge, step) when the stimulus last changed
        if d["clamp"]["enabled"]:
            self._engage(self._protocol[0][2] if self._protocol else d["clamp"]["command_mV"])
        self._near = None   # the move pass's list of ions within the transporters' reach (see _advance)
        # a perfused bath (simulation.core.perfusion): the outside's composition as placed, kept
        perf = d["perfusion"]
        self.perfusion_exchanged = np.zeros(N_SPECIES, dtype=np.int64)
        self._perfusion = None
        if perf["enabled"]:
            every = max(1, int(round(perf["every_ns"] / self.dt_ns)))
            self._perfusion = (float(perf["from_nm"]), every, bath_shares(self.region_counts()[:, OUT]))
        self._hard = None   # its scratch: the moves that need the whole crossing rule
        self.threads = ThreadGovernor(numba.get_num_threads())   # 1 or all, whichever is faster now
        self.events: list[Event] = []

    def _balance_inside(self, d: dict) -> dict[str, int]:
        """The ions put in the pores induce a charge on the inside (an ion at depth s counts
        z (1 − s), and those taken from the inside no longer count whole): the inside's impermeant
        filler makes it up to the nearest charge, so the compartments start neutral as V counts
        them and V starts at 0. The fixed anions when the cell has them (fewer or more of them),
        else Y⁺ or X⁻ added inside. Returns {species: particles added (negative: removed)}."""
        need = -self.recount_inside_charge()         # e to add inside
        fa = d["fixed_anions"]
        s = self.state
        inside = s.x < self.geometry.x_left_nm
        if fa["enabled"]:
            species, n = FIXED_ANION, int(round(need / fa["charge"]))
        else:
            species, n = (CATION_FILLER, int(round(need))) if need > 0 else (ANION_FILLER, int(round(-need)))
        g = self.geometry
        if n < 0:
            mine = np.flatnonzero(inside & (s.species == species))
            gone = mine[:min(-n, mine.size)]
            keep = np.ones(s.n, dtype=np.bool_)
            keep[gone] = False
            self.state = ParticleState(*(a[keep] for a in s))
            n = -int(gone.size)
        elif n > 0:
            u = uniform_array(self.seed, STREAM_PLACE, 40_000, 2 * n)
            self.state = ParticleState(np.concatenate((s.x, g.x_left_nm * u[:n])),
                                       np.concatenate((s.y, g.height_nm * u[n:])),
                                       np.concatenate((s.species, np.full(n, species, dtype=s.species.dtype))),
                                       np.concatenate((s.flags, np.full(n, FAR_IN, dtype=s.flags.dtype))),
                                       np.concatenate((s.held_by, np.full(n, -1, dtype=s.held_by.dtype))))
        # the fraction of a charge left: one pore ion moved along its pore by it (at most half a
        # pore's length for a monovalent ion), so V starts at 0
        s, z = self.state, self.kinds.charge
        rest = self.recount_inside_charge()
        in_band = np.flatnonzero((s.x > g.x_left_nm) & (s.x < g.x_right_nm) & (z[s.species] != 0))
        if in_band.size and rest != 0.0:
            depth = (s.x[in_band] - g.x_left_nm) / g.thickness_nm + rest / z[s.species[in_band]]
            best = int(np.argmin(np.abs(depth - 0.5)))
            if 0.0 < depth[best] < 1.0:
                s.x[in_band[best]] = g.x_left_nm + depth[best] * g.thickness_nm
        return {NAMES[species]: n} if n else {}

    def _fill_mV(self, d: dict, start_mV: float) -> float:
        """The potential the pores are filled for: the clamp's command, else the GHK potential of
        the channels open at the start and the concentrations placed (where V will be within a few
        membrane time constants)."""
        if d["clamp"]["enabled"]:
            return start_mV
        c_in, c_out = self.concentrations_mM()
        perm = {ion: p for ion, p in self.channels.open_permeability().items() if p > 0}
        v = theory.ghk_voltage_mV(perm, c_in, c_out, self.temperature_C) if perm else 0.0
        return v if math.isfinite(v) else 0.0

    def _mark_reservoirs(self) -> None:
        """Mark free particles already beyond the transit margin with the reservoir they are in."""
        s, b = self.state, self.band
        free = (s.flags & (HELD | FAR_IN | FAR_OUT)) == 0
        s.flags[free & (s.x < b.x_left_nm - b.margin_nm)] = FAR_IN
        s.flags[free & (s.x > b.x_right_nm + b.margin_nm)] = FAR_OUT

    # ---- the time step ------------------------------------------------------------------

    def compile(self) -> None:
        """Compile (or load from the cache) the step kernels without advancing."""
        self._advance(0)

    def _timeline(self, protocol: list[dict], value, start: int = 0) -> list[tuple[int, int, float]]:
        """A protocol (entries with `duration_ns`) as (first step, end step, `value(entry)`), one
        entry after another from step `start`, each at least one step long."""
        out, t = [], start
        for entry in protocol:
            n = max(1, int(round(entry["duration_ns"] / self.dt_ns)))
            out.append((t, t + n, value(entry)))
            t += n
        return out

    def _protocol_steps(self, protocol: list[dict]) -> list[tuple[int, int, float]]:
        """The clamp's protocol: (first step, end step, command in mV)."""
        return self._timeline(protocol, lambda entry: float(entry["command_mV"]))

    def _stimulus_steps(self, protocol: list[dict], start: int) -> list[tuple[int, int, float]]:
        """A stimulus protocol as (first step, end step, e per step), from step `start` on."""
        return self._timeline(protocol, lambda entry: charge_e(entry["current_pA"], self.dt_ns), start)

    def _hold_steps(self, stimulus: dict) -> list[tuple[int, int, float]]:
        """The stimulus's steady current (`hold_pA` from `hold_from_ns` on) as a timeline entry."""
        if not stimulus["hold_pA"]:
            return []
        return [(int(round(stimulus["hold_from_ns"] / self.dt_ns)), HOLD_FOREVER, charge_e(stimulus["hold_pA"], self.dt_ns))]

    def _stimulus_e(self) -> float:
        """The charge (e) the stimulus puts in at this step: the entries under way."""
        return sum(e for first, end, e in self._stimulus if first <= self.step_count < end)

    def inject(self, current_pA: float, duration_ns: float) -> None:
        """A current pulse from now: `current_pA` (positive: positive charge into the inside) for
        `duration_ns` (whole steps, at least one), on top of whatever else the electrode injects."""
        entry = {"current_pA": float(current_pA), "duration_ns": float(duration_ns)}
        self.config.replace({"stimulus.protocol": [entry]}, "pulse")      # the config's rules, or ConfigError
        self._stimulus += self._stimulus_steps([entry], self.step_count)
        self._log(f"pulse {current_pA:+.0f} pA, {duration_ns:g} ns", {"pulse": entry})

    def hold(self, current_pA: float) -> None:
        """A steady current from now on (replacing any held before; 0 stops it), on top of any
        pulse: `stimulus.hold_pA` from this moment."""
        changes = {"stimulus.hold_pA": float(current_pA), "stimulus.hold_from_ns": self.time_ns}
        new = self._check(changes)                                 # the config's rules, or ConfigError
        self._stimulus = [s for s in self._stimulus if s[1] != HOLD_FOREVER] + self._hold_steps(new.data["stimulus"])
        self._apply(new, f"hold {current_pA:+.0f} pA" if current_pA else "hold off", changes)

    @property
    def held_pA(self) -> float:
        """The steady current held now (pA; 0 before `stimulus.hold_from_ns` or when none is)."""
        held = float(self.config["stimulus.hold_pA"])
        return held if self.time_ns >= self.config["stimulus.hold_from_ns"] - 1e-9 else 0.0

    @property
    def stimulus_pA(self) -> float:
        """The current the stimulus injects at this step (pA)."""
        return self._stimulus_e() * PA_PER_E_PER_US * 1e3 / self.dt_ns

    def step(self, k: int = 1) -> None:
        """Advance k time steps. Each step, in this order:

        1. gate channels with V from the end of the previous step (leak channels' two-state
           chains; each gated channel's gates, `membrane.gating`; the reversal potentials a gate
           reads are recounted from the bulk every `gating.REFRESH_NS`);
        2. propose a Brownian move for every free particle;
        3. resolve the membrane: walls, open pores of the right species, Metropolis on the
           constant field using V from the end of the previous step; count transits;
        4. transporters advance their cycles at V after the moves (flips, letting go, binding:
           `membrane.transporters`);
        5. count the inside charge: Q_in changes by exactly the charge induced by what moved
           (Ramo–Shockley: z·Δw for an ion in the band, z for one a transporter carries across);
        6. V = (Q_in + the electrodes' charge) / C (the only place V is computed:
           `membrane.voltage.voltage_mV`), or the command while a clamp holds it (`set_clamp`;
           a protocol from the config is followed here, step by step);
        7. advance the clock; recorders then read between calls.
        """
        while k > 0:
            n = k
            if self._protocol:        # the clamp's protocol: each command held for its steps
                first, end, mv = self._protocol[0]
                if self.step_count >= end:
                    self._protocol.pop(0)
                    if not self._protocol:
                        self._engage(self.config["clamp.command_mV"])
                    continue
                if self.step_count >= first:
                    self._engage(mv)
                    n = min(k, end - self.step_count)
            # the stimulus: advance to where the next entry starts or ends, so that what is under
            # way is the same for every step of this call (`_advance` reads it at its first)
            now = self.step_count
            self._stimulus = [s for s in self._stimulus if s[1] > now]
            for first, end, _ in self._stimulus:
                n = min(n, end - now if first <= now else first - now)
            if self._perfusion is not None:        # stop where the bath is next renewed
                n = min(n, self._perfusion[1] - now % self._perfusion[1])
            self.threads.advance(self._advance, n)
            k -= n
            if self._perfusion is not None and self.step_count % self._perfusion[1] == 0:
                self._perfuse()

    def _perfuse(self) -> None:
        """Renew the far bath (`simulation.core.perfusion`): only kinds change, far from the
        membrane, so V, Q_in and every count of charge stay as they are."""
        from_nm, _, shares = self._perfusion
        s = self.state
        perfuse(s.x, s.species, s.flags, self.geometry.x_right_nm, from_nm, shares, self.perfusion_exchanged)

    def _advance(self, k: int) -> None:
        clamped = self.clamp_mV is not None
        # clamped, V does not move when an ion does: the field has no charging term
        fld = self.field._replace(mV_per_e=0.0) if clamped else self.field
        tr = self.transporters
        stim = 0.0 if clamped else self._stimulus_e()     # a clamp absorbs what the stimulus injects
        seg_stim, seg_base, seg_start = self._segment
        if clamped or stim != seg_stim or self.electrode_e != seg_base + (self.step_count - seg_start) * seg_stim:
            self._segment = seg_stim, seg_base, seg_start = stim, self.electrode_e, self.step_count
        params = StepParams(self.seed, float(self.capacitance_e_per_mV), fld, self.stirring, tr.any_running,
                            clamped, float(self.clamp_mV) if clamped else 0.0, float(seg_base), float(stim),
                            int(self.step_count - seg_start))
        reach = tr.reach_nm()
        if self._near is None or self._near.index.size != self.state.n:   # particles were added or removed
            self._near = new_face_list(reach, binding_faces(tr.cycles, tr.present(), N_SPECIES), self.state.n)
            self._hard = np.zeros(-(-self.state.n // 8) * 8, dtype=np.uint8)   # whole words: read 8 at a time
        near = self._near._replace(reach_nm=float(reach),
                                   faces=binding_faces(tr.cycles, tr.present(), N_SPECIES))
        membrane = Membrane(self.channels.pores, self.channels.table, tr.arrays, tr.cycles)
        self.q_in = float(advance(k, self.step_count, self.q_in, self.state, self.kinds, self.band,
                                  membrane, params, self.counters, near, self._hard))
        self.step_count += k
        self.electrode_e = seg_base + (self.step_count - seg_start) * stim
        self._hold()

    # ---- the voltage clamp ----------------------------------------------------------------

    def _engage(self, command_mV: float) -> None:
        """Hold V at `command_mV` from now: the electrode charges the membrane at once."""
        self.clamp_mV = float(command_mV)
        self._hold()

    def _hold(self) -> None:
        """Clamped: the electrode's charge is whatever makes (Q_in + it) / C the command."""
        if self.clamp_mV is not None:
            self.electrode_e = self.clamp_mV * self.capacitance_e_per_mV - self.q_in

    def set_clamp(self, on: bool, command_mV: float | None = None) -> None:
        """Clamp V at `command_mV` (default: the config's clamp.command_mV), or release it (V then
        evolves from the counted charge, the electrode's included, starting where it was held).
        Ends a protocol that was running."""
        mv = self.config["clamp.command_mV"] if command_mV is None else command_mV
        changes = {"clamp.enabled": bool(on), "clamp.command_mV": mv, "clamp.protocol": []}
        new = self._check(changes)
        self._protocol = []
        if on:
            self._engage(new["clamp.command_mV"])
            label = f"clamp {new['clamp.command_mV']:+.0f} mV"
        else:
            if self.clamp_mV is None:
                return
            self.clamp_mV = None
            label = "clamp released"
        self._apply(new, label, changes)

    @property
    def clamped(self) -> bool:
        return self.clamp_mV is not None

    @property
    def charge_carried_in(self) -> np.ndarray:
        """Cumulative induced inside charge carried in through the channels, per species (e)."""
        return self.counters.transits.charge.sum(axis=0)

    @property
    def type_charge_carried_in(self) -> dict[str, float]:
        """The same per channel type (e)."""
        q = self.counters.transits.type_charge.sum(axis=0)
        return {name: float(q[k]) for k, name in enumerate(self.channels.names())}

    @property
    def pump_charge_in(self) -> float:
        """Cumulative induced inside charge the pumps carried in (e; negative: they move charge out)."""
        return self.transporters.charge_in("pump")

    @property
    def transporter_charge_in(self) -> float:
        """Cumulative induced inside charge every transporter carried in (e)."""
        return float(self.transporters.tallies.charge_in_e.sum())

    # ---- reading ------------------------------------------------------------------------

    @property
    def v_mV(self) -> float:
        if self.clamp_mV is not None:
            return self.clamp_mV
        return float(voltage_mV(self.q_in + self.electrode_e, self.capacitance_e_per_mV))

    @property
    def time_ns(self) -> float:
        return self.step_count * self.dt_ns

    @property
    def n_particles(self) -> int:
        return self.state.n

    @property
    def crossings(self) -> np.ndarray:
        """Cumulative transits through channels, [EFFLUX/INFLUX, species]."""
        return self.counters.transits.counts.sum(axis=0)

    @property
    def pump_totals(self) -> np.ndarray:
        """Cumulative pump cycles completed and ATP spent."""
        return np.array([self.transporters.counter("pump_cycles"), self.transporters.counter("atp_spent")])

    @property
    def pumps(self) -> TransporterSet:
        """The transporters (the Na⁺/K⁺ pumps among them)."""
        return self.transporters

    @property
    def pump_count(self) -> int:
        return self.transporters.count("pump")

    @property
    def pumps_on(self) -> bool:
        return self.transporters.running("pump")

    @property
    def field_on(self) -> bool:
        return self.field.on

    @property
    def selective(self) -> bool:
        return self.field.selective

    def region_counts(self) -> np.ndarray:
        g = self.geometry
        return region_counts(self.state.x, self.state.species, N_SPECIES, g.x_left_nm, g.x_right_nm)

    @property
    def mM_per_particle(self) -> tuple[float, float]:
        """The concentration (mM) one particle makes in the inside and in the outside bulk."""
        g = self.geometry
        return self.mM_per_density / g.area_in_nm2, self.mM_per_density / g.area_out_nm2

    def concentrations_mM(self, counts: np.ndarray | None = None) -> tuple[dict, dict]:
        """Bulk concentrations (mM) inside and outside, from the current counts."""
        c = self.region_counts() if counts is None else counts
        k_in, k_out = self.mM_per_particle
        return ({n: float(c[i, IN] * k_in) for i, n in enumerate(NAMES)},
                {n: float(c[i, OUT] * k_out) for i, n in enumerate(NAMES)})

    def observe(self, theory: bool = True) -> Observation:
        """Everything the declared columns read (`simulation.core.observe`), now; with the theory
        potentials at the present concentrations unless `theory` is false."""
        counts = self.region_counts()
        c_in, c_out = self.concentrations_mM(counts)
        crossings = self.crossings
        tr = self.transporters
        return Observation(self.step_count, self.time_ns, self.v_mV, counts, crossings[0], crossings[1], c_in, c_out,
                           self.charge_carried_in, {c: tr.counter(c) for c in COUNTERS},
                           {t.name: tr.charge_in(t.name) for t in TRANSPORTERS}, self.channels.open_counts(),
                           self.type_charge_carried_in, self.clamp_mV, self.electrode_e,
                           self.theory(c_in, c_out, donnan=False) if theory else {})

    def timeseries_columns(self):
        """The declared columns of this cell's time series (`simulation.core.observe`)."""
        return timeseries_columns(self.channels.names(), TRANSPORTERS, THEORY_KEYS)

    @property
    def effective_permeability(self) -> dict[str, float]:
        """Achieved permeability per ion, relative to K⁺ (config units), from the channels placed:
        its leak types as placed, its gated types with all their channels open."""
        eff = self.channels.effective_permeability()
        out = {ion: 0.0 for ion in PERMEANT_NAMES}
        for t in self.channels.types:
            out[t.ion] += eff[t.name]
        return out

    def channel_counts(self) -> dict[str, int]:
        """Channels per type."""
        return self.channels.counts()

    def theory(self, c_in: dict | None = None, c_out: dict | None = None, donnan: bool = True) -> dict[str, float]:
        """Nernst per ion, GHK, Mullins–Noda, each reversible transporter's reversal potential and
        (unless `donnan` is false: it recounts every particle) Donnan, from the present or the
        given concentrations. With voltage-gated types GHK and Mullins–Noda are the zero-current
        potentials with each gated type at its steady-state open probability
        (`theory.gated_zero_current_mV`)."""
        if c_in is None:
            c_in, c_out = self.concentrations_mM()
        T = self.temperature_C
        out = {f"E_{ion}_mV": theory.nernst_mV(CHARGE[ion], c_in[ion], c_out[ion], T) for ion in PERMEANT_NAMES}
        out["V_GHK_mV"], out["V_MN_mV"], out["V_pump_mV"] = self.resting_theory_mV(c_in, c_out)
        nernst = {ion: theory.nernst_mV(CHARGE[ion], c_in[ion], c_out[ion], T) for ion in SOLUTES}
        for t in TRANSPORTERS:
            if t.reversal_key:
                out[t.reversal_key] = reversal_mV(t, nernst)
        if donnan:
            out["V_Donnan_mV"] = self.donnan_mV()
        return out

    def resting_theory_mV(self, c_in: dict, c_out: dict) -> tuple[float, float, float]:
        """(GHK, Mullins–Noda, the 3:2 pump's zero current) at these concentrations, from the channels placed (gated types at
        their steady-state open probability: `membrane.channels.resting_potentials`)."""
        return resting_potentials(self.channels.types, self.channels.effective_permeability(), c_in, c_out,
                                  self.temperature_C, PUMP_RATIO)

    def deterministic_cell(self, unit_nm2_per_ns: float, pump_cycles_per_ns: float = 0.0,
                           pores: bool = True) -> theory.DeterministicCell:
        """This cell as a Hodgkin–Huxley model (`theory.DeterministicCell`): its placed leak and
        gated permeabilities made absolute by `unit_nm2_per_ns` (the permeability, nm²/ns, of one
        unit of the config's relative permeability: a property of the pores, measured from a run's
        tracer fluxes — `spike_theory.permeability_unit`), its gates' rates as the kernel computes
        them, and the pumps' mean cycling rate given (cycles/ns: a measurement, e.g.
        `spike_theory.UnitMeter.pump_cycles_per_ns`)."""
        ch = self.channels
        g = self.geometry
        leak = {ion: p * unit_nm2_per_ns for ion, p in ch.leak_permeability().items() if p > 0}
        gated = []
        counts = ch.counts()
        for t, p in ch.gated():
            k = ch.index[t.name]
            n = counts[t.name]
            gated.append(theory.GatedCurrent(
                t.ion, p * unit_nm2_per_ns,
                lambda v, e, c, k=k: gating.rates_per_ns(ch.table, k, v, e, c),
                theory.Pores(n, g.pore_width_nm, g.thickness_nm, ch.d_nm2_per_ns[t.ion] * t.pore_D_factor)
                if pores and n else None))
        return theory.DeterministicCell(self.capacitance_e_per_mV, self.temperature_C, g.area_in_nm2,
                                        g.area_out_nm2, self.mM_per_density, leak, tuple(gated), pump_cycles_per_ns,
                                        bath_held=self._perfusion is not None)

    def deterministic_response(self, protocol: list[tuple[float, float]], unit_nm2_per_ns: float,
                               pump_cycles_per_ns: float = 0.0, every_ns: float = 1.0, pores: bool = True) -> dict:
        """What the deterministic cell does from this moment — V now, each gated type's gates open
        the fractions its channels' are now, the bulks' ions now — under a stimulus `protocol` of
        (pA, ns) segments: `theory.deterministic_response`'s arrays, times from now."""
        cell = self.deterministic_cell(unit_nm2_per_ns, pump_cycles_per_ns, pores)
        fractions = self.channels.gate_fractions()
        gates0 = [fractions[t.name] for t, _ in self.channels.gated()]
        counts = self.region_counts()
        n_in = {ion: float(counts[Species[ion], IN]) for ion in PERMEANT_NAMES}
        n_out = {ion: float(counts[Species[ion], OUT]) for ion in PERMEANT_NAMES}
        closed = None
        if pores:                                  # the charge each gate state's pores hold now
            held = self.pore_charge_e()
            closed = [held[t.name] for t, _ in self.channels.gated()]
        return theory.deterministic_response(cell, self.v_mV, gates0, n_in, n_out, protocol, every_ns,
                                             closed_pore_e=closed)

    def pore_charge_e(self) -> dict[str, np.ndarray]:
        """Per channel type, the charge (e) the ions in its pores induce on the inside now,
        counted as V counts them (by depth in the band), by the pores' gate state: a gated type's
        indexed by its gates' open bits (as `ChannelSet` stores them: all set is open), a leak
        type's by closed (0) and open (1)."""
        g, s, pores, ch = self.geometry, self.state, self.channels.pores, self.channels
        m = (s.x >= g.x_left_nm) & (s.x <= g.x_right_nm) & ((s.flags & HELD) == 0)
        x, y = s.x[m], s.y[m]
        q = self.kinds.charge[s.species[m]] * (g.x_right_nm - x) / (g.x_right_nm - g.x_left_nm)
        if pores.y0.size:
            j = np.minimum(np.searchsorted(pores.y1, y), pores.y0.size - 1)   # the first pore whose top is above y
            in_pore = (y >= pores.y0[j]) & (y <= pores.y1[j])
        else:
            j, in_pore = np.zeros(y.size, dtype=np.int64), np.zeros(y.size, dtype=bool)
        out = {}
        for k, t in enumerate(ch.types):
            mine = in_pore & (pores.kind[j] == k)
            if t.leak:
                out[t.name] = np.bincount(pores.is_open[j[mine]], weights=q[mine], minlength=2).astype(float)
            else:
                states = 1 << int(ch.table.n_gates[k])
                out[t.name] = np.bincount(pores.gates[j[mine]], weights=q[mine], minlength=states).astype(float)
        return out

    def donnan_mV(self) -> float:
        """The Gibbs–Donnan potential this box would reach with the pumps stopped for good.

        Ions of the species that cross, in either bulk, redistribute by Boltzmann; everything else
        (ions that cannot cross, ions in the pores or held by pumps) keeps the charge it induces
        on the inside now."""
        g = self.geometry
        s = self.state
        crossing = set(self.channels.crossing())
        free = (s.flags & HELD) == 0
        moving = free & ((s.x < g.x_left_nm) | (s.x > g.x_right_nm)) \
            & np.isin(s.species, [Species[n] for n in crossing])
        totals = {name: float((moving & (s.species == Species[name])).sum()) for name in crossing}
        # the induced charge of all the rest: Q_in less the moving ions in the inside bulk (w = 1)
        fixed_in = self.recount_inside_charge() - float(self.kinds.charge[s.species[moving & (s.x < g.x_left_nm)]].sum())
        return theory.donnan_mV(totals, CHARGE, fixed_in, g.area_in_nm2, g.area_out_nm2,
                                self.capacitance_e_per_mV, self.temperature_C)

    # ---- interventions --------------------------------------------------------------------

    def _check(self, changes: dict) -> Config:
        """The config after a live change, by the config file's rules (ConfigError if refused)."""
        return self.config.replace(changes, "live change")

    def _log(self, label: str, changes: dict) -> None:
        self.events.append(Event(self.step_count, self.time_ns, label, dict(changes)))

    def _apply(self, new: Config, label: str, changes: dict) -> None:
        self.config = new
        self._log(label, changes)

    def set_pumps(self, enabled: bool) -> None:
        """Unblock (True) or block with ouabain (False). Blocking returns held ions to their side."""
        self.set_transporter("pump", enabled, "pump on" if enabled else "ouabain: pump blocked")

    def set_transporter(self, name: str, enabled: bool, label: str | None = None) -> None:
        """Unblock (True) or block (False) a transporter type ("pump", "ncx"): blocked, its agents
        let what they hold go on the side they hold it on, and stop."""
        if name not in (t.name for t in TRANSPORTERS):
            raise ConfigError(f"live change: no transporter {name!r}; allowed: {', '.join(t.name for t in TRANSPORTERS)}")
        changes = {f"{name}.enabled": bool(enabled)}
        new = self._check(changes)
        if self.transporters.set_running(name, enabled, self.state, self.kinds.charge, self.band, self.seed,
                                         self.step_count):
            self._near = None    # the ions it binds are no longer listed for it (or are again)
            self._apply(new, label or f"{name} {'on' if enabled else 'blocked'}", changes)

    def _switch_field(self, attr: str, key: str, what: str, on: bool) -> None:
        """Set one of the pores' switches (`Field.on`, `Field.selective`) from config key `key`."""
        changes = {key: bool(on)}
        new = self._check(changes)
        if bool(on) != getattr(self.field, attr):
            self.field = self.field._replace(**{attr: bool(on)})
            self._apply(new, f"{what} {'on' if on else 'off'}", changes)

    def set_field(self, on: bool) -> None:
        """Field off: pores ignore V (every move in a pore is accepted as if Δφ = 0)."""
        self._switch_field("on", "physics.field", "field", on)

    def set_selectivity(self, on: bool) -> None:
        """Selectivity off: every pore admits every permeant species."""
        self._switch_field("selective", "physics.selectivity", "selectivity", on)

    def _refresh_reversal(self) -> None:
        """The reversal potentials gates read, recounted now (after a change of concentrations)."""
        if self.channels.table.refresh_steps > 0:
            gating.refresh_reversal(self.state, self.kinds.charge, self.band, self.channels.table, self.vt_mV)

    def _channel_type(self, name: str) -> str:
        if name not in self.channels.index:
            raise ConfigError(f"live change: no channel type {name!r}; this cell's types: "
                              f"{', '.join(self.channels.names())}")
        return name

    def set_relative_permeability(self, name: str, relative: float) -> float:
        """Place as many channels of type `name` (K, Na, ... for the leak types, or a declared type)
        as `relative` permeability needs (within free sites), adding the type if the cell had none
        of its channels. Returns the relative permeability achieved (0 blocks the type: TTX, TEA)."""
        self._channel_type(name)
        changes = {f"channels.{name}.relative_permeability": relative}
        new = self._check(changes)
        achieved = self.channels.set_relative_permeability(
            name, new[f"channels.{name}.relative_permeability"], self.state, self.v_mV, self.step_count)
        self.q_in = self.recount_inside_charge()   # ions in a removed pore were put back on their side
        self._hold()
        self._apply(new, f"P_{name} = {achieved:.3g}", changes)
        return achieved

    def set_single_file(self, name: str, on: bool) -> None:
        """Make a channel type's pores single file (its ions keep their order: the tracer fluxes
        change, the current does not; membrane.crossing.single_file_relabel) or not."""
        self._channel_type(name)
        changes = {f"channels.{name}.single_file": bool(on)}
        new = self._check(changes)
        self.channels.set_single_file(name, bool(on))
        self._apply(new, f"{name}: single file {'on' if on else 'off'}", changes)

    def scale_permeability(self, name: str, factor: float) -> float:
        """Multiply a channel type's relative permeability (more or fewer channels of that type)."""
        return self.set_relative_permeability(name, self.channels.relative[self._channel_type(name)] * factor)

    def set_outside_concentration(self, ion: str, mM: float) -> float:
        """Change an outside bulk concentration, keeping the outside neutral (`set_concentration`)."""
        return self.set_concentration("outside", ion, mM)

    def set_concentration(self, side: str, ion: str, mM: float) -> float:
        """Change a bulk concentration on `side` ("inside" or "outside"), keeping that side neutral.

        Ions added or removed bring their counter-charge with fillers, as a saline of that
        composition would be placed: adding a cation first takes away Y⁺ (if the side has any)
        and then adds X⁻; removing it first takes away X⁻ and then adds Y⁺ (anions the other way
        round). So every other solute keeps its concentration, and the side's net charge (so V)
        is unchanged. Returns the concentration reached (whole particles).
        """
        if side not in ("inside", "outside"):
            raise ConfigError(f"live change: side must be inside or outside, got {side!r}")
        if ion not in SOLUTES:
            raise ConfigError(f"live change: cannot set {side} {ion!r}; allowed: {', '.join(SOLUTES)}")
        changes = {f"{side}.{ion}": mM}
        new = self._check(changes)
        mM = new[f"{side}.{ion}"]
        g, s = self.geometry, self.state
        area = g.area_out_nm2 if side == "outside" else g.area_in_nm2
        per_mM = area / self.mM_per_density

        def in_bulk(x):
            return x > g.x_right_nm if side == "outside" else x < g.x_left_nm
        sp = Species[ion]
        bulk = in_bulk(s.x) & ((s.flags & HELD) == 0)
        have = int((bulk & (s.species == sp)).sum())
        delta = int(round(mM * per_mM)) - have
        q = CHARGE[ion] * delta                       # charge the change brings to that side
        same, other = (CATION_FILLER, ANION_FILLER) if q > 0 else (ANION_FILLER, CATION_FILLER)
        take = np.flatnonzero(bulk & (s.species == same))[:abs(q) // abs(CHARGE[same.name])]
        add = (abs(q) - take.size * abs(CHARGE[same.name])) // abs(CHARGE[other.name])
        remove = list(take)
        if delta < 0:
            remove += list(np.flatnonzero(bulk & (s.species == sp))[:-delta])
        if remove:
            self._remove(np.array(remove, dtype=np.int64))
        added = ([int(sp)] * delta if delta > 0 else []) + [int(other)] * add
        if added:
            self._add(side, added)
        self.q_in = self.recount_inside_charge()
        self._hold()
        self._refresh_reversal()
        if side == "outside" and self._perfusion is not None:   # the perfusion now brings the new saline
            self._perfusion = self._perfusion[:2] + (bath_shares(self.region_counts()[:, OUT]),)
        reached = int((in_bulk(self.state.x) & (self.state.species == sp)).sum()) / per_mM
        self._apply(new, f"[{ion}]{'o' if side == 'outside' else 'i'} = {reached:.3g} mM", changes)
        return reached

    def _add(self, side: str, species: list[int]) -> None:
        """Place new particles uniformly in one side's bulk."""
        g, s = self.geometry, self.state
        m = len(species)
        u = uniform_array(self.seed, STREAM_PLACE, 10_000 + self.step_count, 2 * m)
        if side == "outside":
            x = g.x_right_nm + 1e-6 + (g.width_nm - g.x_right_nm - 2e-6) * u[:m]
        else:
            x = 1e-6 + (g.x_left_nm - 2e-6) * u[:m]
        self.state = ParticleState(np.concatenate([s.x, x]), np.concatenate([s.y, g.height_nm * u[m:]]),
                                   np.concatenate([s.species, np.array(species, dtype=np.int8)]),
                                   np.concatenate([s.flags, np.zeros(m, dtype=np.uint8)]),
                                   np.concatenate([s.held_by, np.full(m, -1, dtype=np.int32)]))
        self._mark_reservoirs()

    def _remove(self, idx: np.ndarray) -> None:
        s = self.state
        keep = np.ones(s.n, dtype=bool)
        keep[idx] = False
        self.transporters.renumber(np.cumsum(keep) - 1)
        self.state = ParticleState(s.x[keep], s.y[keep], s.species[keep], s.flags[keep], s.held_by[keep])

    # ---- invariants (tests and validate) ----------------------------------------------------

    def recount_inside_charge(self) -> float:
        """Q_in (e) recounted from every particle's place: what the running count must equal."""
        g = self.geometry
        return float(inside_charge(self.state.x, self.state.species, self.state.flags, self.kinds.charge,
                                   g.x_left_nm, g.x_right_nm))

    def mid_line_charge(self) -> int:
        """The net charge (e) left of the membrane's mid-line: a whole number (conservation checks)."""
        return int(mid_line_charge(self.state.x, self.state.species, self.kinds.charge, self.geometry.x_mid_nm))

    def species_totals(self) -> dict[str, int]:
        return species_totals(self.state)

    def pump_summary(self) -> dict[str, int]:
        return self.transporters.phase_counts("pump")
