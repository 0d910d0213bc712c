"""`Simulation`: the state, the clock, the voltage, the counters and the interventions.

It is built from a validated `Config` and a seed, advances with `step(k)` and is read from
outside (recorders, the live view) through its arrays, `observe()` and `theory()`. Everything that
changes the cell while it runs is an explicit method here (block the pumps, set an outside
concentration, scale a channel type's permeability, switch the field or the selectivity off), so
the view, lecture scenarios and tests all make the same change. Each such change is logged in
`events` with the step it happened at.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from membrane import theory
from membrane.channels import achieved_permeability, channel_count, initial_open, step_probabilities
from membrane.crossing import pore_index
from membrane.geometry import PUMP_SITE, MembraneGeometry, SiteLayout
from membrane.pump import NA_PER_CYCLE, PumpPhase, flip_probability, release_all
from membrane.voltage import IN, OUT, inside_charge, region_counts, voltage_mV
from particles.diffusion import step_half_width_nm
from particles.rng import STREAM_PLACE, uniform_array
from particles.species import NAMES, Species, charges_array
from particles.state import FAR_IN, FAR_OUT, HELD, ParticleState, compartment_counts, place, species_totals
from simulation.config import Config
from simulation.layout import PERMEANT, channel_plan, pores_from_sites, species_index
from simulation.stepper import advance


@dataclass
class Event:
    step: int
    time_ns: float
    label: str


@dataclass
class Observation:
    """What a recorder reads at one instant (all counts are particles)."""
    step: int
    time_ns: float
    v_mV: float
    counts: np.ndarray            # [species, region] with regions IN, MEM, OUT
    pump_cycles: int
    atp_spent: int
    efflux: np.ndarray            # cumulative complete transits out, per K, Na, Cl
    influx: np.ndarray
    conc_in_mM: dict = field(default_factory=dict)
    conc_out_mM: dict = field(default_factory=dict)


class Simulation:
    """A running cell. Build it from a config and a seed; advance it with `step(k)`."""

    def __init__(self, config: Config, seed: int = 0):
        self.config = config
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
        self.field_on = phys["field"]
        self.selective = phys["selectivity"]

        self.charge = charges_array(d["fixed_anions"]["charge"])
        dcoef = np.array([d["diffusion"]["K"], d["diffusion"]["Na"], d["diffusion"]["Cl"],
                          d["fixed_anions"]["D_nm2_per_ns"], d["diffusion"]["X"]])
        self.d_nm2_per_ns = dcoef
        self.step_a = step_half_width_nm(dcoef, self.dt_ns)
        self.permeant_mask = np.array([s in (Species.K, Species.Na, Species.Cl) for s in Species], dtype=np.bool_)

        counts = compartment_counts(d["inside"], d["outside"], d["fixed_anions"]["charge"],
                                    d["fixed_anions"]["enabled"], g.area_in_nm2, g.area_out_nm2,
                                    phys["particles"])
        self.mM_per_density = counts.mM_per_density
        self.state = place(counts, self.seed, g.height_nm, (0.0, g.x_left_nm), (g.x_right_nm, g.width_nm))
        # transits are counted between the reservoirs beyond this distance from the membrane
        self.transit_margin_nm = min(g.site_spacing_nm, 0.3 * min(g.x_left_nm, g.width_nm - g.x_right_nm))
        self._mark_reservoirs()

        # channels and pumps on the membrane's sites
        self._channels_cfg = d["channels"]
        plan = channel_plan(d)
        self.unit_permeability = plan.unit_permeability
        self.channels_per_unit = plan.channels_per_unit
        self.relative_permeability = {ion: (self._channels_cfg[ion]["relative_permeability"]
                                            if ion in self._channels_cfg else 0.0) for ion in PERMEANT}
        self.layout = SiteLayout(g, [(species_index(ion), plan.counts[ion]) for ion in PERMEANT]
                                 + [(PUMP_SITE, d["pump"]["count"])])
        self._site_open = initial_open(self._site_p_open(), self.seed, 0)
        self._rebuild_pores()
        self._build_pumps(d["pump"])

        self.step_count = 0
        self.q_in = int(inside_charge(self.state.x, self.state.species, self.charge, g.x_mid_nm))
        self.crossings = np.zeros((2, 3), dtype=np.int64)   # [efflux, influx] × [K, Na, Cl]
        self.pump_totals = np.zeros(2, dtype=np.int64)      # cycles completed, ATP spent
        self.events: list[Event] = []

    # ---- construction helpers -------------------------------------------------------------

    def _gating(self, ion: str) -> tuple[float, float]:
        ch = self._channels_cfg.get(ion, {"open_probability": 1.0, "mean_open_time_ns": 1.0})
        return ch["open_probability"], ch["mean_open_time_ns"]

    def _site_p_open(self) -> np.ndarray:
        p = np.zeros(self.geometry.n_sites)
        for k, ion in enumerate(PERMEANT):
            p[self.layout.kind == k] = self._gating(ion)[0]
        return p

    def _mark_reservoirs(self) -> None:
        """Mark free particles already beyond the transit margin with the reservoir they are in."""
        s, g, m = self.state, self.geometry, self.transit_margin_nm
        free = (s.flags & (HELD | FAR_IN | FAR_OUT)) == 0
        s.flags[free & (s.x < g.x_left_nm - m)] = FAR_IN
        s.flags[free & (s.x > g.x_right_nm + m)] = FAR_OUT

    def _rebuild_pores(self) -> None:
        """Pore arrays from the site layout, keeping every surviving channel's gate state."""
        y0, y1, sp, sites = pores_from_sites(self.geometry.site_y_nm, self.layout.kind,
                                             self.geometry.pore_width_nm)
        self.pore_y0, self.pore_y1, self.pore_species, self.pore_site = y0, y1, sp, sites
        self.pore_open = self._site_open[sites].astype(np.uint8)
        p_close = np.empty(sites.size)
        p_open = np.empty(sites.size)
        for k, ion in enumerate(PERMEANT):
            pc, po = step_probabilities(*self._gating(ion), self.dt_ns)
            p_close[sp == k] = pc
            p_open[sp == k] = po
        self.pore_p_close, self.pore_p_open = p_close, p_open

    def _build_pumps(self, pump_cfg: dict) -> None:
        sites = self.layout.sites_of(PUMP_SITE)
        self.pump_y = np.sort(self.geometry.site_y_nm[sites])
        n = self.pump_y.size
        self.pump_phase = np.zeros(n, dtype=np.int8)
        self.pump_n_held = np.zeros(n, dtype=np.int8)
        self.pump_slots = np.full((n, NA_PER_CYCLE), -1, dtype=np.int64)
        self.pumps_on = bool(pump_cfg["enabled"])
        self.pump_p_flip = flip_probability(pump_cfg["max_turnover_per_us"], self.dt_ns)
        self.capture_radius_nm = pump_cfg["capture_radius_nm"]

    # ---- the time step ------------------------------------------------------------------

    def compile(self) -> None:
        """Compile (or load from the cache) the step kernels without advancing."""
        self._advance(0)

    def step(self, k: int = 1) -> None:
        """Advance k time steps. Each step, in this order:

        1. gate channels (two-state Markov, voltage-independent leak channels);
        2. propose a Brownian move for every free particle;
        3. resolve the membrane: walls, open pores of the right species, Metropolis on the
           constant field using V from the end of the previous step; count transits;
        4. pumps advance their cycle (conformational changes, then captures);
        5. count the inside charge: Q_in changes by exactly the charge that crossed the mid-line;
        6. V = Q_in / C (the only place V is computed: `membrane.voltage.voltage_mV`);
        7. advance the clock; recorders then read between calls.
        """
        if k > 0:
            self._advance(k)

    def _advance(self, k: int) -> None:
        s, g = self.state, self.geometry
        self.q_in = int(advance(
            k, self.step_count, self.seed, self.q_in, self.capacitance_e_per_mV, self.vt_mV,
            self.field_on, self.selective, self.transit_margin_nm, s.x, s.y, s.species, s.flags, s.held_by, self.step_a,
            self.charge, self.permeant_mask, g.width_nm, g.height_nm, g.x_left_nm, g.x_right_nm,
            g.x_mid_nm, self.pore_y0, self.pore_y1, self.pore_species, self.pore_open,
            self.pore_p_close, self.pore_p_open, self.pump_y, self.pump_phase, self.pump_n_held,
            self.pump_slots, self.pumps_on, self.pump_p_flip, self.capture_radius_nm,
            self.crossings, self.pump_totals))
        self._site_open[self.pore_site] = self.pore_open
        self.step_count += k

    # ---- reading ------------------------------------------------------------------------

    @property
    def v_mV(self) -> float:
        return float(voltage_mV(self.q_in, self.capacitance_e_per_mV))

    @property
    def time_ns(self) -> float:
        return self.step_count * self.dt_ns

    @property
    def n_particles(self) -> int:
        return self.state.n

    def region_counts(self) -> np.ndarray:
        g = self.geometry
        return region_counts(self.state.x, self.state.species, g.x_left_nm, g.x_right_nm)

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

    def observe(self) -> Observation:
        counts = self.region_counts()
        c_in, c_out = self.concentrations_mM(counts)
        return Observation(self.step_count, self.time_ns, self.v_mV, counts,
                           int(self.pump_totals[0]), int(self.pump_totals[1]),
                           self.crossings[0].copy(), self.crossings[1].copy(), c_in, c_out)

    @property
    def effective_permeability(self) -> dict[str, float]:
        """Achieved permeability per ion, relative to K⁺ (config units), from the channels placed."""
        out = {}
        for k, ion in enumerate(PERMEANT):
            p, _ = self._gating(ion)
            out[ion] = achieved_permeability(self.layout.count(k), p, self.d_nm2_per_ns[k], self.unit_permeability)
        return out

    def channel_counts(self) -> dict[str, int]:
        return {ion: self.layout.count(k) for k, ion in enumerate(PERMEANT)}

    def theory(self, c_in: dict | None = None, c_out: dict | None = None, donnan: bool = True) -> dict[str, float]:
        """Nernst per ion, GHK, Mullins–Noda and (unless `donnan` is false: it recounts every
        particle) Donnan, from the present or the given concentrations."""
        if c_in is None:
            c_in, c_out = self.concentrations_mM()
        T = self.temperature_C
        perm = {ion: p for ion, p in self.effective_permeability.items() if p > 0}
        out = {f"E_{ion}_mV": theory.nernst_mV(theory.CHARGE[ion], c_in[ion], c_out[ion], T) for ion in PERMEANT}
        out["V_GHK_mV"] = theory.ghk_voltage_mV(perm, c_in, c_out, T) if perm else math.nan
        out["V_MN_mV"] = theory.mullins_noda_mV(perm, c_in, c_out, T) if perm else math.nan
        if donnan:
            out["V_Donnan_mV"] = self.donnan_mV()
        return out

    def donnan_mV(self) -> float:
        """The Gibbs–Donnan potential this box would reach with the pumps stopped for good."""
        g = self.geometry
        s = self.state
        left = s.x < g.x_mid_nm
        crossing = {ion for ion, p in self.effective_permeability.items() if p > 0}
        totals, fixed_in = {}, 0.0
        for i, name in enumerate(NAMES):
            mask = s.species == i
            if name in crossing:
                totals[name] = float(mask.sum())
            else:
                fixed_in += float(self.charge[i]) * float((mask & left).sum())
        return theory.donnan_mV(totals, theory.CHARGE, fixed_in, g.area_in_nm2, g.area_out_nm2,
                                self.capacitance_e_per_mV, self.temperature_C)

    # ---- interventions --------------------------------------------------------------------

    def _log(self, label: str) -> None:
        self.events.append(Event(self.step_count, self.time_ns, label))

    def set_pumps(self, enabled: bool) -> None:
        """Unblock (True) or block with ouabain (False). Blocking returns held ions to their side."""
        enabled = bool(enabled)
        if enabled == self.pumps_on:
            return
        if not enabled:
            s, g = self.state, self.geometry
            release_all(s.x, s.y, s.species, s.flags, s.held_by, self.charge, self.pump_y, self.pump_phase,
                        self.pump_n_held, self.pump_slots, g.x_left_nm, g.x_right_nm, g.height_nm,
                        self.seed, self.step_count)
        self.pumps_on = enabled
        self._log("pump on" if enabled else "ouabain: pump blocked")

    def set_field(self, on: bool) -> None:
        """Field off: pores ignore V (every move in a pore is accepted as if Δφ = 0)."""
        if bool(on) != self.field_on:
            self.field_on = bool(on)
            self._log("field on" if on else "field off")

    def set_selectivity(self, on: bool) -> None:
        """Selectivity off: every pore admits K⁺, Na⁺ and Cl⁻."""
        if bool(on) != self.selective:
            self.selective = bool(on)
            self._log("selectivity on" if on else "selectivity off")

    def set_relative_permeability(self, ion: str, relative: float) -> float:
        """Place as many `ion` channels as `relative` permeability needs (within free sites).

        Returns the relative permeability achieved. Ions inside a pore that is removed are put
        back just off the membrane on their side of the mid-line (the charge count is unchanged).
        """
        if ion not in PERMEANT:
            raise ValueError(f"no channel type {ion!r}; allowed: {', '.join(PERMEANT)}")
        relative = max(0.0, float(relative))
        k = PERMEANT.index(ion)
        if ion not in self._channels_cfg:
            self._channels_cfg = dict(self._channels_cfg)
            self._channels_cfg[ion] = dict(open_probability=0.9, mean_open_time_ns=10.0, relative_permeability=0.0)
        p_open, _ = self._gating(ion)
        want = channel_count(relative, p_open, self.d_nm2_per_ns[k], self.unit_permeability)
        had = self.layout.count(k)
        got = self.layout.set_count(k, min(want, had + self.layout.free_sites()))
        self.relative_permeability[ion] = relative
        if got != had:
            new_sites = self.layout.sites_of(k)
            self._site_open[new_sites[~np.isin(new_sites, self.pore_site)]] = 1
            self._rebuild_pores()
            self._evict_from_missing_pores()
        achieved = self.effective_permeability[ion]
        self._log(f"P_{ion} = {achieved:.3g}")
        return achieved

    def scale_permeability(self, ion: str, factor: float) -> float:
        """Multiply an ion's relative permeability (more or fewer channels of that type)."""
        return self.set_relative_permeability(ion, self.relative_permeability[ion] * factor)

    def _evict_from_missing_pores(self) -> None:
        s, g = self.state, self.geometry
        band = (s.x >= g.x_left_nm) & (s.x <= g.x_right_nm) & ((s.flags & 1) == 0)
        for i in np.flatnonzero(band):
            j = pore_index(s.y[i], self.pore_y0, self.pore_y1)
            if j < 0:
                s.x[i] = g.x_left_nm - 0.2 if s.x[i] < g.x_mid_nm else g.x_right_nm + 0.2

    def set_outside_concentration(self, ion: str, mM: float) -> float:
        """Change an outside bulk concentration, keeping the outside neutral.

        K⁺ or Na⁺ added come with as many impermeant X⁻; removed, they take X⁻ (then Cl⁻) away.
        Cl⁻ is exchanged with X⁻. Returns the concentration reached (whole particles).
        """
        if ion not in PERMEANT:
            raise ValueError(f"cannot set outside {ion!r}; allowed: {', '.join(PERMEANT)}")
        if not mM >= 0:
            raise ValueError(f"outside {ion} must be >= 0 mM, got {mM}")
        g, s = self.geometry, self.state
        per_mM = g.area_out_nm2 / self.mM_per_density
        sp = species_index(ion)
        bulk_out = (s.x > g.x_right_nm) & ((s.flags & HELD) == 0)
        have = int((bulk_out & (s.species == sp)).sum())
        delta = int(round(mM * per_mM)) - have
        X, Cl = int(Species.X), int(Species.Cl)
        if ion == "Cl":
            pool = np.flatnonzero(bulk_out & (s.species == (X if delta > 0 else Cl)))
            m = min(abs(delta), pool.size)
            s.species[pool[:m]] = Cl if delta > 0 else X
        elif delta > 0:
            self._add_outside([sp] * delta + [X] * delta)
        elif delta < 0:
            ions = np.flatnonzero(bulk_out & (s.species == sp))[:(-delta)]
            xs = np.flatnonzero(bulk_out & (s.species == X))[:(-delta)]
            cls = np.flatnonzero(bulk_out & (s.species == Cl))[:(-delta) - xs.size]
            self._remove(np.concatenate([ions, xs, cls]))
        reached = int(((self.state.x > g.x_right_nm) & (self.state.species == sp)).sum()) / per_mM
        self._log(f"[{ion}]o = {reached:.3g} mM")
        return reached

    def _add_outside(self, species: list[int]) -> None:
        g, s = self.geometry, self.state
        m = len(species)
        u = uniform_array(self.seed, STREAM_PLACE, 10_000 + self.step_count, 2 * m)
        x = g.x_right_nm + 1e-6 + (g.width_nm - g.x_right_nm - 2e-6) * u[:m]
        self.state = ParticleState(np.concatenate([s.x, x]), np.concatenate([s.y, g.height_nm * u[m:]]),
                                   np.concatenate([s.species, np.array(species, dtype=np.int8)]),
                                   np.concatenate([s.flags, np.zeros(m, dtype=np.uint8)]),
                                   np.concatenate([s.held_by, np.full(m, -1, dtype=np.int32)]))
        self._mark_reservoirs()

    def _remove(self, idx: np.ndarray) -> None:
        s = self.state
        keep = np.ones(s.n, dtype=bool)
        keep[idx] = False
        new_index = np.cumsum(keep) - 1
        held = self.pump_slots >= 0
        self.pump_slots[held] = new_index[self.pump_slots[held]]
        self.state = ParticleState(s.x[keep], s.y[keep], s.species[keep], s.flags[keep], s.held_by[keep])

    # ---- invariants (tests and validate) ----------------------------------------------------

    def recount_inside_charge(self) -> int:
        return int(inside_charge(self.state.x, self.state.species, self.charge, self.geometry.x_mid_nm))

    def species_totals(self) -> dict[str, int]:
        return species_totals(self.state)

    def pump_summary(self) -> dict[str, int]:
        return {ph.name: int((self.pump_phase == ph).sum()) for ph in PumpPhase}
