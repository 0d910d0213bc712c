"""The crossing rule finds the pore at a height by its site (`pore_at`), not by a search: it must
name the same pore as the search (`pore_index`) everywhere, at the pores' edges and the sites'
edges included, whatever the pitch and however wide the pores."""
import numpy as np
import pytest
from numba import njit

from membrane.channels import pore_at, pore_index


@njit(cache=True)
def _both(ys, per_pitch, at_site, y0, y1):
    out = np.empty((ys.size, 2), dtype=np.int64)
    for k in range(ys.size):
        out[k, 0] = pore_at(ys[k], per_pitch, at_site, y0, y1)
        out[k, 1] = pore_index(ys[k], y0, y1)
    return out


@pytest.mark.parametrize("height,n_sites,pore_share", [(800.0, 200, 0.3), (160.0, 40, 0.3), (100.0, 7, 0.49999),
                                                       (1e6, 250_000, 0.45), (3.0, 3, 0.01)])
def test_the_site_lookup_names_the_pore_the_search_finds(height, n_sites, pore_share):
    rng = np.random.default_rng(n_sites)
    pitch = height / n_sites
    sites = np.flatnonzero(rng.random(n_sites) < 0.4)
    centre = (sites + 0.5) * pitch
    half = pore_share * pitch
    y0, y1 = centre - half, centre + half
    at_site = np.full(n_sites, -1, dtype=np.int32)
    at_site[sites] = np.arange(sites.size)
    edges = np.concatenate([y0, y1, np.arange(n_sites + 1) * pitch])
    ys = np.concatenate([rng.random(20_000) * height, edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
                         [0.0, height]])
    ys = ys[(ys >= 0.0) & (ys <= height)]
    got = _both(ys, 1.0 / pitch, at_site, y0, y1)
    assert np.array_equal(got[:, 0], got[:, 1]), ys[got[:, 0] != got[:, 1]][:5]
    assert (got[:, 1] >= 0).any() and (got[:, 1] < 0).any()
