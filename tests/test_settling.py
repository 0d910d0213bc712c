"""Where the transient ends (MSER-5) and the flags of a run too short to have settled."""
import numpy as np
import pytest

from simulation.core.statistics import detect_equilibration
from simulation.headless.recorders import choose_window


def _ar1(n, tau, seed):
    """A correlated series with correlation time `tau` samples, unit variance."""
    rng = np.random.default_rng(seed)
    a = np.exp(-1.0 / tau)
    x = np.empty(n)
    x[0] = rng.normal()
    for i in range(1, n):
        x[i] = a * x[i - 1] + np.sqrt(1 - a * a) * rng.normal()
    return x


def test_no_transient_is_found_in_a_stationary_series():
    cuts = [detect_equilibration(_ar1(2000, 3.0, s)) for s in range(10)]
    assert np.median(cuts) < 100


@pytest.mark.parametrize("length", [100, 300])
def test_an_exponential_transient_is_cut_near_its_end(length):
    """A relaxation from 0 to −70 mV with time constant length/5, then noise of σ 4 mV."""
    for seed in range(5):
        t = np.arange(2000)
        v = -70 + 70 * np.exp(-t / (length / 5)) + 4 * _ar1(2000, 3.0, seed)
        cut = detect_equilibration(v)
        assert 0.5 * length <= cut <= 3 * length
        assert abs(v[cut:].mean() + 70) < 1.0


def _samples(v):
    return {"step": np.arange(v.size, dtype=float) * 10, "V_mV": np.asarray(v, dtype=float)}


def test_a_run_still_settling_is_flagged_and_a_settled_one_is_not():
    t = np.arange(2000)
    settled = -70 + 70 * np.exp(-t / 30) + 4 * _ar1(2000, 3.0, 1)
    _, how = choose_window(_samples(settled), None)
    assert how["settled"] and how["warnings"] == []
    creeping = -70 + 70 * np.exp(-t / 900) + 4 * _ar1(2000, 3.0, 2)
    _, how = choose_window(_samples(creeping), None)
    assert not how["settled"] and any("settling" in w or "drifts" in w for w in how["warnings"])


def test_too_few_independent_samples_are_flagged():
    _, how = choose_window(_samples(-70 + 4 * _ar1(400, 40.0, 3)), None)
    assert any("independent samples" in w for w in how["warnings"])


def test_a_given_window_is_used_as_given():
    sel, how = choose_window(_samples(-70 + _ar1(500, 2.0, 4)), (1000, 3000))
    assert how["method"] == "--window" and sel.sum() == 201
