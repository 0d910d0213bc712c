"""Draw layers of the box view: compartments (optionally tinted by net charge), the membrane band,
every channel and pump at its place, the particles in bulk, the unpaired charges along the faces,
the tracked ion with its trail, and the minimap of the whole membrane.
"""
from __future__ import annotations

import numpy as np
import pygame

from membrane.transporters import INSIDE, TABLE as TRANSPORTERS
from particles.species import FILLER, FIXED, NAMES, TABLE
from render import style
from render.pixels import Disks, Frame, draw_particles, draw_stride, species_colours
from render.text import TextLayer
from render.transform import ViewTransform

SIGNS = np.array([1 if s.z > 0 else -1 for s in TABLE], dtype=np.int64)   # drawn as + or − per species
# drawn first (below): the ions that only keep a side neutral (the fixed anions, the fillers); then the
# solutes, so the K+ filling the cytoplasm is seen, not hidden under A-
LAYERS = np.array([0 if s.role in (FIXED, FILLER) else 1 for s in TABLE], dtype=np.int64)


def draw_box(surf: pygame.Surface, sim, tf: ViewTransform, fonts: dict, text: TextLayer, th: style.Theme, *,
             tint_charge: bool, show_charges: bool, tracked: int | None, trail: list,
             pumps_off_label: str = "off") -> None:
    """`pumps_off_label`: what a stopped transporter says ("blocked" after ouabain, "off" when the
    cell was built without them running)."""
    g = sim.geometry
    view = tf.rect
    surf.set_clip(view)
    xl, _ = tf.to_screen(g.x_left_nm, 0)
    xr, _ = tf.to_screen(g.x_right_nm, 0)
    inside_col, outside_col = th.inside_tint, th.outside_tint
    if tint_charge:  # tint each side by the sign and size of its net charge
        q = sim.q_in
        f = min(1.0, abs(q) / 200.0)
        neg, pos = th.negative_tint, th.positive_tint
        inside_col = _mix(th.inside_tint, neg if q < 0 else pos, 0.55 * f)
        outside_col = _mix(th.outside_tint, pos if q < 0 else neg, 0.55 * f)
    pygame.draw.rect(surf, inside_col, (view.x, view.y, xl - view.x, view.height))
    pygame.draw.rect(surf, outside_col, (xr, view.y, view.right - xr, view.height))
    pygame.draw.rect(surf, th.membrane, (xl, view.y, xr - xl, view.height))

    s = tf.px_per_nm
    # channels
    pores = sim.channels.pores
    gated_types = ~sim.channels.table.leak
    inactivated = sim.channels.inactivated()
    for j in range(pores.y0.size):
        _, y0 = tf.to_screen(0, pores.y0[j])
        _, y1 = tf.to_screen(0, pores.y1[j])
        if y1 < view.y or y0 > view.bottom:
            continue
        colour = th.species(NAMES[pores.species[j]])
        rect = pygame.Rect(xl, y0, xr - xl, max(2, y1 - y0))
        if pores.is_open[j]:
            pygame.draw.rect(surf, _mix(colour, (0, 0, 0), 0.55), rect)
            pygame.draw.line(surf, colour, (xl, y0), (xr, y0), 2)
            pygame.draw.line(surf, colour, (xl, y1), (xr, y1), 2)
        else:
            pygame.draw.rect(surf, th.pore_closed, rect)
            mid = (xl + xr) / 2
            pygame.draw.line(surf, colour, (mid, y0 - 0.6 * s), (mid, y1 + 0.6 * s), max(2, int(0.5 * s)))
        if not gated_types[pores.kind[j]]:
            continue
        # a voltage-gated type: a diamond at each mouth (its gates read V); an inactivated one
        # (HH's h gate shut) has a ball plugging its inner mouth instead, as in Armstrong's ball
        # and chain
        d = max(3, int(0.6 * s))
        yc = (y0 + y1) / 2
        for xc in (xl, xr):
            if xc == xl and inactivated[j]:
                pygame.draw.circle(surf, th.text, (xc, yc), d + 1)
                pygame.draw.circle(surf, colour, (xc, yc), d + 1, max(1, d // 3))
                continue
            pygame.draw.polygon(surf, colour, [(xc - d, yc), (xc, yc - d), (xc + d, yc), (xc, yc + d)])
    # transporters: a capsule across the band, its notch toward the side it faces, saying its step
    agents = sim.transporters.arrays
    cycles = sim.transporters.cycles
    for p in range(agents.y_nm.size):
        k = int(agents.kind[p])
        _, y = tf.to_screen(0, agents.y_nm[p])
        r_px = cycles.capture_r_nm[k] * s
        if y < view.y - r_px or y > view.bottom + r_px:
            continue
        kind = TRANSPORTERS[k]
        state = kind.states[int(agents.phase[p])]
        running = bool(cycles.running[k])
        body = pump_body(tf, xl, xr, y)
        colour = th.transporter(kind.name) if running else th.pore_closed
        pygame.draw.rect(surf, colour, body, border_radius=max(2, int(0.8 * s)))
        notch_x = body.left if state.face == INSIDE else body.right
        pygame.draw.circle(surf, th.background, (notch_x, y), max(3, int(0.9 * s)))
        label = state.says if running else pumps_off_label
        font = fonts["tiny"]
        if body.height >= font.get_linesize() + 2 and body.width >= font.size(label)[0] + 4 \
                and view.top <= body.top and body.bottom <= view.bottom:
            text.draw(surf, font, label, th.pump_text if running else th.text, region=view,
                      center=body.center)

    # particles, all at once, straight into the pixel array
    radius = max(1, int(round(0.32 * s * th.particle_scale)))
    colours = species_colours(surf, [th.particle(n) for n in NAMES])
    st = sim.state
    shown = min(1.0, tf.visible_height_nm / g.height_nm)   # the share of the membrane in view
    stride = draw_stride(st.n * shown, radius, view.width * view.height)
    pix = pygame.surfarray.pixels2d(surf)
    try:
        draw_particles(pix, st.x, st.y, st.species,
                       Frame(view.x, view.y, view.width, view.height, float(tf.x0_nm), float(tf.y0_nm), float(s)),
                       Disks(colours, SIGNS, LAYERS, int(radius), int(surf.map_rgb((255, 255, 255))), int(stride)))
    finally:
        del pix

    if show_charges:
        _draw_unpaired_charges(surf, sim, tf, view, xl, xr, th)
    if tracked is not None and tracked < sim.state.n:
        pts = [tf.to_screen(x, y) for x, y in trail]
        for k in range(1, len(pts)):    # a trail that fades with age
            f = k / len(pts)
            pygame.draw.line(surf, _mix(th.background, th.followed, 0.15 + 0.85 * f), pts[k - 1], pts[k],
                             2 if f < 0.5 else 3)
        cx, cy = tf.to_screen(sim.state.x[tracked], sim.state.y[tracked])
        if stride > 1:   # it may not be in the sample drawn above
            pygame.draw.circle(surf, th.species(NAMES[sim.state.species[tracked]]), (cx, cy), radius)
        pygame.draw.circle(surf, th.followed, (cx, cy), radius + 6, 3)
        pygame.draw.circle(surf, th.background, (cx, cy), radius + 9, 2)
    pygame.draw.line(surf, th.membrane_edge, (xl, view.y), (xl, view.bottom), 2)
    pygame.draw.line(surf, th.membrane_edge, (xr, view.y), (xr, view.bottom), 2)
    surf.set_clip(None)
    # side labels
    for names, x0, x1 in ((("INSIDE (cytoplasm)", "INSIDE", "IN"), view.x, xl),
                          (("OUTSIDE (bath)", "OUTSIDE", "OUT"), xr, view.right)):
        x0, x1 = max(x0, view.x), min(x1, view.right)
        font = fonts["body"]
        label = next((n for n in names if font.size(n)[0] + 10 <= x1 - x0), None)
        if label is None:
            continue  # that side is scrolled (nearly) out of view
        w, h = font.size(label)
        bg = pygame.Rect(0, 0, w + 10, h + 4)
        bg.midtop = ((x0 + x1) / 2, view.y + 4)
        bg.clamp_ip(view)
        pygame.draw.rect(surf, th.panel, bg, border_radius=4)
        text.draw(surf, font, label, th.text, region=view, center=bg.center)
    pygame.draw.rect(surf, th.panel_edge, view, 1)


def pump_body(tf: ViewTransform, xl: float, xr: float, y: float) -> pygame.Rect:
    """A pump's capsule on screen: across most of the band, centred on its site at height `y`."""
    body = pygame.Rect(0, 0, (xr - xl) * 0.8, max(6, 2.6 * tf.px_per_nm))
    body.center = ((xl + xr) / 2, y)
    return body


def _draw_unpaired_charges(surf, sim, tf, view, xl, xr, th):
    """The net charge Q_in sits as a thin layer on the inner face, its mirror on the outer face:
    draw the share of it that belongs to the visible stretch of membrane as + and − signs."""
    q = sim.q_in
    share = tf.visible_height_nm / sim.geometry.height_nm
    n = int(round(abs(q) * share))
    if n == 0:
        return
    inner = th.negative_tint if q < 0 else th.positive_tint
    outer = th.positive_tint if q < 0 else th.negative_tint
    size = min(max(4, int(view.height / max(n, 1) / 3)), 10)
    for k in range(n):
        y = view.y + (k + 0.5) * view.height / n
        # on the membrane's own background, just inside each face, where they show against it
        for x, colour, sign in ((xl + size + 3, inner, -1 if q < 0 else 1), (xr - size - 3, outer, 1 if q < 0 else -1)):
            pygame.draw.line(surf, colour, (x - size, y), (x + size, y), 3)
            if sign > 0:
                pygame.draw.line(surf, colour, (x, y - size), (x, y + size), 3)


def draw_minimap(surf, sim, tf: ViewTransform, rect: pygame.Rect, th: style.Theme) -> None:
    """The whole membrane as a strip: channels and transporters at their places, the view's window."""
    pygame.draw.rect(surf, th.panel, rect)
    h = sim.geometry.height_nm
    pores = sim.channels.pores
    for j in range(pores.y0.size):
        y = rect.y + (pores.y0[j] + pores.y1[j]) / 2 / h * rect.height
        c = th.species(NAMES[pores.species[j]])
        pygame.draw.line(surf, c if pores.is_open[j] else th.pore_closed, (rect.x + 2, y), (rect.right - 2, y), 2)
    agents, running = sim.transporters.arrays, sim.transporters.cycles.running
    for y_nm, k in zip(agents.y_nm, agents.kind):
        y = rect.y + y_nm / h * rect.height
        colour = th.transporter(TRANSPORTERS[k].name) if running[k] else th.pore_closed
        pygame.draw.circle(surf, colour, (rect.centerx, y), max(2, rect.width // 4))
    top = rect.y + tf.y0_nm / h * rect.height
    pygame.draw.rect(surf, th.marker, (rect.x, top, rect.width, max(3, tf.visible_height_nm / h * rect.height)), 2)


def _mix(a, b, f):
    return tuple(int(round(a[i] * (1 - f) + b[i] * f)) for i in range(3))
