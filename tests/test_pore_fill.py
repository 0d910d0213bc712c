"""The pores start at their steady occupancy (issue 25): a placed permeability holds from the first
step, V still starts at 0, and nothing but the pores' ions and the inside's filler changes."""
import math

import numpy as np
import pytest

from membrane import theory
from membrane.channels import pore_index
from particles.species import Species
from simulation.core.config import load
from simulation.core.model import Simulation

# the ouabain preset's thin box: the default cell's density, channels and capacitance, a quarter
# of its particles (so a quarter of the time), and the rarely open Na⁺ type
THIN_NA = ["box.width_nm=36.25", "box.membrane_x_nm=16.25", "physics.particles=40000",
           "channels.Na.relative_permeability=0.02"]


@pytest.mark.parametrize("a", [-3.0, -0.5, 0.0, 1e-12, 0.7, 4.0])
def test_the_pore_profile_meets_its_mouths_and_integrates_to_its_occupancy(a):
    s = np.linspace(0.0, 1.0, 20001)
    n = theory.pore_profile(a, 2.0, 0.3, s)
    assert n[0] == pytest.approx(2.0) and n[-1] == pytest.approx(0.3)
    assert theory.pore_occupancy(a, 2.0, 0.3) == pytest.approx(np.trapezoid(n, s), rel=1e-6)


def test_at_equilibrium_the_profile_is_boltzmanns_and_the_mouths_are_the_bulks():
    a = math.log(0.05)                      # n_out = n_in e^a: no flux
    s = np.linspace(0, 1, 11)
    assert theory.pore_profile(a, 1.0, 0.05, s) == pytest.approx(np.exp(a * s))
    assert theory.pore_mouths(a, 1.0, 0.05, 0.8) == pytest.approx((1.0, 0.05))
    # with a flux the mouth it leaves is lowered, the other raised, and the pore carries the
    # same flux as each access (series conductances)
    n0, n1 = theory.pore_mouths(-1.0, 1.0, 1.0, 0.8)      # V negative: cations flow in
    assert n0 > 1.0 and n1 < 1.0
    eff, inf = theory.ghk_efflux_factor(1, -1.0), theory.ghk_influx_factor(1, -1.0)
    side = 2 * 0.8 / 0.2
    assert n0 * eff - n1 * inf == pytest.approx(side * (1.0 - n0))


def test_pores_hold_their_own_ions_at_the_start_and_v_starts_at_zero():
    sim = Simulation(load("ghk-no-pump"), seed=1)
    g, s, pores = sim.geometry, sim.state, sim.channels.pores
    assert sim.v_mV == pytest.approx(0.0, abs=1e-9)
    band = np.flatnonzero((s.x > g.x_left_nm) & (s.x < g.x_right_nm))
    assert band.size == sim.pore_ions_placed > 500
    for i in band:
        j = pore_index(s.y[i], pores.y0, pores.y1)
        assert j >= 0 and pores.species[j] == s.species[i]
    # the inside's fixed anions made up the charge the pores' ions induce
    assert list(sim.pore_balance) == ["A"]
    assert {int(k) for k in s.species[band]} == {int(Species[i]) for i in ("K", "Na", "Cl")}


def test_at_equilibrium_each_pore_holds_the_boltzmann_profiles_ions():
    """K⁺ only, filled at E_K: no flux, so each pore holds w·L·n_in·∫e^(as) ds ions (Poisson)."""
    sim = Simulation(load("k-only"), seed=2)
    g, s = sim.geometry, sim.state
    k = Species.K
    band = (s.x > g.x_left_nm) & (s.x < g.x_right_nm) & (s.species == k)
    inside = (s.x < g.x_left_nm) & (s.species == k)
    outside = (s.x > g.x_right_nm) & (s.species == k)
    n_in = (inside.sum() + 0.5 * band.sum()) / g.area_in_nm2     # what the bulk had, roughly
    n_out = outside.sum() / g.area_out_nm2
    a = math.log(n_out / n_in)
    pores = int((sim.channels.pores.species == k).sum())
    expected = pores * g.pore_width_nm * g.thickness_nm * n_in * math.expm1(a) / a
    assert abs(band.sum() - expected) < 4 * math.sqrt(expected) + 0.03 * expected, (band.sum(), expected)


def test_a_rarely_open_type_carries_its_steady_flux_from_the_start():
    """P_Na/P_K = 0.02 over eight channels open 13 % of the time: its pores no longer start empty
    (they took ~1 µs to fill), so its influx is no smaller in the first 250 ns than later, and
    neither is what the pores hold."""
    sim = Simulation(load("ghk-no-pump", None, THIN_NA), seed=5)
    na = Species.Na
    start_in, held = [], []
    for _ in range(30):                        # 750 ns in 25-ns pieces
        sim.step(1000)
        start_in.append(int(sim.crossings[1][na]))
        held.append(int(sim.region_counts()[na, 1]))
    influx = np.diff([0] + start_in)
    early, late = influx[:10].sum() / 10, influx[10:].sum() / 20
    assert early > 0.6 * late, (early, late)
    m_early, m_late = np.mean(held[:4]), np.mean(held[10:])
    assert abs(m_early - m_late) < 0.2 * m_late


@pytest.mark.physics
def test_a_placed_small_permeability_is_measured_from_a_30000_step_run():
    """The issue's case: placed P_Na/P_K = 0.02; measured from the fluxes of 30 000-step runs
    (750 ns), pooled over three seeds: within 10 % or two standard errors (each run's ±15 % is
    the transits' own scatter; four seeds gave 0.0174, 0.0226, 0.0190, 0.0184)."""
    from simulation.headless.run import run
    import tempfile
    vals, sems = [], []
    with tempfile.TemporaryDirectory() as d:
        for seed in (1, 2, 3):
            s = run(load("ghk-no-pump", None, THIN_NA), 30000, f"{d}/{seed}", seed=seed, progress=False)
            vals.append(s["measured_permeability"]["Na"])
            sems.append(s["measured_permeability_sem"]["Na"])
    m = float(np.mean(vals))
    sem = math.sqrt(sum(e * e for e in sems)) / len(sems)
    assert abs(m / 0.02 - 1) < max(0.10, 2 * sem / 0.02), (vals, sems)
