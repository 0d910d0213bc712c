"""The classic experiments replayed (simulation/checks/classic.py, scenarios horowicz, purkinje-k,
flux-ratio): single-file pores change which ion crosses, never where any ion is; independent pores
obey Ussing's flux ratio (n' = 1) and single-file ones give n' > 1, as Hodgkin & Keynes found; a
frog muscle fibre answers Hodgkin & Horowicz's K+ and Cl- steps as their equation 1 and the
constant field say."""
import math

import numpy as np
import pytest

from membrane.crossing import WHOLE_RULE, single_file_relabel, single_file_scan
from particles.species import Species
from particles.state import FAR_IN, FAR_OUT
from simulation.checks.classic import check_horowicz, flux_config, flux_ratio_exponent
from simulation.core.config import load
from simulation.core.model import Simulation

SMALL = ("box.height_nm=160", "physics.particles=16000", "physics.capacitance_e_per_mV=0.4",
         "membrane.channels_per_unit_permeability=20")


def test_single_file_changes_which_ion_crosses_never_where_any_ion_is():
    """The same seed with and without single file: every position and V bit for bit the same
    after 4000 steps (so the current, the permeability and V are those of the same pores); only
    the tracer marks differ, and so the one-way counts."""
    runs = []
    for single_file in (False, True):
        sim = Simulation(load("k-only", None, [*SMALL, "box.membrane_thickness_nm=8",
                                               f"channels.K.single_file={str(single_file).lower()}"]), 3)
        sim.set_clamp(True, -60.0)
        sim.step(4000)
        runs.append(sim)
    free, row = runs
    assert np.array_equal(free.state.x, row.state.x) and np.array_equal(free.state.y, row.state.y)
    assert free.charge_carried_in.sum() == row.charge_carried_in.sum()
    assert not np.array_equal(free.state.flags, row.state.flags)
    assert not np.array_equal(free.crossings, row.crossings)
    # net transits the same within the few ions still on their way
    net = [int(s.crossings[0, Species.K] - s.crossings[1, Species.K]) for s in runs]
    assert abs(net[0] - net[1]) <= 0.1 * max(abs(net[0]), 20)


def test_ions_that_pass_each_other_in_a_single_file_pore_swap_their_tracer_marks():
    """Three K+ in one pore, from the inside (FAR_IN), the outside and the inside again, in that
    order along x; a move that puts them in the reverse order leaves the marks in the old order;
    an ion entering at the inner mouth past the first one takes the first place's mark."""
    sim = Simulation(load("k-only", None, [*SMALL, "channels.K.single_file=true"]), 1)
    pores, band, s = sim.channels.pores, sim.band, sim.state
    j = int(np.flatnonzero(pores.species == Species.K)[0])
    y = 0.5 * (pores.y0[j] + pores.y1[j])
    x_l, x_r = band.x_left_nm, band.x_right_nm
    # empty every single-file pore, then put three ions in pore j and one just outside its inner mouth
    inside = (s.x >= x_l) & (s.x <= x_r)
    s.x[inside] = x_l - 0.5
    ions = np.flatnonzero(s.species == Species.K)[:4]
    s.x[ions[:3]] = x_l + np.array([0.2, 0.5, 0.8]) * (x_r - x_l)
    s.y[ions] = y
    s.x[ions[3]] = x_l - 0.05
    s.flags[ions] = np.array([FAR_IN, FAR_OUT, FAR_IN, FAR_OUT], dtype=np.uint8)
    n = s.x.size
    b_i, b_j, b_x = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n)
    a_i, a_j, a_x = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n)
    m = single_file_scan(s, band, pores, b_i, b_j, b_x)
    assert sorted(b_i[:m]) == sorted(ions[:3])
    # the move: the three reverse their order; the fourth enters, landing beyond the first
    s.x[ions[:3]] = x_l + np.array([0.8, 0.5, 0.1]) * (x_r - x_l)
    s.x[ions[3]] = x_l + 0.15 * (x_r - x_l)
    hard = np.zeros(n + 8, dtype=np.uint8)
    hard[ions] = WHOLE_RULE
    m_after = single_file_relabel(s, band, pores, hard, m, b_i, b_j, b_x, a_i, a_j, a_x)
    assert m_after == 4
    by_x = ions[np.argsort(s.x[ions])]
    # in order along x the marks are the entrant's (first: it came in at the inner mouth) and then
    # the old row's, front to back
    assert list(s.flags[by_x]) == [FAR_OUT, FAR_IN, FAR_OUT, FAR_IN]


@pytest.mark.physics
def test_independent_pores_obey_ussing_and_single_file_pores_give_a_larger_exponent():
    """The flux-ratio scenario's cell (10-nm K+ pores, a perfused bath) clamped 25 mV above E_K for
    400 ns: n' = 1 within 3 standard errors (batch jackknife); single file, n' > 1 by more than 3
    of its standard errors (Hodgkin & Keynes: 2.5), with the same current."""
    free = flux_ratio_exponent(1, False, 25.0, 400.0)
    row = flux_ratio_exponent(1, True, 25.0, 400.0)
    assert abs(free["n"] - 1.0) <= 3 * free["sem"], free
    assert row["n"] - 1.0 > 3 * row["sem"], row
    assert row["current_pA"] == free["current_pA"]
    assert row["ions_in_pores"] / row["pores"] > 1.5       # a few ions in a row: what single file needs
    assert flux_config(True)["channels.K.single_file"] and not flux_config(False)["channels.K.single_file"]


@pytest.mark.physics
def test_a_frog_muscle_fibre_answers_hodgkin_and_horowiczs_two_steps():
    """At rest and after a [K+]o step at constant [K][Cl] V is E_K = E_Cl (equation 1), at once;
    a [Cl-]o step gives a jump to the constant-field potential of the moment, which V follows as
    Cl- leaves, falling back toward E_K by more than 5 mV: a transient. Each within 3 standard
    errors or its stated range (simulation/checks/classic.py)."""
    checks = check_horowicz(seed=1, cl_ns=1500.0)
    failed = [c for c in checks if not c.passed]
    assert not failed, "\n".join(f"{c.name}: {c.measured:.2f} vs {c.expected:.2f} ± {c.sigma:.2f}" for c in failed)
    tau = next(c for c in checks if "time constant" in c.name).measured
    assert math.isfinite(tau) and 300 < tau < 5000
