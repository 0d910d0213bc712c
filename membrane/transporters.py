"""Transporters: agents on the membrane that run a cycle written as data; one kernel runs them all.

A transporter type is a table of states (`TransporterType`). In a state an agent may
- bind (`Bind`): take a free ion of one species from the half-disk D of radius r in front of it on
  one face, until it holds `capacity`. On contact (the pump: the first ion to arrive is taken and
  never let go; ATP pays for the cycle) or reversibly (the exchanger: each ion in D is taken with
  probability p_on per step, and each ion held is let go with probability p_off per step onto a
  uniform point of D, so binding obeys detailed balance; p_off/p_on sets the affinity, the same on
  both faces, which closes the cycle's thermodynamics);
- flip (`Flip`): change conformation, carrying what it holds to the other side. The held ions'
  charge crosses the field: a reversible carrier's flip is accepted with the Metropolis factor of
  that charge's energy (z·Δw·(V + z·Δw/2C), as an ion in a pore), both ways at the same base rate;
  the pump's flips are driven by ATP and ignore V (a simplification: the real pump slows when
  hyperpolarised). A flip may let its ions go on the far side at once (the pump) and may count a
  cycle or an ATP.
Held ions do not diffuse; they are drawn at the agent on the side they are held on, and count on
that side (so binding moves no charge; a flip moves all of it).

A reversible agent makes at most one move a step, chosen by one uniform number split into
segments: the flip (p_flip), letting go of each ion it holds (p_off each), binding the k-th ion
found in D for each species it binds (p_on each, up to `ordinal_cap` ions: more than that in D is
counted in `saturated`, a check the tests read). So every move and its reverse have fixed
probabilities: detailed balance in every state, and a membrane whose only mechanism is the
exchanger settles at its reversal potential 3·E_Na − 2·E_Ca. The pump takes every ion that
arrives in the step, as it always has.

The table holds the Na⁺/K⁺ pump (Post–Albers: 3 Na⁺ out, 2 K⁺ in, one ATP) and the Na⁺/Ca²⁺
exchanger (3 Na⁺ in for 1 Ca²⁺ out, electrogenic, reversible). `TransporterSet` owns the agents'
arrays and the interventions that block a type (ouabain). To add a transporter, add a row.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from membrane.crossing import EFFLUX, INFLUX, INNER_FACE, N_BLOCKS, OUTER_FACE
from particles.rng import STREAM_BIND, STREAM_PUMP, STREAM_RELEASE, draw, hi_symmetric, step_key, unit
from particles.species import CHARGE, LABEL, NAMES, SYMBOL, Species
from particles.state import FAR_IN, FAR_OUT, HELD

INSIDE, OUTSIDE = "inside", "outside"
FACE_BIT = {INSIDE: INNER_FACE, OUTSIDE: OUTER_FACE}
MAX_HELD = 4           # ions an agent holds at most (a release draw's salt is agent·4 + slot)
MAX_BINDS = 2          # species a state may bind
K_ON_PER_NS = 0.2      # reversible binding: per ion in D, per ns


@dataclass(frozen=True)
class Bind:
    ion: str
    face: str                  # INSIDE or OUTSIDE
    capacity: int              # ions held once loaded
    then: str                  # the state once `capacity` are held
    loading: str | None = None  # the state while fewer are held (None: the binding state itself)


@dataclass(frozen=True)
class Flip:
    to: str
    counts: tuple[str, int] | None = None   # a counter column and its step (+1, or -1 for a reverse cycle)
    releases: bool = False      # lets its ions go on the far side at once
    field: bool = True          # accepted with the Metropolis factor of the charge it carries


@dataclass(frozen=True)
class State:
    name: str
    face: str                           # where what it holds sits (INSIDE or OUTSIDE)
    says: str                           # what the agent says on screen in this state
    binds: tuple[Bind, ...] = ()
    flip: Flip | None = None
    lets_go: tuple[str, str] | None = None   # reversible: (state while some remain, state when none)


@dataclass(frozen=True)
class TransporterType:
    name: str                  # its config table, its columns (<name>_charge_in_e, I_<name>_pA)
    label: str                 # for people
    states: tuple[State, ...]
    open_states: dict[str, str]   # the empty state on each face (a blocked agent is put there)
    counters: tuple[str, ...]     # its counter columns
    stoichiometry: dict[str, int]  # ions carried in per forward cycle (negative: out)
    reversible: bool              # binding in detailed balance, flips with Metropolis
    atp: bool                     # driven by ATP (no reversal potential of its own)
    affinity_mM: dict[str, float] = field(default_factory=dict)   # reversible: half-occupancy, per species
    defaults: dict = field(default_factory=dict)                  # its config table's defaults

    def state(self, name: str) -> int:
        return [s.name for s in self.states].index(name)

    @property
    def capacity(self) -> int:
        return max((b.capacity for s in self.states for b in s.binds), default=0)

    @property
    def symbol(self) -> str:
        """Its label with the species' Unicode symbols (for figures): "Na⁺/Ca²⁺ exchanger"."""
        out = self.label
        for ion in sorted(self.stoichiometry, key=len, reverse=True):
            out = out.replace(LABEL[ion], SYMBOL[ion])
        return out

    def cycle_words(self) -> str:
        """What one forward cycle carries, in words: "3 Na+ out, 2 K+ in, one ATP"."""
        parts = [f"{abs(n)} {LABEL[ion]} {'in' if n > 0 else 'out'}" for ion, n in self.stoichiometry.items()]
        return ", ".join(parts) + (", one ATP" if self.atp else "")

    def steps_words(self) -> str:
        """Its states as the agents say them on screen, in cycle order."""
        return " -> ".join(dict.fromkeys(s.says for s in self.states))

    @property
    def reversal_key(self) -> str | None:
        """Its theory column: the reversal potential of a transporter that ATP does not drive."""
        return None if self.atp else f"E_{self.name.upper()}_mV"


class PumpPhase(IntEnum):
    INWARD_OPEN = 0       # E1: binding Na⁺ from the cytoplasm
    INWARD_OCCLUDED = 1   # E1·3Na: waiting to phosphorylate (ATP) and turn outward
    OUTWARD_OPEN = 2      # E2-P: Na⁺ released outside, binding K⁺ from outside
    OUTWARD_OCCLUDED = 3  # E2·2K: waiting to dephosphorylate and turn inward


# The Na⁺/K⁺ pump (Post–Albers): each conformational change at k = 2 × the maximum turnover, so a
# pump saturated with ions completes max turnover cycles per unit time.
PUMP = TransporterType(
    "pump", "Na+/K+ pump",
    (State("INWARD_OPEN", INSIDE, "binds 3 Na+", binds=(Bind("Na", INSIDE, 3, "INWARD_OCCLUDED"),)),
     State("INWARD_OCCLUDED", INSIDE, "ATP: flips out",
           flip=Flip("OUTWARD_OPEN", ("atp_spent", 1), releases=True, field=False)),
     State("OUTWARD_OPEN", OUTSIDE, "binds 2 K+", binds=(Bind("K", OUTSIDE, 2, "OUTWARD_OCCLUDED"),)),
     State("OUTWARD_OCCLUDED", OUTSIDE, "flips in",
           flip=Flip("INWARD_OPEN", ("pump_cycles", 1), releases=True, field=False))),
    {INSIDE: "INWARD_OPEN", OUTSIDE: "OUTWARD_OPEN"}, ("pump_cycles", "atp_spent"), {"Na": -3, "K": +2},
    reversible=False, atp=True,
    defaults={"enabled": True, "count": 13, "max_turnover_per_us": 20.0, "capture_radius_nm": 3.5})

# The Na⁺/Ca²⁺ exchanger (consecutive model): inward-facing it binds one Ca²⁺ or three Na⁺ from
# the cytoplasm, outward-facing the same from outside; loaded, it flips. Forward: Ca²⁺ out, 3 Na⁺
# in, one net charge in. `ncx_cycles` counts Ca²⁺ carried out less Ca²⁺ carried in.
NCX = TransporterType(
    "ncx", "Na+/Ca2+ exchanger",
    (State("IN_EMPTY", INSIDE, "binds Ca2+ or 3 Na+",
           binds=(Bind("Ca", INSIDE, 1, "IN_CA"), Bind("Na", INSIDE, 3, "IN_NA3", "IN_NA"))),
     State("IN_NA", INSIDE, "binds Na+", binds=(Bind("Na", INSIDE, 3, "IN_NA3", "IN_NA"),),
           lets_go=("IN_NA", "IN_EMPTY")),
     State("IN_NA3", INSIDE, "3 Na+: flips out", flip=Flip("OUT_NA3"), lets_go=("IN_NA", "IN_EMPTY")),
     State("IN_CA", INSIDE, "Ca2+: flips out", flip=Flip("OUT_CA", ("ncx_cycles", 1)), lets_go=("IN_EMPTY", "IN_EMPTY")),
     State("OUT_EMPTY", OUTSIDE, "binds Ca2+ or 3 Na+",
           binds=(Bind("Ca", OUTSIDE, 1, "OUT_CA"), Bind("Na", OUTSIDE, 3, "OUT_NA3", "OUT_NA"))),
     State("OUT_NA", OUTSIDE, "binds Na+", binds=(Bind("Na", OUTSIDE, 3, "OUT_NA3", "OUT_NA"),),
           lets_go=("OUT_NA", "OUT_EMPTY")),
     State("OUT_NA3", OUTSIDE, "3 Na+: flips in", flip=Flip("IN_NA3"), lets_go=("OUT_NA", "OUT_EMPTY")),
     State("OUT_CA", OUTSIDE, "Ca2+: flips in", flip=Flip("IN_CA", ("ncx_cycles", -1)),
           lets_go=("OUT_EMPTY", "OUT_EMPTY"))),
    {INSIDE: "IN_EMPTY", OUTSIDE: "OUT_EMPTY"}, ("ncx_cycles",), {"Na": +3, "Ca": -1},
    reversible=True, atp=False, affinity_mM={"Na": 30.0, "Ca": 3.0},
    defaults={"enabled": True, "count": 0, "max_turnover_per_us": 20.0, "capture_radius_nm": 3.5})

TABLE: tuple[TransporterType, ...] = (PUMP, NCX)
BY_NAME = {t.name: t for t in TABLE}
COUNTERS: tuple[str, ...] = tuple(c for t in TABLE for c in t.counters)


def flip_probability(max_turnover_per_us: float, dt_ns: float) -> float:
    """Per-step probability of each conformational change, k = 2 × max turnover."""
    k_per_ns = 2.0 * max_turnover_per_us * 1e-3
    return float(-np.expm1(-k_per_ns * dt_ns))


def reversal_mV(t: TransporterType, nernst_mV: dict[str, float]) -> float:
    """The potential where a reversible transporter's cycle does no work: Σ n z E / Σ n z over the
    ions it carries (n > 0 in, < 0 out per forward cycle); 3·E_Na − 2·E_Ca for the exchanger."""
    num = sum(n * CHARGE[ion] * nernst_mV[ion] for ion, n in t.stoichiometry.items())
    den = sum(n * CHARGE[ion] for ion, n in t.stoichiometry.items())
    return num / den if den else math.nan


# ---- the kernel's arrays --------------------------------------------------------------------------

class Agents(NamedTuple):
    """Every transporter agent, sorted along the membrane (what the kernel reads and changes)."""
    y_nm: np.ndarray      # float64
    kind: np.ndarray      # int8: the transporter type
    phase: np.ndarray     # int8: its state
    n_held: np.ndarray    # int8
    slots: np.ndarray     # int64[agent, width]: the held particles, -1 for none
    target: np.ndarray    # int64[agent]: scratch, this step's binding target (row · ordinal_cap + ordinal), -1
    seen: np.ndarray      # int64[agent, MAX_BINDS]: scratch, ions found in D so far this step, per bind row


class Cycles(NamedTuple):
    """Every transporter type's table as arrays [type, state, ...] (what the kernel reads)."""
    face: np.ndarray          # int64[T, S]: INNER_FACE or OUTER_FACE
    n_binds: np.ndarray       # int64[T, S]
    bind_ion: np.ndarray      # int64[T, S, MAX_BINDS]
    bind_face: np.ndarray     # int64[T, S, MAX_BINDS]
    bind_cap: np.ndarray      # int64[T, S, MAX_BINDS]
    bind_then: np.ndarray     # int64[T, S, MAX_BINDS]
    bind_loading: np.ndarray  # int64[T, S, MAX_BINDS]
    flip_to: np.ndarray       # int64[T, S]: -1 none
    flip_counter: np.ndarray  # int64[T, S]: column of Tallies.counts, -1 none
    flip_step: np.ndarray     # int64[T, S]
    flip_releases: np.ndarray  # bool[T, S]
    flip_field: np.ndarray    # bool[T, S]
    let_go_some: np.ndarray   # int64[T, S]: -1 none
    let_go_none: np.ndarray   # int64[T, S]
    open_state: np.ndarray    # int64[T, 3]: by face bit
    running: np.ndarray       # bool[T]: enabled (not blocked)
    reversible: np.ndarray    # bool[T]
    p_flip: np.ndarray        # float64[T]
    p_on: np.ndarray          # float64[T]
    p_off: np.ndarray         # float64[T, species]
    ordinal_cap: np.ndarray   # int64[T]
    capture_r_nm: np.ndarray  # float64[T]


class Tallies(NamedTuple):
    counts: np.ndarray        # int64[len(COUNTERS)]: cumulative, by counter column
    charge_in_e: np.ndarray   # float64[T]: induced inside charge each type carried in, cumulative
    saturated: np.ndarray     # int64[1]: reversible bindings lost because more ions than ordinal_cap were in D


def build_cycles(n_species: int, settings: dict[str, dict], dt_ns: float, mM_per_density: float) -> Cycles:
    """The kernel's table from TABLE and each type's config table (`settings[name]`)."""
    t_n = len(TABLE)
    s_n = max(len(t.states) for t in TABLE)
    i64 = dict(dtype=np.int64)
    face = np.zeros((t_n, s_n), **i64)
    n_binds = np.zeros((t_n, s_n), **i64)
    bind = {k: np.full((t_n, s_n, MAX_BINDS), -1, **i64) for k in ("ion", "face", "cap", "then", "loading")}
    flip_to = np.full((t_n, s_n), -1, **i64)
    flip_counter = np.full((t_n, s_n), -1, **i64)
    flip_step = np.zeros((t_n, s_n), **i64)
    flip_releases = np.zeros((t_n, s_n), dtype=np.bool_)
    flip_field = np.zeros((t_n, s_n), dtype=np.bool_)
    let_some = np.full((t_n, s_n), -1, **i64)
    let_none = np.full((t_n, s_n), -1, **i64)
    open_state = np.zeros((t_n, 3), **i64)
    running = np.zeros(t_n, dtype=np.bool_)
    reversible = np.zeros(t_n, dtype=np.bool_)
    p_flip = np.zeros(t_n)
    p_on = np.zeros(t_n)
    p_off = np.zeros((t_n, n_species))
    ordinal_cap = np.zeros(t_n, **i64)
    radius = np.zeros(t_n)
    for ti, t in enumerate(TABLE):
        cfg = settings[t.name]
        running[ti] = cfg["enabled"]
        reversible[ti] = t.reversible
        p_flip[ti] = flip_probability(cfg["max_turnover_per_us"], dt_ns)
        radius[ti] = cfg["capture_radius_nm"]
        for f, name in t.open_states.items():
            open_state[ti, FACE_BIT[f]] = t.state(name)
        rows = 0
        for si, st in enumerate(t.states):
            face[ti, si] = FACE_BIT[st.face]
            n_binds[ti, si] = len(st.binds)
            rows = max(rows, len(st.binds))
            for k, b in enumerate(st.binds):
                bind["ion"][ti, si, k] = int(Species[b.ion])
                bind["face"][ti, si, k] = FACE_BIT[b.face]
                bind["cap"][ti, si, k] = b.capacity
                bind["then"][ti, si, k] = t.state(b.then)
                bind["loading"][ti, si, k] = t.state(b.loading or st.name)
            if st.flip is not None:
                flip_to[ti, si] = t.state(st.flip.to)
                if st.flip.counts:
                    flip_counter[ti, si] = COUNTERS.index(st.flip.counts[0])
                    flip_step[ti, si] = st.flip.counts[1]
                flip_releases[ti, si] = st.flip.releases
                flip_field[ti, si] = st.flip.field
            if st.lets_go is not None:
                let_some[ti, si], let_none[ti, si] = t.state(st.lets_go[0]), t.state(st.lets_go[1])
        if t.reversible:
            p_on[ti] = -math.expm1(-K_ON_PER_NS * dt_ns)
            d_area = math.pi * radius[ti] ** 2 / 2.0          # the half-disk D, nm²
            for ion, kd in t.affinity_mM.items():
                # half the time bound when D holds K_d's worth of ions: p_off = p_on · (ions in D at K_d)
                p_off[ti, int(Species[ion])] = min(0.5, p_on[ti] * d_area * kd / mM_per_density)
            spare = 1.0 - p_flip[ti] - t.capacity * float(p_off[ti].max())
            ordinal_cap[ti] = max(1, int(spare / (max(rows, 1) * p_on[ti])))
    return Cycles(face, n_binds, bind["ion"], bind["face"], bind["cap"], bind["then"], bind["loading"], flip_to,
                  flip_counter, flip_step, flip_releases, flip_field, let_some, let_none, open_state, running,
                  reversible, p_flip, p_on, p_off, ordinal_cap, radius)


def binding_faces(cycles: Cycles, present: np.ndarray, n_species: int) -> np.ndarray:
    """Which membrane face each species may be bound at (membrane.crossing.FaceList.faces), by the
    running types that have agents (`present[t]`)."""
    faces = np.zeros(n_species, dtype=np.uint8)
    for t in range(cycles.running.size):
        if not (cycles.running[t] and present[t]):
            continue
        ok = cycles.bind_ion[t] >= 0
        for s, f in zip(cycles.bind_ion[t][ok], cycles.bind_face[t][ok]):
            faces[s] |= np.uint8(f)
    return faces


# ---- the kernel -------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _held_position(a, slot, inward, agent_y, band):
    x = 0.5 * (band.x_left_nm + band.x_mid_nm) if inward else 0.5 * (band.x_mid_nm + band.x_right_nm)
    return x, agent_y[a] + 0.6 * (slot - 1.0)


@njit(cache=True, inline="always")
def _release(i, particles, to_inside, y_agent, band, h):
    """Free a held particle just off the membrane face on one side, near its agent."""
    depth = 0.3 + 0.4 * unit(h)
    particles.x[i] = band.x_left_nm - depth if to_inside else band.x_right_nm + depth
    yy = y_agent + 1.0 * hi_symmetric(h)
    particles.y[i] = min(max(yy, 0.0), band.height_nm)
    particles.flags[i] = 0
    particles.held_by[i] = -1


@njit(cache=True)
def _release_agent(a, to_inside, particles, charge, band, agents, key, salt):
    """Free every ion agent a holds onto one side; returns the charge they carry (e)."""
    slots = agents.slots
    q = 0
    for k in range(slots.shape[1]):
        i = slots[a, k]
        if i >= 0:
            _release(i, particles, to_inside, agents.y_nm[a], band, draw(key, salt + a * MAX_HELD + k))
            q += charge[particles.species[i]]
            slots[a, k] = -1
    agents.n_held[a] = 0
    return q


@njit(cache=True)
def release_all(particles, charge, band, agents, cycles, kind, seed, step):
    """Block every agent of type `kind`: each lets what it holds go on the side it holds it on (so
    the inside charge does not change) and waits, empty, on that side."""
    key = step_key(seed, step, STREAM_RELEASE)
    for a in range(agents.phase.size):
        if agents.kind[a] != kind:
            continue
        f = cycles.face[kind, agents.phase[a]]
        _release_agent(a, f == INNER_FACE, particles, charge, band, agents, key, 1_000_000)
        agents.phase[a] = cycles.open_state[kind, f]


@njit(cache=True)
def _flip(a, t, s, particles, charge, band, agents, cycles, field, v_mV, u_accept, rkey):
    """Agent a flips from state s if the field lets it; returns the inside charge it moved (e), or
    NaN if it stayed."""
    inward = cycles.face[t, s] == INNER_FACE
    q = 0
    for k in range(agents.n_held[a]):
        q += charge[particles.species[agents.slots[a, k]]]
    dq = -q if inward else q
    if cycles.flip_field[t, s] and field.on and dq != 0:
        de = dq * (v_mV + 0.5 * dq * field.mV_per_e)
        if de > 0.0 and u_accept >= math.exp(-de / field.vt_mV):
            return math.nan
    new = cycles.flip_to[t, s]
    if cycles.flip_releases[t, s]:
        _release_agent(a, not inward, particles, charge, band, agents, rkey, 0)
    else:
        for k in range(agents.n_held[a]):
            i = agents.slots[a, k]
            particles.x[i], particles.y[i] = _held_position(a, k, not inward, agents.y_nm, band)
    agents.phase[a] = new
    return float(dq)


@njit(cache=True)
def _let_go(a, k, t, s, particles, band, agents, cycles, bkey):
    """Reversible agent a lets held ion k go onto a uniform point of its half-disk D (radius r
    uniform in area, angle uniform across the half facing away from the membrane)."""
    slots = agents.slots
    i = slots[a, k]
    n = agents.n_held[a]
    r = cycles.capture_r_nm[t]
    inward = cycles.face[t, s] == INNER_FACE
    rho = r * math.sqrt(unit(draw(bkey, 4 * a + 1)))
    theta = 0.5 * math.pi * hi_symmetric(draw(bkey, 4 * a + 2))
    dx = max(rho * math.cos(theta), 1e-9)
    particles.x[i] = band.x_left_nm - dx if inward else band.x_right_nm + dx
    particles.y[i] = agents.y_nm[a] + rho * math.sin(theta)
    particles.flags[i] = 0
    particles.held_by[i] = -1
    slots[a, k] = slots[a, n - 1]
    slots[a, n - 1] = -1
    if k < n - 1:
        j = slots[a, k]
        particles.x[j], particles.y[j] = _held_position(a, k, inward, agents.y_nm, band)
    agents.n_held[a] = n - 1
    agents.phase[a] = cycles.let_go_some[t, s] if n - 1 > 0 else cycles.let_go_none[t, s]


@njit(cache=True)
def advance_transporters(particles, charge, band, agents, cycles, field, v_mV, seed, step, transits, near, tallies):
    """One step of every running agent; returns dQ_in (e). V is the potential now (after this
    step's moves); while clamped, `field.mV_per_e` is 0 and V the command.

    1. Each agent draws one uniform (seed, step, STREAM_PUMP, agent). In a state that flips, a
       draw below p_flip flips it (reversible carriers: with the Metropolis factor of the charge
       it carries). A reversible agent otherwise lets an ion go (p_off each), or picks which ion
       found in D it would bind (p_on each, by the order in which they are found).
    2. The ions the move pass listed within reach of their face (`near`), in particle order:
       an agent binding that species there takes it on contact (the pump), or if it is the one
       it picked (reversible). An ion taken after crossing a channel, before it reached the far
       reservoir, completes that transit (`transits.counts`, row 0: this loop is serial)."""
    x, y, species, flags, held_by = particles.x, particles.y, particles.species, particles.flags, particles.held_by
    n_agents = agents.y_nm.size
    if n_agents == 0:
        return 0.0
    key = step_key(seed, step, STREAM_PUMP)
    rkey = step_key(seed, step, STREAM_RELEASE)
    bkey = step_key(seed, step, STREAM_BIND)
    dq = 0.0
    v = v_mV
    binding = False
    for a in range(n_agents):
        t = agents.kind[a]
        agents.target[a] = -1
        if not cycles.running[t]:
            continue
        s = agents.phase[a]
        u = unit(draw(key, a))
        if cycles.flip_to[t, s] >= 0:
            if u < cycles.p_flip[t]:
                moved = _flip(a, t, s, particles, charge, band, agents, cycles, field, v,
                              unit(draw(bkey, 4 * a)), rkey)
                if moved == moved:   # not NaN: it flipped
                    dq += moved
                    tallies.charge_in_e[t] += moved
                    v += moved * field.mV_per_e
                    c = cycles.flip_counter[t, s]
                    if c >= 0:
                        tallies.counts[c] += cycles.flip_step[t, s]
                # the pump binds in its new state this same step; a reversible agent has moved
                binding = binding or (not cycles.reversible[t] and cycles.n_binds[t, agents.phase[a]] > 0)
                continue
            u -= cycles.p_flip[t]
        if not cycles.reversible[t]:
            binding = binding or cycles.n_binds[t, s] > 0
            continue
        let_go = False
        for k in range(agents.n_held[a]):
            p = cycles.p_off[t, species[agents.slots[a, k]]]
            if u < p:
                _let_go(a, k, t, s, particles, band, agents, cycles, bkey)
                let_go = True
                break
            u -= p
        if not let_go and cycles.n_binds[t, s] > 0:
            pick = int(u / cycles.p_on[t])
            if pick < cycles.n_binds[t, s] * cycles.ordinal_cap[t]:
                agents.target[a] = pick
                agents.seen[a, 0] = 0
                agents.seen[a, 1] = 0
                binding = True
    if not binding:
        return dq
    n = x.size
    reach = near.reach_nm
    x_left, x_right = band.x_left_nm, band.x_right_nm
    for b in range(N_BLOCKS):        # block by block, in the order the move pass listed them
        start = b * n // N_BLOCKS
        for j in range(near.count[b]):
            i = near.index[start + j]
            xi = x[i]
            s = species[i]
            # within reach of a face its species is bound at (the list holds those that may be)
            if xi < x_left:
                if xi < x_left - reach or (near.faces[s] & INNER_FACE) == 0:
                    continue
                inner = True
            elif xi > x_right:
                if xi > x_right + reach or (near.faces[s] & OUTER_FACE) == 0:
                    continue
                inner = False
            else:
                continue
            if flags[i] & HELD:
                continue
            fbit = INNER_FACE if inner else OUTER_FACE
            yi = y[i]
            # agents are sorted by y and further apart than 2 r: only the neighbours can be in reach
            lo = 0
            hi = n_agents
            while lo < hi:
                mid = (lo + hi) >> 1
                if agents.y_nm[mid] < yi:
                    lo = mid + 1
                else:
                    hi = mid
            for a in (lo - 1, lo):
                if a < 0 or a >= n_agents:
                    continue
                t = agents.kind[a]
                st = agents.phase[a]
                row = -1
                for k in range(cycles.n_binds[t, st]):
                    if cycles.bind_ion[t, st, k] == s and cycles.bind_face[t, st, k] == fbit:
                        row = k
                if row < 0 or not cycles.running[t]:
                    continue
                face_x = x_left if inner else x_right
                dx = xi - face_x
                dy = yi - agents.y_nm[a]
                r = cycles.capture_r_nm[t]
                if dx * dx + dy * dy > r * r:
                    continue
                if cycles.reversible[t]:
                    if agents.target[a] < 0:
                        break
                    found = agents.seen[a, row]
                    agents.seen[a, row] = found + 1
                    if found >= cycles.ordinal_cap[t]:
                        tallies.saturated[0] += 1
                        break
                    if agents.target[a] != row * cycles.ordinal_cap[t] + found:
                        break
                    agents.target[a] = -1
                if inner and flags[i] & FAR_OUT:
                    transits.counts[0, INFLUX, s] += 1
                elif not inner and flags[i] & FAR_IN:
                    transits.counts[0, EFFLUX, s] += 1
                k = agents.n_held[a]
                agents.slots[a, k] = i
                agents.n_held[a] = k + 1
                held_by[i] = a
                flags[i] = HELD
                x[i], y[i] = _held_position(a, k, inner, agents.y_nm, band)
                if k + 1 == cycles.bind_cap[t, st, row]:
                    agents.phase[a] = cycles.bind_then[t, st, row]
                else:
                    agents.phase[a] = cycles.bind_loading[t, st, row]
                break
    return dq


# ---- the set of agents on a membrane -------------------------------------------------------------

class TransporterSet:
    """The cell's transporter agents of every type: their arrays, which types run, and blocking."""

    def __init__(self, y_by_type: dict[str, np.ndarray], settings: dict[str, dict], dt_ns: float,
                 mM_per_density: float):
        ys, kinds = [], []
        for t_i, t in enumerate(TABLE):
            y = np.asarray(y_by_type.get(t.name, ()), dtype=np.float64)
            ys.append(y)
            kinds.append(np.full(y.size, t_i, dtype=np.int8))
        y = np.concatenate(ys) if ys else np.zeros(0)
        kind = np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.int8)
        order = np.argsort(y, kind="stable")
        y, kind = y[order], kind[order]
        n = y.size
        width = max(1, max((t.capacity for t in TABLE if (kind == TABLE.index(t)).any()), default=1))
        self.cycles = build_cycles(len(NAMES), settings, dt_ns, mM_per_density)
        phase = np.array([self.cycles.open_state[k, INNER_FACE] for k in kind], dtype=np.int8)
        self.arrays = Agents(y, kind, phase, np.zeros(n, dtype=np.int8), np.full((n, width), -1, dtype=np.int64),
                             np.full(n, -1, dtype=np.int64), np.zeros((n, MAX_BINDS), dtype=np.int64))
        self.tallies = Tallies(np.zeros(len(COUNTERS), dtype=np.int64), np.zeros(len(TABLE)), np.zeros(1, dtype=np.int64))

    @property
    def n(self) -> int:
        return int(self.arrays.y_nm.size)

    def count(self, name: str) -> int:
        return int((self.arrays.kind == TABLE.index(BY_NAME[name])).sum())

    def present(self) -> np.ndarray:
        return np.array([self.count(t.name) > 0 for t in TABLE], dtype=np.bool_)

    def running(self, name: str) -> bool:
        return bool(self.cycles.running[TABLE.index(BY_NAME[name])])

    @property
    def any_running(self) -> bool:
        return bool((self.cycles.running & self.present()).any())

    def reach_nm(self) -> float:
        """How far from a face an ion may be bound by a running type with agents (-1: none)."""
        live = self.cycles.running & self.present()
        return float(self.cycles.capture_r_nm[live].max()) if live.any() else -1.0

    def set_running(self, name: str, running: bool, state, charge: np.ndarray, band, seed: int, step: int) -> bool:
        """Unblock (True) or block (False) one type: blocking lets every held ion go on the side it
        was taken from. Returns whether anything changed."""
        t = TABLE.index(BY_NAME[name])
        running = bool(running)
        if running == bool(self.cycles.running[t]):
            return False
        if not running:
            release_all(state, charge, band, self.arrays, self.cycles, t, seed, step)
        self.cycles.running[t] = running
        return True

    def renumber(self, new_index: np.ndarray) -> None:
        """Particles were removed: point the held slots at the particles' new indices."""
        held = self.arrays.slots >= 0
        self.arrays.slots[held] = new_index[self.arrays.slots[held]]

    def counter(self, column: str) -> int:
        return int(self.tallies.counts[COUNTERS.index(column)])

    def charge_in(self, name: str) -> float:
        return float(self.tallies.charge_in_e[TABLE.index(BY_NAME[name])])

    def phase_counts(self, name: str = "pump") -> dict[str, int]:
        t = TABLE.index(BY_NAME[name])
        mine = self.arrays.kind == t
        return {st.name: int((mine & (self.arrays.phase == k)).sum()) for k, st in enumerate(BY_NAME[name].states)}

