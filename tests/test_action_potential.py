"""The action potential emerges in the `spiking` preset from stochastic Nav and Kv channels and
counted ions: all-or-none (half the threshold: a passive bump; 2.4 times it: a spike that
overshoots 0 mV and comes back below rest), refractory, abolished by TTX, widened by TEA.
Checked on the full cell after 1.2 µs of rest (the start from V = 0 inactivates the Nav channels'
h gates, which take ~0.4 µs to recover) and 0.4 µs held by the clamp."""
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
HOLD_mV, HOLD_NS = -77.0, 400.0


def rested(seed: int) -> Simulation:
    """The cell rested, then held by the clamp at HOLD_mV (the equations' rest) and released: its
    pulses come from that V, its gates at their equilibrium there, not from wherever its noise
    had taken V (in this small membrane, anywhere within ±10 mV of the mean)."""
    sim = Simulation(scale_cell(load("spiking"), SCALE), seed=seed)
    sim.step(int(REST_NS / sim.dt_ns))
    sim.set_clamp(True, HOLD_mV)
    sim.step(int(HOLD_NS / sim.dt_ns))
    sim.set_clamp(False)
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
def test_all_or_none_refractory_ahp_ttx_and_tea():
    """Three cells (seeds 1-3), each rested and held at −77 mV before its pulses (`rested`). In
    every one a pulse at half the equations' threshold (530 pA for 5 ns from −75 mV) is a bump and
    one at 2.4 times it a spike that overshoots 0 mV; a second pulse 300 ns after the first gives
    no overshoot (the h gates still shut); after their spikes V falls below the held V (the
    after-hyperpolarisation, averaged over the three: one cell's noise alone can hide it). In the
    first, TTX (Nav blocked) leaves only the pulse's own bump and TEA (Kv blocked) widens the spike.
    Measured: bumps to −67 ± 1 mV; spikes 41-68 ns after the pulse, peaks +51 to +63 mV; V 250-600
    ns after the peak −80 to −82 mV; second pulses up to −18 mV. (At 1.5 times the threshold, 800
    pA, one cell of three fired: near threshold a membrane this small answers by chance.)"""
    ahp, spikes = [], []
    for seed in (1, 2, 3):
        cell = rested(seed)
        _, t, v = respond(265.0, sim=copy.deepcopy(cell), after_ns=300.0)    # +8 mV on a sealed membrane
        assert find_spikes(t, v) == [] and v.max() < -50, f"seed {seed}: a bump expected, V reached {v.max():.0f} mV"
        control = copy.deepcopy(cell)
        _, t, v = respond(1250.0, sim=control, after_ns=300.0)       # +39 mV on a sealed membrane
        found = find_spikes(t, v)
        assert len(found) == 1, f"seed {seed}: one spike expected, found {len(found)} (max V {v.max():.0f} mV)"
        (spike,) = found
        assert spike.peak_mV > 0, f"seed {seed}: the spike overshoots 0 mV toward E_Na"
        spikes.append(spike)
        late = copy.deepcopy(control)
        _, t2, v2 = respond(0.0, sim=late, after_ns=400.0)
        ahp.append(v2[t2 - spike.peak_ns >= 250.0].mean())
        _, t, v = respond(1250.0, sim=control, after_ns=300.0)       # 300 ns after the first
        assert v.max() < 0 and v.max() < spike.peak_mV - 30, f"seed {seed}: refractory, but V reached {v.max():.0f} mV"
        if seed == 1:
            first = cell
    assert np.mean(ahp) < HOLD_mV - 2.0, f"an after-hyperpolarisation: V {ahp} mV 250-600 ns after the peaks"
    ttx = copy.deepcopy(first)
    ttx.set_relative_permeability("Nav", 0.0)
    _, t, v = respond(1250.0, sim=ttx, after_ns=300.0)
    assert not find_spikes(t, v), "TTX abolishes the spike"
    first.set_relative_permeability("Kv", 0.0)                      # TEA
    _, t, v = respond(1250.0, sim=first, after_ns=600.0)
    (wide,) = find_spikes(t, v)
    assert math.isnan(wide.width_ns) or wide.width_ns > 2 * spikes[0].width_ns, (wide, spikes[0])
