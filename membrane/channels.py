"""Channel types: how many channels of each, where, their gating, and the channel set that owns them.

A channel type has a name, passes one ion and has a gating model (`membrane.gating`): `[channels.K]`
is the K⁺ leak type, `[channels.Kir]` with `ion = "K"`, `gating = "kir"` a declared one; a cell may
hold two types of one ion. A channel is a pore `pore_width_nm` wide through the band, and its
permeability is proportional to p_open · D (the pore geometry is the same for every type, and so
is the access to its mouths, which scales with D as well). Relative permeability 1 is the
permeability of `channels_per_unit_permeability` K⁺ leak channels (the reference), so a leak type
with relative permeability P gets n = round(P · N_unit · p_K · D_K / (p · D)) channels (at least
one), and then its open probability is set so that n · p · D is exactly P · N_unit · p_K · D_K:
whole channels no longer round the requested ratios (P_Na = 0.04 is 0.0400, not the 0.0373 of
three channels). The open probability moves by at most half a channel's share, so the gating keeps
its character (mostly open stays mostly open; the mean open time is unchanged). A voltage-gated
type's relative permeability is that of all its channels open, so it gets the whole number of
channels nearest P · N_unit · p_K · D_K / D (its open probability is its gates' business). The
measured permeability comes from the fluxes.

A leak gate is a two-state Markov chain per channel: closing rate 1/τ_open, opening rate
p/(1-p)/τ_open, so the open fraction is p and the mean open time τ_open. Gated types' gates read V
of the previous step (`membrane.gating`). Either way a closed pore admits no ion and holds still
what is inside it (`membrane.crossing`), so detailed balance holds in every gate state.

`ChannelSet` owns the pore arrays (`Pores`, what the kernels read), the gate state of every
channel site, the channel types and their permeabilities, and the intervention that changes a
type's permeability (adding or removing channels on the shared `SiteLayout`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
from numba import njit

from membrane import gating as gm
from membrane import theory
from membrane.geometry import MembraneGeometry, SiteLayout
from particles.rng import STREAM_GATING, STREAM_PLACE, draw, step_key, unit, uniform_array
from particles.species import PERMEANT_NAMES, Species
from particles.state import FAR_IN, FAR_OUT, HELD, ParticleState

REFERENCE = "K"   # relative permeabilities are relative to this ion's leak type
# What an open channel conducts over what its pore alone would (D·w/L); the rest is the access to
# its two mouths. Measured: K⁺ permeability from the fluxes over open channels, in units of the
# pore's D·w/L, in the k-only cell (see tests/test_pore_fill.py, which measures it again). Used
# only to fill the pores at the start (`ChannelSet.fill_pores`); a cell of another geometry fills
# a little off and relaxes the rest in its pores' own time.
PORE_CONDUCTANCE_SHARE = 0.80


class Pores(NamedTuple):
    """Every channel's pore, sorted along the membrane (what the kernels read)."""
    y0: np.ndarray        # float64, nm: lower edge
    y1: np.ndarray        # float64, nm: upper edge
    species: np.ndarray   # int8: the species the pore admits (its type's ion)
    is_open: np.ndarray   # uint8: open now (a leak gate's state, or all of a gated channel's gates open)
    p_close: np.ndarray   # float64: leak: per-step probability that an open pore closes
    p_open: np.ndarray    # float64: leak: per-step probability that a closed pore opens
    p_move: np.ndarray    # float64: acceptance of a move in the pore (its D relative to the bulk's)
    kind: np.ndarray      # int64: the channel type (its index in the cell's list of types)
    gates: np.ndarray     # uint8: a gated channel's gates, bit g set when gate g is open
    at_site: np.ndarray   # int32[membrane site]: the pore at the site, or -1 (`pore_at`)
    single_file: np.ndarray   # uint8: ions in the pore keep their order (membrane.crossing.single_file_relabel)


@dataclass(frozen=True)
class Gating:
    open_probability: float
    mean_open_time_ns: float


@dataclass(frozen=True)
class ChannelType:
    """A channel type as the config resolves it."""
    name: str
    ion: str
    gating: str                   # a model of membrane.gating.MODELS
    relative_permeability: float  # asked: leak at its open probability, gated with every channel open
    open_probability: float       # leak: asked; gated: 1 (its relative permeability is all open)
    mean_open_time_ns: float      # leak
    pore_D_factor: float
    params: dict = field(default_factory=dict)   # its model's own keys (v_shift_mV, ...)
    declared: bool = True         # in the config (a leak type it lacks has no channels until a live change)
    single_file: bool = False     # its pores hold their ions in a row: none passes another

    @classmethod
    def from_table(cls, name: str, ion: str, model: str, table: dict, declared: bool) -> "ChannelType":
        leak = gm.MODELS[model].leak
        return cls(name, ion, model, float(table["relative_permeability"]),
                   float(table["open_probability"]) if leak else 1.0,
                   float(table["mean_open_time_ns"]) if leak else 0.0, float(table.get("pore_D_factor", 1.0)),
                   {k: float(table[k]) for k in gm.MODELS[model].params}, declared,
                   bool(table.get("single_file", False)))

    @property
    def leak(self) -> bool:
        return gm.MODELS[self.gating].leak


@dataclass(frozen=True)
class ChannelPlan:
    counts: dict[str, int]                   # channels per type
    open_probability: dict[str, float]       # per leak type, as placed (set so the ratios are exact); gated: 1
    pore_factor: dict[str, float]            # per type: D in its pores over D in the bulk
    effective_permeability: dict[str, float]  # achieved, per type, relative to the reference (config units)
    unit_permeability: float                 # N_unit · p_ref · D_ref
    channels_per_unit: int                   # N_unit actually used (lowered when the sites run out)

    def per_ion(self, types: list[ChannelType]) -> dict[str, float]:
        """Achieved permeability per ion, summed over its types (gated ones all open)."""
        out = {ion: 0.0 for ion in PERMEANT_NAMES}
        for t in types:
            out[t.ion] += self.effective_permeability[t.name]
        return out


def resting_potentials(types: list[ChannelType], permeability: dict[str, float], c_in: dict, c_out: dict,
                       temperature_C: float, pump_ratio: float) -> tuple[float, float, float]:
    """(GHK, Mullins–Noda, zero current with the 3:2 pump) of a membrane with these types and
    per-type permeabilities (relative; gated ones all open): the closed forms when every type is
    a leak, else the zero-current potentials with each gated type at its steady-state open
    probability. Mullins–Noda counts the K⁺ and Na⁺ channels only; the pump's zero current
    every ion's (`theory.pump_zero_current_mV`)."""
    leak = {ion: 0.0 for ion in PERMEANT_NAMES}
    gated = []
    for t in types:
        p = permeability.get(t.name, 0.0)
        if p <= 0:
            continue
        if t.leak:
            leak[t.ion] += p
        else:
            gated.append((t.ion, p, lambda v, e, t=t: gm.open_probability(t.gating, t.params, v, e, c_out[t.ion])))
    leak = {ion: p for ion, p in leak.items() if p > 0}
    if gated:
        mn_leak = {ion: p for ion, p in leak.items() if ion in ("K", "Na")}
        mn_gated = [g for g in gated if g[0] in ("K", "Na")]
        return (theory.gated_zero_current_mV(leak, gated, c_in, c_out, temperature_C),
                theory.gated_zero_current_mV(mn_leak, mn_gated, c_in, c_out, temperature_C, pump_ratio)
                if mn_leak or mn_gated else math.nan,
                theory.gated_zero_current_mV(leak, gated, c_in, c_out, temperature_C, pump_ratio))
    if not leak:
        return math.nan, math.nan, math.nan
    return (theory.ghk_voltage_mV(leak, c_in, c_out, temperature_C),
            theory.mullins_noda_mV(leak, c_in, c_out, temperature_C, pump_ratio),
            theory.pump_zero_current_mV(leak, c_in, c_out, temperature_C, pump_ratio))


MANY = 1e12   # more channels than any membrane has sites for: the caller refuses such a plan


def fit_channels(rel_perm: float, p_open: float, d_nm2_per_ns: float, unit_permeability: float,
                 max_count: int | None = None) -> tuple[int, float]:
    """(channels, open probability) giving `rel_perm` exactly (unit_permeability = N_unit · p_ref ·
    D_ref): the whole number of channels nearest at `p_open`, then the open probability that makes
    n · p · D exact. With at most `max_count` channels the open probability is capped at 1, and
    the result may fall short (the caller reports what was achieved)."""
    if rel_perm <= 0.0:
        return 0, p_open
    open_channels = rel_perm * unit_permeability / d_nm2_per_ns     # n · p needed
    n = max(1, int(round(min(open_channels / p_open, MANY))))
    if open_channels / n > 1.0:
        n = int(np.ceil(min(open_channels, MANY)))
    if max_count is not None:
        n = min(n, max_count)
    if n == 0:
        return 0, p_open
    return n, min(1.0, open_channels / n)


def fit_gated(rel_perm: float, d_nm2_per_ns: float, unit_permeability: float,
              max_count: int | None = None) -> int:
    """Channels of a gated type: the whole number nearest `rel_perm` with all of them open (at
    least one; its open probability is its gates', so it cannot make up the rounding)."""
    if rel_perm <= 0.0:
        return 0
    n = max(1, int(round(min(rel_perm * unit_permeability / d_nm2_per_ns, MANY))))
    return n if max_count is None else min(n, max_count)


def achieved_permeability(n: int, p_open: float, d_nm2_per_ns: float, unit_permeability: float) -> float:
    return n * p_open * d_nm2_per_ns / unit_permeability


def plan_channels(types: list[ChannelType], d_nm2_per_ns: dict[str, float], free_sites: int, max_per_unit: int,
                  min_per_type: int = 1) -> ChannelPlan:
    """Channel counts for the types' relative permeabilities at `max_per_unit` channels per unit, or
    at the largest smaller unit whose channels fit on `free_sites` (the ratios are what matter;
    fewer channels only make the membrane conduct less). The caller checks that the result fits.

    Then a leak type that needs fewer than `min_per_type` channels gets more, each open less often
    (the open probability that keeps its permeability; the mean open time is kept), as far as the
    free sites allow, the type with the fewest first: each carries less, so no few channels drive
    a plume of ions that the bulk cannot clear, and the membrane, not the access to it, limits
    the flux. (Slower pores instead — a lower pore D — were tried: the access resistance then
    weighs less on them than on the full-speed pores of the other types, and the measured P_Na/P_K
    read 7 ± 2 % high.) `types` lists every type of the cell (a type the config lacks asks for 0);
    the reference is the leak type of REFERENCE; `d_nm2_per_ns` is each ion's bulk D."""
    d_pore = {t.name: d_nm2_per_ns[t.ion] * t.pore_D_factor for t in types}
    ref = next(t for t in types if t.name == REFERENCE)
    plan = None
    for n_unit in range(max_per_unit, 0, -1):
        unit_p = n_unit * ref.open_probability * d_pore[ref.name]
        counts, p_used = {}, {}
        for t in types:
            if not t.leak:
                counts[t.name], p_used[t.name] = fit_gated(t.relative_permeability, d_pore[t.name], unit_p), 1.0
            else:
                counts[t.name], p_used[t.name] = fit_channels(t.relative_permeability, t.open_probability,
                                                              d_pore[t.name], unit_p)
        plan = (counts, p_used, unit_p, n_unit)
        if sum(counts.values()) <= free_sites:
            break
    counts, p_used, unit_p, n_unit = plan
    spare = free_sites - sum(counts.values())
    nominal = dict(counts)
    order = [t.name for t in types]
    leak = {t.name for t in types if t.leak}
    while spare > 0:
        short = [name for name, n in counts.items() if 0 < n < min_per_type and name in leak]
        if not short:
            break
        name = min(short, key=lambda i: (counts[i], order.index(i)))
        counts[name] += 1
        spare -= 1
    asked = {t.name: t.relative_permeability for t in types}
    for name, n in counts.items():
        if n > nominal[name]:
            p_used[name] = asked[name] * unit_p / (n * d_pore[name])
    eff = {name: achieved_permeability(counts[name], p_used[name], d_pore[name], unit_p) for name in counts}
    return ChannelPlan(counts, p_used, {t.name: t.pore_D_factor for t in types}, eff, unit_p, n_unit)


def step_probabilities(p_open: float, mean_open_ns: float, dt_ns: float) -> tuple[float, float]:
    """Per-step probabilities (close if open, open if closed) of the two-state chain."""
    if p_open >= 1.0:
        return 0.0, 1.0
    k_close = 1.0 / mean_open_ns
    k_open = k_close * p_open / (1.0 - p_open)
    return -np.expm1(-k_close * dt_ns), -np.expm1(-k_open * dt_ns)


def initial_open(p_open: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Open/closed at start, drawn from the stationary distribution."""
    u = uniform_array(seed, STREAM_PLACE, 1000 + salt, p_open.size)
    return (u < p_open).astype(np.uint8)


@njit(cache=True)
def gate_channels(pores, table, v_mV, seed, step):
    """One step of every channel's gates, with V of the previous step: a leak channel's two-state
    chain (one draw per pore, STREAM_GATING), then the gated channels' gates (`membrane.gating`)."""
    is_open, p_close, p_open, kind = pores.is_open, pores.p_close, pores.p_open, pores.kind
    key = step_key(seed, step, STREAM_GATING)
    leak = table.leak
    for j in range(is_open.size):
        if not leak[kind[j]]:
            continue
        u = unit(draw(key, j))
        if is_open[j]:
            if u < p_close[j]:
                is_open[j] = 0
        elif u < p_open[j]:
            is_open[j] = 1
    if table.any_gated:
        gm.transition_probabilities(table, v_mV)
        gm.step_gates(pores, table, seed, step)


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


@njit(cache=True, inline="always")
def pore_at(y, per_pitch, at_site, pore_y0, pore_y1):
    """`pore_index` without the search: a pore lies inside its site (narrower than the sites'
    pitch, centred on the site), so only the pore at y's site can hold y. Where y is within
    rounding of a site's edge (or at the top wall), the search decides."""
    s = y * per_pitch
    k = int(s)
    f = s - k
    if f < 1e-9 or f > 1.0 - 1e-9 or k >= at_site.size:
        return pore_index(y, pore_y0, pore_y1)
    j = at_site[k]
    if j >= 0 and pore_y0[j] <= y and y <= pore_y1[j]:
        return j
    return -1


class ChannelSet:
    """The membrane's channels: their types, pores, gates and permeabilities."""

    def __init__(self, geometry: MembraneGeometry, layout: SiteLayout, types: list[ChannelType], plan: ChannelPlan,
                 d_nm2_per_ns: dict[str, float], table: gm.GateTable, dt_ns: float, seed: int, v_mV: float = 0.0,
                 min_per_type: int = 1):
        """`types`: every type of the cell, in id order (the site layout holds their ids); `plan`:
        the counts and the leak types' open probabilities as placed (set so the ratios are
        exact); `d_nm2_per_ns` each ion's bulk D; `table` the gating kernel's table of these types;
        `v_mV` the potential the gates start at steady state for."""
        self.geometry = geometry
        self.layout = layout
        self.types = list(types)
        self.index = {t.name: k for k, t in enumerate(self.types)}
        self.relative = {t.name: t.relative_permeability for t in self.types}
        self.has_type = {t.name: t.declared for t in self.types}
        self.gating = {t.name: Gating(plan.open_probability[t.name], t.mean_open_time_ns) for t in self.types}
        self.d_nm2_per_ns = dict(d_nm2_per_ns)
        self.min_per_type = min_per_type   # a live change spreads a leak type over this many, like the plan
        self.unit_permeability = plan.unit_permeability
        self.table = table
        self.dt_ns = dt_ns
        self.seed = seed
        p_site = np.zeros(geometry.n_sites)
        for k, t in enumerate(self.types):
            if t.leak:
                p_site[layout.kind == k] = self._p_open(t.name)
        self._site_open = initial_open(p_site, seed, 0)
        self._site_gates = np.zeros(geometry.n_sites, dtype=np.uint8)
        self._draw_gates(np.flatnonzero(layout.kind >= 0), v_mV, 0)
        self._rebuild()

    def type_of(self, name: str) -> ChannelType:
        if name not in self.index:
            raise KeyError(f"no channel type {name!r}; this cell has {', '.join(self.index)}")
        return self.types[self.index[name]]

    def _p_open(self, name: str) -> float:
        """A placed leak type's open probability (a type the membrane never had: always open)."""
        return self.gating[name].open_probability if self.has_type[name] else 1.0

    def _draw_gates(self, sites: np.ndarray, v_mV: float, salt: int) -> None:
        """Gated channels at `sites` start with their gates at steady state for `v_mV` (each gate
        open with probability α/(α + β)), drawn from the placement stream."""
        kinds = self.layout.kind[sites]
        u = uniform_array(self.seed, STREAM_PLACE, 20_000 + salt, max(1, sites.size * gm.MAX_GATES))
        for j, (site, k) in enumerate(zip(sites, kinds)):
            t = self.types[k]
            if t.leak:
                continue
            s = int(Species[t.ion])
            fractions = gm.gate_open_fractions(t.gating, t.params, v_mV, float(self.table.e_mV[s]),
                                               float(self.table.c_out_mM[s]))
            bits = 0
            for g, f in enumerate(fractions):
                if u[j * gm.MAX_GATES + g] < f:
                    bits |= 1 << g
            self._site_gates[site] = bits
            self._site_open[site] = int(bits == (1 << len(fractions)) - 1)

    def _rebuild(self) -> None:
        """Pore arrays from the site layout, keeping every surviving channel's gate state."""
        sites = self.layout.channel_sites()    # increasing site index is increasing y
        y = self.geometry.site_y_nm[sites]
        half = self.geometry.pore_width_nm / 2
        kind = self.layout.kind[sites].astype(np.int64)
        ions = np.array([int(Species[t.ion]) for t in self.types], dtype=np.int8)
        p_close = np.zeros(sites.size)
        p_open = np.zeros(sites.size)
        p_move = np.ones(sites.size)
        single_file = np.zeros(sites.size, dtype=np.uint8)
        for k, t in enumerate(self.types):
            mine = kind == k
            p_move[mine] = t.pore_D_factor
            single_file[mine] = t.single_file
            if t.leak:
                g = self.gating[t.name] if self.has_type[t.name] else Gating(1.0, 1.0)
                p_close[mine], p_open[mine] = step_probabilities(g.open_probability, g.mean_open_time_ns, self.dt_ns)
        self.sites = sites
        at_site = np.full(self.geometry.n_sites, -1, dtype=np.int32)
        at_site[sites] = np.arange(sites.size)
        self.pores = Pores(y - half, y + half, ions[kind] if kind.size else np.zeros(0, dtype=np.int8),
                           self._site_open[sites].astype(np.uint8), p_close, p_open, p_move, kind,
                           self._site_gates[sites].astype(np.uint8), at_site, single_file)

    def fill_pores(self, state: ParticleState, charge: np.ndarray, v_mV: float, vt_mV: float) -> int:
        """Give every leak pore the ions it holds in the steady state, so a placed permeability
        holds from the first step (a voltage-gated type's permeability is its gates' business; its
        pores fill when they first open, in a few ns): an open pore's profile at `v_mV` between the bulks' densities
        (`theory.pore_profile`; a closed pore holds still what it held, so a gated pore's content
        is an open one's), a Poisson number per pore, each ion taken from the bulk it came in from
        (the profile's share of that side at its depth) and put at its depth, anywhere across the
        pore, marked as in transit from that side (so the tally of transits runs at its steady rate
        from the start too: a Na⁺ ion takes ~1 µs through a pore open 13 % of the time). Without
        this the pores start empty and a rarely open type (P_Na/P_K = 0.02 over
        eight channels open 13 % of the time) takes a microsecond to fill: its flux, and so its
        measured permeability, ran at less than half for the first 750 ns (issue 25). Returns
        the ions moved into pores."""
        g = self.geometry
        x0, length = g.x_left_nm, g.thickness_nm
        width = self.pores.y1 - self.pores.y0
        free = (state.flags & HELD) == 0
        sides = (free & (state.x < x0), free & (state.x > g.x_right_nm))
        areas = (x0 * g.height_nm, (g.width_nm - g.x_right_nm) * g.height_nm)
        rng = np.random.Generator(np.random.Philox(key=[self.seed & (2**64 - 1), STREAM_PLACE]))
        grid = np.linspace(0.0, 1.0, 1025)
        moved = 0
        leak = np.array([self.types[k].leak for k in self.pores.kind], dtype=np.bool_)
        for s in np.unique(self.pores.species[leak]):
            pores = np.flatnonzero((self.pores.species == s) & leak)
            pool = [np.flatnonzero(side & (state.species == s)) for side in sides]
            n_in, n_out = (p.size / a for p, a in zip(pool, areas))
            a = float(charge[s]) * v_mV / vt_mV
            # the ions from each bulk, apart (the equations are linear in the bulks' densities)
            mouths_in = theory.pore_mouths(a, n_in, 0.0, PORE_CONDUCTANCE_SHARE)
            mouths_out = theory.pore_mouths(a, 0.0, n_out, PORE_CONDUCTANCE_SHARE)
            per = theory.pore_occupancy(a, *mouths_in) + theory.pore_occupancy(a, *mouths_out)
            counts = rng.poisson(per * width[pores] * length)
            total = int(counts.sum())
            if total == 0:
                continue
            part_in = theory.pore_profile(a, *mouths_in, grid)
            part_out = theory.pore_profile(a, *mouths_out, grid)
            both = part_in + part_out
            cdf = np.concatenate(([0.0], np.cumsum(0.5 * (both[1:] + both[:-1]))))
            depth = np.interp(rng.random(total) * cdf[-1], cdf, grid)
            depth = np.clip(depth, 1e-6, 1.0 - 1e-6)
            share_in = np.interp(depth, grid, part_in / np.maximum(both, 1e-300))
            from_in = rng.random(total) < share_in
            which = np.repeat(pores, counts)
            order = [rng.permutation(p) for p in pool]
            taken = [0, 0]
            for k in range(total):
                side = 0 if from_in[k] else 1
                if taken[side] >= order[side].size:      # that bulk has no more of this ion: the other's
                    side = 1 - side
                    if taken[side] >= order[side].size:
                        break
                i = order[side][taken[side]]
                taken[side] += 1
                j = which[k]
                state.x[i] = x0 + depth[k] * length
                state.y[i] = self.pores.y0[j] + width[j] * rng.uniform(0.02, 0.98)
                state.flags[i] = FAR_IN if side == 0 else FAR_OUT   # in transit from where it came
                moved += 1
        return moved

    # ---- reading ------------------------------------------------------------------------------

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.types)

    def counts(self) -> dict[str, int]:
        """Channels per type."""
        return {t.name: self.layout.count(k) for k, t in enumerate(self.types)}

    def open_counts(self) -> dict[str, int]:
        """Channels per type open now."""
        n = np.bincount(self.pores.kind[self.pores.is_open == 1], minlength=len(self.types))
        return {t.name: int(n[k]) for k, t in enumerate(self.types)}

    def gate_fractions(self) -> dict[str, list[float]]:
        """Per gated type with channels, the fraction of its channels with each gate open now (the
        deterministic cell starts from them)."""
        out = {}
        for k, t in enumerate(self.types):
            sel = self.pores.kind == k
            if t.leak or not sel.any():
                continue
            bits = self.pores.gates[sel].astype(np.int64)
            out[t.name] = [float(((bits >> g) & 1).mean()) for g in range(int(self.table.n_gates[k]))]
        return out

    def inactivated(self) -> np.ndarray:
        """Per channel: its type inactivates and its inactivation gate is shut now (HH's h: the
        channel cannot open until it recovers, however V moves its other gates)."""
        out = np.zeros(self.pores.kind.size, dtype=np.bool_)
        for k, t in enumerate(self.types):
            g = None if t.leak else gm.MODELS[t.gating].inactivation
            if g is not None:
                sel = self.pores.kind == k
                out[sel] = (self.pores.gates[sel] >> g) & 1 == 0
        return out

    def gate_states(self) -> dict[str, dict[str, int]]:
        """Per gated type that inactivates: its channels open, closed (resting: they can open) and
        inactivated now."""
        inact = self.inactivated()
        out = {}
        for k, t in enumerate(self.types):
            sel = self.pores.kind == k
            if t.leak or gm.MODELS[t.gating].inactivation is None or not sel.any():
                continue
            n_open = int(self.pores.is_open[sel].sum())
            n_inact = int(inact[sel].sum())
            out[t.name] = {"open": n_open, "closed": int(sel.sum()) - n_open - n_inact, "inactivated": n_inact}
        return out

    def placed(self) -> dict[str, dict]:
        """Per channel type present: its ion and gating, channels, open probability asked and used
        (leak), permeability asked and achieved (relative to the reference; gated: all open)."""
        eff = self.effective_permeability()
        out = {}
        for k, t in enumerate(self.types):
            if not self.has_type[t.name]:
                continue
            entry = {"ion": t.ion, "gating": t.gating, "channels": self.layout.count(k)}
            if t.leak:
                entry.update(open_probability_asked=t.open_probability, open_probability_used=self._p_open(t.name))
            entry.update(pore_D_factor=t.pore_D_factor, relative_permeability_asked=self.relative[t.name],
                         relative_permeability_achieved=eff[t.name])
            out[t.name] = entry
        return out

    def effective_permeability(self) -> dict[str, float]:
        """Achieved permeability per type, relative to the reference, from the channels placed (a
        gated type's with all its channels open)."""
        return {t.name: achieved_permeability(self.layout.count(k), self._p_open(t.name) if t.leak else 1.0,
                                              self._pore_d(t.name), self.unit_permeability)
                for k, t in enumerate(self.types)}

    def leak_permeability(self) -> dict[str, float]:
        """Per ion, the permeability of its leak types (what does not depend on V)."""
        out = {ion: 0.0 for ion in PERMEANT_NAMES}
        for name, p in self.effective_permeability().items():
            t = self.type_of(name)
            if t.leak:
                out[t.ion] += p
        return out

    def gated(self) -> list[tuple[ChannelType, float]]:
        """The gated types with channels, each with its permeability all open."""
        eff = self.effective_permeability()
        return [(t, eff[t.name]) for t in self.types if not t.leak and eff[t.name] > 0]

    def open_permeability(self) -> dict[str, float]:
        """Per ion, what its channels offer now: leak types as placed, gated types by their
        channels open at this moment."""
        out = self.leak_permeability()
        n_open = self.open_counts()
        for t in self.types:
            if not t.leak:
                out[t.ion] += achieved_permeability(n_open[t.name], 1.0, self._pore_d(t.name), self.unit_permeability)
        return out

    def _pore_d(self, name: str) -> float:
        t = self.type_of(name)
        return self.d_nm2_per_ns[t.ion] * t.pore_D_factor

    def crossing(self) -> tuple[str, ...]:
        """Ions that have channels now (of any type), in the species table's order."""
        have = {t.ion for t, p in zip(self.types, self.effective_permeability().values()) if p > 0}
        return tuple(ion for ion in PERMEANT_NAMES if ion in have)

    # ---- interventions -------------------------------------------------------------------------

    def set_single_file(self, name: str, on: bool) -> None:
        """Type `name`'s pores keep their ions in order (True) or let them pass (False)."""
        k = self.index[name]
        self.types[k] = replace(self.types[k], single_file=on)
        self._site_open[self.sites] = self.pores.is_open   # the gates as the kernels left them
        self._site_gates[self.sites] = self.pores.gates
        self._rebuild()

    def set_relative_permeability(self, name: str, relative: float, state: ParticleState, v_mV: float = 0.0,
                                  step: int = 0) -> float:
        """Place as many channels of type `name` as `relative` permeability needs (within free sites).

        Returns the relative permeability achieved. Ions inside a pore that is removed are put
        back just off the membrane on their side of the mid-line (the charge count is unchanged).
        New leak channels start open; new gated channels at their gates' steady state for `v_mV`.
        """
        k = self.index[name]
        t = self.types[k]
        self.has_type[name] = True
        had = self.layout.count(k)
        room = had + self.layout.free_sites()
        if t.leak:
            want, p = fit_channels(relative, t.open_probability, self._pore_d(name), self.unit_permeability, room)
            spread = min(self.min_per_type, room)
            if 0 < want < spread:   # as in the plan: more channels, each open less often
                want, p = spread, relative * self.unit_permeability / (spread * self._pore_d(name))
            self.gating[name] = Gating(p, t.mean_open_time_ns)
        else:
            want = fit_gated(relative, self._pore_d(name), self.unit_permeability, room)
        got = self.layout.set_count(k, want)
        self.relative[name] = relative
        self._site_open[self.sites] = self.pores.is_open   # the gates as the kernels left them
        self._site_gates[self.sites] = self.pores.gates
        new_sites = self.layout.sites_of(k)
        new_sites = new_sites[~np.isin(new_sites, self.sites)]
        if t.leak:
            self._site_open[new_sites] = 1
        else:
            self._draw_gates(new_sites, v_mV, 1 + step)
        self._rebuild()
        if got < had:
            self._evict_from_missing_pores(state)
        return self.effective_permeability()[name]

    def _evict_from_missing_pores(self, state: ParticleState) -> None:
        g = self.geometry
        band = (state.x >= g.x_left_nm) & (state.x <= g.x_right_nm) & ((state.flags & HELD) == 0)
        for i in np.flatnonzero(band):
            if pore_index(state.y[i], self.pores.y0, self.pores.y1) < 0:
                state.x[i] = g.x_left_nm - 0.2 if state.x[i] < g.x_mid_nm else g.x_right_nm + 0.2

