"""The action potential emerges in the `spiking` preset from stochastic Nav and Kv channels and
counted ions: all-or-none (a third of threshold: a passive bump; twice it: a spike that
overshoots 0 mV and comes back to rest). Checked on the full cell (at half size its larger noise fired a spike
~200 ns after a subthreshold pulse) after 1.2 µs of rest: the start from V = 0 inactivates the
Nav channels' h gates, which take ~0.4 µs to recover."""
import copy

import numpy as np
import pytest

from simulation.core.config import load
from simulation.core.model import Simulation
from simulation.core.spikes import find_spikes
from simulation.session.session import scale_cell

SCALE = 1.0
REST_NS = 1200.0


def rested(seed: int) -> Simulation:
    sim = Simulation(scale_cell(load("spiking"), SCALE), seed=seed)
    sim.step(int(REST_NS / sim.dt_ns))
    return sim


def respond(pulse_pA: float, seed: int = 11, after_ns: float = 500.0, sim: Simulation | None = None):
    """V after a 5-ns pulse of `pulse_pA` (in the full cell's terms) given from rest (`sim`: a
    rested cell, used as it is)."""
    sim = sim or rested(seed)
    rest = sim.v_mV
    sim.inject(pulse_pA * SCALE, 5.0)
    t, v = [], []
    for _ in range(int(after_ns / 0.5)):
        sim.step(20)
        t.append(sim.time_ns)
        v.append(sim.v_mV)
    return rest, np.array(t), np.array(v)


@pytest.mark.physics
def test_a_pulse_below_threshold_is_a_bump_and_one_above_it_a_spike():
    # threshold is near 1500 pA for 5 ns (seeds 11, 12: a spike after 200 ns, none); at 1000 pA the
    # channels' noise sometimes carries the bump over a few hundred ns later, so a third of it here
    cell = rested(seed=11)
    rest, t, v = respond(500.0, sim=copy.deepcopy(cell))  # +16 mV on a sealed membrane
    assert find_spikes(t, v) == [] and v.max() < -40, f"a bump expected, V reached {v.max():.0f} mV"
    rest, t, v = respond(3000.0, sim=cell)                # +94 mV on a sealed membrane
    spikes = find_spikes(t, v)
    assert len(spikes) == 1, f"one spike expected, found {len(spikes)} (max V {v.max():.0f} mV)"
    assert spikes[0].peak_mV > 0, "the spike overshoots 0 mV toward E_Na"
    assert v[-100:].mean() < -60, "and V comes back toward rest"
