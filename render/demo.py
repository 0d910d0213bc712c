"""Lecture mode: plays a scenario (`simulation.core.scenario`) in the live view.

The `Demo` is the live `App` with a timeline: each step begins on the presenter's key, when V has
settled, or after some model time; it applies its changes through the same interventions the
keys use, shows its caption (live numbers filled in) in a band at the bottom, highlights a part
of the picture, and may follow an ion, pause, fast-forward or show the whole run. The state
when each step began is saved (a deep copy of the model and the scope), so going back restores
it exactly. A step that rebuilds the cell keeps the earlier trace as a faint ghost.

Presenter's keys (what clickers send): Space, Right, PageDown = next step; Left, PageUp = back
one step; B blanks the screen; P pauses; S saves a PNG named by scenario, step and model time.
Every other key does what it does in the live view.
"""
from __future__ import annotations

import copy
import math
import re
import time

import numpy as np
import pygame

from particles.species import NAMES, PERMEANT_NAMES, SOLUTES
from render import style
from render.app import App
from render.scene import pump_body
from render.text import minus, shorten
from simulation.core.config import ConfigError
from simulation.core.scenario import E_LINES, Scenario, Step, clamp_command, fill_caption
from simulation.core.observe import PA_PER_E_PER_US

NEXT_KEYS = (pygame.K_SPACE, pygame.K_RIGHT, pygame.K_PAGEDOWN)
BACK_KEYS = (pygame.K_LEFT, pygame.K_PAGEUP)
SETTLE_WINDOW_NS = 100.0     # "settled": two consecutive windows of this much model time agree
SETTLE_TOLERANCE_mV = 2.0
SETTLE_GIVE_UP_NS = 1500.0   # ... or this long after the step began, whichever comes first
AUTO_KEY_NS = 150.0          # --auto: a step waiting for the presenter begins after this much model time,
AUTO_KEY_FRAMES = 240        # or after this many frames (8 s at 30 fps), whichever comes first
AUTO_END_NS = 100.0          # --auto: the last step runs this long, then the demo ends


class Demo(App):
    def __init__(self, scenario: Scenario, *, fullscreen: bool = True, size=(1920, 1080), theme: str = "projector",
                 seed: int = 0, auto: bool = False, recorder=None, cell_scale: float = 1.0, screenshot_dir="."):
        self.scenario = scenario
        self.k = -1
        self.saved: dict[int, dict] = {}
        self.began_ns = 0.0
        self.blank = False
        self.step: Step | None = None
        self.points: list[tuple[float, float]] = []
        self.auto = auto
        self.finished = False
        self.recorder = recorder
        self.screenshot_dir = screenshot_dir
        self._flash_until = 0.0
        super().__init__(scenario.config, preset=None, fullscreen=fullscreen, size=size, seed=seed, theme=theme,
                         cell_scale=cell_scale)
        self.buttons_shown = False
        self._layout()
        self.begin(0)

    # ---- the timeline ------------------------------------------------------------------------

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.scenario.steps

    def begin(self, k: int) -> None:
        """Begin step k: collect the ending step's point, apply k's changes, save the state."""
        if self.step is not None and self.step.collect:
            self._collect()
        step = self.steps[k]
        rebuild = step.config is not None or any(key in step.changes for key in ("cell", "fixed_anions"))
        if rebuild:
            ghost = self.scope.series()
            if step.config is not None:
                self.base_config = step.config
                self.cell_scale = self.initial_cell_scale
                self.anions_removed = not step.config["fixed_anions.enabled"]
                self.points = []
            if "cell" in step.changes:
                self.cell_scale = step.changes["cell"] * self.initial_cell_scale
            if "fixed_anions" in step.changes:
                self.anions_removed = not step.changes["fixed_anions"]
            self._restart(self.base_config, step.title)
            self.scope.ghost = ghost if ghost[0].size >= 2 else None
        else:
            self.scope.ghost = None       # the ghost stays for the step that rebuilt the cell
        for key, v in step.changes.items():
            try:
                self._apply_change(key, v)
            except ConfigError as e:
                self.say(f"cannot: {e}")
        self.paused = step.pause
        self.fast = step.fast
        self.slow = False
        self.scope.history = step.history
        self.show_donnan = step.donnan
        self._theory = {}
        if step.follow:
            self.follow_next(step.follow)
        elif self.step is not None and self.step.follow:   # back to the whole picture
            self.tracked = None
            self.trail.clear()
            self.tf.zoom, self.tf.x0_nm = 1.0, 0.0
            self.tf.clamp()
        self.k, self.step = k, step
        self.began_ns = self.sim.time_ns
        self.began_frame = self._frame
        self._step_counts = self._counts()
        self.saved[k] = self._snapshot()
        self._flash_until = time.perf_counter() + 1.5

    def _apply_change(self, key: str, v) -> None:
        sim = self.sim
        if key == "pumps":
            sim.set_pumps(v)
            if not v:
                self.ouabain_given = True
        elif key == "field":
            sim.set_field(v)
        elif key == "selectivity":
            sim.set_selectivity(v)
        elif key.startswith(("inside.", "outside.")):
            side, ion = key.split(".")
            sim.set_concentration(side, ion, v)
            self.tracked = None
            self.trail.clear()
        elif key.startswith("channels."):
            sim.set_relative_permeability(key.split(".")[1], v)
        elif key == "clamp":
            if v is False:
                sim.set_clamp(False)
            else:   # E_K and friends at the concentrations now
                mv = clamp_command(v, sim.theory(donnan=False))
                sim.set_clamp(True, round(mv, 1))
        # cell and fixed_anions were applied by the rebuild

    def next_step(self) -> None:
        if self.k + 1 < len(self.steps):
            self.begin(self.k + 1)
        elif self.auto:
            self.finished = True
            self.running = False

    def previous_step(self) -> None:
        """Back to the state saved when the previous step began."""
        if self.k <= 0:
            self._restore(0)
            return
        self._restore(self.k - 1)

    def _snapshot(self) -> dict:
        return {"sim": copy.deepcopy(self.sim), "scope": copy.deepcopy(self.scope), "cell_scale": self.cell_scale,
                "anions_removed": self.anions_removed, "ouabain_given": self.ouabain_given,
                "points": list(self.points), "base_config": self.base_config, "paused": self.paused,
                "fast": self.fast, "show_donnan": self.show_donnan}

    def _restore(self, k: int) -> None:
        snap = self.saved[k]
        same_geometry = self.sim.geometry.height_nm == snap["sim"].geometry.height_nm
        self.sim = copy.deepcopy(snap["sim"])
        self.scope = copy.deepcopy(snap["scope"])
        for key in ("cell_scale", "anions_removed", "ouabain_given", "base_config", "paused", "fast",
                    "show_donnan"):
            setattr(self, key, snap[key])
        self.points = list(snap["points"])
        self.k, self.step = k, self.steps[k]
        self.began_ns = self.sim.time_ns
        self.began_frame = self._frame
        self._step_counts = self._counts()
        self._events_seen = len(self.sim.events)
        self.tracked = None
        self.trail.clear()
        self._rate_log.clear()
        self._theory = {}
        if not same_geometry:
            self.tf = None
        self._layout()
        self._flash_until = time.perf_counter() + 1.5

    def _collect(self) -> None:
        rm = self.scope.recent_mean()
        k_out = self.sim.concentrations_mM()[1]["K"]
        if rm is not None and k_out > 0:
            self.points.append((k_out, rm[0]))

    def _waited(self) -> bool:
        """Has the next step's wait been met?"""
        if self.k + 1 >= len(self.steps):
            return self.auto and self.sim.time_ns - self.began_ns >= AUTO_END_NS
        wait = self.steps[self.k + 1].wait
        elapsed = self.sim.time_ns - self.began_ns
        if wait == "key":
            return self.auto and (elapsed >= AUTO_KEY_NS or self._frame - self.began_frame >= AUTO_KEY_FRAMES)
        if wait == "settled":
            return self.settled() or elapsed >= SETTLE_GIVE_UP_NS
        return elapsed >= float(wait)

    def settled(self) -> bool:
        """V's means over the last two SETTLE_WINDOW_NS windows since the step began agree."""
        t = np.fromiter(self.scope.t_ns, dtype=float, count=len(self.scope.t_ns))
        v = np.fromiter(self.scope.v_mV, dtype=float, count=t.size)
        now = self.sim.time_ns
        if now - self.began_ns < 2 * SETTLE_WINDOW_NS or t.size < 8:
            return False
        a = (t > now - 2 * SETTLE_WINDOW_NS) & (t <= now - SETTLE_WINDOW_NS)
        b = t > now - SETTLE_WINDOW_NS
        if a.sum() < 3 or b.sum() < 3:
            return False
        return abs(v[b].mean() - v[a].mean()) < SETTLE_TOLERANCE_mV

    # ---- the App's hooks ---------------------------------------------------------------------

    @property
    def initial_cell_scale(self) -> float:
        return getattr(self, "_initial_cell_scale", 1.0)

    def _build(self, cfg):
        if not hasattr(self, "_initial_cell_scale"):
            self._initial_cell_scale = self.cell_scale
        return super()._build(cfg)

    def on_key(self, key: int) -> None:
        if key in NEXT_KEYS:
            self.next_step()
        elif key in BACK_KEYS:
            self.previous_step()
        elif key == pygame.K_b:
            self.blank = not self.blank
        elif key == pygame.K_p:
            self.toggle_pause()
        elif key == pygame.K_s:
            self.save_still()
        else:
            super().on_key(key)

    def title_text(self) -> str:
        return self.step.part if self.step is not None and self.step.part else self.scenario.name

    def title_hint(self) -> str:
        return f"step {self.k + 1}/{len(self.steps)}   Space: next   Left: back   H: help"

    def bottom_reserved(self) -> int:
        if not hasattr(self, "fonts"):
            return 0
        return 2 * self.fonts["title"].get_linesize() + 2 * max(4, self.screen.get_height() // 100)

    def save_still(self, path: str | None = None) -> str:
        if path is None:
            stem = re.sub(r"[^A-Za-z0-9]+", "-", self.scenario.name).strip("-").lower()
            path = f"{self.screenshot_dir}/{stem}-step{self.k + 1}-{self.sim.time_ns:.0f}ns.png"
        pygame.image.save(self.screen, path)
        self.say(f"saved {path}")
        return path

    # ---- the loop ----------------------------------------------------------------------------

    def _advance(self):
        super()._advance()
        if not self.paused and self._waited():
            self.next_step()

    def _draw(self):
        if self.blank:
            self.text.clear()
            self.screen.fill((0, 0, 0))
        else:
            super()._draw()
            if not self.help_page:
                self._draw_highlight()
                self._draw_inset()
                self._draw_caption()
        if self.recorder is not None:
            self.recorder.add(self.screen)

    def run(self, frames=None, screenshot=None) -> float:
        try:
            return super().run(frames, screenshot)
        finally:
            if self.recorder is not None:
                self.recorder.close()

    # ---- drawing -----------------------------------------------------------------------------

    def live_values(self) -> dict:
        """The numbers a caption may name, formatted as a lecturer would say them."""
        sim = self.sim
        c_in, c_out = self._conc if hasattr(self, "_conc") else sim.concentrations_mM()
        th = self._theory or sim.theory(c_in, c_out, donnan=False)
        rm = self.scope.recent_mean()
        v = rm[0] if rm is not None else sim.v_mV

        def mv(x):
            return "?" if x is None or not math.isfinite(x) else minus(f"{x:.0f}")
        out = {"V": mv(v), "t": f"{sim.time_ns:.0f}", "step": str(self.k + 1),
               "V_GHK": mv(th.get("V_GHK_mV")), "V_MN": mv(th.get("V_MN_mV")),
               "pump_share": mv(th.get("V_MN_mV", math.nan) - th.get("V_GHK_mV", math.nan))}
        for line in E_LINES:
            out[line] = mv(th.get(f"{line}_mV"))
        for name, p in sim.channels.effective_permeability().items():
            out[f"P_{name}"] = f"{p:.3g}"
        for ion in SOLUTES:
            out[f"{ion}_in"] = f"{c_in[ion]:.3g}"
            out[f"{ion}_out"] = f"{c_out[ion]:.3g}"
        if "{V_Donnan" in (self.step.caption if self.step else ""):
            out["V_Donnan"] = mv(sim.donnan_mV())
        out["clamp"] = mv(sim.clamp_mV) if sim.clamped else "off"
        # the current and the crossings per µs since this step began (a step changes them)
        t0, crossings0, carried0 = getattr(self, "_step_counts", None) or self._counts()
        t1, crossings1, carried1 = self._counts()
        span_us = (t1 - t0) * 1e-3
        ok = span_us > 0.005
        out["I"] = mv(-(carried1 - carried0) / span_us * PA_PER_E_PER_US if ok else math.nan)
        for s_, ion in enumerate(NAMES):
            if ion in PERMEANT_NAMES:
                d = (crossings1[:, s_] - crossings0[:, s_]) / span_us if ok else (math.nan, math.nan)
                out[f"{ion}_efflux"], out[f"{ion}_influx"] = mv(d[0]), mv(d[1])
        return out

    def _counts(self) -> tuple[float, np.ndarray, float]:
        """(model time, crossings so far [out/in, species], charge carried in so far)."""
        sim = self.sim
        return sim.time_ns, np.array(sim.crossings), float(sim.charge_carried_in.sum()) + sim.pump_charge_in

    def _draw_caption(self):
        r, th, f = self.caption_rect, self.theme, self.fonts
        if r.height <= 0 or self.step is None:
            return
        pad = self.pad
        pygame.draw.rect(self.screen, th.panel, r.inflate(-2 * pad, -pad // 2), border_radius=8)
        if time.perf_counter() < self._flash_until:    # a new step: its band lights up briefly
            pygame.draw.rect(self.screen, th.marker, r.inflate(-2 * pad, -pad // 2), 3, border_radius=8)
        text = fill_caption(self.step.caption, self.live_values())
        if not text:
            return
        box = r.inflate(-4 * pad, -2 * pad)
        for font in (f["title"], f["body"], f["small"]):
            lines = _wrap(font, text, box.width)
            if len(lines) * font.get_linesize() <= box.height:
                break
        lines = lines[: max(1, box.height // font.get_linesize())]
        lines[-1] = shorten(font, lines[-1], box.width)
        y = box.y + (box.height - len(lines) * font.get_linesize()) // 2
        for line in lines:
            self.text.draw(self.screen, font, line, th.text, region=r, topleft=(box.x, y))
            y += font.get_linesize()

    def _draw_highlight(self):
        h = self.step.highlight if self.step else None
        if not h:
            return
        th, surf, tf, sim = self.theme, self.screen, self.tf, self.sim
        pulse = 0.5 + 0.5 * math.sin(time.perf_counter() * 5)
        colour = style.mix(th.marker, th.text, 0.3 * pulse)
        width = 3 + int(2 * pulse)
        g = sim.geometry
        view = tf.rect
        xl, _ = tf.to_screen(g.x_left_nm, 0)
        xr, _ = tf.to_screen(g.x_right_nm, 0)
        surf.set_clip(view)
        if h.startswith("channels."):
            kind = sim.channels.index[h.split(".")[1]]
            pores = sim.channels.pores
            for j in np.flatnonzero(pores.kind == kind):
                _, y0 = tf.to_screen(0, pores.y0[j])
                _, y1 = tf.to_screen(0, pores.y1[j])
                pygame.draw.rect(surf, colour, pygame.Rect(xl - 6, y0 - 6, xr - xl + 12, y1 - y0 + 12), width,
                                 border_radius=4)
        elif h == "pumps":
            for y_nm in sim.transporters.arrays.y_nm[sim.transporters.arrays.kind == 0]:   # the pumps
                _, y = tf.to_screen(0, y_nm)
                pygame.draw.rect(surf, colour, pump_body(tf, xl, xr, y).inflate(12, 12), width, border_radius=6)
        elif h in ("fixed_anions", "inside"):
            pygame.draw.rect(surf, colour, pygame.Rect(view.x, view.y, xl - view.x, view.height).inflate(-6, -6), width)
        elif h == "outside":
            pygame.draw.rect(surf, colour, pygame.Rect(xr, view.y, view.right - xr, view.height).inflate(-6, -6), width)
        surf.set_clip(None)
        if h == "scope":
            pygame.draw.rect(surf, colour, self.scope_rect.inflate(6, 6), width, border_radius=8)
        elif h.startswith("line.") and self.scope.last_plot is not None:
            name = {"GHK": "V_GHK_mV", "GHK+pump": "V_MN_mV", "Donnan": "V_Donnan_mV"}.get(
                h.split(".", 1)[1], h.split(".", 1)[1] + "_mV")
            v = self._theory.get(name)
            if v is not None and math.isfinite(v):
                plot, y = self.scope.last_plot[0], self.scope.y_at(v)
                pygame.draw.line(surf, th.line(name, th.panel), (plot.x, y), (plot.right, y), 4 + int(3 * pulse))

    def _draw_inset(self):
        """V against [K+]o, log scale: the points collected, and the GHK curve of this cell."""
        if not self.points:
            return
        th, surf, f, sim = self.theme, self.screen, self.fonts, self.sim
        view = self.tf.rect
        font = f["small"]
        lh = font.get_linesize()
        r = pygame.Rect(0, 0, int(view.width * 0.62), int(view.height * 0.42))
        r.bottomleft = (view.x + self.pad, view.bottom - self.pad)
        pygame.draw.rect(surf, th.panel, r, border_radius=6)
        pygame.draw.rect(surf, th.panel_edge, r, 2, border_radius=6)
        title = shorten(font, "V against [K+] outside", r.width - 2 * self.pad)
        self.text.draw(surf, font, title, th.text, region=r, topleft=(r.x + self.pad, r.y + self.pad // 2))
        plot = pygame.Rect(r.x + self.pad + font.size("−100")[0] + 4, r.y + lh + self.pad,
                           0, 0)
        plot.width = r.right - self.pad - plot.x
        plot.height = r.bottom - lh - self.pad - plot.y
        if plot.width < 40 or plot.height < 30:
            return
        ks = [k for k, _ in self.points]
        k_lo, k_hi = min(ks + [2.0]) / 1.5, max(ks + [20.0]) * 1.5
        v_lo, v_hi = -100.0, 0.0

        def xy(k, v):
            x = plot.x + (math.log(k) - math.log(k_lo)) / (math.log(k_hi) - math.log(k_lo)) * plot.width
            y = plot.bottom - (min(max(v, v_lo), v_hi) - v_lo) / (v_hi - v_lo) * plot.height
            return x, y
        pygame.draw.rect(surf, th.background, plot)
        for v in (-100, -50, 0):
            _, y = xy(k_lo, v)
            pygame.draw.line(surf, th.grid, (plot.x, y), (plot.right, y), 1)
            self.text.draw(surf, font, minus(f"{v}"), th.text_dim, region=r,
                           midright=(plot.x - 3, min(max(y, plot.y + lh / 2), plot.bottom - lh / 2)))
        # GHK of this cell as [K+]o varies, the inside and the other outside ions as they are now
        c_in, c_out = sim.concentrations_mM()
        ks_curve = np.exp(np.linspace(math.log(k_lo), math.log(k_hi), 60))
        pts = [xy(k, sim.resting_theory_mV(c_in, dict(c_out, K=k))[0]) for k in ks_curve]
        pygame.draw.lines(surf, th.line("V_GHK_mV", th.panel), False, pts, 2)
        for k, v in self.points:
            pygame.draw.circle(surf, th.trace, xy(k, v), max(4, lh // 4))
        last = -1e9
        for k in sorted(set(round(k, 1) for k in ks)):
            x, _ = xy(k, v_lo)
            label = f"{k:g}"
            w = font.size(label)[0]
            if x - w / 2 > last + 4 and x + w / 2 <= r.right - 2:
                self.text.draw(surf, font, label, th.text_dim, region=r, midtop=(x, plot.bottom + 1))
                last = x + w / 2


def _wrap(font, text: str, width: int) -> list[str]:
    """Words onto lines no wider than `width`."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if font.size(trial)[0] <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]
