"""The move pass's two passes (a branch-free first pass for the plain moves, the whole crossing
rule for the rest) move every particle exactly as the whole rule alone does, step after step:
the same positions, the same reservoir marks, the same induced charge, the same candidates for
the transporters."""
import copy

import numpy as np
import pytest

from membrane.crossing import INNER_FACE, N_BLOCKS, OUTER_FACE, WHOLE_RULE, _whole_rule, move_particles
from particles.rng import STREAM_METROPOLIS, STREAM_MOVE, step_key
from simulation.core.config import load
from simulation.core.model import Simulation
from simulation.checks.validate import EXCHANGER, EXCHANGER_SALINES, SMALL
from tests.cells import TINY

CELLS = {
    "mammalian": ("mammalian", TINY),
    "purkinje (thin membrane, Kir)": ("purkinje", ["physics.particles=30000"]),
    "exchangers only": ("k-only", SMALL + EXCHANGER + EXCHANGER_SALINES[0][1]),
    "spiking": ("spiking", ["physics.particles=30000"]),
    # compartments 6 and 10 nm wide: the stirring's ramp is within reach of the side walls, so the
    # first pass takes their reflections into the Metropolis-Hastings factor
    "thin box": ("ouabain", ["box.width_nm=36.25", "box.membrane_x_nm=16.25", "physics.particles=10000"]),
}


def _candidates(sim: Simulation) -> list[int]:
    """The listed ions the transporters can bind now, in the order they look at them: those that
    ended within reach of a face their species binds at (the whole rule lists more, every ion that
    could have: the transporters pass over the rest)."""
    near, x, species, band = sim._near, sim.state.x, sim.state.species, sim.band
    n, reach = near.index.size, near.reach_nm
    out = []
    for b in range(N_BLOCKS):
        for j in range(near.count[b]):
            i = int(near.index[b * n // N_BLOCKS + j])
            face = near.faces[species[i]]
            if ((band.x_left_nm - reach <= x[i] < band.x_left_nm and face & INNER_FACE)
                    or (band.x_right_nm < x[i] <= band.x_right_nm + reach and face & OUTER_FACE)):
                out.append(i)
    return out


def _whole_rule_only(sim: Simulation, v_mV: float) -> float:
    """One move pass by the whole rule on every particle, block by block as the kernel takes them."""
    sim._hard[:] = WHOLE_RULE
    # as uint64: a key that came back from Numba as a Python int below 2**63 would be typed int64,
    # and int64 + uint64 is a float in Numba
    keys = tuple(np.uint64(step_key(sim.seed, sim.step_count, s)) for s in (STREAM_MOVE, STREAM_METROPOLIS))
    dq = 0.0
    for b in range(N_BLOCKS):
        d, listed = _whole_rule(b, sim._hard, sim.state, sim.kinds, sim.band, sim.channels.pores, sim.field,
                                sim.stirring, v_mV, keys, sim.counters.transits, sim._near)
        sim._near.count[b] = listed
        dq += d
    return dq


@pytest.mark.parametrize("name", sorted(CELLS))
def test_the_first_pass_moves_every_particle_as_the_whole_rule_does(name):
    preset, sets = CELLS[name]
    sim = Simulation(load(preset, None, sets), seed=4)
    sim.step(200)
    for _ in range(40):
        ref = copy.deepcopy(sim)
        v = sim.v_mV
        dq = move_particles(sim.state, sim.kinds, sim.band, sim.channels.pores, sim.field, sim.stirring, v,
                            sim.seed, sim.step_count, sim.counters.transits, sim._near, sim._hard)
        dq_ref = _whole_rule_only(ref, v)
        for a in ("x", "y", "flags"):
            got, want = getattr(sim.state, a), getattr(ref.state, a)
            assert np.array_equal(got, want), f"{a} differs at step {sim.step_count}: particles {np.flatnonzero(got != want)[:5]}"
        assert dq == dq_ref
        assert _candidates(sim) == _candidates(ref)
        assert np.array_equal(sim.counters.transits.counts.sum(0), ref.counters.transits.counts.sum(0))
        sim.step(25)      # on, with gating and transporters, to other states
