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
    channels_per_unit: int                   # N_unit actually used (lowered when the sites run out)


def membrane_sites(data: dict) -> int:
    return int(data["box"]["height_nm"] // data["membrane"]["site_spacing_nm"])


def _plan(data: dict, n_unit: int) -> ChannelPlan:
    k = data["channels"].get("K", {"open_probability": 0.9})
    unit = n_unit * k["open_probability"] * data["diffusion"]["K"]
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
    return ChannelPlan(counts, eff, unit, n_unit)


def channel_plan(data: dict) -> ChannelPlan:
    """Channel counts for the config's permeabilities at `channels_per_unit_permeability`, or at the
    largest smaller unit whose channels fit beside the pumps (the ratios are what matter; fewer
    channels only make the membrane conduct less). The caller checks that the result fits."""
    free = membrane_sites(data) - data["pump"]["count"]
    plan = None
    for n_unit in range(data["membrane"]["channels_per_unit_permeability"], 0, -1):
        plan = _plan(data, n_unit)
        if sum(plan.counts.values()) <= free:
            break
    return plan


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
