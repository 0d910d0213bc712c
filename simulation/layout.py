"""From config to membrane: how many channels of each type, and the arrays of pores and pumps.

`channel_plan` turns relative permeabilities into channel counts (see `membrane.channels`) and
reports the effective permeability achieved after rounding to whole channels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from membrane.channels import achieved_permeability, channel_count
from particles.species import Species

PERMEANT = ("K", "Na", "Cl")


@dataclass(frozen=True)
class ChannelPlan:
    counts: dict[str, int]                   # channels per ion
    effective_permeability: dict[str, float]  # achieved, relative to K (config units)
    unit_permeability: float                 # N_unit · p_K · D_K


def unit_permeability(data: dict) -> float:
    k = data["channels"].get("K", {"open_probability": 0.9})
    return data["membrane"]["channels_per_unit_permeability"] * k["open_probability"] * data["diffusion"]["K"]


def channel_plan(data: dict) -> ChannelPlan:
    unit = unit_permeability(data)
    counts, eff = {}, {}
    for ion in PERMEANT:
        ch = data["channels"].get(ion)
        if ch is None:
            counts[ion], eff[ion] = 0, 0.0
            continue
        d = data["diffusion"][ion]
        n = channel_count(ch["relative_permeability"], ch["open_probability"], d, unit)
        counts[ion] = n
        eff[ion] = achieved_permeability(n, ch["open_probability"], d, unit)
    return ChannelPlan(counts, eff, unit)


def species_index(ion: str) -> int:
    return int(Species[ion])


def pores_from_sites(site_y: np.ndarray, kinds: np.ndarray, pore_width_nm: float):
    """Sorted pore arrays (y0, y1, species, site) for every channel site."""
    sites = np.flatnonzero((kinds >= 0) & (kinds < 3))
    y = site_y[sites]
    order = np.argsort(y)
    sites = sites[order]
    y = y[order]
    return (y - pore_width_nm / 2, y + pore_width_nm / 2, kinds[sites].astype(np.int8), sites)
