"""The Na⁺/Ca²⁺ exchanger, the transporter table's second row: 3 Na⁺ for 1 Ca²⁺ on real particles,
one net charge per cycle, reversible; blocking it lets what it holds go where it was taken; its
config table; and (physics) a membrane whose only mechanism it is settles at E_NCX."""
import numpy as np
import pytest

from membrane.transporters import NCX, PUMP, TABLE, reversal_mV
from particles.species import Species
from particles.state import HELD
from simulation.checks import validate
from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation

from tests.cells import TINY

ONLY_NCX = TINY + ["channels.K.relative_permeability=0", "channels.Na.relative_permeability=0",
                   "channels.Cl.relative_permeability=0", "pump.count=0", "ncx.count=20", "ncx.max_turnover_per_us=200",
                   "ncx.capture_radius_nm=1.5",
                   "inside.Na=60", "outside.Na=100", "inside.Ca=5", "outside.Ca=50"]


def _right_of_mid(sim, sp):
    s = sim.state
    return int(((s.species == sp) & (s.x > sim.geometry.x_mid_nm)).sum())


def test_each_cycle_carries_three_sodium_one_way_and_one_calcium_the_other():
    sim = Simulation(load("k-only", None, ONLY_NCX), seed=31)
    na0, ca0, q0 = _right_of_mid(sim, Species.Na), _right_of_mid(sim, Species.Ca), sim.q_in
    totals = sim.species_totals()
    sim.step(20000)
    cycles = sim.transporters.counter("ncx_cycles")
    ca_out = _right_of_mid(sim, Species.Ca) - ca0
    na_out = _right_of_mid(sim, Species.Na) - na0
    flips = sim.transporters.tallies
    assert ca_out == cycles                         # Ca²⁺ crosses the mid-line only by the exchanger's flips
    assert na_out % 3 == 0                          # Na⁺ crosses three at a time
    assert sim.q_in - q0 == pytest.approx(-2 * ca_out - na_out)
    # a cycle in either direction moves one net charge: the charge carried is Ca's and Na's
    assert sim.transporters.charge_in("ncx") == pytest.approx(-(2 * ca_out + na_out))
    assert abs(na_out / 3 + cycles) <= sim.transporters.count("ncx")   # agents part-way through a cycle
    assert flips.saturated[0] == 0                  # every ion in reach could be bound
    assert sim.species_totals() == totals and sim.crossings.sum() == 0
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)


def test_blocking_the_exchanger_lets_its_ions_go_on_their_side_and_stops_it():
    sim = Simulation(load("k-only", None, ONLY_NCX), seed=32)
    sim.step(4000)
    s, g = sim.state, sim.geometry
    held = np.flatnonzero(s.flags & HELD)
    assert held.size > 0
    left = {int(i): s.x[i] < g.x_mid_nm for i in held}
    q = sim.q_in
    sim.set_transporter("ncx", False)
    assert not (s.flags & HELD).any()
    for i, inside in left.items():
        assert (s.x[i] < g.x_left_nm) if inside else (s.x[i] > g.x_right_nm)
    assert sim.q_in == q == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    before = sim.transporters.counter("ncx_cycles"), sim.transporters.charge_in("ncx")
    sim.step(3000)
    assert (sim.transporters.counter("ncx_cycles"), sim.transporters.charge_in("ncx")) == before
    assert sim.events[-1].changes == {"ncx.enabled": False}


def test_the_transporter_table_derives_the_config_columns_and_theory():
    cfg = load("mammalian")
    for t in TABLE:
        assert set(cfg[t.name]) == {"enabled", "count", "max_turnover_per_us", "capture_radius_nm"}
    assert cfg["ncx.count"] == 0 and cfg["pump.count"] == 13      # no exchangers unless asked
    sim = Simulation(load("k-only", None, ONLY_NCX), seed=33)
    names = [c.name for c in sim.timeseries_columns()]
    assert {"pump_cycles", "atp_spent", "ncx_cycles", "ncx_charge_in_e", "I_ncx_pA", "E_NCX_mV"} <= set(names)
    e = {"Na": 20.0, "Ca": 15.0, "K": -90.0}
    assert reversal_mV(NCX, e) == pytest.approx(3 * 20.0 - 2 * 15.0)
    assert NCX.reversal_key == "E_NCX_mV" and PUMP.reversal_key is None      # ATP drives the pump
    th = sim.theory()
    assert th["E_NCX_mV"] == pytest.approx(3 * th["E_Na_mV"] - 2 * th["E_Ca_mV"])
    assert PUMP.cycle_words() == "3 Na+ out, 2 K+ in, one ATP" and NCX.cycle_words() == "3 Na+ in, 1 Ca2+ out"


@pytest.mark.parametrize("bad, words", [
    (["ncx.count=2", "ncx.capture_radius_nm=3"], "ncx.capture_radius_nm must be < membrane.site_spacing_nm / 2"),
    (["ncx.count=2", "ncx.max_turnover_per_us=50000"], "ncx.max_turnover_per_us"),
    (["ncx.count=1000", "ncx.capture_radius_nm=1.5"], "do not fit on the membrane"),
    (["ncx.count=2", "inside.Ca=0"], "inside.Ca"),
    (["ncx.colour=2"], "unknown key 'ncx.colour'"),
])
def test_bad_exchanger_settings_are_one_line(bad, words):
    with pytest.raises(ConfigError, match=words) as e:
        load("mammalian", None, TINY + ["outside.Ca=2", "inside.Ca=1"] + bad)
    assert "\n" not in str(e.value)


def test_a_membrane_of_transporters_alone_needs_no_channels():
    sim = Simulation(load("k-only", None, ONLY_NCX + ["channels.K.relative_permeability=0"]), seed=34)
    assert sum(sim.channel_counts().values()) == 0 and sim.channels.pores.y0.size == 0
    sim.step(500)
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)


@pytest.mark.physics
def test_an_exchanger_only_membrane_settles_at_three_e_na_minus_two_e_ca():
    """One saline here (validate runs a second, some 25 mV away): E_NCX is −18 mV, so V must move
    there from 0 by the exchangers' cycles alone."""
    checks = validate.check_exchanger(seed=5, steps=80_000, salines=validate.EXCHANGER_SALINES[:1])
    assert all(c.passed for c in checks), "\n" + validate.format_table(checks)
    assert checks[0].expected < -10.0


def test_an_empty_channels_table_in_a_file_leaves_the_transporters_to_carry_the_ions(tmp_path):
    f = tmp_path / "ncx.toml"
    f.write_text("\n".join(["[pump]", "count = 0", "[ncx]", "count = 20", "max_turnover_per_us = 200",
                            "capture_radius_nm = 1.5", "[inside]", "Na = 60.0", "Ca = 5.0", "[outside]", "Na = 100.0",
                            "Ca = 50.0", "[channels]"]) + "\n")
    cfg = load(config_file=f, overrides=TINY + ["ncx.count=20"])   # kept, not followed down with the density
    assert cfg["channels"] == {} and cfg.permeant == ()
    sim = Simulation(cfg, seed=35)
    sim.step(2000)
    assert sim.channels.pores.y0.size == 0 and sim.transporters.count("ncx") == 20
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    assert np.isnan(sim.theory()["V_GHK_mV"]) and np.isfinite(sim.theory()["E_NCX_mV"])
