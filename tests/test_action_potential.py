"""The action potential emerges in the `spiking` preset from stochastic Nav and Kv channels and
counted ions: all-or-none (half the threshold: a passive bump; one and a half times it: a spike
that overshoots 0 mV and comes back toward rest), refractory, abolished by TTX, widened by TEA.
Checked on the full cell after 1.2 µs of rest: the start from V = 0 inactivates the Nav channels'
h gates, which take ~0.4 µs to recover."""
import copy
import math

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
def test_all_or_none_refractory_ttx_and_tea():
    """From one rested cell (seed 13, rest −77 mV): a pulse at half the threshold is a bump, one
    at 1.5 times it a spike that overshoots 0 mV and comes back toward rest (the equations'
    threshold for 5 ns from −81 mV: between 750 and 900 pA; measured, seed 13: 400 pA → a bump to
    −63 mV, 1250 pA → a spike to +59 mV, 100 ns wide, V −66 mV 400 ns later). A second pulse 400 ns
    after the first gives no overshoot (−29 mV; at 600 ns −49, at 1000 ns a spike to +50: the h
    gates recovering); TTX (Nav blocked) leaves only the pulse's own bump (−41 mV); TEA (Kv
    blocked) widens the spike (384 against 100 ns at half height)."""
    cell = rested(seed=13)
    _, t, v = respond(400.0, sim=copy.deepcopy(cell))              # +12.5 mV on a sealed membrane
    assert find_spikes(t, v) == [] and v.max() < -40, f"a bump expected, V reached {v.max():.0f} mV"
    control = copy.deepcopy(cell)
    _, t, v = respond(1250.0, sim=control, after_ns=400.0)        # +39 mV on a sealed membrane
    spikes = find_spikes(t, v)
    assert len(spikes) == 1, f"one spike expected, found {len(spikes)} (max V {v.max():.0f} mV)"
    (spike,) = spikes
    assert spike.peak_mV > 0, "the spike overshoots 0 mV toward E_Na"
    assert v[-100:].mean() < -55, "and V comes back toward rest"
    _, t, v = respond(1250.0, sim=control, after_ns=300.0)        # 400 ns after the first
    assert v.max() < 0 and v.max() < spike.peak_mV - 30, f"refractory: V reached {v.max():.0f} mV"
    ttx = copy.deepcopy(cell)
    ttx.set_relative_permeability("Nav", 0.0)
    _, t, v = respond(1250.0, sim=ttx, after_ns=300.0)
    assert not find_spikes(t, v), "TTX abolishes the spike"
    cell.set_relative_permeability("Kv", 0.0)                       # TEA
    _, t, v = respond(1250.0, sim=cell, after_ns=600.0)
    (wide,) = find_spikes(t, v)
    assert math.isnan(wide.width_ns) or wide.width_ns > 2 * spike.width_ns, (wide, spike)
