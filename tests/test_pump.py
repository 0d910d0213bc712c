"""Na⁺/K⁺ pump agents: 3 Na⁺ out and 2 K⁺ in per ATP-driven cycle on real particles, one net
charge out per cycle, saturation with concentration, and ouabain returning held ions."""
import numpy as np
import pytest

from membrane.transporters import PumpPhase
from particles.species import Species
from particles.state import HELD
from simulation.core.config import load
from simulation.core.model import Simulation

from tests.cells import TINY

PUMP_ONLY = TINY + ["channels.K.relative_permeability=0", "channels.Na.relative_permeability=0",
                    "channels.Cl.relative_permeability=0", "pump.count=8"]


def _right_of_mid(sim, sp):
    s = sim.state
    return int(((s.species == sp) & (s.x > sim.geometry.x_mid_nm)).sum())


def test_stoichiometry_three_sodium_out_two_potassium_in_per_atp():
    sim = Simulation(load("mammalian", None, PUMP_ONLY), seed=21)
    na0 = _right_of_mid(sim, Species.Na)
    k0 = _right_of_mid(sim, Species.K)
    q0 = sim.q_in
    sim.step(20000)
    cycles, atp = (int(v) for v in sim.pump_totals)
    assert cycles > 5
    assert _right_of_mid(sim, Species.Na) - na0 == 3 * atp
    assert k0 - _right_of_mid(sim, Species.K) == 2 * cycles
    assert sim.q_in - q0 == -3 * atp + 2 * cycles     # one net charge out per complete cycle
    assert atp - cycles <= sim.pump_count             # pumps part-way through a cycle
    assert sim.crossings.sum() == 0                    # no channels: only pumps move ions


def test_pump_rate_rises_with_sodium_and_saturates():
    def rate(na_in, k_out, turnover=20.0):
        cfg = load("mammalian", None, PUMP_ONLY + [f"inside.Na={na_in}", f"outside.K={k_out}",
                                                  f"pump.max_turnover_per_us={turnover}",
                                                  "outside.Na=60", "outside.Cl=60"])
        sim = Simulation(cfg, seed=22)
        sim.step(20000)
        return sim.pump_totals[0] / (sim.time_ns * 1e-3) / sim.pump_count  # cycles/µs/pump
    low, high = rate(3, 5), rate(60, 60)
    assert low < 0.6 * high
    assert high < 20.0  # never faster than the maximum turnover
    assert high > 0.4 * 20.0


def test_ouabain_returns_held_ions_to_their_side_and_stops_the_cycle():
    sim = Simulation(load("mammalian", None, PUMP_ONLY), seed=23)
    sim.step(3000)
    s, g = sim.state, sim.geometry
    held = np.flatnonzero(s.flags & HELD)
    assert held.size > 0
    came_from_inside = {int(i): sim.pumps.arrays.phase[s.held_by[i]] in (PumpPhase.INWARD_OPEN, PumpPhase.INWARD_OCCLUDED)
                        for i in held}
    q = sim.q_in
    sim.set_pumps(False)
    assert not (s.flags & HELD).any() and (s.held_by == -1).all()
    for i, inside in came_from_inside.items():
        assert (s.x[i] < g.x_left_nm) if inside else (s.x[i] > g.x_right_nm)
    assert sim.q_in == q == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    before = sim.pump_totals.copy()
    sim.step(3000)
    assert np.array_equal(sim.pump_totals, before)
    assert sim.events[-1].label.startswith("ouabain")
    sim.set_pumps(True)
    sim.step(5000)
    assert sim.pump_totals[1] > before[1]


def test_pumps_disabled_in_the_config_never_cycle():
    sim = Simulation(load("ouabain", None, TINY + ["pump.count=6"]), seed=24)
    sim.step(3000)
    assert sim.pump_totals.sum() == 0 and not (sim.state.flags & HELD).any()
