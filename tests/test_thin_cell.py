"""A cell made thinner — both compartments k times narrower, with k times fewer particles, the
membrane and its channels unchanged — keeps its physics: the same concentrations and GHK
potential, the same Donnan end point, and V on the GHK potential of its concentrations as they
run down (k times faster). The `ouabain` preset and the `pump` demo use this (k = 4) to fit the
run-down into a lecture."""
import pytest

from simulation.checks.validate import Z_TOL, run_case, v_against
from simulation.core.config import load
from simulation.core.model import Simulation

THIN = ["physics.particles=40000", "box.width_nm=36.25", "box.membrane_x_nm=16.25"]   # the ouabain preset's box


def test_the_ouabain_preset_is_the_mammalian_cell_four_times_thinner_with_the_same_end_point():
    thin = Simulation(load("ouabain"), seed=1)
    full = Simulation(load("mammalian", None, ["pump.enabled=false"]), seed=1)
    g_thin, g_full = thin.geometry, full.geometry
    assert g_thin.area_in_nm2 / g_full.area_in_nm2 == pytest.approx(0.25)
    assert g_thin.area_out_nm2 / g_full.area_out_nm2 == pytest.approx(0.25)
    assert thin.channel_counts() == full.channel_counts()
    assert thin.theory()["V_GHK_mV"] == pytest.approx(full.theory()["V_GHK_mV"], abs=0.2)
    # the capacitor's charge weighs 4x more against the ions: a few tenths of a mV
    assert thin.donnan_mV() == pytest.approx(full.donnan_mV(), abs=0.5)


@pytest.mark.physics
def test_a_thinner_cell_sits_on_the_ghk_potential_of_its_running_down_concentrations():
    """Three leaks, no pump, the 4x thinner box: within 1 µs the GHK potential runs down by several
    mV; V follows it within three standard errors of the difference, sample by sample (as
    `validate` compares)."""
    _, series = run_case("ghk-no-pump", THIN, 40_000, seed=5)
    v, ghk, sem = v_against(series, "V_GHK_mV", 10_000)
    assert series["V_GHK_mV"][-1] > series["V_GHK_mV"][0] + 3.0, "the gradients ran down"
    assert abs(v - ghk) <= Z_TOL * sem, (v, ghk, sem)
