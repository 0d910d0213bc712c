"""Analytic references, shown beside the emergent voltage and never fed into the dynamics.

Small pure functions of concentrations (any consistent unit), permeabilities and temperature.
Sign convention: V is the inside relative to the outside, in mV; u = V / V_T.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from particles.species import CHARGE

BOLTZMANN_OVER_E_mV_per_K = 0.08617333262  # k/e in mV/K (CODATA 2018)
ZERO_C_K = 273.15
PUMP_RATIO = 1.5  # Na⁺ out : K⁺ in = 3 : 2, the r of Mullins & Noda (1963) (membrane.transporters.PUMP)


def brentq(f, a, b, **options):
    """scipy.optimize.brentq, imported when a root is first sought: scipy.optimize takes 0.28 s to
    import, which every command that reads a config (or refuses one) paid."""
    from scipy.optimize import brentq as root
    return root(f, a, b, **options)


def thermal_voltage_mV(temperature_C: float) -> float:
    """V_T = kT/e (26.7 mV at 37 °C)."""
    return BOLTZMANN_OVER_E_mV_per_K * (temperature_C + ZERO_C_K)


def nernst_mV(z: int, c_in: float, c_out: float, temperature_C: float) -> float:
    """E = (V_T / z) ln(c_out / c_in)."""
    if c_in <= 0 or c_out <= 0:
        return math.nan
    return thermal_voltage_mV(temperature_C) / z * math.log(c_out / c_in)


def _monovalent(perm: Mapping[str, float]) -> bool:
    return all(abs(CHARGE[ion]) == 1 for ion, p in perm.items() if p > 0)


def _ghk_sums(perm: Mapping[str, float], c_in: Mapping[str, float], c_out: Mapping[str, float],
              k_weight: float) -> tuple[float, float]:
    num = den = 0.0
    for ion, p in perm.items():
        if p <= 0:
            continue
        w = k_weight if ion == "K" else 1.0
        if CHARGE[ion] > 0:
            num += w * p * c_out[ion]
            den += w * p * c_in[ion]
        else:
            num += w * p * c_in[ion]
            den += w * p * c_out[ion]
    return num, den


def _weighted_zero_current_mV(perm, c_in, c_out, temperature_C: float, k_weight: float) -> float:
    """V where Σ w·I_ion(V) = 0 over the GHK currents of every permeant ion (any valence), with
    K⁺'s current weighted by `k_weight`. For monovalent ions this is the closed form."""
    if _monovalent(perm):
        num, den = _ghk_sums(perm, c_in, c_out, k_weight)
        if num <= 0 or den <= 0:
            return math.nan
        return thermal_voltage_mV(temperature_C) * math.log(num / den)
    weighted = {ion: (k_weight if ion == "K" else 1.0) * p for ion, p in perm.items()}
    return zero_current_mV(weighted, c_in, c_out, temperature_C)


def ghk_voltage_mV(perm, c_in, c_out, temperature_C: float) -> float:
    """Goldman–Hodgkin–Katz: the zero-current potential of the GHK current equation summed over
    every permeant ion, any valence (for monovalent ions, the familiar closed form)."""
    return _weighted_zero_current_mV(perm, c_in, c_out, temperature_C, 1.0)


def mullins_noda_mV(perm, c_in, c_out, temperature_C: float, r: float = PUMP_RATIO) -> float:
    """Mullins & Noda (1963): the steady state of a membrane whose electrogenic 3:2 pump balances
    its Na⁺ and K⁺ leaks, V = V_T ln((r P_K [K]o + P_Na [Na]o) / (r P_K [K]i + P_Na [Na]i)),
    r = 3/2. K⁺ and Na⁺ only, as they wrote it (other ions are taken to be at equilibrium;
    `pump_zero_current_mV` keeps them)."""
    return _weighted_zero_current_mV({ion: p for ion, p in perm.items() if ion in ("K", "Na")},
                                     c_in, c_out, temperature_C, r)


def pump_zero_current_mV(perm, c_in, c_out, temperature_C: float, r: float = PUMP_RATIO) -> float:
    """The zero-current potential with the 3:2 pump balancing the Na⁺ and K⁺ leaks while every
    other leak (Cl⁻, Ca²⁺, ...) carries its GHK current as it is: K⁺'s current weighted by r (for
    monovalent ions, the GHK equation with P_K weighted by r). Equals Mullins–Noda once those
    ions have redistributed to V (E_Cl = V); before, it is where V heads."""
    return _weighted_zero_current_mV(perm, c_in, c_out, temperature_C, r)


def gated_zero_current_mV(leak: Mapping[str, float], gated, c_in, c_out, temperature_C: float,
                          k_weight: float = 1.0, scan_mV: tuple[float, float, float] = (-200.0, 150.0, 2.0)) -> float:
    """The resting potential of a membrane with voltage-gated channel types: where the GHK currents
    of the leak permeabilities `leak` (per ion) and of each gated type, its permeability all open
    times its steady-state open probability p∞(V), sum to zero (K⁺'s weighted by `k_weight`, as
    Mullins and Noda weigh them for the pump). `gated` lists (ion, permeability, p_inf(V, E_ion)).
    A membrane that can fire may balance at several V: the most negative at which the net current
    crosses zero going outward (a stable rest) is returned, found on a grid (`scan_mV`: from, to,
    step) and refined; NaN if there is none."""
    vt = thermal_voltage_mV(temperature_C)
    e_ion = {ion: vt / CHARGE[ion] * math.log(c_out[ion] / c_in[ion]) if c_in[ion] > 0 and c_out[ion] > 0 else 0.0
             for ion in {g[0] for g in gated}}

    def current(v):
        perm = dict(leak)
        for ion, p, p_inf in gated:
            perm[ion] = perm.get(ion, 0.0) + p * p_inf(v, e_ion[ion])
        perm = {ion: (k_weight if ion == "K" else 1.0) * p for ion, p in perm.items() if p > 0}
        return net_outward_current(v, perm, c_in, c_out, temperature_C)

    lo, hi, step = scan_mV
    n = int(round((hi - lo) / step))
    prev_v, prev_i = lo, current(lo)
    for k in range(1, n + 1):
        v = lo + k * step
        i = current(v)
        if prev_i < 0.0 <= i:
            return brentq(current, prev_v, v, xtol=1e-9, rtol=1e-12) if i != 0.0 else v
        prev_v, prev_i = v, i
    return math.nan


def ghk_efflux_factor(z: int, u: float) -> float:
    """Unidirectional efflux per (P · c_in): z u / (1 − e^(−z u)), → 1 as u → 0."""
    zu = z * u
    if abs(zu) < 1e-9:
        return 1.0
    if zu < -700.0:                 # e^(−zu) would overflow: the factor is −zu e^(zu), vanishing
        return -zu * math.exp(zu)
    return zu / -math.expm1(-zu)


def ghk_influx_factor(z: int, u: float) -> float:
    """Unidirectional influx per (P · c_out): z u e^(−z u) / (1 − e^(−z u))."""
    zu = z * u
    if abs(zu) < 1e-9:
        return 1.0
    if zu > 700.0:                  # e^(zu) would overflow: the factor is zu e^(−zu), vanishing
        return zu * math.exp(-zu)
    return zu / math.expm1(zu)


def ussing_ratio(z: int, c_in: float, c_out: float, v_mV: float, temperature_C: float) -> float:
    """Influx / efflux for independent ions (Ussing 1949): (c_out / c_in) e^(−z V / V_T)."""
    return c_out / c_in * math.exp(-z * v_mV / thermal_voltage_mV(temperature_C))


def net_outward_current(v_mV: float, perm_abs, c_in, c_out, temperature_C: float,
                        pump_current: float = 0.0) -> float:
    """Σ z (efflux − influx) from the GHK flux equation, plus an outward pump current."""
    u = v_mV / thermal_voltage_mV(temperature_C)
    total = pump_current
    for ion, p in perm_abs.items():
        if p <= 0:
            continue
        z = CHARGE[ion]
        total += z * p * (c_in[ion] * ghk_efflux_factor(z, u) - c_out[ion] * ghk_influx_factor(z, u))
    return total


def zero_current_mV(perm_abs, c_in, c_out, temperature_C: float, pump_current: float = 0.0) -> float:
    """The voltage at which the GHK currents of every ion and the pump's current sum to zero.

    `perm_abs` are absolute permeabilities in the units that make P·c a current comparable with
    `pump_current` (outward positive)."""
    f = lambda v: net_outward_current(v, perm_abs, c_in, c_out, temperature_C, pump_current)
    span = 20.0 * thermal_voltage_mV(temperature_C)    # ±20 V_T, widened while no sign change
    for _ in range(4):
        if f(-span) * f(span) <= 0:
            return brentq(f, -span, span, xtol=1e-9, rtol=1e-12)
        span *= 2.0
    return math.nan


def donnan_mV(totals: Mapping[str, float], charge: Mapping[str, int], fixed_in: float,
              area_in: float, area_out: float, capacitance_e_per_mV: float,
              temperature_C: float) -> float:
    """Gibbs–Donnan equilibrium for the present contents of the box.

    `totals` are the particle counts of the permeant ions (both sides together), `fixed_in` the charge (e)
    inside that cannot cross (fixed anions, and ions without channels). Every permeant ion is distributed
    by Boltzmann across V, and V = Q_in / C: the unique root of Q_in(V) − C·V.
    """
    vt = thermal_voltage_mV(temperature_C)

    def excess(v):
        q = fixed_in
        for ion, n in totals.items():
            z = charge[ion]
            w = area_in * math.exp(-z * v / vt)
            q += z * n * w / (w + area_out)
        return q - capacitance_e_per_mV * v

    return brentq(excess, -500.0, 500.0, xtol=1e-6)


E_PER_NS_PER_PA = 1e-21 / 1.602176634e-19   # 1 pA for 1 ns is 0.00624 e (e: CODATA 2018, exact)


def pore_profile(a: float, n0: float, n1: float, depth: np.ndarray) -> np.ndarray:
    """The steady constant-field profile through an open pore between its mouths' densities n0
    (inside) and n1 (outside): n(s) = [n0 (e^a − e^(as)) + n1 (e^(as) − 1)] / (e^a − 1) at depth s
    (0 inside, 1 outside), a = zV/V_T (→ linear as a → 0; Boltzmann, n0 e^(as), at equilibrium)."""
    s = np.asarray(depth, dtype=np.float64)
    if abs(a) < 1e-9:
        return n0 * (1.0 - s) + n1 * s
    den = math.expm1(a)
    grow = np.expm1(a * s)                     # e^(as) − 1
    return (n0 * (den - grow) + n1 * grow) / den


def pore_occupancy(a: float, n0: float, n1: float) -> float:
    """∫₀¹ `pore_profile` ds: the mean density in the pore."""
    if abs(a) < 1e-9:
        return 0.5 * (n0 + n1)
    den = math.expm1(a)
    m = den / a - 1.0                          # ∫₀¹ (e^(as) − 1) ds
    return (n0 * (den - m) + n1 * m) / den


def pore_mouths(a: float, n_in: float, n_out: float, conductance_share: float) -> tuple[float, float]:
    """The densities at an open pore's two mouths while it carries its steady flux: the bulks'
    less (more) what the access from each bulk drops across it. `conductance_share` is what the
    channel conducts over what its pore alone would (D·w/L), the rest being the two mouths'
    access in series, taken as equal (as `open_pore_charge_e` takes it)."""
    if conductance_share >= 1.0:
        return n_in, n_out
    side = 2.0 * conductance_share / (1.0 - conductance_share)    # each mouth's access / the pore's
    eff, inf = ghk_efflux_factor(1, a), ghk_influx_factor(1, a)
    flux = (n_in * eff - n_out * inf) / (1.0 + (eff + inf) / side)   # outward, in the pore's units
    return max(n_in - flux / side, 0.0), max(n_out + flux / side, 0.0)


@dataclass(frozen=True)
class Pores:
    """A gated type's pores, for the charge their ions induce on the way through: how many
    channels, each pore's width and length (the band's thickness, nm) and D inside it (nm²/ns)."""
    channels: int
    width_nm: float
    length_nm: float
    d_nm2_per_ns: float


@dataclass(frozen=True)
class GatedCurrent:
    """A voltage-gated channel type for the deterministic cell: its ion, its permeability with
    every channel open (nm²/ns), and its gates' (α, β) per ns as functions of V (mV) and of the
    type's ion's reversal potential and outside concentration, which Kir reads. With `pores`, the
    cell also counts the charge of the ions in its pores (`open_pore_charge_e`)."""
    ion: str
    permeability: float
    rates: Callable[[float, float, float], list[tuple[float, float]]]
    pores: Pores | None = None


def _access_permeability(channel_permeability: float, pores: Pores) -> tuple[float, float]:
    """(the pore's own permeability D·w/L, each mouth's access permeability): what the channel
    conducts (`channel_permeability`, measured) is the two in series, the access split evenly."""
    p_pore = pores.d_nm2_per_ns * pores.width_nm / pores.length_nm
    p = min(channel_permeability, 0.999 * p_pore)
    return p_pore, 2.0 / (1.0 / p - 1.0 / p_pore)


def pore_fill_ns(channel_permeability: float, pores: Pores) -> float:
    """How long an open pore takes to fill to its steady charge: diffusion along it (its slowest
    mode, L²/(π²D)) and the supply through its two mouths' access (half its area's ions per
    mouth, at the access permeability)."""
    _, side = _access_permeability(channel_permeability, pores)
    return (pores.length_nm ** 2 / (math.pi ** 2 * pores.d_nm2_per_ns)
            + 0.5 * pores.width_nm * pores.length_nm / (2.0 * side))


def _ramp_moment(a: float) -> float:
    """∫₀¹ e^(a s) (1 − s) ds = (e^a − 1 − a) / a² (→ 1/2 + a/6 as a → 0)."""
    if abs(a) < 1e-4:
        return 0.5 + a / 6.0 + a * a / 24.0
    return (math.expm1(a) - a) / (a * a)


def open_pore_charge_e(z: int, u: float, d_in: float, d_out: float, channel_permeability: float,
                       pores: Pores) -> float:
    """The charge (e) one open pore's ions induce on the inside, in the steady state at u = V/V_T
    with the bulks at densities `d_in`, `d_out` (per nm²): the constant-field Nernst–Planck
    profile through the pore, n(s) = e^(zus)·n(0) − (J L / D w)(e^(zus) − 1)/(zu) at depth s
    (0 inside, 1 outside), counted as V counts it, z·w·L ∫ n(s)(1 − s) ds (Ramo–Shockley).
    The pore's mouths are not at the bulks' densities while it carries a flux: what the channel
    conducts (`channel_permeability`, measured) is less than its pore alone would (D·w/L), the
    rest is the access from each bulk (taken as equal on both sides), across which the flux
    lowers the density at the mouth it leaves by and raises the other's."""
    p_pore, side = _access_permeability(channel_permeability, pores)
    a = z * u
    eff, inf = ghk_efflux_factor(1, a), ghk_influx_factor(1, a)
    flux = p_pore * (d_in * eff - d_out * inf) / (1.0 + p_pore * (eff + inf) / side)   # outward, per ns
    n0 = max(d_in - flux / side, 0.0)
    m1 = _ramp_moment(a)
    tail = (m1 - 0.5) / a if abs(a) > 1e-4 else 1.0 / 6.0 + a / 24.0
    integral = n0 * m1 - flux * pores.length_nm / (pores.d_nm2_per_ns * pores.width_nm) * tail
    return z * pores.width_nm * pores.length_nm * integral


@dataclass(frozen=True)
class DeterministicCell:
    """The cell as Hodgkin and Huxley would write it: a capacitor, GHK currents through the leak
    permeabilities and through the gated types' open fraction of their permeability, and the
    pump's mean current. 2D: permeabilities in nm²/ns, ion contents in particles of each bulk,
    areas in nm², the capacitance in e/mV."""
    capacitance_e_per_mV: float
    temperature_C: float
    area_in_nm2: float
    area_out_nm2: float
    mM_per_density: float
    leak: Mapping[str, float]
    gated: tuple[GatedCurrent, ...]
    pump_cycles_per_ns: float = 0.0          # 3 Na⁺ out, 2 K⁺ in and one charge out per cycle
    bath_held: bool = False                  # a perfused bath: the outside keeps its concentrations


def _gate_flips(n_gates: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every single-gate transition between the 2^n gate states (a state: its gates' open bits):
    from, to, which gate, and whether it opens."""
    states = np.arange(1 << n_gates)
    src = np.repeat(states, n_gates)
    gate = np.tile(np.arange(n_gates), states.size)
    bit = 1 << gate
    return src, src ^ bit, gate, (src & bit) == 0


def deterministic_response(cell: DeterministicCell, v0_mV: float, gates0: list[list[float]],
                           n_in: Mapping[str, float], n_out: Mapping[str, float],
                           protocol: list[tuple[float, float]], every_ns: float = 1.0,
                           track_concentrations: bool = True, closed_pore_e: list | None = None) -> dict:
    """The deterministic trajectory from V = v0 with each gated type's gates open the fractions
    `gates0` (per type, per gate) and `n_in`/`n_out` ions of each permeant species in the bulks,
    under a current stimulus `protocol` of (pA, ns) segments (positive: charge into the inside),
    sampled every `every_ns`. Each gate fraction x obeys dx/dt = α(1 − x) − β x, a type's open
    fraction is the product of its gates', and C dV/dt = I_stimulus − Σ z·(GHK flux of each ion
    through its leak and open gated permeability) − the pump's charge; with
    `track_concentrations` the fluxes move the ions between the bulks (this box is small: a spike
    changes them by millimolar), or only the inside's when the cell's bath is perfused
    (`bath_held`).

    A gated type with `pores` also has the charge of the ions on their way through its pores in
    V, as the particles' V has (SPEC: Q_in counts an ion in the band by its depth): C·V = Q_bulk
    + Σ_s Q_s, the charge in its channels' pores in each gate state s. The open pores fill toward
    their steady-state charge N_open·q(V) (`open_pore_charge_e`) in `pore_fill_ns` (~3–5 ns), and
    what they take in counts in V as it moves: C dV/dt = I_stimulus − I_ionic + filling. A closed
    pore holds its ions still (the crossing rule), so a channel carries its pore's charge from gate
    state to gate state: with the gates independent (N_s from the product of the gate fractions),
    dQ_s/dt = Σ k_s'→s·Q_s' − Σ k_s→s'·Q_s (+ the filling, for the open state): a channel that
    opens brings what it held and fills from there. `closed_pore_e` gives, per gated type, the
    charge in its pores in each gate state (index: the gates' open bits, as `ChannelSet` stores
    them; all set is open) at the start — a measurement of the particles' state, like V; none if
    not given.

    Returns arrays `t_ns`, `V_mV`, `open_<i>` per gated type (its index in `cell.gated`),
    `<ion>_in`/`<ion>_out` particle counts, and `pore_e` (the charge in the gated types' pores,
    open and closed) when any type has pores."""
    from scipy.integrate import solve_ivp

    ions = sorted(set(cell.leak) | {g.ion for g in cell.gated} | ({"Na", "K"} if cell.pump_cycles_per_ns else set()))
    vt = thermal_voltage_mV(cell.temperature_C)
    sizes = [len(g0) for g0 in gates0]
    n_g = sum(sizes)
    n_ion = len(ions)
    with_pores = [k for k, g in enumerate(cell.gated) if g.pores is not None]
    n_states = {k: 1 << sizes[k] for k in with_pores}
    slots, at_pool = {}, 1 + n_g + 2 * n_ion        # where each pored type's gate-state charges sit in y
    for k in with_pores:
        slots[k] = at_pool
        at_pool += n_states[k]
    flips = {k: _gate_flips(sizes[k]) for k in with_pores}
    fill_ns = {k: pore_fill_ns(cell.gated[k].permeability / cell.gated[k].pores.channels, cell.gated[k].pores)
               for k in with_pores}
    pump_in = {"Na": -3.0, "K": 2.0}        # ions the pump carries in per cycle

    def densities(y):
        d_in = {ion: max(y[1 + n_g + k], 0.0) / cell.area_in_nm2 for k, ion in enumerate(ions)}
        d_out = {ion: max(y[1 + n_g + n_ion + k], 0.0) / cell.area_out_nm2 for k, ion in enumerate(ions)}
        return d_in, d_out

    def pore_q(g, v, d_in, d_out):
        return open_pore_charge_e(CHARGE[g.ion], v / vt, d_in[g.ion], d_out[g.ion],
                                  g.permeability / g.pores.channels, g.pores)

    def rhs(_t, y, stim_e_per_ns):
        v = y[0]
        u = v / vt
        d_in, d_out = densities(y)
        perm = dict(cell.leak)
        dy = np.zeros_like(y)
        at = 1
        refill = 0.0
        for i, (g, size) in enumerate(zip(cell.gated, sizes)):
            x = np.clip(y[at:at + size], 0.0, 1.0)
            e_ion = (vt / CHARGE[g.ion] * math.log(d_out[g.ion] / d_in[g.ion])
                     if d_in[g.ion] > 0 and d_out[g.ion] > 0 else 0.0)
            rates = g.rates(v, e_ion, d_out[g.ion] * cell.mM_per_density)
            for k, (a, b) in enumerate(rates):
                dy[at + k] = a * (1.0 - y[at + k]) - b * y[at + k]
            is_open = float(np.prod(x))
            perm[g.ion] = perm.get(g.ion, 0.0) + g.permeability * is_open
            if g.pores is not None:
                src, dst, gate, opening = flips[i]
                full = n_states[i] - 1
                pools = y[slots[i]:slots[i] + n_states[i]]
                a = np.array([r[0] for r in rates])
                b = np.array([r[1] for r in rates])
                rate = np.where(opening, a[gate], b[gate])
                flow = rate * pools[src]        # a channel that changes state takes its pore's charge along
                d_pool = np.bincount(dst, weights=flow, minlength=n_states[i]) - np.bincount(src, weights=flow, minlength=n_states[i])
                filling = (g.pores.channels * is_open * pore_q(g, v, d_in, d_out) - pools[full]) / fill_ns[i]
                d_pool[full] += filling
                dy[slots[i]:slots[i] + n_states[i]] = d_pool
                refill += filling
            at += size
        outward = cell.pump_cycles_per_ns           # the pump's one charge per cycle, outward
        for k, ion in enumerate(ions):
            z = CHARGE[ion]
            p = perm.get(ion, 0.0)
            through = p * (d_in[ion] * ghk_efflux_factor(z, u) - d_out[ion] * ghk_influx_factor(z, u)) if p > 0 else 0.0
            outward += z * through
            if track_concentrations:
                moved_out = through - pump_in.get(ion, 0.0) * cell.pump_cycles_per_ns
                dy[1 + n_g + k] = -moved_out
                dy[1 + n_g + n_ion + k] = 0.0 if cell.bath_held else moved_out
        dy[0] = (stim_e_per_ns - outward + refill) / cell.capacitance_e_per_mV
        return dy

    pools0 = []
    for k in with_pores:
        given = np.zeros(n_states[k]) if closed_pore_e is None else np.asarray(closed_pore_e[k], dtype=float)
        if given.size != n_states[k]:
            raise ValueError(f"closed_pore_e[{k}] has {given.size} gate states; type {k} has {n_states[k]}")
        pools0.extend(given)
    y = np.array([v0_mV, *[x for g0 in gates0 for x in g0], *[float(n_in.get(i, 0.0)) for i in ions],
                  *[float(n_out.get(i, 0.0)) for i in ions], *pools0])
    ts, ys = [np.array([0.0])], [y[:, None]]
    t0 = 0.0
    for current_pA, duration_ns in protocol:
        t1 = t0 + duration_ns
        grid = np.arange(t0 + every_ns, t1 + 1e-9, every_ns)
        if grid.size == 0 or grid[-1] < t1 - 1e-9:
            grid = np.append(grid, t1)
        sol = solve_ivp(rhs, (t0, t1), y, method="LSODA", t_eval=grid, args=(current_pA * E_PER_NS_PER_PA,),
                        rtol=1e-7, atol=1e-9, max_step=max(every_ns, 0.5))
        if not sol.success:
            raise RuntimeError(f"the deterministic solve failed at {t0:g} ns: {sol.message}")
        ts.append(sol.t)
        ys.append(sol.y)
        y, t0 = sol.y[:, -1], t1
    t = np.concatenate(ts)
    yy = np.concatenate(ys, axis=1)
    out = {"t_ns": t, "V_mV": yy[0]}
    at = 1
    for k, size in enumerate(sizes):
        out[f"open_{k}"] = np.prod(np.clip(yy[at:at + size], 0.0, 1.0), axis=0)
        at += size
    for k, ion in enumerate(ions):
        out[f"{ion}_in"] = yy[1 + n_g + k]
        out[f"{ion}_out"] = yy[1 + n_g + n_ion + k]
    if with_pores:
        pore = np.zeros(t.size)
        for j in range(t.size):
            d_in, d_out = densities(yy[:, j])
            for i in with_pores:
                pore[j] += yy[slots[i]:slots[i] + n_states[i], j].sum()
        out["pore_e"] = pore
    return out
