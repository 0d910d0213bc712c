"""Emergent physics against theory (the same checks `python main.py validate` prints).

Each check passes when the emergent value lies within three standard errors of theory, the
standard errors coming from the run's own statistics (see simulation/validate.py).
"""
import pytest

from simulation.checks import validate

pytestmark = pytest.mark.physics


def _assert_all(checks):
    table = validate.format_table(checks)
    assert all(c.passed for c in checks), "\n" + table


def test_potassium_only_membrane_settles_at_the_nernst_potential():
    _assert_all(validate.check_nernst(seed=1))


def test_three_leaks_settle_at_ghk_with_ussing_fluxes_and_calibrated_permeabilities():
    checks = validate.check_ghk(seed=2)
    names = [c.name for c in checks]
    assert any("Ussing flux ratio K" in c.name and not c.informative for c in checks)
    assert any("P_Na" in n for n in names) and any("P_Cl" in n for n in names)
    _assert_all(checks)


def test_pump_hyperpolarises_by_a_few_millivolts_and_sits_at_its_zero_current_potential():
    _assert_all(validate.check_pump(seed=3))


def test_outside_potassium_sweep_without_pump_lands_on_ghk_at_every_point(tmp_path):
    """The classic V against log [K⁺]o, pump off: every point within 3 standard errors of GHK."""
    import numpy as np

    from simulation.core.config import load
    from simulation.headless.sweep import parse_vary, sweep

    steps = 150_000
    base = load("ghk-no-pump", None, validate.SMALL)
    sweep(base, parse_vary(["outside.K=5,20,80"]), 1, steps, tmp_path, workers=2, progress=False)
    checks = []
    for run in sorted((tmp_path / "runs").iterdir()):
        ts = np.genfromtxt(run / "timeseries.csv", delimiter=",", names=True)
        v, ghk, sem = validate.v_against(ts, "V_GHK_mV", steps // 2)
        checks.append(validate.Check(f"{run.name}: V = V_GHK", v, ghk, sem))
    assert len(checks) == 3
    _assert_all(checks)
    assert (tmp_path / "sweep.png").exists()
