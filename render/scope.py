"""The oscilloscope: V against time as it is produced, theory lines beside it, event markers.

It keeps one sample per frame (simulated time, V) in a ring of the last `capacity` frames, and
draws the raw V thin with a running mean over it thick, on a fixed −100…+70 mV scale, with
horizontal lines for E_K, E_Na, E_Cl, GHK (and GHK with pump when the pumps run), labelled at
the right edge, and a labelled vertical marker wherever the cell was changed.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np
import pygame

from render import style


class Oscilloscope:
    def __init__(self, capacity: int = 900, smooth: int = 15):
        self.capacity = capacity
        self.smooth = smooth
        self.t_ns: deque[float] = deque(maxlen=capacity)
        self.v_mV: deque[float] = deque(maxlen=capacity)
        self.markers: deque[tuple[float, str]] = deque(maxlen=40)  # (time_ns, label)

    def clear(self) -> None:
        self.t_ns.clear()
        self.v_mV.clear()
        self.markers.clear()

    def add(self, t_ns: float, v_mV: float) -> None:
        self.t_ns.append(t_ns)
        self.v_mV.append(v_mV)

    def mark(self, t_ns: float, label: str) -> None:
        self.markers.append((t_ns, label))

    def smoothed(self) -> np.ndarray:
        v = np.fromiter(self.v_mV, dtype=float, count=len(self.v_mV))
        if v.size == 0:
            return v
        k = min(self.smooth, v.size)
        c = np.cumsum(np.insert(v, 0, 0.0))
        out = np.empty_like(v)
        out[k - 1:] = (c[k:] - c[:-k]) / k
        out[:k - 1] = c[1:k] / np.arange(1, k)
        return out

    def draw(self, surf: pygame.Surface, rect: pygame.Rect, fonts: dict, theory: dict, pumps_on: bool) -> None:
        pygame.draw.rect(surf, style.PANEL, rect, border_radius=6)
        pad = max(4, rect.height // 40)
        title = fonts["body"].render("Membrane potential V (mV)", True, style.TEXT)
        header_h = fonts["big"].get_height()
        surf.blit(title, (rect.x + pad, rect.y + pad + header_h - title.get_height() - 4))
        sm = self.smoothed()
        if sm.size:
            big = fonts["big"].render(f"{sm[-1]:+.0f} mV", True, style.TEXT)
            surf.blit(big, (rect.right - big.get_width() - pad, rect.y + pad))
        plot = pygame.Rect(rect.x + pad + fonts["small"].size("-100")[0] + 6, rect.y + 2 * pad + header_h, 0, 0)
        label_w = fonts["small"].size("GHK+pump -71.4")[0] + 8
        plot.width = rect.right - plot.x - label_w - pad
        plot.height = rect.bottom - plot.y - pad - fonts["small"].get_height()
        lo, hi = style.SCOPE_RANGE_mV

        def y_of(v):
            return plot.bottom - (v - lo) / (hi - lo) * plot.height

        pygame.draw.rect(surf, style.BACKGROUND, plot)
        for v in range(-100, 71, 20):  # grid
            y = y_of(v)
            pygame.draw.line(surf, style.PANEL_EDGE, (plot.x, y), (plot.right, y), 1)
            t = fonts["small"].render(f"{v}", True, style.TEXT_DIM)
            surf.blit(t, (plot.x - t.get_width() - 4, y - t.get_height() / 2))
        pygame.draw.line(surf, style.TEXT_DIM, (plot.x, y_of(0)), (plot.right, y_of(0)), 1)

        # theory lines, labels stacked so they never overlap
        lines = []
        for key, (colour, name) in style.THEORY_LINES.items():
            if key == "V_MN_mV" and not pumps_on:
                continue
            v = theory.get(key)
            if v is None or not math.isfinite(v):
                continue
            lines.append((v, colour, name))
        lines.sort(key=lambda t: -t[0])
        last_y = -1e9
        lh = fonts["small"].get_height()
        for v, colour, name in lines:
            vc = min(max(v, lo), hi)
            y = y_of(vc)
            _dashed(surf, colour, plot.x, plot.right, y)
            ly = max(y - lh / 2, last_y + lh)
            text = fonts["small"].render(f"{name} {v:.1f}", True, colour)
            surf.blit(text, (plot.right + 6, ly))
            last_y = ly

        n = len(self.v_mV)
        if n >= 2:
            t = np.fromiter(self.t_ns, dtype=float, count=n)
            t0, t1 = t[0], max(t[-1], t[0] + 1e-9)
            xs = plot.x + (t - t0) / (t1 - t0) * plot.width
            v = np.fromiter(self.v_mV, dtype=float, count=n)
            pts = np.column_stack([xs, y_of(np.clip(v, lo, hi))])
            pygame.draw.lines(surf, style.TEXT_DIM, False, pts.tolist(), 1)
            sm = self.smoothed()
            pts = np.column_stack([xs, y_of(np.clip(sm, lo, hi))])
            pygame.draw.lines(surf, style.TRACE, False, pts.tolist(), max(2, plot.height // 120))
            row_end: list[float] = []  # right end of the last label in each row, so labels never overlap
            for tm, label in self.markers:
                if tm < t0:
                    continue
                x = plot.x + (tm - t0) / (t1 - t0) * plot.width
                pygame.draw.line(surf, style.MARKER, (x, plot.y), (x, plot.bottom), 2)
                text = fonts["small"].render(label, True, style.MARKER)
                tx = min(x + 4, plot.right - text.get_width())
                row = next((i for i, end in enumerate(row_end) if tx > end + 4), len(row_end))
                if row == len(row_end):
                    row_end.append(0.0)
                row_end[row] = tx + text.get_width()
                surf.blit(text, (tx, plot.y + 4 + row * text.get_height()))
            span = t1 - t0
            unit, scale = ("µs", 1e-3) if span >= 2000 else ("ns", 1.0)
            cap = fonts["small"].render(f"last {span * scale:.3g} {unit} of model time", True, style.TEXT_DIM)
            surf.blit(cap, (plot.x, plot.bottom + 2))


def _dashed(surf, colour, x0, x1, y, dash=10, gap=6):
    x = x0
    while x < x1:
        pygame.draw.line(surf, colour, (x, y), (min(x + dash, x1), y), 2)
        x += dash + gap
