"""A current stimulus: an electrode injects charge into the inside (positive: depolarising). Its
charge is the electrode's, V = (Q_in + electrode) / C; no particle is made or lost, and the ions'
counted charge changes only by what crosses."""
import numpy as np
import pytest

from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation
from simulation.core.observe import PA_PER_E_PER_US
from tests.cells import TINY

SEALED = TINY + ["channels.K.relative_permeability=0", "channels.Na.relative_permeability=0",
                 "channels.Cl.relative_permeability=0", "pump.count=0"]     # nothing crosses: a capacitor


def e_of(current_pA, ns):
    return current_pA / PA_PER_E_PER_US * 1e-3 * ns


def test_a_pulse_into_a_sealed_cell_moves_v_by_exactly_its_charge_over_c():
    protocol = "stimulus.protocol=[{current_pA = 300.0, duration_ns = 2.0}, {current_pA = -100.0, duration_ns = 1.0}]"
    sim = Simulation(load("mammalian", None, SEALED + [protocol]), seed=1)
    v0, q0 = sim.v_mV, sim.q_in
    counts = np.bincount(sim.state.species)
    sim.step(int(round(1.0 / sim.dt_ns)))                   # half-way through the first entry
    assert sim.stimulus_pA == pytest.approx(300.0)
    assert sim.electrode_e == pytest.approx(e_of(300, 1.0), rel=1e-12)
    sim.step(int(round(4.0 / sim.dt_ns)))                   # past both entries
    assert sim.stimulus_pA == 0.0
    injected = e_of(300, 2.0) + e_of(-100, 1.0)
    assert sim.electrode_e == pytest.approx(injected, rel=1e-12)
    assert sim.q_in == pytest.approx(q0, abs=1e-9)           # no ion crossed
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    assert (np.bincount(sim.state.species) == counts).all()
    assert sim.v_mV == pytest.approx(v0 + injected / sim.capacitance_e_per_mV, abs=1e-9)


def test_a_pulse_injected_live_adds_to_the_electrode_and_is_logged():
    sim = Simulation(load("mammalian", None, TINY), seed=2)
    sim.step(40)
    before = sim.electrode_e
    sim.inject(500.0, 0.5)
    assert sim.events[-1].label == "pulse +500 pA, 0.5 ns"
    sim.step(10)
    assert sim.stimulus_pA == pytest.approx(500.0)
    sim.step(30)
    assert sim.stimulus_pA == 0.0
    assert sim.electrode_e - before == pytest.approx(e_of(500, 0.5), rel=1e-12)
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)


def test_the_result_does_not_depend_on_how_the_steps_are_called():
    protocol = "stimulus.protocol=[{current_pA = 250.0, duration_ns = 1.3}]"
    a = Simulation(load("mammalian", None, TINY + [protocol]), seed=3)
    b = Simulation(load("mammalian", None, TINY + [protocol]), seed=3)
    a.step(200)
    for _ in range(200):
        b.step(1)
    assert a.v_mV == b.v_mV and a.electrode_e == b.electrode_e
    assert (a.state.x == b.state.x).all()


def test_a_clamp_absorbs_a_stimulus():
    sim = Simulation(load("mammalian", None, TINY + ["clamp.enabled=true", "clamp.command_mV=-70",
                                                     "stimulus.protocol=[{current_pA = 400.0, duration_ns = 1.0}]"]),
                     seed=4)
    sim.step(80)
    assert sim.v_mV == -70.0
    assert sim.electrode_e == pytest.approx(-70.0 * sim.capacitance_e_per_mV - sim.q_in)


@pytest.mark.parametrize("entry, says", [
    ("{current_pA = 300.0, duration_ns = 0.001}", "shorter than one time step"),
    ("{current_pA = 1e9, duration_ns = 1.0}", "current_pA"),
    ("{current = 3.0, duration_ns = 1.0}", "current"),
])
def test_a_bad_stimulus_is_one_line(entry, says):
    with pytest.raises(ConfigError, match=says) as e:
        load("mammalian", None, [f"stimulus.protocol=[{entry}]"])
    assert "\n" not in str(e.value)


def test_the_live_pulse_the_scenario_pulse_and_the_api_pulse_are_one():
    from simulation.lab import Lab
    from simulation.session.interventions import check_changes
    from simulation.session.session import CONTROL, Session
    ses = Session(load("mammalian", None, TINY), seed=5)
    ses.step(10)
    said = CONTROL["pulse+"].do(ses)
    assert ses.pulse_pA == pytest.approx(2500.0) and said.startswith("next pulse: 2500 pA for 2 ns")
    before = ses.sim.electrode_e
    CONTROL["pulse"].do(ses)
    ses.step(100)
    assert ses.sim.electrode_e - before == pytest.approx(e_of(2500, 2.0), rel=1e-12)
    assert any(label == "pulse +2500 pA, 2 ns" for _, label in ses.trace.markers)
    assert check_changes({"pulse": [300, 2]}, "step 1", ses.sim.config) == {"pulse": (300.0, 2.0)}
    with pytest.raises(ConfigError, match=r"step 1: set.pulse must be \[current in pA, duration in ns\]"):
        check_changes({"pulse": 300}, "step 1", ses.sim.config)
    with pytest.raises(ConfigError, match="current_pA"):
        check_changes({"pulse": [1e9, 2]}, "step 1", ses.sim.config)
    lab = Lab(load("mammalian", None, TINY), seed=5)
    assert lab.set(pulse=[400, 1]).startswith("pulse +400 pA for 1 ns")


def test_a_held_current_starts_when_asked_and_lasts_to_the_end():
    """`stimulus.hold_pA` from `hold_from_ns`, added to a protocol: the electrode's charge grows by
    exactly the held current once it starts, whatever else is under way."""
    sets = SEALED + ["stimulus.hold_pA=-40", "stimulus.hold_from_ns=2",
                     "stimulus.protocol=[{current_pA = 300.0, duration_ns = 3.0}]"]
    sim = Simulation(load("mammalian", None, sets), seed=1)
    v0 = sim.v_mV
    sim.step(int(round(1.0 / sim.dt_ns)))
    assert sim.stimulus_pA == pytest.approx(300.0) and sim.held_pA == 0.0
    sim.step(int(round(1.5 / sim.dt_ns)))
    assert sim.stimulus_pA == pytest.approx(260.0) and sim.held_pA == -40.0
    sim.step(int(round(7.5 / sim.dt_ns)))                  # 10 ns in all
    assert sim.stimulus_pA == pytest.approx(-40.0)
    injected = e_of(300, 3.0) + e_of(-40, 8.0)
    assert sim.electrode_e == pytest.approx(injected, rel=1e-9)
    assert sim.v_mV == pytest.approx(v0 + injected / sim.capacitance_e_per_mV, abs=1e-9)


@pytest.mark.parametrize("key, value", [("stimulus.hold_pA", "1e9"), ("stimulus.hold_from_ns", "-1"),
                                        ("stimulus.hold_pA", '"a lot"')])
def test_a_bad_held_current_is_one_line(key, value):
    with pytest.raises(ConfigError) as err:
        load("mammalian", None, [f"{key}={value}"])
    assert key in str(err.value) and "\n" not in str(err.value)


def test_a_live_held_current_runs_until_changed_and_is_logged_and_checked():
    sim = Simulation(load("mammalian", None, SEALED), seed=3)
    sim.step(40)
    before = sim.electrode_e
    sim.hold(120.0)
    assert sim.events[-1].label == "hold +120 pA" and sim.config["stimulus.hold_pA"] == 120.0
    sim.step(int(round(4.0 / sim.dt_ns)))
    assert sim.stimulus_pA == pytest.approx(120.0) and sim.held_pA == 120.0
    sim.hold(-30.0)                                # replaces it
    sim.step(int(round(2.0 / sim.dt_ns)))
    sim.hold(0.0)
    sim.step(20)
    assert sim.stimulus_pA == 0.0 and sim.events[-1].label == "hold off"
    assert sim.electrode_e - before == pytest.approx(e_of(120, 4.0) + e_of(-30, 2.0), rel=1e-9)
    with pytest.raises(ConfigError):
        sim.hold(1e12)
