"""A perfused bath keeps the outside's composition while the cell's fluxes run, by changing the
kind of far-outside ions to others of the same charge: no particle is made or lost, no charge
moves, only ions beyond `perfusion.from_nm` change, and the equations beside it hold the outside
too."""
import numpy as np
import pytest

from membrane.voltage import OUT, mid_line_charge
from particles.species import N_SPECIES, Species
from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation
from simulation.core.perfusion import bath_shares, perfuse, targets

SMALL = ["box.height_nm=100", "box.width_nm=80", "box.membrane_x_nm=25", "physics.particles=8000",
         "membrane.site_spacing_nm=4", "membrane.channels_per_unit_permeability=20", "pump.count=2",
         "pump.capture_radius_nm=1.5",
         "physics.capacitance_e_per_mV=0.5"]


def _sim(*extra, seed=2):
    return Simulation(load("mammalian", None, SMALL + list(extra)), seed=seed)


def test_targets_split_a_total_exactly_by_shares():
    assert targets({0: 10, 1: 90}, {0: 0.05, 1: 0.95}) == {0: 5, 1: 95}
    t = targets({0: 3, 1: 3, 2: 4}, {0: 1 / 3, 1: 1 / 3, 2: 1 / 3})
    assert sum(t.values()) == 10 and sorted(t.values()) == [3, 3, 4]


def test_perfusion_changes_only_far_ions_and_only_their_kind():
    """K+ driven out by a depolarising clamp piles up outside; each renewal gives the excess K+
    the kind Na+ (same charge) far from the membrane: the outside's K+ stays at its share, the
    counts of particles and the charge on each side stay exact."""
    sim = _sim("perfusion.enabled=true", "perfusion.from_nm=10", "clamp.enabled=true", "clamp.command_mV=40")
    g = sim.geometry
    k_share = bath_shares(sim.region_counts()[:, OUT])[1][Species["K"]]
    n, q = sim.state.n, int(sim.kinds.charge[sim.state.species].sum())
    for _ in range(10):
        sim.step(400)
        before = sim.state.species.copy()
        left = mid_line_charge(sim.state.x, sim.state.species, sim.kinds.charge, 0.5 * (g.x_left_nm + g.x_right_nm))
        sim._perfuse()
        changed = np.flatnonzero(before != sim.state.species)
        assert np.all(sim.state.x[changed] > g.x_right_nm + 10.0)
        assert np.array_equal(sim.kinds.charge[before[changed]], sim.kinds.charge[sim.state.species[changed]])
        assert mid_line_charge(sim.state.x, sim.state.species, sim.kinds.charge,
                               0.5 * (g.x_left_nm + g.x_right_nm)) == left
    assert sim.state.n == n and int(sim.kinds.charge[sim.state.species].sum()) == q
    out = sim.region_counts()[:, OUT]
    plus = out[Species["K"]] + out[Species["Na"]] + out[Species["Y"]]
    assert abs(out[Species["K"]] - k_share * plus) <= 1.0          # at its share, to the rounding
    made = sim.perfusion_exchanged
    assert made[Species["K"]] < -5 and made.sum() == 0             # K+ left the bath as Na+ came in
    assert made[Species["Na"]] == -made[Species["K"]] - made[Species["Y"]]


def test_without_perfusion_the_outside_runs_up():
    sim = _sim("clamp.enabled=true", "clamp.command_mV=40")
    k0 = sim.region_counts()[Species["K"], OUT]
    sim.step(4000)
    assert sim.region_counts()[Species["K"], OUT] > k0 + 5 and not sim.perfusion_exchanged.any()


def test_perfuse_takes_the_farthest_first_and_never_near_the_membrane():
    x = np.array([5.0, 20.0, 30.0, 40.0, 50.0, 60.0])          # the membrane's outer face at 10
    species = np.array([0, 0, 0, 0, 1, 1], dtype=np.int8)      # outside: three of kind 0, two of 1
    flags = np.zeros(6, dtype=np.uint8)
    made = np.zeros(N_SPECIES, dtype=np.int64)
    changed = perfuse(x, species, flags, 10.0, 5.0, {1: {0: 0.2, 1: 0.8}}, made)
    assert changed == 2 and species.tolist() == [0, 0, 1, 1, 1, 1]     # the two farthest of kind 0
    assert made[0] == -2 and made[1] == 2
    # the one left outside is at 20 nm, not beyond from_nm = 15 of the face: never changed
    assert perfuse(x, species, flags, 10.0, 15.0, {1: {0: 0.0, 1: 1.0}}, made) == 0 and species[1] == 0


def test_the_equations_hold_a_perfused_bath():
    sim = Simulation(load("spiking", None, ["perfusion.enabled=true"]), seed=1)
    run = sim.deterministic_response([(3000.0, 5.0), (0.0, 400.0)], 1.6, every_ns=5.0)
    assert np.ptp(run["K_out"]) == 0.0 and np.ptp(run["Na_out"]) == 0.0
    assert run["K_in"][-1] < run["K_in"][0] - 50        # the spike's K+ left the inside all the same


@pytest.mark.parametrize("sets, words", [(["perfusion.from_nm=1"], "perfusion.from_nm"),
                                         (["perfusion.from_nm=500"], "perfusion.from_nm"),
                                         (["perfusion.every_ns=0.001"], "perfusion.every_ns")])
def test_a_bad_perfusion_is_one_line(sets, words):
    with pytest.raises(ConfigError) as err:
        load("mammalian", None, ["perfusion.enabled=true"] + sets)
    assert words in str(err.value) and "\n" not in str(err.value)
