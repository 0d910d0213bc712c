"""Invariants of the full step: particle counts and charge conserved exactly, Q_in kept by the
incremental count equal to a recount, nothing leaves the box, and nothing crosses the membrane
except through an open pore of its own species or in a pump."""
import numpy as np
import pytest

from membrane.channels import pore_index
from particles.state import HELD
from simulation.core.model import Simulation


def _region(sim):
    g, s = sim.geometry, sim.state
    return np.where(s.x < g.x_left_nm, 0, np.where(s.x > g.x_right_nm, 2, 1))


def test_counts_and_charge_are_conserved_exactly(tiny_config):
    sim = Simulation(tiny_config, seed=11)
    totals = sim.species_totals()
    total_charge = int((sim.kinds.charge[sim.state.species]).sum())
    for _ in range(20):
        sim.step(250)
        assert sim.species_totals() == totals
        assert int((sim.kinds.charge[sim.state.species]).sum()) == total_charge
        assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
        # the induced charge differs from the whole-charge count only by the ions in the band,
        # each by at most half its charge
        s, g = sim.state, sim.geometry
        band = (s.x >= g.x_left_nm) & (s.x <= g.x_right_nm) & ((s.flags & HELD) == 0)
        assert abs(sim.q_in - sim.mid_line_charge()) <= 0.5 * np.abs(sim.kinds.charge[s.species[band]]).sum() + 1e-9
    assert sim.pump_totals[0] > 0, "the pumps should have cycled in 5000 steps"


def test_nothing_leaves_the_box(tiny_config):
    sim = Simulation(tiny_config, seed=12)
    sim.step(3000)
    g, s = sim.geometry, sim.state
    assert s.x.min() >= 0 and s.x.max() <= g.width_nm
    assert s.y.min() >= 0 and s.y.max() <= g.height_nm


def test_the_band_holds_only_pore_ions_of_the_right_species_and_held_ions(tiny_config):
    sim = Simulation(tiny_config, seed=13)
    for _ in range(10):
        sim.step(300)
        s = sim.state
        band = _region(sim) == 1
        free = band & ((s.flags & HELD) == 0)
        for i in np.flatnonzero(free):
            j = pore_index(s.y[i], sim.channels.pores.y0, sim.channels.pores.y1)
            assert j >= 0, "a free particle inside the membrane wall"
            assert sim.channels.pores.species[j] == s.species[i], "an ion in a pore of another species"
        held = np.flatnonzero(band & ((s.flags & HELD) != 0))
        for i in held:
            p = s.held_by[i]
            assert i in sim.pumps.arrays.slots[p]


def test_crossings_happen_only_through_open_pores_or_pumps(tiny_config):
    sim = Simulation(tiny_config, seed=14)
    sim.step(200)  # let pores fill
    entered_pores = 0
    for _ in range(1500):
        before = _region(sim)
        held_before = (sim.state.flags & HELD) != 0
        sim.step(1)
        after = _region(sim)
        s = sim.state
        held_after = (s.flags & HELD) != 0
        # bulk to the other bulk in one step: never
        assert not ((before == 0) & (after == 2)).any()
        assert not ((before == 2) & (after == 0)).any()
        # bulk into the band: an open pore of its own species (gates were set before the moves),
        # or captured by a pump
        new = np.flatnonzero((before != 1) & (after == 1) & ~held_after)
        for i in new:
            j = pore_index(s.y[i], sim.channels.pores.y0, sim.channels.pores.y1)
            assert j >= 0 and sim.channels.pores.species[j] == s.species[i] and sim.channels.pores.is_open[j] == 1
        entered_pores += new.size
        # leaving a pump: only on its release (the pump that held it has moved on)
        released = np.flatnonzero(held_before & ~held_after)
        assert (after[released] != 1).all()
    assert entered_pores > 0
