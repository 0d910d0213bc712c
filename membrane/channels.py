"""Leak channels: how many of each type, where, their two-state stochastic gating, and the
channel set that owns them.

A channel of species s is a pore `pore_width_nm` wide through the band. Its permeability is
proportional to p_open · D_s (the pore geometry is the same for every type, and so is the access
to its mouths, which scales with D as well). Relative permeability 1 is the permeability of
`channels_per_unit_permeability` channels of the reference species (K⁺), so a species with
relative permeability P_s gets n_s = round(P_s · N_unit · p_K · D_K / (p_s · D_s)) channels (at
least one), and then its open probability is set so that n_s · p_s · D_s is exactly P_s · N_unit ·
p_K · D_K: whole channels no longer round the requested ratios (P_Na = 0.04 is 0.0400, not the
0.0373 of three channels). The open probability moves by at most half a channel's share, so the
gating keeps its character (mostly open stays mostly open; the mean open time is unchanged). The
measured permeability comes from the fluxes.

Gating is a two-state Markov chain per channel: closing rate 1/τ_open, opening rate
p/(1-p)/τ_open, so the open fraction is p and the mean open time τ_open.

`ChannelSet` owns the pore arrays (`Pores`, what the kernels read), the gate state of every
channel site, the channel types' gating and permeabilities, and the intervention that changes a
type's permeability (adding or removing channels on the shared `SiteLayout`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from membrane.geometry import MembraneGeometry, SiteLayout
from particles.rng import STREAM_GATING, STREAM_PLACE, draw, step_key, unit, uniform_array
from particles.species import PERMEANT, PERMEANT_NAMES, Species
from particles.state import HELD, ParticleState

REFERENCE = Species.K   # relative permeabilities are relative to this species' channels


class Pores(NamedTuple):
    """Every channel's pore, sorted along the membrane (what the kernels read)."""
    y0: np.ndarray        # float64, nm: lower edge
    y1: np.ndarray        # float64, nm: upper edge
    species: np.ndarray   # int8: the species the pore admits
    is_open: np.ndarray   # uint8: gate state, changed by `gate_channels`
    p_close: np.ndarray   # float64: per-step probability that an open pore closes
    p_open: np.ndarray    # float64: per-step probability that a closed pore opens
    p_move: np.ndarray    # float64: acceptance of a move in the pore (its D relative to the bulk's)


@dataclass(frozen=True)
class Gating:
    open_probability: float
    mean_open_time_ns: float


@dataclass(frozen=True)
class ChannelPlan:
    counts: dict[str, int]                   # channels per ion
    open_probability: dict[str, float]       # per ion, as placed (set so the ratios are exact)
    pore_factor: dict[str, float]            # per ion: D in its pores over D in the bulk
    effective_permeability: dict[str, float]  # achieved, relative to the reference (config units)
    unit_permeability: float                 # N_unit · p_ref · D_ref
    channels_per_unit: int                   # N_unit actually used (lowered when the sites run out)


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


def achieved_permeability(n: int, p_open: float, d_nm2_per_ns: float, unit_permeability: float) -> float:
    return n * p_open * d_nm2_per_ns / unit_permeability


def plan_channels(relative: dict[str, float], gating: dict[str, Gating], d_nm2_per_ns: dict[str, float],
                  free_sites: int, max_per_unit: int, min_per_type: int = 1,
                  pore_factor: dict[str, float] | None = None) -> ChannelPlan:
    """Channel counts for the relative permeabilities at `max_per_unit` channels per unit, or at the
    largest smaller unit whose channels fit on `free_sites` (the ratios are what matter; fewer
    channels only make the membrane conduct less). The caller checks that the result fits.

    Then a type that needs fewer than `min_per_type` channels gets more, each open less often
    (the open probability that keeps its permeability; the mean open time is kept), as far as the
    free sites allow, the type with the fewest first: each carries less, so no few channels drive
    a plume of ions that the bulk cannot clear, and the membrane, not the access to it, limits
    the flux. (Slower pores instead — a lower pore D — were tried: the access resistance then
    weighs less on them than on the full-speed pores of the other types, and the measured P_Na/P_K
    read 7 ± 2 % high.) `relative` lists only the ion types the membrane has; `gating` has every
    permeant species; `d_nm2_per_ns` is the bulk D; `pore_factor` (default 1) each type's D in
    its pores over the bulk's."""
    factor = {s.name: 1.0 for s in PERMEANT}
    factor.update(pore_factor or {})
    d_pore = {ion: d_nm2_per_ns[ion] * factor[ion] for ion in factor}
    plan = None
    ref = REFERENCE.name
    for n_unit in range(max_per_unit, 0, -1):
        unit_p = n_unit * gating[ref].open_probability * d_pore[ref]
        counts, p_used = {}, {}
        for s in PERMEANT:
            ion = s.name
            p = gating[ion].open_probability
            counts[ion], p_used[ion] = (fit_channels(relative[ion], p, d_pore[ion], unit_p)
                                        if ion in relative else (0, p))
        plan = (counts, p_used, unit_p, n_unit)
        if sum(counts.values()) <= free_sites:
            break
    counts, p_used, unit_p, n_unit = plan
    spare = free_sites - sum(counts.values())
    nominal = dict(counts)
    while spare > 0:
        short = [ion for ion, n in counts.items() if 0 < n < min_per_type]
        if not short:
            break
        ion = min(short, key=lambda i: (counts[i], PERMEANT_NAMES.index(i)))
        counts[ion] += 1
        spare -= 1
    for ion, n in counts.items():
        if n > nominal[ion]:
            p_used[ion] = relative[ion] * unit_p / (n * d_pore[ion])
    eff = {ion: achieved_permeability(counts[ion], p_used[ion], d_pore[ion], unit_p) for ion in counts}
    return ChannelPlan(counts, p_used, factor, eff, unit_p, n_unit)


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
def gate_channels(pores, seed, step):
    """One step of every channel's two-state Markov chain."""
    is_open, p_close, p_open = pores.is_open, pores.p_close, pores.p_open
    key = step_key(seed, step, STREAM_GATING)
    for j in range(is_open.size):
        u = unit(draw(key, j))
        if is_open[j]:
            if u < p_close[j]:
                is_open[j] = 0
        elif u < p_open[j]:
            is_open[j] = 1


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


class ChannelSet:
    """The membrane's leak channels: pores, gates, types and their permeabilities."""

    def __init__(self, geometry: MembraneGeometry, layout: SiteLayout, relative: dict[str, float],
                 gating: dict[str, Gating], open_probability: dict[str, float], d_nm2_per_ns: dict[str, float],
                 pore_factor: dict[str, float], unit_permeability: float, dt_ns: float, seed: int,
                 min_per_type: int = 1):
        """`gating` is the config's (every permeant species; defaults for types not placed),
        `open_probability` the plan's (set so the placed counts meet the ratios exactly),
        `d_nm2_per_ns` each species' bulk D, `pore_factor` each type's D in its pores over it."""
        self.geometry = geometry
        self.layout = layout
        self.relative = {s.name: float(relative.get(s.name, 0.0)) for s in PERMEANT}
        self.requested_gating = dict(gating)
        self.gating = {ion: Gating(open_probability[ion], g.mean_open_time_ns) for ion, g in gating.items()}
        self.has_type = {s.name: s.name in relative for s in PERMEANT}
        self.d_nm2_per_ns = dict(d_nm2_per_ns)
        self.pore_factor = dict(pore_factor)
        self.min_per_type = min_per_type   # a live change spreads a type over this many, like the plan
        self.unit_permeability = unit_permeability
        self.dt_ns = dt_ns
        p_site = np.zeros(geometry.n_sites)
        for s in PERMEANT:
            p_site[layout.kind == s] = self._p_open(s.name)
        self._site_open = initial_open(p_site, seed, 0)
        self._rebuild()

    def _p_open(self, ion: str) -> float:
        """A placed type's open probability (a type the membrane never had: always open)."""
        return self.gating[ion].open_probability if self.has_type[ion] else 1.0

    def _rebuild(self) -> None:
        """Pore arrays from the site layout, keeping every surviving channel's gate state."""
        sites = self.layout.channel_sites()    # increasing site index is increasing y
        y = self.geometry.site_y_nm[sites]
        half = self.geometry.pore_width_nm / 2
        species = self.layout.kind[sites].astype(np.int8)
        p_close = np.zeros(sites.size)
        p_open = np.zeros(sites.size)
        p_move = np.ones(sites.size)
        for s in PERMEANT:
            p_move[species == s] = self.pore_factor[s.name]
            g = self.gating[s.name] if self.has_type[s.name] else Gating(1.0, 1.0)
            p_close[species == s], p_open[species == s] = step_probabilities(
                g.open_probability, g.mean_open_time_ns, self.dt_ns)
        self.sites = sites
        self.pores = Pores(y - half, y + half, species, self._site_open[sites].astype(np.uint8), p_close, p_open,
                           p_move)

    # ---- reading ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {s.name: self.layout.count(s) for s in PERMEANT}

    def placed(self) -> dict[str, dict]:
        """Per channel type present: channels, open probability asked and used, permeability asked
        and achieved (relative to the reference)."""
        eff = self.effective_permeability()
        return {s.name: {"channels": self.layout.count(s),
                         "open_probability_asked": self.requested_gating[s.name].open_probability,
                         "open_probability_used": self._p_open(s.name),
                         "pore_D_factor": self.pore_factor[s.name],
                         "relative_permeability_asked": self.relative[s.name],
                         "relative_permeability_achieved": eff[s.name]}
                for s in PERMEANT if self.has_type[s.name]}

    def effective_permeability(self) -> dict[str, float]:
        """Achieved permeability per ion, relative to the reference, from the channels placed."""
        return {s.name: achieved_permeability(self.layout.count(s), self._p_open(s.name), self._pore_d(s.name),
                                              self.unit_permeability) for s in PERMEANT}

    def _pore_d(self, ion: str) -> float:
        return self.d_nm2_per_ns[ion] * self.pore_factor[ion]

    def crossing(self) -> tuple[str, ...]:
        """Species that have channels now."""
        return tuple(ion for ion, p in self.effective_permeability().items() if p > 0)

    # ---- interventions -------------------------------------------------------------------------

    def set_relative_permeability(self, ion: str, relative: float, state: ParticleState) -> float:
        """Place as many `ion` channels as `relative` permeability needs (within free sites).

        Returns the relative permeability achieved. Ions inside a pore that is removed are put
        back just off the membrane on their side of the mid-line (the charge count is unchanged).
        """
        s = Species[ion]
        self.has_type[ion] = True
        asked = self.requested_gating[ion]
        had = self.layout.count(s)
        room = had + self.layout.free_sites()
        want, p = fit_channels(relative, asked.open_probability, self._pore_d(ion), self.unit_permeability, room)
        spread = min(self.min_per_type, room)
        if 0 < want < spread:   # as in the plan: more channels, each open less often
            want, p = spread, relative * self.unit_permeability / (spread * self._pore_d(ion))
        got = self.layout.set_count(s, want)
        self.gating[ion] = Gating(p, asked.mean_open_time_ns)
        self.relative[ion] = relative
        self._site_open[self.sites] = self.pores.is_open   # the gates as the kernels left them
        new_sites = self.layout.sites_of(s)
        self._site_open[new_sites[~np.isin(new_sites, self.sites)]] = 1
        self._rebuild()
        if got < had:
            self._evict_from_missing_pores(state)
        return self.effective_permeability()[ion]

    def _evict_from_missing_pores(self, state: ParticleState) -> None:
        g = self.geometry
        band = (state.x >= g.x_left_nm) & (state.x <= g.x_right_nm) & ((state.flags & HELD) == 0)
        for i in np.flatnonzero(band):
            if pore_index(state.y[i], self.pores.y0, self.pores.y1) < 0:
                state.x[i] = g.x_left_nm - 0.2 if state.x[i] < g.x_mid_nm else g.x_right_nm + 0.2
