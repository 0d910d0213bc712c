"""validate's report (issue 25): --quick leaves out, and says so, the rows its half-length runs are
too short for; without --quick every row is judged; `too_short` sees a difference still moving."""
import numpy as np

from simulation.checks.validate import Check, report, too_short


def _rows():
    return [Check("fine", -80.0, -80.5, 1.0), Check("unreached", -79.4, -76.1, 0.8, short="E_K and E_Cl differ"),
            Check("shown", 1.0, 2.0, 0.1, informative=True)]


def test_quick_leaves_a_short_row_out_and_says_so():
    text, code = report(_rows(), quick=True, seconds=1)
    assert code == 0
    assert "short: unreached: E_K and E_Cl differ (half the steps in --quick" in text
    assert text.splitlines()[-1].startswith("1 passed, 0 failed, 1 left out as too short for --quick")


def test_without_quick_every_row_is_judged():
    text, code = report(_rows(), quick=False, seconds=1)
    assert code == 1 and "short:" not in text
    assert text.splitlines()[-1].startswith("1 passed, 1 failed (")


def test_too_short_sees_a_difference_still_moving_and_too_few_samples():
    t = np.arange(4000, dtype=float)
    rng = np.random.default_rng(3)
    theory = np.full(t.size, -80.0)
    moving = {"step": t, "V_mV": -80 + 6 * np.exp(-t / 2500) + rng.normal(0, 1, t.size), "E_mV": theory}
    assert "moves by" in too_short(moving, "E_mV", 2000)
    steady = {"step": t, "V_mV": -80 + rng.normal(0, 1, t.size), "E_mV": theory}
    assert too_short(steady, "E_mV", 2000) == ""
    few = {"step": t[:40], "V_mV": -80 + rng.normal(0, 1, 40), "E_mV": theory[:40]}
    assert "independent samples" in too_short(few, "E_mV", 0)
