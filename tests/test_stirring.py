"""The stirred far bulk and the slower pores keep the bulk's uniform distribution (detailed
balance), speed up diffusion where they should and nowhere else."""
import numpy as np
import pytest

from particles.species import Species
from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation

# the default compartments (25 nm in, 40 nm out) on a short membrane, no channels, no pumps
SHUT = ["box.height_nm=160", "physics.particles=30000", "pump.count=0", "channels.K.relative_permeability=0",
        "channels.Na.relative_permeability=0", "channels.Cl.relative_permeability=0"]


def _depth_fractions(sim, edges):
    """Fraction of each side's free particles in depth bins from the membrane's face."""
    g, s = sim.geometry, sim.state
    out = []
    for depth, width in ((g.x_left_nm - s.x[s.x < g.x_left_nm], g.x_left_nm),
                         (s.x[s.x > g.x_right_nm] - g.x_right_nm, g.width_nm - g.x_right_nm)):
        counts, _ = np.histogram(depth, bins=edges + [width])
        expected = np.diff(edges + [width]) / width
        out.append((counts, depth.size, expected))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_stirring_leaves_the_bulk_uniform(seed):
    """Near zone, ramp and stirred zone hold their area's share of the particles after many
    steps: a step size that changes with place is corrected by Metropolis–Hastings (without the
    correction, particles would pile up where they move slowly, by up to the D ratio, 16×)."""
    sim = Simulation(load("mammalian", None, SHUT), seed=seed)
    st = sim.config["stirring"]
    edges = [0.0, st["from_nm"], st["from_nm"] + st["ramp_nm"] / 2, st["from_nm"] + st["ramp_nm"], 15.0]
    sim.step(3000)
    for counts, n, expected in _depth_fractions(sim, edges[:-1] if sim.geometry.x_left_nm < 15 else edges):
        sigma = np.sqrt(n * expected * (1 - expected))
        assert np.all(np.abs(counts - n * expected) < 4.5 * sigma), (counts, n * expected, sigma)


def test_stirring_multiplies_diffusion_far_from_the_membrane_only():
    sim = Simulation(load("mammalian", None, SHUT), seed=3)
    g, s = sim.geometry, sim.state
    st = sim.config["stirring"]
    far = (s.x < g.x_left_nm - st["from_nm"] - st["ramp_nm"] - 1.0) & (s.x > 3.0) & (s.species == Species.K)
    near = (s.x < g.x_left_nm - 0.7) & (s.x > g.x_left_nm - st["from_nm"] + 0.7) & (s.species == Species.K)
    y0 = s.y.copy()
    sim.step(1)
    expected = 2 * sim.d_nm2_per_ns[Species.K] * sim.dt_ns
    var_far = np.var(s.y[far] - y0[far])
    var_near = np.var(s.y[near] - y0[near])
    assert var_far / expected == pytest.approx(st["D_factor"], rel=0.1)
    assert var_near / expected == pytest.approx(1.0, rel=0.1)


def test_a_stirred_step_that_could_reach_the_membrane_is_refused():
    with pytest.raises(ConfigError, match="stirring.from_nm must be >="):
        load(overrides=["stirring.from_nm=0.5"])
