"""The voltage clamp: V held at the command, the electrode's charge balancing what the ions carry,
particles and charge conserved over a protocol, a continuous release, and the currents recorded."""
import csv
import json

import numpy as np
import pytest

from particles.species import N_SPECIES, PERMEANT
from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation
from simulation.core.observe import PA_PER_E_PER_US
from tests.cells import TINY
from tests.test_cli import main_py

PROTOCOL = "clamp.protocol=[{command_mV=-110, duration_ns=5}, {command_mV=-20, duration_ns=5}, " \
           "{command_mV=-90, duration_ns=2.5}]"


def _sim(*extra, preset="mammalian", seed=3):
    return Simulation(load(preset, None, TINY + list(extra)), seed=seed)


def _totals(sim):
    return np.bincount(sim.state.species, minlength=N_SPECIES)


def _carried(sim):
    return float(sim.charge_carried_in.sum()) + sim.pump_charge_in


def test_clamp_holds_v_at_the_command_and_the_electrode_supplies_what_the_ions_carry():
    sim = _sim("clamp.enabled=true", "clamp.command_mV=-40")
    c = sim.capacitance_e_per_mV
    assert sim.clamped and sim.v_mV == -40.0
    assert sim.electrode_e == pytest.approx(-40.0 * c - sim.q_in)   # the membrane charged at once
    sim.step(300)
    e0, carried0 = sim.electrode_e, _carried(sim)
    sim.step(700)
    assert sim.v_mV == -40.0
    assert (sim.q_in + sim.electrode_e) / c == pytest.approx(-40.0, abs=1e-9)
    # what the channels and pumps carried in, the electrode took out: to rounding
    moved = _carried(sim) - carried0
    assert abs(moved) > 1.0                      # something did flow at -40 mV
    assert sim.electrode_e - e0 == pytest.approx(-moved, abs=1e-6)
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)


def test_particles_and_charge_are_conserved_over_a_protocol():
    sim = _sim("clamp.enabled=true", "clamp.command_mV=-70", PROTOCOL)
    totals = _totals(sim)
    q_total = int(sim.kinds.charge[sim.state.species].sum())
    start = sim.q_in + sim.electrode_e
    seen = []
    for _ in range(30):
        sim.step(25)
        seen.append(sim.clamp_mV)
        assert np.array_equal(_totals(sim), totals)
        assert int(sim.kinds.charge[sim.state.species].sum()) == q_total
        assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
        # the inside's charge, the electrode's included, is C times the command
        assert (sim.q_in + sim.electrode_e) == pytest.approx(sim.capacitance_e_per_mV * sim.clamp_mV, abs=1e-6)
    # dt 0.025 ns: 200, 200 and 100 steps, then the holding potential
    assert seen[:8] == [-110.0] * 8 and seen[8:16] == [-20.0] * 8 and seen[16:20] == [-90.0] * 4
    assert set(seen[20:]) == {-70.0}
    # the electrode's charge changed by the steps of C·V and by what the ions carried, nothing else
    assert sim.q_in + sim.electrode_e - start == pytest.approx(sim.capacitance_e_per_mV * (-70.0 - -110.0), abs=1e-6)


def test_release_is_continuous_and_v_then_follows_the_counted_charge():
    sim = _sim("clamp.enabled=true", "clamp.command_mV=-20")
    sim.step(400)
    sim.set_clamp(False)
    assert not sim.clamped and sim.v_mV == pytest.approx(-20.0, abs=1e-9)
    sim.step(1)
    assert abs(sim.v_mV + 20.0) < 3 / sim.capacitance_e_per_mV    # one step moves a few ions' worth at most
    sim.step(3000)
    # free again: V = (Q_in + the electrode's charge) / C, and the electrode no longer changes
    e = sim.electrode_e
    sim.step(100)
    assert sim.electrode_e == e
    assert sim.v_mV == pytest.approx((sim.q_in + e) / sim.capacitance_e_per_mV)
    assert [ev.label for ev in sim.events] == ["clamp released"]


def test_a_live_clamp_is_a_logged_change_and_ends_a_protocol():
    sim = _sim("clamp.enabled=true", PROTOCOL)
    sim.step(50)
    sim.set_clamp(True, -55.0)
    assert sim.clamp_mV == -55.0 and sim.config["clamp.protocol"] == [] and sim.config["clamp.command_mV"] == -55.0
    sim.step(600)                                  # past where the protocol would have changed it
    assert sim.clamp_mV == -55.0
    with pytest.raises(ConfigError, match="clamp.command_mV"):
        sim.set_clamp(True, 900.0)
    assert sim.clamp_mV == -55.0
    assert [e.label for e in sim.events] == ["clamp -55 mV"]


def test_clamp_config_errors_name_the_key():
    for bad, words in ((["clamp.protocol=[{command_mV=-50, duration_ns=1}]"], "clamp.enabled"),
                       (["clamp.enabled=true", "clamp.protocol=[{command_mV=-50}]"], "lacks duration_ns"),
                       (["clamp.enabled=true", "clamp.protocol=[{command_mV=-50, duration_ns=0.001}]"], "one time step"),
                       (["clamp.enabled=true", "clamp.protocol=[{command_mV=-50, duration_ns=1, x=2}]"], "unknown key"),
                       (["clamp.enabled=true", "clamp.protocol=-50"], "a list"),
                       (["clamp.command_mV=-300"], "clamp.command_mV")):
        with pytest.raises(ConfigError, match=words):
            load("mammalian", None, TINY + bad)


def test_recorded_currents_add_up_and_match_the_electrode(tmp_path):
    out = tmp_path / "run"
    sets = [a for s in TINY + ["clamp.enabled=true", "clamp.command_mV=-30"] for a in ("--set", s)]
    r = main_py("run", "--steps", "1200", "--seed", "2", "--out", str(out), "--sample-every", "100", *sets)
    assert r.returncode == 0, r.stderr
    assert "clamped at -30 mV: I =" in r.stdout
    rows = list(csv.DictReader(open(out / "timeseries.csv")))
    assert rows[0]["I_total_pA"] == "" and all(float(x["clamp_mV"]) == -30.0 for x in rows)
    for a, b in zip(rows[:-1], rows[1:]):
        parts = sum(float(b[f"I_{n}_pA"]) for n in ("K", "Na", "Cl", "Ca", "pump", "ncx"))
        assert float(b["I_total_pA"]) == pytest.approx(parts, abs=1e-5)
        # each ion's current is the sum of its channel types' (one leak type each here)
        for ion in ("K", "Na", "Cl"):
            assert float(b[f"I_ch_{ion}_pA"]) == pytest.approx(float(b[f"I_{ion}_pA"]), abs=1e-6)
        # the electrode puts in what flows out
        span_us = (float(b["time_ns"]) - float(a["time_ns"])) * 1e-3
        electrode_pA = (float(b["electrode_e"]) - float(a["electrode_e"])) / span_us * PA_PER_E_PER_US
        assert electrode_pA == pytest.approx(float(b["I_total_pA"]), abs=1e-3)
    s = json.loads((out / "summary.json").read_text())
    assert s["clamp"]["command_mV"] == -30.0 and s["clamp"]["clamped_share"] == 1.0
    assert s["settling"]["method"] == "second half (clamped throughout)" and s["window"][0] == 600
    assert s["V_mean_mV"] == -30.0
    cur = s["currents"]
    assert set(cur) == {"K", "Na", "Cl", "Ca", "pump", "ncx", "total", "ch_K", "ch_Na", "ch_Cl", "ch_Ca"}
    assert cur["total"]["e_per_us"] == pytest.approx(cur["total"]["pA"] / PA_PER_E_PER_US)
    assert cur["Ca"]["pA"] == 0.0                 # no Ca²⁺ channels in this cell
    r = main_py("plot", str(out))                 # a clamped run's figure has the currents' panel
    assert r.returncode == 0, r.stderr
    assert (out / "run.png").stat().st_size > 10_000


def test_free_runs_record_currents_too():
    """Unclamped, the currents are still recorded: at rest the channels' sum balances the pumps'."""
    sim = _sim()
    assert not sim.clamped and sim.electrode_e == 0.0
    sim.step(500)
    assert sim.electrode_e == 0.0
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    # the induced charge moved by channels and pumps is the whole change of Q_in from its start
    fresh = _sim()
    assert sim.q_in - fresh.q_in == pytest.approx(_carried(sim), abs=1e-6)
    assert sim.charge_carried_in[[s for s in range(N_SPECIES) if s not in PERMEANT]].sum() == 0.0
