"""The oscilloscope: draws a V trace (simulation/session/trace.py) as it is produced, theory lines
beside it, event markers.

It draws the raw V thin and the trace's running mean thick; the V axis starts at −100…+70 mV and
grows (in steps of 20 mV) to hold every visible sample, so a V that runs away (field off) is
never pinned flat to an edge. Horizontal lines mark E_K, E_Na, E_Cl, GHK (and GHK with the pump
when pumps run, Donnan when asked), labelled at the right edge; labels that would overlap are
moved apart and joined to their line by a leader. Time ticks are in model ns (or µs). While a
voltage clamp holds V (the trace is then the flat command), a second plot below it shows the
current the clamp supplies: the charge the channels and pumps carry out per time, averaged like
the thick trace (pA, outward up). The whole-run view (W) shows the trace's thinned history from
t = 0 with every marker.
"""
from __future__ import annotations

import math

import numpy as np
import pygame

from render import style
from render.text import TextLayer, minus, spread
from simulation.session.trace import VTrace


AXIS_LIMIT_mV = 1000.0  # the V axis grows to hold what is seen, up to ± this (beyond: an arrow)
DRIFT_mV = 2.0          # the halves of the readout's window differ by more: V is still moving


def nice_step(span: float, n: int = 5) -> float:
    """A 1-2-5 tick step giving about `n` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


class Oscilloscope:
    """Draws a `VTrace` (simulation/session/trace.py) into a rectangle; remembers where it drew
    the plot so overlays (a highlighted theory line) can find a V on it."""

    def __init__(self):
        self.last_plot: tuple[pygame.Rect, float, float] | None = None  # plot area and V range drawn

    def draw(self, surf: pygame.Surface, rect: pygame.Rect, trace: VTrace, fonts: dict, text: TextLayer,
             th: style.Theme, theory: dict, lines_shown: tuple[str, ...], v_now: float | None) -> None:
        tr = trace
        pygame.draw.rect(surf, th.panel, rect, border_radius=6)
        pad = max(4, rect.height // 40)
        big, body, small = fonts["big"], fonts["body"], fonts["small"]
        # header: the instantaneous V big on the right, the title and the recent mean on the left
        big_r = None
        if v_now is not None:
            big_r = text.draw(surf, big, f"{minus(f'{v_now:+.0f}')} mV", th.text, region=rect,
                              topright=(rect.right - pad, rect.y + pad // 2))
            # the big digits are this instant's V (the captions quote the mean below the title)
            now_r = text.draw(surf, small, "now", th.text_dim, region=rect,
                              bottomright=(big_r.x - pad // 2, big_r.y + big.get_ascent()))
            big_r = big_r.union(now_r)
        left_w = (big_r.x if big_r else rect.right) - rect.x - 3 * pad
        header_h = max(big.get_linesize(), body.get_linesize() + small.get_linesize())
        title = "Membrane potential V"
        if body.size(title)[0] > left_w:
            title = "V"
        text.draw(surf, body, title, th.text, region=rect, topleft=(rect.x + pad, rect.y + pad // 2))
        if tr.held and tr.held[-1] and v_now is not None:
            line = f"clamped: the electrode holds V at {minus(f'{v_now:+.0f}')} mV"
            if small.size(line)[0] > left_w:
                line = "clamped"
            if small.size(line)[0] <= left_w:
                text.draw(surf, small, line, th.text_dim, region=rect,
                          topleft=(rect.x + pad, rect.y + pad // 2 + body.get_linesize()))
        elif (rm := tr.recent_mean()) is not None:
            m, sem, span = rm
            drift = tr.recent_drift()
            if abs(drift) > DRIFT_mV:     # the window is still in a transient: no ± for a moving V
                way = "falling" if drift < 0 else "rising"
                line = f"still {way}: mean {minus(f'{m:+.1f}')} mV over the last {span:.0f} ns"
                short = f"still {way}: {minus(f'{m:+.1f}')}"
            else:
                pm = f" ± {sem:.1f}" if math.isfinite(sem) else ""
                line = f"mean {minus(f'{m:+.1f}')}{pm} mV, last {span:.0f} ns"
                short = f"mean {minus(f'{m:+.1f}')}{pm}"
            if small.size(line)[0] > left_w:
                line = short
            if small.size(line)[0] <= left_w:
                text.draw(surf, small, line, th.text_dim, region=rect,
                          topleft=(rect.x + pad, rect.y + pad // 2 + body.get_linesize()))

        # the plot area, with room for the V ticks left, the labels right, the time ticks below
        lines = self._theory_lines(theory, lines_shown, th)
        label_w = max([small.size(f"{name} {minus(f'{v:.1f}')}")[0] for v, _, name, _ in lines] + [0])
        tick_w = small.size("−100")[0]
        plot = pygame.Rect(rect.x + pad + tick_w + 6, rect.y + pad + header_h + pad // 2, 0, 0)
        leader = max(8, pad * 2)
        plot.width = rect.right - plot.x - label_w - leader - pad
        plot.height = rect.bottom - plot.y - pad - small.get_linesize() - 2
        t, v = tr.series()
        q, held = tr.clamp_series()
        current = None
        if held.any() and plot.height >= 120:
            # the current the clamp supplies, in a plot of its own below V's
            current = plot.copy()
            current.height = int(plot.height * 0.38)
            plot.height -= current.height + small.get_linesize() // 2 + pad
            current.bottom = plot.bottom + current.height + small.get_linesize() // 2 + pad
        if plot.width < 40 or plot.height < 40:
            return
        sm = tr.smoothed(t, v)
        lo, hi = style.SCOPE_RANGE_mV
        values = [x for x, *_ in lines if abs(x) <= AXIS_LIMIT_mV]
        if v.size:   # the thick trace too: at the live end its fitted line can run past the samples
            values += [float(v.min()), float(v.max()), float(sm.min()), float(sm.max())]
        while values and min(values) < lo and lo > -AXIS_LIMIT_mV:
            lo -= 20.0
        while values and max(values) > hi and hi < AXIS_LIMIT_mV:
            hi += 20.0

        def y_of(x):
            return plot.bottom - (np.asarray(x) - lo) / (hi - lo) * plot.height

        pygame.draw.rect(surf, th.background, plot)
        step = nice_step(hi - lo, max(2, int(plot.height / (2.2 * small.get_linesize()))))
        step = max(step, 10.0)
        first = math.ceil(lo / step) * step
        tick_rects: list[pygame.Rect] = []
        for k in range(int((hi - first) // step) + 1):
            val = first + k * step
            y = float(y_of(val))
            pygame.draw.line(surf, th.grid, (plot.x, y), (plot.right, y), 1)
            # a short plot: every other label
            _tick_label(surf, text, small, minus(f"{val:.0f}"), th, rect, tick_rects, plot.x - 4,
                        min(max(y, plot.y + small.get_linesize() / 2), plot.bottom - small.get_linesize() / 2))
        if lo < 0 < hi:
            pygame.draw.line(surf, th.text_dim, (plot.x, y_of(0)), (plot.right, y_of(0)), 1)

        # theory lines, their labels spread apart with leaders where they had to move
        lh = small.get_linesize() + 1   # a rendered line is at most this tall (font.size() can say less)
        label_top = rect.y + pad + header_h   # below the header's digits
        lines = lines[:max(0, (rect.bottom - pad - label_top) // lh)]   # no room for more labels: fewer lines
        tops = spread([float(y_of(min(max(val, lo), hi))) for val, *_ in lines], lh, label_top, rect.bottom - pad)
        for (val, colour, name, _), top in zip(lines, tops):
            off_scale = not lo <= val <= hi
            y = float(y_of(min(max(val, lo), hi)))
            _dashed(surf, colour, plot.x, plot.right, y, width=max(2, plot.height // 150))
            label = f"{name} {minus(f'{val:.1f}')}" + (" (off scale)" if off_scale else "")
            x_label = plot.right + leader
            r = text.draw(surf, small, label if small.size(label)[0] <= rect.right - x_label - pad // 2
                          else f"{name} {minus(f'{val:.1f}')}", colour, region=rect, topleft=(x_label, top))
            pygame.draw.line(surf, colour, (plot.right, y), (x_label - 2, r.centery), 2)

        self.last_plot = (plot.copy(), lo, hi)
        if tr.ghost is not None and tr.ghost[0].size >= 2:
            # the cell before the rebuild, faint, from the left edge on the same time scale
            gt, gv = tr.ghost
            span = max(float(t[-1] - t[0]) if t.size >= 2 else 0.0, float(gt[-1] - gt[0]), 1e-9)
            xs = plot.x + (gt - gt[0]) / span * plot.width
            surf.set_clip(plot)
            pygame.draw.lines(surf, style.mix(th.background, th.trace, 0.35), False,
                              np.column_stack([xs, y_of(tr.smoothed(gt, gv))]).tolist(), max(2, plot.height // 120))
            surf.set_clip(None)
        if t.size >= 2:
            t0 = 0.0 if tr.history else t[0]
            t1 = max(t[-1], t0 + 1e-9)
            if tr.ghost is not None and tr.ghost[0].size >= 2:   # the same ns per pixel as the ghost
                t1 = max(t1, t0 + float(tr.ghost[0][-1] - tr.ghost[0][0]))
            xs = plot.x + (t - t0) / (t1 - t0) * plot.width
            surf.set_clip(plot)
            pygame.draw.lines(surf, th.trace_raw, False, np.column_stack([xs, y_of(v)]).tolist(), 1)
            pygame.draw.lines(surf, th.trace, False, np.column_stack([xs, y_of(sm)]).tolist(),
                              max(3, plot.height // 100))
            surf.set_clip(None)
            peak = self._draw_prediction(surf, tr, plot, th, t0, t1, y_of)
            labels_bottom = self._draw_markers(surf, tr, plot, small, text, th, t0, t1, rect)
            if peak is not None:                # the equations' label at their peak, below the markers' labels
                label = style.theory_line("V_HH_mV")[1]
                w = small.size(label)[0]
                x = min(max(peak[0] + 6, plot.x + 2), plot.right - w - 2)
                y = min(max(peak[1] - small.get_linesize(), labels_bottom + 2), plot.bottom - small.get_linesize())
                text.draw(surf, small, label, th.line("V_HH_mV"), region=rect, background=th.background,
                          topleft=(x, y))
            last = float(sm[-1])
            if not lo <= last <= hi:   # beyond the axis: an arrow at the edge with the value (below the markers' labels)
                down = last < lo
                a = max(8, small.get_linesize() // 2)
                half = max(a, small.get_linesize()) / 2 + 2   # the taller of the arrow and its label, halved
                # the arrow's middle far enough in that the whole label (taller than the arrow)
                # stays inside the plot and below the markers' labels
                mid = plot.bottom - half if down else max(plot.y + half, labels_bottom + half)
                ye = mid + a / 2 if down else mid - a / 2
                xe = plot.right - a - 4
                tip = (xe, ye)
                base = ye - a if down else ye + a
                pygame.draw.polygon(surf, th.marker, [tip, (xe - a, base), (xe + a, base)])
                label = f"V {minus(f'{last:+.0f}')} mV"
                text.draw(surf, small, label, th.marker, region=rect, background=th.background,
                          midright=(xe - a - 4, mid))
            if current is not None:
                self._draw_current(surf, tr, current, small, text, th, t, q, held, t0, t1, rect)
            self._draw_time_axis(surf, tr, current if current is not None else plot, small, text, th, t0, t1, rect)

    def _draw_prediction(self, surf, tr, plot, th, t0, t1, y_of) -> tuple[float, float] | None:
        """Hodgkin and Huxley's equations from the last pulse, dashed, over the time the plot
        shows (they appear beside V as the trace reaches them); returns where their peak is drawn
        (for the label), or None."""
        if tr.prediction is None:
            return None
        pt, pv = tr.prediction
        shown = (pt >= t0) & (pt <= t1)
        if shown.sum() < 2:
            return None
        xs = plot.x + (pt[shown] - t0) / (t1 - t0) * plot.width
        ys = y_of(pv[shown])
        colour = th.line("V_HH_mV")
        width = max(2, plot.height // 160)
        dash = max(6, plot.width // 90)
        surf.set_clip(plot)
        start = 0
        for k in range(1, xs.size):                       # dashes of about `dash` pixels along x
            if xs[k] - xs[start] >= dash or k == xs.size - 1:
                if (int(xs[start] - plot.x) // dash) % 2 == 0:
                    pygame.draw.lines(surf, colour, False, np.column_stack([xs[start:k + 1], ys[start:k + 1]]).tolist(),
                                      width)
                start = k
        surf.set_clip(None)
        top = int(np.argmin(ys))
        return float(xs[top]), float(ys[top])

    def _draw_current(self, surf, tr, plot, font, text, th, t, q, held, t0, t1, rect):
        """The clamp's current below the V plot: thick while held (blank where V was free), its
        axis in pA with 0 marked, 'out' up."""
        pygame.draw.rect(surf, th.background, plot)
        i = tr.current_pA(t, q, tr.smoothing_ns(t))
        i = np.where(held, i, np.nan)
        shown = i[np.isfinite(i)]
        top = max(20.0, float(np.abs(shown).max()) * 1.15) if shown.size else 20.0
        step = nice_step(2 * top, max(2, int(plot.height / (2.2 * font.get_linesize()))))
        top = math.ceil(top / step) * step

        def y_of(x):
            return plot.y + (top - np.asarray(x)) / (2 * top) * plot.height
        placed: list[pygame.Rect] = []
        n = int(top // step)
        for k in sorted(range(-n, n + 1), key=abs):      # 0 first, then outward; a label that would
            y = float(y_of(k * step))                    # touch one already placed is left out
            pygame.draw.line(surf, th.grid, (plot.x, y), (plot.right, y), 1)
            if abs(k) == n or k == 0:
                _tick_label(surf, text, font, minus(f"{k * step:.0f}"), th, rect, placed, plot.x - 4, y)
        pygame.draw.line(surf, th.text_dim, (plot.x, y_of(0)), (plot.right, y_of(0)), 1)
        xs = plot.x + (t - t0) / (t1 - t0) * plot.width
        surf.set_clip(plot)
        width = max(3, plot.height // 40)
        run: list = []
        for x, y, ok in zip(xs, y_of(np.nan_to_num(i)), np.isfinite(i)):
            if ok:
                run.append((float(x), float(y)))
            elif run:
                if len(run) > 1:
                    pygame.draw.lines(surf, th.trace, False, run, width)
                run = []
        if len(run) > 1:
            pygame.draw.lines(surf, th.trace, False, run, width)
        surf.set_clip(None)
        now = i[-1] if i.size else math.nan
        label = "clamp current, pA (out +)" + (f": {minus(f'{now:+.0f}')}" if math.isfinite(now) else "")
        if font.size(label)[0] > plot.width - 8:
            label = "I, pA (out +)"
        text.draw(surf, font, label, th.text, region=rect, background=th.background, topleft=(plot.x + 4, plot.y + 2))

    def y_at(self, v_mV: float) -> float | None:
        """Screen y of `v_mV` on the plot as last drawn (clamped to its range); None before."""
        if self.last_plot is None:
            return None
        plot, lo, hi = self.last_plot
        return plot.bottom - (min(max(v_mV, lo), hi) - lo) / (hi - lo) * plot.height

    def _theory_lines(self, theory: dict, shown: tuple[str, ...], th: style.Theme) -> list:
        lines = []
        lo, hi = style.SCOPE_RANGE_mV
        for key in shown:
            v = theory.get(key)
            if v is None or not math.isfinite(v):
                continue
            lines.append((v, th.line(key, th.panel), style.theory_line(key)[1], False))
        return lines

    def _draw_markers(self, surf, tr, plot, font, text, th, t0, t1, rect):
        """Event markers: a line at the event, its label in the first row where it fits, the
        newest first (when rows run out, the oldest labels go; their lines stay). Every line is
        drawn before any label, so a label (on its own background) is never crossed by a later
        marker's line. Returns the y below the rows of labels drawn."""
        rows: list[list[tuple[float, float]]] = []    # the label spans placed in each row
        lh = font.get_linesize()
        max_rows = max(1, int(plot.height * 0.4 / lh))
        shown = [(plot.x + (tm - t0) / (t1 - t0) * plot.width, minus(label)) for tm, label in tr.markers
                 if t0 <= tm <= t1]
        for x, _ in shown:
            pygame.draw.line(surf, th.marker, (x, plot.y), (x, plot.bottom), 2)
        for x, label in reversed(shown):
            w = font.size(label)[0]
            if w > plot.width - 16:
                continue
            # right of its line, or left of it near the plot's right edge: never across it (another
            # marker's line stops at the label's padded background)
            tx = x + 6 if x + 6 + w <= plot.right - 4 else max(plot.x + 4, x - 6 - w)
            row = next((i for i, spans in enumerate(rows)
                        if all(tx + w + 4 < a or tx - 4 > b for a, b in spans)), len(rows))
            if row >= max_rows:
                continue
            if row == len(rows):
                rows.append([])
            rows[row].append((tx - 4, tx + w + 4))
            pygame.draw.rect(surf, th.background, pygame.Rect(tx - 4, plot.y + 3 + row * lh, w + 8, lh))
            text.draw(surf, font, label, th.marker, region=rect, background=th.background,
                      topleft=(tx, plot.y + 3 + row * lh))
        return plot.y + 3 + len(rows) * lh

    def _draw_time_axis(self, surf, tr, plot, font, text, th, t0, t1, rect):
        """Time ticks numbered below the plot, and the axis' caption at its left: the longest
        caption that leaves at least two tick labels (with none, the unit goes on the last label)."""
        span = t1 - t0
        unit, scale = ("µs", 1e-3) if span >= 2000 else ("ns", 1.0)
        base = f"model time, {unit}" + (" (whole run)" if tr.history else "")
        thick = f"; thick: {tr.smoothing_ns(np.array([t0, t1])):.0f} ns mean"
        y = plot.bottom + 2
        n_ticks = max(2, int(plot.width / (4 * font.size("0000")[0])))
        step = nice_step(span * scale, n_ticks) / scale
        ticks = []
        for k in range(math.ceil(t0 / step), int(t1 // step) + 1):
            label = f"{k * step * scale:g}"
            w = font.size(label)[0]
            x = plot.x + (k * step - t0) / span * plot.width
            ticks.append((x, label, min(max(x - w / 2, plot.x), plot.right - w), w))

        def placed(caption: str) -> list:
            last_right = plot.x + (font.size(caption)[0] + 10 if caption else -10)
            out = []
            for x, label, lx, w in ticks:
                if lx > last_right + 6:
                    out.append((x, label, lx))
                    last_right = lx + w
            return out
        for caption in (base + thick, base, unit, ""):
            if font.size(caption)[0] <= plot.width * 0.7 and len(placed(caption)) >= min(2, len(ticks)):
                break
        labels = placed(caption)
        if caption:
            text.draw(surf, font, caption, th.text_dim, region=rect, topleft=(plot.x, y))
        for x, _, _, _ in ticks:
            pygame.draw.line(surf, th.grid, (x, plot.bottom - 6), (x, plot.bottom), 1)
        for j, (x, label, lx) in enumerate(labels):
            if not caption and j == len(labels) - 1:
                label = f"{label} {unit}"
                lx = min(lx, plot.right - font.size(label)[0])
            text.draw(surf, font, label, th.text_dim, region=rect, topleft=(lx, y))


def _tick_label(surf, text, font, label: str, th, rect, placed: list, right_x: float, y: float) -> None:
    """An axis value right-aligned at (right_x, y), drawn (and added to `placed`) unless it would
    touch a label already placed or leave `rect`."""
    r = pygame.Rect(0, 0, font.size(label)[0], font.get_linesize() + 1)   # a rendered line's height
    r.midright = (right_x, y)
    if rect.contains(r) and not any(r.colliderect(o) for o in placed):
        placed.append(text.draw(surf, font, label, th.text_dim, region=rect, topleft=r.topleft))


def _dashed(surf, colour, x0, x1, y, dash=12, gap=7, width=2):
    x = x0
    while x < x1:
        pygame.draw.line(surf, colour, (x, y), (min(x + dash, x1), y), width)
        x += dash + gap
