"""Bulk drawing of particles straight into the screen's pixel array (no Python loop per particle).

`draw_particles` writes every visible particle as a filled disk of its species' colour into a
`pygame.surfarray.pixels2d` view (indexed [x, y]); when the disks are large enough it also writes
the charge sign in white (a bar for −, a cross for +).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def draw_particles(pix, x, y, species, colours, signs, left, top, width, height, x0_nm, y0_nm, px_per_nm,
                   radius, sign_colour):
    """Disks of `radius` px for particles inside the view rectangle; returns how many were drawn."""
    right = left + width
    bottom = top + height
    r2 = radius * radius + radius
    drawn = 0
    show_sign = radius >= 4
    arm = max(1, radius - 2)
    for i in range(x.size):
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


def species_colours(surface, colours_rgb) -> np.ndarray:
    """Map RGB tuples to the surface's pixel format."""
    return np.array([surface.map_rgb(c) for c in colours_rgb], dtype=np.uint32)
