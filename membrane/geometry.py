"""Where the membrane is, and which site along it holds what.

The membrane is a vertical band [x_left, x_right] of the box. Along it sit `n_sites` evenly spaced
sites; each holds nothing (wall), a channel of one type, or a transporter. At the start every kind,
the empty sites included, is interleaved along the membrane in site order, so each kind is spread
evenly (no two channels of a type side by side while other kinds could be between them: adjacent
channels of one type would share one plume of ions). Live changes add channels in the empty sites
in a van der Corput order (any prefix of it is spread evenly) and remove the latest first, so
adding or removing channels of one type leaves every other channel and pump where it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# Site kinds: a channel site holds its channel type's id (>= 0); a transporter site holds
# transporter_site(k) for the k-th row of membrane.transporters.TABLE (the pump's is PUMP_SITE).
EMPTY = -1


def transporter_site(k: int) -> int:
    return -2 - k


PUMP_SITE = transporter_site(0)


class Band(NamedTuple):
    """The box and the membrane band as the kernels see them (nm)."""
    width_nm: float
    height_nm: float
    x_left_nm: float
    x_right_nm: float
    x_mid_nm: float
    margin_nm: float   # transits are counted between the reservoirs beyond this distance
    site_pitch_nm: float   # the sites' spacing along y (site k at (k + 1/2) · pitch) ...
    pore_half_nm: float    # ... and half a pore's width: a pore spans its site's y ± this


@dataclass(frozen=True)
class MembraneGeometry:
    width_nm: float
    height_nm: float
    x_left_nm: float
    x_right_nm: float
    site_spacing_nm: float
    pore_width_nm: float

    def band(self, margin_nm: float) -> Band:
        return Band(float(self.width_nm), float(self.height_nm), float(self.x_left_nm), float(self.x_right_nm),
                    float(self.x_mid_nm), float(margin_nm), float(self.height_nm / self.n_sites),
                    float(self.pore_width_nm / 2))

    @property
    def x_mid_nm(self) -> float:
        return 0.5 * (self.x_left_nm + self.x_right_nm)

    @property
    def thickness_nm(self) -> float:
        return self.x_right_nm - self.x_left_nm

    @property
    def n_sites(self) -> int:
        return int(self.height_nm // self.site_spacing_nm)

    @property
    def site_y_nm(self) -> np.ndarray:
        pitch = self.height_nm / self.n_sites
        return (np.arange(self.n_sites) + 0.5) * pitch

    @property
    def area_in_nm2(self) -> float:
        return self.x_left_nm * self.height_nm

    @property
    def area_out_nm2(self) -> float:
        return (self.width_nm - self.x_right_nm) * self.height_nm


def van_der_corput_order(n: int) -> np.ndarray:
    """0..n-1 in bit-reversed order: every prefix is spread evenly over the range."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    bits = max(1, int(np.ceil(np.log2(n))))
    k = np.arange(1 << bits)
    rev = np.zeros_like(k)
    for b in range(bits):
        rev |= ((k >> b) & 1) << (bits - 1 - b)
    return rev[rev < n]


def interleave(kinds_counts: list[tuple[int, int]]) -> list[int]:
    """Kinds repeated by count, interleaved so each kind is spread evenly through the list
    (at equal places, the kind listed first comes first)."""
    items = []
    for rank, (kind, count) in enumerate(kinds_counts):
        items += [((j + 0.5) / count, rank, kind) for j in range(count)]
    items.sort()
    return [kind for _, _, kind in items]


class SiteLayout:
    """Which site holds what; mutated by interventions that add or remove channels."""

    def __init__(self, geometry: MembraneGeometry, kinds_counts: list[tuple[int, int]]):
        self.geometry = geometry
        self.order = van_der_corput_order(geometry.n_sites)
        self.kind = np.full(geometry.n_sites, EMPTY, dtype=np.int64)
        needed = sum(c for _, c in kinds_counts)
        if needed > geometry.n_sites:
            raise ValueError(f"the membrane has {geometry.n_sites} sites, {needed} are needed")
        self.kind[:] = interleave(list(kinds_counts) + [(EMPTY, geometry.n_sites - needed)])

    def count(self, kind: int) -> int:
        return int((self.kind == kind).sum())

    def free_sites(self) -> int:
        return int((self.kind == EMPTY).sum())

    def set_count(self, kind: int, n: int) -> int:
        """Add or remove sites of `kind` (latest in the order go first); returns the count reached."""
        have = self.count(kind)
        if n > have:
            for site in self.order:
                if have >= n:
                    break
                if self.kind[site] == EMPTY:
                    self.kind[site] = kind
                    have += 1
        elif n < have:
            for site in self.order[::-1]:
                if have <= n:
                    break
                if self.kind[site] == kind:
                    self.kind[site] = EMPTY
                    have -= 1
        return have

    def sites_of(self, kind: int) -> np.ndarray:
        return np.flatnonzero(self.kind == kind)

    def channel_sites(self) -> np.ndarray:
        """Every site holding a channel, in order along the membrane (increasing y)."""
        return np.flatnonzero(self.kind >= 0)
