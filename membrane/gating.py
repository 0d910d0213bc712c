"""Gating models: how a channel type's gates open and close, written as data one kernel reads.

A channel of a gated type has n independent gates; each is a two-state (closed/open) Markov
process with opening rate α(x) and closing rate β(x), and the channel is open when all its gates
are. x is the membrane potential of the previous step shifted by the type's `v_shift_mV` (a
positive shift moves the rate curves to more positive V), minus the reversal potential of the
type's ion for a gate that senses it (`relative_to_reversal`). A rate is one of three laws,
those Hodgkin & Huxley's rates are written in, with parameters (A, V0, k):

    EXP       A · exp((x − V0) / k)
    LINOID    A · (x − V0) / (1 − exp(−(x − V0) / k))        (A · k at x = V0)
    SIGMOID   A / (1 + exp(−(x − V0) / k))

Models (`MODELS`): `leak`, the leak channels' two-state gate with constant rates (drawn as it
always was: `membrane.channels`); `hh-na`, three m gates and one h gate, and `hh-k`, four n gates,
with the rates of Hodgkin & Huxley (1952) in today's sign convention (rest at −65 mV; NEURON's
hh.mod), per ms at 6.3 °C, scaled by Q10 = 3 to the cell's temperature and mapped onto model time
by `[membrane] hh_time_scale_ns_per_ms`; `kir`, the inward rectifier: one gate whose open
probability is a Boltzmann function of V − E_K, 1 / (1 + exp((V − E_K − v_shift) / slope)),
relaxing with `time_constant_ns` — it depends on [K⁺]o through E_K, as real Kir does (the block
by Mg²⁺ and polyamines that makes it rectify is relieved as E_K moves) — times √(1 mM / [K⁺]o):
an open pore of this model passes K⁺ in proportion to [K⁺]o (constant field), while a real Kir
channel's conductance grows only as √[K⁺]o (Sakmann & Trube 1984; its pore holds several ions),
so the square root is put into the open probability (`outside_scaling`; capped at 1 below 1 mM).

Each step the kernel computes, per type and gate, α and β at that step's x and the exact
transition probabilities of a two-state chain over dt, P(c→o) = α/λ · (1 − e^(−λ dt)) and
P(o→c) = β/λ · (1 − e^(−λ dt)), λ = α + β, so the stationary open fraction is α/(α + β) whatever
dt, and the dwell times are geometric with means that tend to 1/β (open) and 1/α (closed) as
λ dt → 0. To add a model, add a row to MODELS (and, if its rates follow none of the three laws, a
law to `rate`): docs/ARCHITECTURE.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
from numba import njit

from particles.rng import STREAM_GATES, draw, step_key, unit

EXP, LINOID, SIGMOID = 0, 1, 2
MAX_GATES = 8              # gates per channel: the bits of a uint8
HH_TEMPERATURE_C = 6.3     # Hodgkin & Huxley's squid axon
HH_Q10 = 3.0


@dataclass(frozen=True)
class Rate:
    law: int      # EXP, LINOID or SIGMOID
    a: float      # per ms at 6.3 °C (HH clock) or per ns (model clock)
    v0_mV: float
    k_mV: float


@dataclass(frozen=True)
class Gate:
    name: str
    alpha: Rate   # opening
    beta: Rate    # closing


@dataclass(frozen=True)
class Param:
    """A key of a channel type's config table that its model reads: default and bounds."""
    default: float
    lo: float
    hi: float
    lo_open: bool = False
    meaning: str = ""


@dataclass(frozen=True)
class GatingModel:
    name: str
    meaning: str
    params: dict[str, Param]                         # the type's keys this model reads
    gates: Callable[[dict], tuple[Gate, ...]] | None  # the gates, from the type's keys (None: leak)
    clock: str = "hh"                                 # "hh": HH's ms at 6.3 °C; "ns": model ns
    relative_to_reversal: bool = False                # x = V − E_ion − shift
    shift_key: str | None = None                      # the key that shifts the rate curves along V
    # (ν, c_ref mM): the open fraction × min(1, (c_ref / [ion]o)^ν), the relaxation rate kept
    outside_scaling: tuple[float, float] | None = None
    inactivation: int | None = None                   # the gate that inactivates (HH's h), if one does

    @property
    def leak(self) -> bool:
        return self.gates is None


# Hodgkin & Huxley 1952, per ms at 6.3 °C, V in mV (rest −65 mV)
M = Gate("m", Rate(LINOID, 0.1, -40.0, 10.0), Rate(EXP, 4.0, -65.0, -18.0))
H = Gate("h", Rate(EXP, 0.07, -65.0, -20.0), Rate(SIGMOID, 1.0, -35.0, 10.0))
N = Gate("n", Rate(LINOID, 0.01, -55.0, 10.0), Rate(EXP, 0.125, -65.0, -80.0))

SHIFT = Param(0.0, -100.0, 100.0, meaning="moves the rate curves along V (mV)")


def _kir_gates(p: dict) -> tuple[Gate, ...]:
    """One gate, open fraction 1/(1 + exp(x/slope)) with x = V − E_K − shift, and α + β = 1/τ."""
    rate = 1.0 / p["time_constant_ns"]
    return (Gate("k", Rate(SIGMOID, rate, 0.0, -p["slope_mV"]), Rate(SIGMOID, rate, 0.0, p["slope_mV"])),)


MODELS: dict[str, GatingModel] = {m.name: m for m in (
    GatingModel("leak", "two-state gate, open a fixed fraction of the time",
                {}, None),
    GatingModel("hh-na", "Hodgkin-Huxley Na+ channel: three m gates and one h gate",
                {"v_shift_mV": SHIFT}, lambda p: (M, M, M, H), shift_key="v_shift_mV", inactivation=3),
    GatingModel("hh-k", "Hodgkin-Huxley K+ channel: four n gates",
                {"v_shift_mV": SHIFT}, lambda p: (N, N, N, N), shift_key="v_shift_mV"),
    GatingModel("kir", "inward rectifier: open probability a Boltzmann function of V - E_K",
                {"v_shift_mV": Param(10.0, -100.0, 100.0, meaning="V - E_K where half the channels are open (mV)"),
                 "slope_mV": Param(8.0, 1.0, 50.0, meaning="Boltzmann slope (mV)"),
                 "time_constant_ns": Param(5.0, 0.0, 1e6, lo_open=True, meaning="the gate's relaxation time (ns)")},
                _kir_gates, clock="ns", relative_to_reversal=True, shift_key="v_shift_mV", outside_scaling=(0.5, 1.0)),
)}


@njit(cache=True)
def rate(law, a, v0, k, x):
    """One rate law at x (mV)."""
    d = x - v0
    if law == EXP:
        return a * math.exp(min(d / k, 700.0))
    if law == LINOID:
        if abs(d / k) < 1e-7:
            return a * k * (1.0 + 0.5 * d / k)
        return a * d / -math.expm1(max(-d / k, -700.0))
    return a / (1.0 + math.exp(min(-d / k, 700.0)))


class GateTable(NamedTuple):
    """Every channel type of a cell as the gating kernel reads it (index: the type id)."""
    leak: np.ndarray          # bool[T]: drawn as a leak gate (pores' own p_close, p_open)
    n_gates: np.ndarray       # int64[T]
    law: np.ndarray           # int64[T, MAX_GATES, 2]: α's and β's law
    coef: np.ndarray          # float64[T, MAX_GATES, 2, 3]: A (per ns, clock applied), V0, k
    shift_mV: np.ndarray      # float64[T]
    reversal_of: np.ndarray   # int64[T]: the species whose bulk the type reads (E, c_out), -1: none
    relative: np.ndarray      # bool[T]: rates read V − E of that species
    scaling: np.ndarray       # float64[T, 2]: (ν, c_ref mM) of an open fraction × (c_ref / c_out)^ν; ν = 0: none
    e_mV: np.ndarray          # float64[species]: reversal potentials now (refreshed every `refresh_steps`)
    c_out_mM: np.ndarray      # float64[species]: outside bulk concentrations now (refreshed with them)
    mM_per_out: float         # mM one particle makes in the outside bulk
    p_up: np.ndarray          # float64[T, MAX_GATES]: scratch, this step's P(closed -> open)
    p_down: np.ndarray        # float64[T, MAX_GATES]: scratch, this step's P(open -> closed)
    dt_ns: float
    any_gated: bool
    refresh_steps: int        # 0: no gate reads a reversal potential


def clock_factor(model: GatingModel, temperature_C: float, hh_ns_per_ms: float) -> float:
    """What turns the model's rate units into per model ns."""
    if model.clock == "ns":
        return 1.0
    return HH_Q10 ** ((temperature_C - HH_TEMPERATURE_C) / 10.0) / hh_ns_per_ms


def build_table(types, species_index: dict[str, int], n_species: int, temperature_C: float,
                hh_ns_per_ms: float, dt_ns: float, mM_per_out: float = 1.0) -> GateTable:
    """The kernel's table from a cell's channel types (each with `.gating`, `.ion`, `.params`);
    `mM_per_out` is the concentration one particle makes in the outside bulk."""
    t_n = len(types)
    leak = np.ones(t_n, dtype=np.bool_)
    n_gates = np.zeros(t_n, dtype=np.int64)
    law = np.zeros((t_n, MAX_GATES, 2), dtype=np.int64)
    coef = np.zeros((t_n, MAX_GATES, 2, 3))
    shift = np.zeros(t_n)
    reversal_of = np.full(t_n, -1, dtype=np.int64)
    scaling = np.zeros((t_n, 2))
    relative = np.zeros(t_n, dtype=np.bool_)
    for t, ct in enumerate(types):
        model = MODELS[ct.gating]
        if model.leak:
            continue
        leak[t] = False
        gates = model.gates(ct.params)
        n_gates[t] = len(gates)
        f = clock_factor(model, temperature_C, hh_ns_per_ms)
        for g, gate in enumerate(gates):
            for w, r in enumerate((gate.alpha, gate.beta)):
                law[t, g, w] = r.law
                coef[t, g, w] = (r.a * f, r.v0_mV, r.k_mV)
        shift[t] = ct.params.get(model.shift_key, 0.0) if model.shift_key else 0.0
        relative[t] = model.relative_to_reversal
        if model.relative_to_reversal or model.outside_scaling:
            reversal_of[t] = species_index[ct.ion]
        if model.outside_scaling:
            scaling[t] = model.outside_scaling
    any_gated = bool((~leak).any())
    refresh = max(1, int(round(REFRESH_NS / dt_ns))) if (reversal_of >= 0).any() else 0
    return GateTable(leak, n_gates, law, coef, shift, reversal_of, relative, scaling, np.zeros(n_species),
                     np.ones(n_species), float(mM_per_out), np.zeros((t_n, MAX_GATES)), np.zeros((t_n, MAX_GATES)),
                     float(dt_ns), any_gated, refresh)


REFRESH_NS = 1.0   # reversal potentials a gate reads are recounted from the bulk this often (model ns)


@njit(cache=True)
def gate_x(table, t, v_mV):
    """The potential type t's rates are evaluated at: V − shift (− E_ion for Kir)."""
    x = v_mV - table.shift_mV[t]
    if table.relative[t]:
        x -= min(max(table.e_mV[table.reversal_of[t]], -1000.0), 1000.0)
    return x


@njit(cache=True)
def outside_factor(nu, c_ref, c_out):
    """min(1, (c_ref / c_out)^ν): 1 when ν = 0."""
    if nu == 0.0:
        return 1.0
    return min(1.0, (c_ref / max(c_out, 1e-12)) ** nu)


@njit(cache=True)
def alpha_beta(table, t, g, x):
    """(α, β) per ns of gate g of type t at x."""
    c = table.coef[t, g]
    return (rate(table.law[t, g, 0], c[0, 0], c[0, 1], c[0, 2], x),
            rate(table.law[t, g, 1], c[1, 0], c[1, 1], c[1, 2], x))


@njit(cache=True)
def transition_probabilities(table, v_mV):
    """This step's P(c→o) and P(o→c) of every gate of every gated type, at V of the last step."""
    for t in range(table.leak.size):
        if table.leak[t]:
            continue
        x = gate_x(table, t, v_mV)
        s = table.reversal_of[t]
        scale = outside_factor(table.scaling[t, 0], table.scaling[t, 1], table.c_out_mM[s] if s >= 0 else 1.0)
        for g in range(table.n_gates[t]):
            a, b = alpha_beta(table, t, g, x)
            lam = a + b
            a *= scale           # the open fraction scaled, the relaxation rate λ kept
            b = lam - a
            within = -math.expm1(-lam * table.dt_ns) / lam if lam > 0.0 else table.dt_ns
            table.p_up[t, g] = a * within
            table.p_down[t, g] = b * within


@njit(cache=True)
def step_gates(pores, table, seed, step):
    """One step of every gated channel's gates (the leak channels are stepped by the caller).
    Gate g of pore j draws its own uniform: (seed, step, STREAM_GATES, j·MAX_GATES + g)."""
    key = step_key(seed, step, STREAM_GATES)
    kind, gates, is_open = pores.kind, pores.gates, pores.is_open
    for j in range(kind.size):
        t = kind[j]
        if table.leak[t]:
            continue
        bits = np.int64(gates[j])
        n = table.n_gates[t]
        for g in range(n):
            u = unit(draw(key, j * MAX_GATES + g))
            mask = np.int64(1) << g
            if bits & mask:
                if u < table.p_down[t, g]:
                    bits &= ~mask
            elif u < table.p_up[t, g]:
                bits |= mask
        gates[j] = np.uint8(bits)
        is_open[j] = np.uint8(1) if bits == (np.int64(1) << n) - 1 else np.uint8(0)


@njit(cache=True)
def refresh_reversal(particles, charge, band, table, vt_mV):
    """Recount the bulk of every species a gate reads and set its reversal potential (E = V_T/z ·
    ln(c_out / c_in)); a species missing from a side keeps its last value."""
    x, species = particles.x, particles.species
    n_s = table.e_mV.size
    n_in = np.zeros(n_s)
    n_out = np.zeros(n_s)
    for i in range(x.size):
        if x[i] < band.x_left_nm:
            n_in[species[i]] += 1.0
        elif x[i] > band.x_right_nm:
            n_out[species[i]] += 1.0
    area_ratio = band.x_left_nm / (band.width_nm - band.x_right_nm)   # A_in / A_out (same height)
    for t in range(table.reversal_of.size):
        s = table.reversal_of[t]
        if s >= 0 and n_in[s] > 0 and n_out[s] > 0:
            table.e_mV[s] = vt_mV / charge[s] * math.log(n_out[s] / n_in[s] * area_ratio)
            table.c_out_mM[s] = n_out[s] * table.mM_per_out


def rates_per_ns(table: GateTable, t: int, v_mV: float, e_mV: float, c_out_mM: float) -> list[tuple[float, float]]:
    """(α, β) per model ns of each gate of type t at V, as the kernel computes them (the open
    fraction scaled by the outside concentration where the model says so, the relaxation rate
    kept): for the deterministic cell (`membrane.theory.deterministic_response`)."""
    x = v_mV - table.shift_mV[t] - (min(max(e_mV, -1000.0), 1000.0) if table.relative[t] else 0.0)
    scale = outside_factor(table.scaling[t, 0], table.scaling[t, 1], c_out_mM)
    out = []
    for g in range(int(table.n_gates[t])):
        a, b = alpha_beta(table, t, g, x)
        out.append((a * scale, a + b - a * scale))
    return out


def open_probability(model_name: str, params: dict, v_mV: float, e_mV: float = 0.0, c_out_mM: float = 1.0) -> float:
    """A gated type's steady-state open probability at V (E: its ion's reversal potential, c_out:
    its outside concentration, for models that read them): the product over its gates of
    α/(α + β). For theory and initial states."""
    return math.prod(gate_open_fractions(model_name, params, v_mV, e_mV, c_out_mM))


def gate_open_fractions(model_name: str, params: dict, v_mV: float, e_mV: float = 0.0,
                        c_out_mM: float = 1.0) -> list[float]:
    """Each gate's steady-state open fraction α/(α + β) at V (initial states are drawn from them)."""
    model = MODELS[model_name]
    if model.leak:
        raise ValueError("a leak type's open probability is its own config key, not a function of V")
    x = v_mV - (params.get(model.shift_key, 0.0) if model.shift_key else 0.0)
    if model.relative_to_reversal:
        x -= e_mV
    f = outside_factor(*model.outside_scaling, c_out_mM) if model.outside_scaling else 1.0
    out = []
    for gate in model.gates(params):
        a = rate(gate.alpha.law, gate.alpha.a, gate.alpha.v0_mV, gate.alpha.k_mV, x)
        b = rate(gate.beta.law, gate.beta.a, gate.beta.v0_mV, gate.beta.k_mV, x)
        out.append(f * a / (a + b))
    return out

