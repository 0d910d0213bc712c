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
    cell = sim.deterministic_cell(UNIT)
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
    sim = spiking()
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
    assert v.max() > v[0] + 20, "the pulse moves the equations' V"
