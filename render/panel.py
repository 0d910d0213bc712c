"""Readouts: concentrations in and out per ion, crossings per µs per channel type, the pump's
cycles and ATP, model time, steps per second and frames per second."""
from __future__ import annotations

import pygame

from particles.species import LABEL, SOLUTES
from render import style


def draw_readouts(surf: pygame.Surface, rect: pygame.Rect, fonts: dict, info: dict) -> None:
    """`info`: c_in, c_out (mM dicts), theory (dict), rates (per ion: (out, in) per µs), pump
    (cycles, atp, atp_per_us, enabled), time_ns, steps_per_s, steps_per_frame, fps, particles."""
    pygame.draw.rect(surf, style.PANEL, rect, border_radius=6)
    pad = max(4, rect.height // 40)
    body, small = fonts["body"], fonts["small"]
    lh = body.get_height()
    x, y = rect.x + pad, rect.y + pad
    shown = [i for i in SOLUTES if info["c_in"][i] > 0 or info["c_out"][i] > 0] or list(SOLUTES[:1])
    cols = [x, x + max(body.size(LABEL[i] + "  ")[0] for i in shown), 0, 0, 0]
    bar_w = int(rect.width * 0.30)
    cols[2] = cols[1] + bar_w + pad
    cols[3] = cols[2] + body.size("in 000.0 ")[0]
    header = small.render("mM: inside | outside", True, style.TEXT_DIM)
    surf.blit(header, (x, y))
    cross = small.render("crossings per µs: out / in", True, style.TEXT_DIM)
    surf.blit(cross, (cols[3], y))
    y += small.get_height() + 2
    c_max = max(max(info["c_in"][i], info["c_out"][i]) for i in shown) or 1.0
    for ion in shown:
        colour = style.SPECIES_COLOUR[ion]
        surf.blit(body.render(LABEL[ion], True, colour), (x, y))
        for k, (side, val) in enumerate((("in", info["c_in"][ion]), ("out", info["c_out"][ion]))):
            yy = y + k * lh // 2
            w = int(bar_w * val / c_max)
            pygame.draw.rect(surf, colour if side == "in" else _dim(colour), (cols[1], yy + 2, max(1, w), lh // 2 - 3))
        txt = small.render(f"{info['c_in'][ion]:.1f} | {info['c_out'][ion]:.1f}", True, style.TEXT)
        surf.blit(txt, (cols[2], y + lh // 4))
        out_r, in_r = info["rates"].get(ion, (0.0, 0.0))
        surf.blit(body.render(f"{out_r:5.1f} / {in_r:5.1f}", True, colour), (cols[3], y))
        y += lh + 4
    y += pad // 2
    pump = info["pump"]
    state = "running" if pump["enabled"] else "BLOCKED (ouabain)"
    lines = [
        (f"Na/K pumps: {state}", style.TEXT if pump["enabled"] else style.YELLOW),
        (f"cycles {pump['cycles']}   ATP spent {pump['atp']}   ATP per µs {pump['atp_per_us']:.0f}", style.TEXT),
        (f"model time {info['time_ns'] / 1000:.3f} µs   {info['steps_per_frame']} steps/frame", style.TEXT_DIM),
        (f"{info['steps_per_s']:.0f} steps/s   {info['fps']:.0f} FPS   {info['particles']} ions", style.TEXT_DIM),
    ]
    for text, colour in lines:
        if y + lh > rect.bottom:
            break
        surf.blit(body.render(text, True, colour), (x, y))
        y += lh + 2


def _dim(c):
    return tuple(int(v * 0.55) for v in c)
