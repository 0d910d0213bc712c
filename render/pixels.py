"""Bulk drawing of particles straight into the screen's pixel array (no Python loop per particle).

`draw_particles` writes every visible particle as a filled disk of its species' colour into a
`pygame.surfarray.pixels2d` view (indexed [x, y]); when the disks are large enough it also writes
the charge sign in white (a bar for −, a cross for +). When the disks would cover the view many
times over, `stride` draws every stride-th particle only (`draw_stride`): the picture is already
saturated, the sample has the same mix of species and sides (particles are stored by compartment
and species), and the drawing cost stops growing with the number of particles.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class Frame(NamedTuple):
    """The view: its rectangle on screen (px) and the point of the box at its top-left corner (nm)."""
    left: int
    top: int
    width: int
    height: int
    x0_nm: float
    y0_nm: float
    px_per_nm: float


class Disks(NamedTuple):
    """How particles are drawn: colour, sign (±1) and layer per species (layer 0 first, so the ions
    of layer 1 — the mobile ones the story is about — are drawn over the fixed anions and fillers),
    the disk's radius in px, the sign's colour, and every how many particles one is drawn."""
    colours: np.ndarray
    signs: np.ndarray
    layers: np.ndarray
    radius: int
    sign_colour: int
    stride: int


def draw_particles(pix, x, y, species, frame, disks):
    """Disks of `disks.radius` px for every `disks.stride`-th particle inside the view rectangle,
    layer by layer; returns how many were drawn."""
    global _visible
    if _visible.size < y.size:          # scratch kept between frames: a fresh one costs its page faults
        _visible = np.empty(y.size, dtype=np.int64)
    return _draw(pix, x, y, species, frame, disks, _visible)


_visible = np.empty(0, dtype=np.int64)


@njit(cache=True)
def _draw(pix, x, y, species, frame, disks, visible):
    n = _in_view_rows(y, frame, disks, visible)
    drawn = 0
    for layer in range(2):
        drawn += _draw_layer(pix, x, y, species, frame, disks, layer, visible, n)
    return drawn


@njit(cache=True)
def _in_view_rows(y, frame, disks, visible):
    """The particles (every stride-th) whose disks may reach the view's rows, into `visible`, and
    how many: the one comparison that passes over most particles of a zoomed view (in nm, a pixel
    wider than the disks reach), once for both layers and without branches (a large cell holds
    640 000 particles, of which a zoomed view shows 18 000)."""
    radius, stride = disks.radius, disks.stride
    y_lo = frame.y0_nm - (radius + 1) / frame.px_per_nm
    y_hi = frame.y0_nm + (frame.height + radius + 1) / frame.px_per_nm
    n = 0
    for k in range(y.size // stride + (y.size % stride > 0)):
        i = k * stride
        yi = y[i]
        visible[n] = i
        n += (yi >= y_lo) & (yi <= y_hi)
    return n


@njit(cache=True)
def _draw_layer(pix, x, y, species, frame, disks, layer, visible, n):
    left, top, width, height = frame.left, frame.top, frame.width, frame.height
    x0_nm, y0_nm, px_per_nm = frame.x0_nm, frame.y0_nm, frame.px_per_nm
    colours, signs, radius, sign_colour = disks.colours, disks.signs, disks.radius, disks.sign_colour
    layers = disks.layers
    right = left + width
    bottom = top + height
    r2 = radius * radius + radius
    drawn = 0
    show_sign = radius >= 4
    arm = max(1, radius - 2)
    for j in range(n):
        i = visible[j]
        if layers[species[i]] != layer:
            continue
        sx = int(left + (x[i] - x0_nm) * px_per_nm)
        sy = int(top + (y[i] - y0_nm) * px_per_nm)
        if sx < left - radius or sx >= right + radius or sy < top - radius or sy >= bottom + radius:
            continue
        s = species[i]
        c = colours[s]
        for dx in range(-radius, radius + 1):
            px = sx + dx
            if px < left or px >= right:
                continue
            for dy in range(-radius, radius + 1):
                py = sy + dy
                if py < top or py >= bottom or dx * dx + dy * dy > r2:
                    continue
                pix[px, py] = c
        if show_sign:
            for d in range(-arm, arm + 1):
                px = sx + d
                if left <= px < right and top <= sy < bottom:
                    pix[px, sy] = sign_colour
                if signs[s] > 0:
                    py = sy + d
                    if left <= sx < right and top <= py < bottom:
                        pix[sx, py] = sign_colour
        drawn += 1
    return drawn


MAX_COVER = 3.0   # disks may cover the view this many times over before particles are sampled


def draw_stride(n_in_view: float, radius: int, view_px: int) -> int:
    """Every how many particles to draw so the disks cover the view at most MAX_COVER times."""
    disk_px = (2 * radius + 1) ** 2
    return max(1, int(n_in_view * disk_px / (MAX_COVER * max(view_px, 1))))


def species_colours(surface, colours_rgb) -> np.ndarray:
    """Map RGB tuples to the surface's pixel format."""
    return np.array([surface.map_rgb(c) for c in colours_rgb], dtype=np.uint32)
