"""Interventions the live view and lecture scenarios call: each changes the model as it says,
keeps the invariants, and leaves a labelled event."""
import numpy as np
import pytest

from particles.species import Species
from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation

from tests.cells import TINY


def _outside_charge(sim):
    s = sim.state
    return int(sim.kinds.charge[s.species[s.x > sim.geometry.x_mid_nm]].sum())


def test_raising_outside_potassium_adds_k_and_x_and_keeps_the_outside_neutral(tiny_config):
    sim = Simulation(tiny_config, seed=31)
    sim.step(200)
    totals = sim.species_totals()
    q_out = _outside_charge(sim)
    reached = sim.set_outside_concentration("K", 20.0)
    assert reached == pytest.approx(20.0, rel=0.05)
    after = sim.species_totals()
    added = after["K"] - totals["K"]
    assert added > 0 and after["X"] - totals["X"] == added
    assert _outside_charge(sim) == q_out and sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    assert sim.concentrations_mM()[1]["K"] == pytest.approx(20.0, rel=0.05)
    assert "[K]o" in sim.events[-1].label
    sim.step(500)  # and the model keeps running with the new arrays
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)


def test_lowering_outside_potassium_removes_particles_and_keeps_pumps_consistent(tiny_config):
    sim = Simulation(tiny_config, seed=32)
    sim.step(3000)
    q_out = _outside_charge(sim)
    sim.set_outside_concentration("K", 1.0)
    assert sim.concentrations_mM()[1]["K"] == pytest.approx(1.0, abs=0.3)
    assert _outside_charge(sim) == q_out
    s = sim.state
    for p in range(sim.pump_count):
        for i in sim.pumps.arrays.slots[p]:
            if i >= 0:
                assert s.held_by[i] == p
    sim.step(500)
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)


def test_outside_chloride_is_exchanged_with_x():
    sim = Simulation(load("hyperkalemia", None, TINY), seed=33)
    totals = sim.species_totals()
    sim.set_outside_concentration("Cl", 160.0)
    after = sim.species_totals()
    # X⁻ leaves first; when the bath has too little of it, Y⁺ comes in for the rest
    assert totals["X"] - after["X"] > 0
    assert after["Cl"] - totals["Cl"] == (totals["X"] - after["X"]) + (after["Y"] - totals["Y"])


def test_scaling_sodium_permeability_adds_channels_and_leaves_the_others_in_place():
    sim = Simulation(load("mammalian", None, TINY + ["pump.count=0", "membrane.min_channels_per_type=1"]), seed=34)
    sim.step(500)
    k_sites = set(sim.channels.layout.sites_of(Species.K))
    n_na = sim.channel_counts()["Na"]
    achieved = sim.scale_permeability("Na", 4.0)
    assert sim.channel_counts()["Na"] == 4 * n_na
    assert achieved == pytest.approx(4 * sim.initial_config["channels.Na.relative_permeability"], rel=1e-9)
    assert sim.config["channels.Na.relative_permeability"] == pytest.approx(
        4 * sim.initial_config["channels.Na.relative_permeability"])
    assert set(sim.channels.layout.sites_of(Species.K)) == k_sites
    sim.scale_permeability("Na", 3.0)   # more than the free sites hold: the membrane fills up
    assert sim.channels.layout.free_sites() == 0
    sim.scale_permeability("K", 0.5)
    assert sim.channel_counts()["K"] == len(k_sites) // 2
    sim.step(500)
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    assert sim.events[-1].label.startswith("P_K")


def test_selectivity_off_lets_ions_through_other_pores():
    sim = Simulation(load("k-only", None, TINY), seed=35)
    sim.set_selectivity(False)
    sim.step(4000)
    na_through = sim.crossings[:, Species.Na].sum() + sim.crossings[:, Species.Cl].sum()
    assert na_through > 0
    sel = Simulation(load("k-only", None, TINY), seed=35)
    sel.step(4000)
    assert sel.crossings[:, 1:].sum() == 0


def test_field_off_lets_the_potential_run_away_past_e_k():
    """Without the field the pores no longer push back: K⁺ keeps leaving and V overshoots E_K."""
    cfg = load("k-only", None, TINY)
    on, off = Simulation(cfg, seed=36), Simulation(cfg, seed=36)
    off.set_field(False)
    on.step(20000)
    off.step(20000)
    e_k = on.theory()["E_K_mV"]
    assert abs(on.v_mV - e_k) < 30
    assert off.v_mV < e_k - 60


def test_live_changes_obey_the_config_rules_and_change_nothing_when_refused(tiny_config):
    sim = Simulation(tiny_config, seed=37)
    sim.step(100)
    before = (sim.channel_counts(), sim.species_totals(), len(sim.events), sim.config)
    with pytest.raises(ConfigError, match="channels.Na.relative_permeability must be a number >= 0"):
        sim.set_relative_permeability("Na", -0.1)
    with pytest.raises(ConfigError, match="outside.K must be a number >= 0"):
        sim.set_outside_concentration("K", -1.0)
    with pytest.raises(ConfigError, match="outside.K must be > 0 mM while K crosses"):
        sim.set_outside_concentration("K", 0.0)
    with pytest.raises(ConfigError, match="do not fit"):
        sim.set_relative_permeability("Na", 500.0)
    with pytest.raises(ConfigError, match="no channel type 'A'"):
        sim.set_relative_permeability("A", 1.0)
    assert (sim.channel_counts(), sim.species_totals(), len(sim.events), sim.config) == before


def test_every_live_change_is_recorded_as_config_keys_so_a_run_can_be_replayed(tiny_config):
    sim = Simulation(tiny_config, seed=38)
    sim.step(200)
    sim.set_outside_concentration("K", 2.5)     # below K + Na = Cl: Y⁺ takes the place of the K⁺ removed
    sim.set_pumps(False)
    sim.scale_permeability("Cl", 0.5)
    sim.step(200)
    assert sim.events[0].changes == {"outside.K": 2.5}
    assert sim.events[1].changes == {"pump.enabled": False}
    assert sim.config["outside.Cl"] == tiny_config["outside.Cl"] and not sim.config["pump.enabled"]
    replay = Simulation(tiny_config, seed=38)
    replay.step(200)
    replay.set_outside_concentration("K", sim.events[0].changes["outside.K"])
    replay.set_pumps(sim.events[1].changes["pump.enabled"])
    replay.set_relative_permeability("Cl", sim.events[2].changes["channels.Cl.relative_permeability"])
    replay.step(200)
    assert np.array_equal(replay.state.x, sim.state.x) and replay.q_in == sim.q_in
