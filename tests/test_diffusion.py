"""Brownian motion: the diffusion coefficient from the mean squared displacement (MSD = 4 D t),
symmetric steps, and reflecting walls."""
import numpy as np
import pytest

from particles.diffusion import diffuse_free, step_half_width_nm
from particles.species import INFO, NAMES, PERMEANT_NAMES

DT = 0.025


@pytest.mark.parametrize("name", PERMEANT_NAMES)
def test_msd_gives_the_diffusion_coefficient(name):
    d = INFO[name].d_nm2_per_ns
    n, steps = 20000, 400
    box = 10_000.0  # walls far away: free diffusion
    x = np.full(n, box / 2)
    y = np.full(n, box / 2)
    species = np.zeros(n, dtype=np.int8)
    a = step_half_width_nm(np.array([d]), DT)
    diffuse_free(x, y, species, a, box, box, 7, 0, steps)
    r2 = (x - box / 2) ** 2 + (y - box / 2) ** 2
    t = steps * DT
    d_measured = r2.mean() / (4 * t)
    sem = r2.std(ddof=1) / np.sqrt(n) / (4 * t)   # independent particles: plain standard error
    assert abs(d_measured - d) < 3 * sem, f"D {d_measured:.4f} vs {d} ± {sem:.4f}"
    # no drift either: each axis' mean displacement is zero within its standard error
    for u in (x, y):
        assert abs((u - box / 2).mean()) < 3 * (u - box / 2).std() / np.sqrt(n)


def test_immobile_species_do_not_move():
    x = np.full(100, 5.0)
    y = np.full(100, 5.0)
    diffuse_free(x, y, np.zeros(100, dtype=np.int8), np.array([0.0]), 10.0, 10.0, 1, 0, 50)
    assert (x == 5.0).all() and (y == 5.0).all()


def test_reflecting_walls_keep_every_particle_in_the_box():
    n = 5000
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 20, n)
    y = rng.uniform(0, 10, n)
    a = step_half_width_nm(np.array([2.0]), 0.05)
    diffuse_free(x, y, np.zeros(n, dtype=np.int8), a, 20.0, 10.0, 3, 0, 2000)
    assert x.min() >= 0 and x.max() <= 20 and y.min() >= 0 and y.max() <= 10
    # and the box stays uniformly filled (reflection does not pile particles at the walls)
    counts, _ = np.histogram(x, bins=10, range=(0, 20))
    expected = n / 10
    assert ((counts - expected) ** 2 / expected).sum() < 30  # chi² with 9 dof, p ≈ 0.0005


def test_step_width_matches_variance():
    a = step_half_width_nm(np.array([1.0, 2.0]), 0.05)
    assert np.allclose(a ** 2 / 3, 2 * np.array([1.0, 2.0]) * 0.05)
    assert set(NAMES) >= {"K", "Na", "Cl", "A", "X"}
