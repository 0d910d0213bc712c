"""The counter-based generator: uniform, symmetric, independent across keys and indices."""
import numpy as np
from numba import njit
from scipy import stats

from particles.rng import draw, hi_symmetric, lo_symmetric, step_key, uniform_array


@njit(cache=True)
def _symmetric_pairs(seed, step, n):
    key = step_key(seed, step, 1)
    out = np.empty((n, 2))
    for i in range(n):
        h = draw(key, i)
        out[i, 0] = hi_symmetric(h)
        out[i, 1] = lo_symmetric(h)
    return out


def test_uniforms_pass_kolmogorov_smirnov():
    u = uniform_array(1, 6, 0, 200_000)
    assert 0 <= u.min() and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_symmetric_halves_are_uniform_on_minus_one_one_and_uncorrelated():
    p = _symmetric_pairs(5, 17, 200_000)
    for col in (0, 1):
        assert stats.kstest(p[:, col], "uniform", args=(-1, 2)).pvalue > 1e-3
    assert abs(np.corrcoef(p[:, 0], p[:, 1])[0, 1]) < 4 / np.sqrt(len(p))


def test_consecutive_steps_and_seeds_are_independent():
    a = uniform_array(1, 6, 0, 100_000)
    b = uniform_array(1, 6, 1, 100_000)
    c = uniform_array(2, 6, 0, 100_000)
    lim = 4 / np.sqrt(100_000)
    assert abs(np.corrcoef(a, b)[0, 1]) < lim
    assert abs(np.corrcoef(a, c)[0, 1]) < lim
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < lim


def test_same_key_same_numbers():
    assert np.array_equal(uniform_array(9, 3, 4, 1000), uniform_array(9, 3, 4, 1000))
