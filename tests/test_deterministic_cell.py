"""The deterministic cell (Hodgkin and Huxley's equations with this cell's GHK currents, drawn
beside the stochastic one) agrees with the other theory it can be checked against: a sealed
membrane charges by exactly I·T/C, a cell with gated channels settles where the steady-state
zero-current potential says, ions moved are ions conserved, and the spiking cell's equations
fire an all-or-none spike that overshoots 0 mV and stays below E_Na."""
import math

import numpy as np

import pytest

from membrane import gating, theory
from particles.species import PERMEANT_NAMES, Species
from simulation.core.config import load
from simulation.core.model import Simulation
from simulation.core.spikes import find_spikes
from simulation.core.spike_theory import Unit, permeability_unit, trial

PULSE = 1250.0   # pA for 5 ns: 1.5 times the equations' threshold (750...900 pA from -81 mV)
PUMP = 0.016     # cycles/ns: the preset's one pump at rest (measured 15.7 per µs)
UNIT = 1.5   # nm²/ns per relative unit: near what the 5-nm membrane's pores measure (validate measures it)


def spiking(*sets):
    return Simulation(load("spiking", None, list(sets)), seed=1)


def test_a_sealed_membrane_charges_by_the_stimulus_alone():
    cell = theory.DeterministicCell(2.0, 37.0, 1000.0, 1000.0, 1.0, {}, ())
    run = theory.deterministic_response(cell, -70.0, [], {"K": 100.0}, {"K": 10.0}, [(160.21766, 10.0), (0.0, 5.0)])
    assert run["V_mV"][-1] == pytest.approx(-70.0 + 10.0 / 2.0, abs=1e-6)   # 1 e/ns for 10 ns over 2 e/mV


def test_the_cell_settles_at_the_steady_state_zero_current_potential():
    """Without a pump and with the concentrations held, V relaxes to where the leak and the gated
    types at p∞(V) pass no net current (`theory.gated_zero_current_mV`, found independently).
    With the Kv curves unshifted: the preset's Kv, shifted +10 mV, leaves the cell without its
    pump no stable rest (its equations fire again and again, a pacemaker)."""
    sim = spiking("channels.Kv.v_shift_mV=0")
    cell = sim.deterministic_cell(UNIT, pores=False)   # pores closed for long keep their charge: slower still
    fr = sim.channels.gate_fractions()
    counts = sim.region_counts()
    n_in = {i: float(counts[Species[i], 0]) for i in PERMEANT_NAMES}
    n_out = {i: float(counts[Species[i], 2]) for i in PERMEANT_NAMES}
    run = theory.deterministic_response(cell, -40.0, [fr[t.name] for t, _ in sim.channels.gated()], n_in, n_out,
                                        [(0.0, 6000.0)], every_ns=10.0, track_concentrations=False)
    c_in, c_out = sim.concentrations_mM()
    gated = [(t.ion, p, lambda v, e, t=t: gating.open_probability(t.gating, t.params, v, e, c_out[t.ion]))
             for t, p in sim.channels.gated()]
    expected = theory.gated_zero_current_mV(sim.channels.leak_permeability(), gated, c_in, c_out, sim.temperature_C)
    assert run["V_mV"][-1] == pytest.approx(expected, abs=0.05)


def test_ions_moved_between_the_bulks_are_conserved():
    sim = spiking("perfusion.enabled=false")      # perfused, the bath is held (test_perfusion)
    run = sim.deterministic_response([(0.0, 1200.0), (3000.0, 5.0), (0.0, 500.0)], UNIT, pump_cycles_per_ns=0.02,
                                     every_ns=5.0)
    for ion in ("K", "Na", "Cl"):
        total = run[f"{ion}_in"] + run[f"{ion}_out"]
        assert max(abs(total - total[0])) < 1e-6 * total[0]
    before = int(1200 / 5)
    assert run["Na_in"][-1] > run["Na_in"][before] + 100, "a spike brings Na+ in"
    assert run["K_in"][-1] < run["K_in"][before] - 100, "and lets K+ out"


def test_the_equations_fire_all_or_none_below_e_na():
    """From rest (1.2 µs of the equations from the cell's first state, with the pump's mean
    current): a sixth of the spiking pulse is a bump, the pulse a spike that overshoots 0 mV and
    stays below E_Na; TTX: none."""
    sim = spiking()
    e_na = sim.theory(donnan=False)["E_Na_mV"]
    runs = {pA: sim.deterministic_response([(0.0, 1200.0), (pA, 5.0), (0.0, 500.0)], UNIT, PUMP)
            for pA in (PULSE / 6, PULSE)}
    after = {pA: (r["t_ns"][r["t_ns"] >= 1200.0], r["V_mV"][r["t_ns"] >= 1200.0]) for pA, r in runs.items()}
    assert find_spikes(*after[PULSE / 6]) == []
    (spike,) = find_spikes(*after[PULSE])
    assert 0.0 < spike.peak_mV < e_na
    ttx = spiking("channels.Nav.relative_permeability=0")
    run = ttx.deterministic_response([(0.0, 1200.0), (PULSE, 5.0), (0.0, 500.0)], UNIT, PUMP)
    assert find_spikes(run["t_ns"][run["t_ns"] >= 1200.0], run["V_mV"][run["t_ns"] >= 1200.0]) == []


def test_a_channel_carries_its_pores_charge_between_gate_states():
    """Every channel's pore holding the open pore's steady charge q(V), the gates at their steady
    state and V held still (a huge capacitance): channels keep opening and closing, each taking its
    charge along, and the pores' total stays N·q — gating moves charge between states, it makes none.
    Starting empty instead, the open pores fill, and the pores' charge rises."""
    sim = spiking()
    base = sim.deterministic_cell(UNIT)
    cell = theory.DeterministicCell(1e9, base.temperature_C, base.area_in_nm2, base.area_out_nm2,
                                    base.mM_per_density, {}, base.gated)
    counts = sim.region_counts()
    n_in = {i: float(counts[Species[i], 0]) for i in PERMEANT_NAMES}
    n_out = {i: float(counts[Species[i], 2]) for i in PERMEANT_NAMES}
    vt, v = theory.thermal_voltage_mV(cell.temperature_C), -60.0
    full, empty, gates = [], [], []
    for g in cell.gated:
        d_in, d_out = n_in[g.ion] / cell.area_in_nm2, n_out[g.ion] / cell.area_out_nm2
        q = theory.open_pore_charge_e(1, v / vt, d_in, d_out, g.permeability / g.pores.channels, g.pores)
        x = [a / (a + b) for a, b in g.rates(v, vt * math.log(d_out / d_in), d_out * cell.mM_per_density)]
        states = np.arange(16)
        share = np.prod([np.where(states & (1 << k), f, 1.0 - f) for k, f in enumerate(x)], axis=0)
        full.append(g.pores.channels * share * q)
        empty.append(np.zeros(16))
        gates.append(x)
    held = theory.deterministic_response(cell, v, gates, n_in, n_out, [(0.0, 300.0)], 10.0,
                                         track_concentrations=False, closed_pore_e=full)
    total = sum(p.sum() for p in full)
    assert np.allclose(held["pore_e"], total, rtol=1e-6)
    filled = theory.deterministic_response(cell, v, gates, n_in, n_out, [(0.0, 300.0)], 10.0,
                                           track_concentrations=False, closed_pore_e=empty)
    assert filled["pore_e"][0] == 0.0 and 0.0 < filled["pore_e"][-1] < total


def test_the_unit_is_measured_from_resting_fluxes_and_pools():
    sim = Simulation(load("spiking", None, ["box.height_nm=200", "physics.particles=40000"]), seed=2)
    sim.step(int(200 / sim.dt_ns))
    a = permeability_unit(sim, 150.0)
    b = permeability_unit(sim, 150.0)
    assert a.transits > 0 and b.transits > 0
    both = a + b
    assert both.transits == a.transits + b.transits
    assert min(a.nm2_per_ns, b.nm2_per_ns) <= both.nm2_per_ns <= max(a.nm2_per_ns, b.nm2_per_ns)
    assert both.sem == pytest.approx(both.nm2_per_ns / math.sqrt(both.transits))
    assert isinstance(both, Unit)


def test_a_trial_puts_the_equations_beside_the_cell_from_its_own_state():
    sim = Simulation(load("spiking", None, ["box.height_nm=200", "physics.particles=40000",
                                            "physics.capacitance_e_per_mV=0.25",
                                            "membrane.channels_per_unit_permeability=2"]), seed=3)
    sim.step(int(100 / sim.dt_ns))
    electrode = sim.electrode_e
    tr = trial(sim, [(400.0, 5.0), (0.0, 45.0)], UNIT)
    assert tr.t_ns[0] == 0.0 and tr.t_ns[-1] == pytest.approx(50.0)
    assert tr.v_mV.shape == tr.v_theory_mV.shape == tr.t_ns.shape
    assert tr.v_theory_mV[0] == pytest.approx(tr.rest_mV) and tr.v_mV[0] == tr.rest_mV
    # the equations' pores start with the charge the particles' pores hold, gate state by gate state
    assert tr.pore_theory_e[0] == pytest.approx(tr.pore_e[0], abs=1e-9)
    assert sim.electrode_e - electrode == pytest.approx(400.0 * 5.0 * theory.E_PER_NS_PER_PA, rel=1e-6)
    jump = 400.0 * 5.0 * theory.E_PER_NS_PER_PA / 0.25        # the pulse alone, 50 mV
    k = int(np.searchsorted(tr.t_ns, 5.0))
    assert tr.v_theory_mV[k] - tr.rest_mV == pytest.approx(jump, abs=10.0)


def test_live_a_pulse_brings_the_equations_beside_v_once_the_pores_are_measured():
    """The session measures the pores' unit of permeability as its cell runs; a pulse (E) then
    draws the equations' V from that moment (the trace's `prediction`). Before enough transits
    it says why there is none."""
    from simulation.session.session import PREDICT_MIN_TRANSITS, PREDICT_NS, Session
    session = Session(load("spiking", None, ["box.height_nm=200", "physics.particles=40000",
                                             "physics.capacitance_e_per_mV=0.25",
                                             "membrane.channels_per_unit_permeability=2",
                                             "channels.Cl.relative_permeability=1"]), seed=4)   # transits sooner
    said = session.pulse()
    assert "transits counted so far" in said and session.trace.prediction is None
    while session.unit_meter.unit(session.sim).transits < PREDICT_MIN_TRANSITS:
        session.step(200)
    now, v_now = session.sim.time_ns, session.sim.v_mV
    said = session.pulse()
    assert "transits" not in said
    t, v = session.trace.prediction
    assert t[0] == pytest.approx(now) and t[-1] == pytest.approx(now + PREDICT_NS)
    assert v[0] == pytest.approx(v_now)
    # under a held current the pulse's prediction keeps it on, through the pulse and after
    session.intervene("hold", -100.0)
    session.pulse()
    _, held = session.trace.prediction
    unit = session.unit_meter.unit(session.sim).nm2_per_ns
    pump = session.unit_meter.pump_cycles_per_ns(session.sim)
    pulse_pA = session.pulse_pA * session.cell_scale
    # no step since: the state the equations started from is the state now
    expected = session.sim.deterministic_response([(pulse_pA - 100.0, session.pulse_ns),
                                                   (-100.0, PREDICT_NS - session.pulse_ns)], unit, pump)
    assert held[-1] == pytest.approx(expected["V_mV"][-1], abs=1e-6)
    assert v.max() > v[0] + 20, "the pulse moves the equations' V"
