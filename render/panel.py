"""Readouts: concentrations in and out per ion, crossings per µs per channel type over a stated
window, the permeabilities placed, the pumps, what the fillers are, and (dark theme) the debug
figures. Laid out as a table whose columns are as wide as their widest entry, so nothing runs
into anything; a line too long for the panel is wrapped; what does not fit the panel is left out
from the bottom, never drawn over or cut. `parts` (style.PANEL_PARTS) says which of these to show:
a hall shows only what the scenario's step needs."""
from __future__ import annotations

import pygame

from particles.species import LABEL, SOLUTES
from render import style
from render.text import TextLayer, wrap_lines


def draw_readouts(surf: pygame.Surface, rect: pygame.Rect, fonts: dict, text: TextLayer, th: style.Theme,
                  info: dict) -> None:
    """`info`: c_in, c_out (mM dicts), rates (per ion: (out, in) per µs), rate_window_ns, pump
    (count, cycles, atp, atp_per_us, enabled, ouabain: blocked by the user), permeability (per
    channel type: (asked, placed)), channels (per type: (open now, channels)), notes (lines to
    show), time_ns, steps_per_s, steps_per_frame, fps, particles; parts (default: all)."""
    pygame.draw.rect(surf, th.panel, rect, border_radius=6)
    pad = max(4, rect.height // 40)
    body, small = fonts["body"], fonts["small"]
    x, y = rect.x + pad, rect.y + pad
    right = rect.right - pad
    bottom = rect.bottom - pad
    shown = [i for i in SOLUTES if info["c_in"][i] > 0 or info["c_out"][i] > 0] or list(SOLUTES[:1])
    parts = info.get("parts", style.PANEL_PARTS)
    rates = info["rates"] if "crossings" in parts else {}
    rows = []
    for ion in shown:
        out_r, in_r = rates.get(ion, (None, None))
        cross = f"{out_r:.0f} / {in_r:.0f}" if out_r is not None else ""
        rows.append((ion, LABEL[ion], f"{info['c_in'][ion]:.1f}", f"{info['c_out'][ion]:.1f}", cross))
    window = info.get("rate_window_ns", 0.0)
    crossings = [f"crossings/µs out / in ({window:.0f} ns)" if window else "", "crossings/µs out / in",
                 "out / in per µs"]
    head = ("", "in mM", "out mM", "crossings/µs out / in" if "crossings" in parts else "")
    font = body
    gap = body.size("  ")[0]
    while True:
        widths = [max(font.size(r[k + 1])[0] for r in rows) for k in range(4)]
        head_w = [small.size(h)[0] for h in head]
        widths = [max(w, hw) for w, hw in zip(widths, head_w)]
        bar_w = int(0.22 * rect.width)
        total = sum(widths) + 4 * gap + bar_w
        if total > right - x:
            bar_w = 0
            total = sum(widths) + 3 * gap
        if total <= right - x or font is small:
            break
        font = small
    lh = font.get_linesize()
    # header
    cols = [x]
    cols.append(cols[0] + widths[0] + gap)
    bar_x = cols[1]
    if bar_w:
        cols[1] += bar_w + gap
    cols.append(cols[1] + widths[1] + gap)
    cols.append(cols[2] + widths[2] + gap)
    hh = small.get_linesize()
    if y + hh <= bottom:
        for k, h in enumerate(head):
            if not h:
                continue
            w = right - cols[k]
            if k == 3:     # the longest wording of the crossings' header that fits
                h = next((c for c in crossings if c and small.size(c)[0] <= w), "")
            label = h if small.size(h)[0] <= w else ""
            if label:
                anchor = {"topright": (cols[k] + widths[k], y)} if k in (1, 2) else {"topleft": (cols[k], y)}
                text.draw(surf, small, label, th.text_dim, region=rect, **anchor)
        y += hh + 2
    c_max = max(max(info["c_in"][i], info["c_out"][i]) for i in shown) or 1.0
    for ion, label, c_in, c_out, cross in rows:
        if y + lh > bottom:
            return
        colour = th.species_text(ion, th.panel)
        text.draw(surf, font, label, colour, region=rect, topleft=(cols[0], y))
        if bar_w:
            for k, val in enumerate((info["c_in"][ion], info["c_out"][ion])):
                w = int(bar_w * val / c_max)
                yy = y + k * lh // 2
                pygame.draw.rect(surf, th.species(ion) if k == 0 else style.mix(th.species(ion), th.panel, 0.45),
                                 (bar_x, yy + 2, max(1, w), lh // 2 - 3))
        text.draw(surf, font, c_in, th.text, region=rect, topright=(cols[1] + widths[1], y))
        text.draw(surf, font, c_out, th.text, region=rect, topright=(cols[2] + widths[2], y))
        if cross:
            text.draw(surf, font, cross, colour, region=rect, topleft=(cols[3], y))
        y += lh + 2
    y += pad // 2
    lines = _status_lines(info, th, parts)
    for line, colour in lines:
        f = body if body.size(line)[0] <= right - x else small
        pieces = wrap_lines(f, line, right - x)
        if y + len(pieces) * (f.get_linesize() + 2) - 2 > bottom:
            return                  # a line is shown whole or not at all
        for piece in pieces:
            text.draw(surf, f, piece, colour, region=rect, topleft=(x, y))
            y += f.get_linesize() + 2


def _status_lines(info: dict, th: style.Theme, parts=style.PANEL_PARTS) -> list[tuple[str, tuple]]:
    out = []
    perm = info.get("permeability", {}) if "permeability" in parts else {}
    if perm:
        values = [f"{name} {placed:.3g}" for name, (_, placed) in perm.items()]
        out.append(("P relative to K+: " + ", ".join(values), th.text))
        for name, (asked, placed) in perm.items():
            if asked > 0 and abs(placed / asked - 1) > 0.01:
                out.append((f"P_{name}: {asked:.3g} asked, {placed:.3g} placed (whole channels, or no more room)",
                            th.legible(style.YELLOW)))
    channels = info.get("channels", {}) if "channels" in parts else {}
    if channels:
        out.append(("channels open: " + ", ".join(f"{name} {k}/{n}" for name, (k, n) in channels.items()), th.text))
        for name, st in info.get("gate_states", {}).items():   # a type whose channels inactivate (Nav)
            out.append((f"{name}: {st['open']} open, {st['closed']} closed (ready), {st['inactivated']} inactivated",
                        th.text))
    pump = info["pump"]
    pumps = "Na/K pump" if pump["count"] == 1 else "Na/K pumps"
    if "pump" not in parts:
        pass
    elif pump["count"] == 0:
        out.append(("no Na/K pumps in this cell", th.text))
    elif pump["enabled"]:
        out.append((f"{pump['count']} {pumps} running: {pump['atp_per_us']:.0f} ATP per µs "
                    f"({pump['atp']} spent)", th.text))
    elif pump["ouabain"]:
        out.append((f"{pump['count']} {pumps} BLOCKED (ouabain): {pump['atp']} ATP spent before",
                    th.legible(style.YELLOW)))
    else:
        out.append((f"{pump['count']} {pumps}, switched off in this cell (O: switch on)", th.text))
    for label, n, running, rate, counter in (info.get("transporters", ()) if "transporters" in parts else ()):
        state = f"{rate:+.0f} {counter.replace('_', ' ')} per µs" if running else "BLOCKED"
        out.append((f"{n} {label}s: {state}", th.text if running else th.legible(style.YELLOW)))
    for note in (info.get("notes", ()) if "notes" in parts else ()):
        out.append((note, th.text_dim))
    if th.show_debug:
        out.append((f"model time {info['time_ns'] / 1000:.3f} µs   {info['steps_per_frame']} steps/frame   "
                    f"{info['steps_per_s']:.0f} steps/s   {info['fps']:.0f} FPS   {info['particles']} ions",
                    th.text_dim))
    return out
