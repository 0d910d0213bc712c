"""Every shipped preset builds at full size, runs, and keeps the invariants."""
import pytest

from simulation.config import load, preset_names
from simulation.model import Simulation


@pytest.mark.parametrize("name", preset_names())
def test_preset_runs(name):
    sim = Simulation(load(name), seed=0)
    totals = sim.species_totals()
    assert sim.q_in == 0
    sim.step(100)
    assert sim.species_totals() == totals
    assert sim.q_in == sim.recount_inside_charge()
    th = sim.theory()
    assert all(k in th for k in ("E_K_mV", "E_Na_mV", "E_Cl_mV", "V_GHK_mV", "V_MN_mV", "V_Donnan_mV"))
