"""The live window: the Pygame loop, layout, input, and the App's actions on the model.

One frame: handle input → advance the model by `steps_per_frame` steps (unless paused) → read it
(V into the oscilloscope, new events as markers, rates) → draw box, minimap, oscilloscope,
readouts, buttons, overlays → flip. The App only reads the `Simulation`'s arrays and counters and
calls its interventions; it never changes model state directly.
"""
from __future__ import annotations

import os
import time
from collections import deque

import numpy as np
import pygame

from render import style
from particles.species import LABEL, NAMES, PERMEANT_NAMES
from render.controls import MOUSE_HELP, Action, keymap, layout_buttons
from render.panel import draw_readouts
from render.scene import draw_box, draw_minimap
from render.scope import Oscilloscope
from render.transform import ViewTransform
from simulation.core.config import Config, ConfigError, load, preset_names
from simulation.core.model import Simulation

DEFAULT_SIZE = (1280, 720)
FPS_CAP = 60
SLOW_EVERY = 6          # slow motion: one step every this many frames
MAX_STEPS_PER_FRAME = 512
WM_CLASS = "RestingPotentialLab"


class NoDisplay(RuntimeError):
    """No video device to open a window on."""


class App:
    def __init__(self, config: Config, preset: str | None = None, overrides: tuple[str, ...] = (),
                 fullscreen: bool = False, size: tuple[int, int] = DEFAULT_SIZE, seed: int = 0):
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", WM_CLASS)  # so tools can find the window
        try:
            pygame.display.init()
            pygame.font.init()
        except pygame.error as e:
            raise NoDisplay(str(e)) from None
        self.fullscreen = fullscreen
        self.window_size = size
        self._open_window()
        pygame.display.set_caption("Resting Potential Lab")
        self.base_config = config
        self.preset = preset
        self.overrides = tuple(overrides)
        self.seed = seed
        self.cell_scale = 1.0
        self.anions_removed = not config["fixed_anions.enabled"]
        self.steps_per_frame = 10
        self.paused = False
        self.slow = False
        self.tint = False
        self.charges = False
        self.help = False
        self.running = True
        self.scope = Oscilloscope()
        self.toast: tuple[str, float] | None = None
        self.tracked: int | None = None
        self.trail: deque = deque(maxlen=400)
        self._frame = 0
        self._frame_times: deque = deque(maxlen=60)
        self._step_log: deque = deque(maxlen=60)
        self._rate_log: deque = deque(maxlen=120)
        self._drag: tuple[int, int, float, float] | None = None
        self._events_seen = 0
        self._theory: dict = {}
        self.sim = Simulation(config, seed)
        self.sim.compile()
        self._layout()

    # ---- window and layout ----------------------------------------------------------------

    def _open_window(self) -> None:
        try:
            if self.fullscreen:
                self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
            else:
                self.screen = pygame.display.set_mode(self.window_size, pygame.RESIZABLE)
        except pygame.error as e:
            raise NoDisplay(str(e)) from None

    def _layout(self) -> None:
        w, h = self.screen.get_size()
        m = style.Metrics(w, h)
        self.fonts = {role: pygame.font.Font(None, m.font_px(role)) for role in ("title", "big", "body", "small")}
        self.fonts["tiny"] = pygame.font.Font(None, max(10, int(m.unit * 1.5)))
        u = m.unit
        pad = int(u)
        self.title_rect = pygame.Rect(0, 0, w, int(6 * u))
        self.buttons_rect = pygame.Rect(0, h - int(12 * u), w, int(12 * u))
        top = self.title_rect.bottom + pad
        bottom = self.buttons_rect.y - pad
        view_w = int(0.50 * w)
        old = getattr(self, "tf", None)
        g = self.sim.geometry
        self.tf = ViewTransform(pad, top, view_w, bottom - top, g.width_nm, g.height_nm,
                                zoom=old.zoom if old else 1.0, y0_nm=old.y0_nm if old else 0.0)
        if old is None:  # start on the middle of the membrane
            self.tf.y0_nm = (g.height_nm - self.tf.visible_height_nm) / 2
        self.tf.clamp()
        self.minimap_rect = pygame.Rect(pad + view_w + pad // 2, top, max(8, int(2.2 * u)), bottom - top)
        right = self.minimap_rect.right + pad
        self.legend_rect = pygame.Rect(right, top, w - right - pad, int(5 * u))
        scope_top = self.legend_rect.bottom + pad // 2
        scope_h = int((bottom - scope_top) * 0.58)
        self.scope_rect = pygame.Rect(right, scope_top, w - right - pad, scope_h)
        self.readout_rect = pygame.Rect(right, self.scope_rect.bottom + pad // 2, w - right - pad,
                                        bottom - self.scope_rect.bottom - pad // 2)
        self.buttons = layout_buttons(self.buttons_rect.inflate(-2 * pad, -pad // 2), ACTIONS)

    # ---- toggles shown on buttons -------------------------------------------------------------

    @property
    def pumps_blocked(self) -> bool:
        return not self.sim.pumps_on

    @property
    def field_off(self) -> bool:
        return not self.sim.field_on

    @property
    def selectivity_off(self) -> bool:
        return not self.sim.selective

    # ---- actions (bound to keys and buttons by ACTIONS, below the class) ----------------------

    def toggle_pause(self):
        self.paused = not self.paused

    def single_step(self):
        self.paused = True
        self.sim.step(1)
        self._after_step()

    def slower(self):
        self.steps_per_frame = max(1, self.steps_per_frame // 2)

    def faster(self):
        self.steps_per_frame = min(MAX_STEPS_PER_FRAME, self.steps_per_frame * 2)

    def toggle_slow(self):
        self.slow = not self.slow

    def toggle_pumps(self):
        self.sim.set_pumps(not self.sim.pumps_on)

    def k_out_up(self):
        self._set_k_out(2.0)

    def k_out_down(self):
        self._set_k_out(0.5)

    def _set_k_out(self, factor: float):
        c = self.sim.concentrations_mM()[1]["K"]
        try:
            self.sim.set_outside_concentration("K", max(0.5, c * factor))
        except ConfigError as e:
            self.say(f"cannot: {e}")
            return
        self.tracked = None  # particles may have been renumbered
        self.trail.clear()

    def scale_permeability(self, ion: str, factor: float):
        before = self.sim.channel_counts()[ion]
        try:
            self.sim.scale_permeability(ion, factor)
        except ConfigError as e:
            self.say(f"cannot: {e}")
            return
        after = self.sim.channel_counts()[ion]
        if factor > 1 and after == before:
            self.say(f"no free place on the membrane for more {ion} channels")

    def toggle_field(self):
        self.sim.set_field(not self.sim.field_on)

    def toggle_selectivity(self):
        self.sim.set_selectivity(not self.sim.selective)

    def toggle_tint(self):
        self.tint = not self.tint

    def toggle_charges(self):
        self.charges = not self.charges

    def toggle_help(self):
        self.help = not self.help

    def toggle_fullscreen(self):
        self.fullscreen = not self.fullscreen
        self._open_window()
        self._layout()

    def scroll_up(self):
        self.tf.y0_nm -= 0.5 * self.tf.visible_height_nm
        self.tf.clamp()

    def scroll_down(self):
        self.tf.y0_nm += 0.5 * self.tf.visible_height_nm
        self.tf.clamp()

    def quit(self):
        self.running = False

    def reset(self, message: str | None = None):
        self._restart(self.base_config, message or "reset: the cell starts again from V = 0")

    def next_preset(self):
        names = preset_names()
        i = (names.index(self.preset) + 1) % len(names) if self.preset in names else 0
        self.preset = names[i]
        self.cell_scale = 1.0
        cfg = load(self.preset)
        self.base_config = cfg
        self.anions_removed = not cfg["fixed_anions.enabled"]
        self._restart(cfg, f"preset: {cfg['name']}")

    def toggle_anions(self):
        self.anions_removed = not self.anions_removed
        self._restart(self.base_config, "restart: no fixed anions inside (Cl- takes their place)"
                      if self.anions_removed else "restart: fixed anions back inside")

    def cell_up(self):
        if self.cell_scale < 4:
            self.cell_scale *= 2
            self._restart(self.base_config, f"restart: cell ×{self.cell_scale:g} (membrane, ions, capacitance)")

    def cell_down(self):
        if self.cell_scale > 0.25:
            self.cell_scale /= 2
            self._restart(self.base_config, f"restart: cell ×{self.cell_scale:g} (membrane, ions, capacitance)")

    def _restart(self, cfg: Config, message: str):
        """Changes the physics cannot make live: build the cell again from its config."""
        s = self.cell_scale
        d = cfg.data
        changes = {"fixed_anions.enabled": not self.anions_removed}
        if s != 1.0:
            changes.update({
                "box.height_nm": d["box"]["height_nm"] * s,
                "physics.particles": int(d["physics"]["particles"] * s),
                "physics.capacitance_e_per_mV": d["physics"]["capacitance_e_per_mV"] * s,
                "pump.count": int(round(d["pump"]["count"] * s)),
                "membrane.channels_per_unit_permeability": max(1, int(round(
                    d["membrane"]["channels_per_unit_permeability"] * s))),
            })
        try:
            new = cfg.replace(changes, "restart")
        except ConfigError as e:
            self.say(f"cannot: {e}")
            return
        self.sim = Simulation(new, self.seed)
        self.scope.clear()
        self._events_seen = 0
        self.tracked = None
        self.trail.clear()
        self._rate_log.clear()
        old_zoom = self.tf.zoom
        self.tf = None
        self._layout()
        self.tf.zoom = old_zoom
        self.tf.clamp()
        self.say(message)

    def say(self, text: str, seconds: float = 4.0):
        self.toast = (text, time.perf_counter() + seconds)

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, frames: int | None = None, screenshot: str | None = None) -> float:
        """Run until quit (or for `frames` frames); returns the mean frames per second."""
        clock = pygame.time.Clock()
        t0 = time.perf_counter()
        n = 0
        while self.running and (frames is None or n < frames):
            self._handle_events()
            self._advance()
            self._draw()
            pygame.display.flip()
            n += 1
            if frames is None:
                clock.tick(FPS_CAP)
        elapsed = time.perf_counter() - t0
        if screenshot:
            pygame.image.save(self.screen, screenshot)
        return n / elapsed if elapsed > 0 else 0.0

    def _advance(self):
        self._frame += 1
        now = time.perf_counter()
        self._frame_times.append(now)
        if self.paused:
            return
        k = (1 if self._frame % SLOW_EVERY == 0 else 0) if self.slow else self.steps_per_frame
        if k:
            self.sim.step(k)
            self._step_log.append((now, k))
            self._after_step()

    def _after_step(self):
        sim = self.sim
        self.scope.add(sim.time_ns, sim.v_mV)
        for e in sim.events[self._events_seen:]:
            self.scope.mark(e.time_ns, e.label)
        self._events_seen = len(sim.events)
        self._rate_log.append((sim.time_ns, sim.crossings, int(sim.pump_totals[1])))
        if self.tracked is not None and self.tracked < sim.state.n:
            self.trail.append((float(sim.state.x[self.tracked]), float(sim.state.y[self.tracked])))

    def _handle_events(self):
        for ev in pygame.event.get():
            if ev.type == pygame.QUIT:
                self.running = False
            elif ev.type == pygame.VIDEORESIZE and not self.fullscreen:
                self.window_size = (max(640, ev.w), max(400, ev.h))
                self.screen = pygame.display.set_mode(self.window_size, pygame.RESIZABLE)
                self._layout()
            elif ev.type == pygame.KEYDOWN:
                action = KEYMAP.get(ev.key)
                if action is not None:
                    action.do(self)
            elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button in (1, 3):
                self._click(ev.pos, ev.button)
            elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
                self._drag = None
            elif ev.type == pygame.MOUSEMOTION and self._drag is not None:
                x0, y0, wx0, wy0 = self._drag
                s = self.tf.px_per_nm
                self.tf.x0_nm = wx0 - (ev.pos[0] - x0) / s
                self.tf.y0_nm = wy0 - (ev.pos[1] - y0) / s
                self.tf.clamp()
            elif ev.type == pygame.MOUSEWHEEL:
                mx, my = pygame.mouse.get_pos()
                if self._in_view((mx, my)):
                    self.tf.zoom_about(1.25 if ev.y > 0 else 0.8, mx, my)
            elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button in (4, 5):
                pass

    def _in_view(self, pos) -> bool:
        return pygame.Rect(self.tf.left_px, self.tf.top_px, self.tf.width_px, self.tf.height_px).collidepoint(pos)

    def _click(self, pos, button):
        for b in self.buttons:
            if b.rect.collidepoint(pos):
                b.action.do(self)
                return
        if self.minimap_rect.collidepoint(pos):
            frac = (pos[1] - self.minimap_rect.y) / self.minimap_rect.height
            self.tf.y0_nm = frac * self.sim.geometry.height_nm - self.tf.visible_height_nm / 2
            self.tf.clamp()
            return
        if not self._in_view(pos):
            return
        if button == 3:
            self.tracked = None
            self.trail.clear()
            return
        wx, wy = self.tf.to_world(*pos)
        s = self.sim.state
        d2 = (s.x - wx) ** 2 + (s.y - wy) ** 2
        i = int(np.argmin(d2))
        if d2[i] * self.tf.px_per_nm ** 2 <= 64:
            self.tracked = i
            self.trail.clear()
        else:
            self._drag = (pos[0], pos[1], self.tf.x0_nm, self.tf.y0_nm)

    # ---- drawing ----------------------------------------------------------------------------

    def _rates(self) -> tuple[dict, float]:
        """Crossings per µs per ion (out, in) and ATP per µs over the recent model time."""
        if len(self._rate_log) < 2:
            return {}, 0.0
        t0, c0, a0 = self._rate_log[0]
        t1, c1, a1 = self._rate_log[-1]
        span_us = (t1 - t0) * 1e-3
        if span_us <= 0:
            return {}, 0.0
        d = (c1 - c0) / span_us
        return {ion: (d[0, k], d[1, k]) for k, ion in enumerate(NAMES) if ion in PERMEANT_NAMES}, (a1 - a0) / span_us

    def _draw(self):
        sim, surf, f = self.sim, self.screen, self.fonts
        surf.fill(style.BACKGROUND)
        if self._frame % 5 == 1 or not self._theory:
            c_in, c_out = sim.concentrations_mM()
            self._conc = (c_in, c_out)
            self._theory = sim.theory(c_in, c_out, donnan=False)
        draw_box(surf, sim, self.tf, f, tint_charge=self.tint, show_charges=self.charges,
                 tracked=self.tracked, trail=list(self.trail))
        draw_minimap(surf, sim, self.tf, self.minimap_rect)
        self._draw_title()
        self._draw_legend()
        self.scope.draw(surf, self.scope_rect, f, self._theory, sim.pumps_on)
        rates, atp_rate = self._rates()
        fps = self._fps()
        draw_readouts(surf, self.readout_rect, f, {
            "c_in": self._conc[0], "c_out": self._conc[1], "theory": self._theory, "rates": rates,
            "pump": {"cycles": int(sim.pump_totals[0]), "atp": int(sim.pump_totals[1]), "atp_per_us": atp_rate,
                     "enabled": sim.pumps_on},
            "time_ns": sim.time_ns, "steps_per_s": self._steps_per_s(), "fps": fps,
            "steps_per_frame": 0 if self.paused else (f"1/{SLOW_EVERY}" if self.slow else self.steps_per_frame),
            "particles": sim.n_particles})
        mouse = pygame.mouse.get_pos()
        for b in self.buttons:
            on = bool(b.action.is_on(self)) if b.action.is_on else False
            b.draw(surf, f["small"], on, b.rect.collidepoint(mouse))
        if self.toast and time.perf_counter() < self.toast[1]:
            t = f["body"].render(self.toast[0], True, style.BACKGROUND)
            r = t.get_rect(midbottom=(self.tf.left_px + self.tf.width_px // 2, self.buttons_rect.y - 10))
            pygame.draw.rect(surf, style.YELLOW, r.inflate(16, 8), border_radius=6)
            surf.blit(t, r)
        if self.help:
            self._draw_help()

    def _draw_title(self):
        f, surf = self.fonts, self.screen
        name = self.sim.config["name"]
        t = f["title"].render(f"Resting Potential Lab — {name}", True, style.TEXT)
        surf.blit(t, (self.tf.left_px, (self.title_rect.height - t.get_height()) // 2))
        state = "PAUSED" if self.paused else ("slow motion" if self.slow else "running")
        flags = [state] + (["FIELD OFF"] if not self.sim.field_on else []) + \
                (["SELECTIVITY OFF"] if not self.sim.selective else [])
        s = f["body"].render("   ".join(flags) + "   H: help", True, style.YELLOW if len(flags) > 1 or self.paused
                             else style.TEXT_DIM)
        surf.blit(s, (self.title_rect.right - s.get_width() - 10, (self.title_rect.height - s.get_height()) // 2))

    def _draw_legend(self):
        f, surf, r = self.fonts, self.screen, self.legend_rect
        x = r.x
        present = np.bincount(self.sim.state.species, minlength=len(NAMES)) > 0
        for k, name in enumerate(NAMES):
            if not present[k]:
                continue
            label = LABEL[name]
            rad = max(4, r.height // 6)
            pygame.draw.circle(surf, style.SPECIES_COLOUR[name], (x + rad, r.centery), rad)
            t = f["body"].render(label, True, style.TEXT)
            surf.blit(t, (x + 2 * rad + 4, r.centery - t.get_height() / 2))
            x += 2 * rad + 4 + t.get_width() + 18
        extra = f["small"].render("channel: coloured = open, bar = closed   pump: white", True, style.TEXT_DIM)
        if x + extra.get_width() < r.right:
            surf.blit(extra, (x, r.centery - extra.get_height() / 2))

    def _draw_help(self):
        f, surf = self.fonts, self.screen
        w, h = surf.get_size()
        lines = [f"{a.key_label:>6}   {a.help}" for a in ACTIONS] + [""] + list(MOUSE_HELP)
        lh = f["body"].get_height()
        box = pygame.Rect(0, 0, int(w * 0.6), lh * (len(lines) + 2))
        box.center = (w // 2, h // 2)
        overlay = pygame.Surface(box.size, pygame.SRCALPHA)
        overlay.fill((10, 12, 16, 235))
        surf.blit(overlay, box)
        pygame.draw.rect(surf, style.PANEL_EDGE, box, 2, border_radius=8)
        y = box.y + lh
        col_w = box.width // 2
        half = (len(lines) + 1) // 2
        for i, line in enumerate(lines):
            x = box.x + 20 + (col_w if i >= half else 0)
            yy = y + (i - (half if i >= half else 0)) * lh
            surf.blit(f["body"].render(line, True, style.TEXT), (x, yy))

    def _fps(self) -> float:
        if len(self._frame_times) < 2:
            return 0.0
        return (len(self._frame_times) - 1) / (self._frame_times[-1] - self._frame_times[0])

    def _steps_per_s(self) -> float:
        if len(self._step_log) < 2:
            return 0.0
        steps = sum(k for _, k in list(self._step_log)[1:])
        return steps / max(self._step_log[-1][0] - self._step_log[0][0], 1e-9)



def _act(keys, key_label, button, help_text, do, is_on=None) -> Action:
    return Action(tuple(keys), key_label, button, help_text, do, is_on)


def _permeability_actions() -> tuple[Action, ...]:
    """÷2 and ×2 for each permeant species' channels, on the digit keys 1, 2 (K⁺), 3, 4 (Na⁺), …"""
    out = []
    for k, ion in enumerate(PERMEANT_NAMES):
        down, up = 2 * k + 1, 2 * k + 2
        out += [_act((pygame.K_0 + down,), str(down), f"P_{ion} ÷2", f"half the {LABEL[ion]} channels",
                     lambda a, ion=ion: a.scale_permeability(ion, 0.5)),
                _act((pygame.K_0 + up,), str(up), f"P_{ion} ×2", f"twice the {LABEL[ion]} channels",
                     lambda a, ion=ion: a.scale_permeability(ion, 2.0))]
    return tuple(out)


ACTIONS: tuple[Action, ...] = (
    _act((pygame.K_SPACE,), "Space", "Pause", "pause / run", App.toggle_pause, lambda a: a.paused),
    _act((pygame.K_n,), "N", "Step", "one step (pauses)", App.single_step),
    _act((pygame.K_MINUS, pygame.K_KP_MINUS), "-", "Slower", "half the steps per frame", App.slower),
    _act((pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS), "+", "Faster", "double the steps per frame", App.faster),
    _act((pygame.K_m,), "M", "Slow-mo", "slow motion: one step every few frames", App.toggle_slow, lambda a: a.slow),
    _act((pygame.K_r,), "R", "Reset", "start the cell again from V = 0", App.reset),
    _act((pygame.K_TAB,), "Tab", "Preset", "next preset (restarts)", App.next_preset),
    _act((pygame.K_o,), "O", "Ouabain", "block / unblock the Na/K pumps", App.toggle_pumps,
         lambda a: a.pumps_blocked),
    _act((pygame.K_j,), "J", "[K]o ÷2", "halve outside K+", App.k_out_down),
    _act((pygame.K_k,), "K", "[K]o ×2", "double outside K+ (hyperkalemia)", App.k_out_up),
) + _permeability_actions() + (
    _act((pygame.K_f,), "F", "Field off", "pores ignore V: nothing pushes back", App.toggle_field,
         lambda a: a.field_off),
    _act((pygame.K_l,), "L", "Select. off", "every pore passes every ion", App.toggle_selectivity,
         lambda a: a.selectivity_off),
    _act((pygame.K_a,), "A", "No A-", "remove / restore the fixed anions (restarts)", App.toggle_anions,
         lambda a: a.anions_removed),
    _act((pygame.K_LEFTBRACKET,), "[", "Cell ÷2", "halve the cell (restarts): noisier V", App.cell_down),
    _act((pygame.K_RIGHTBRACKET,), "]", "Cell ×2", "double the cell (restarts): steadier V", App.cell_up),
    _act((pygame.K_t,), "T", "Tint", "tint each side by its net charge", App.toggle_tint, lambda a: a.tint),
    _act((pygame.K_c,), "C", "Charges", "show the unpaired charges on the faces", App.toggle_charges,
         lambda a: a.charges),
    _act((pygame.K_h, pygame.K_F1), "H", "Help", "this help", App.toggle_help, lambda a: a.help),
    _act((pygame.K_F11,), "F11", None, "full screen on / off", App.toggle_fullscreen),
    _act((pygame.K_UP, pygame.K_PAGEUP), "Up", None, "scroll up the membrane", App.scroll_up),
    _act((pygame.K_DOWN, pygame.K_PAGEDOWN), "Down", None, "scroll down the membrane", App.scroll_down),
    _act((pygame.K_ESCAPE,), "Esc", None, "quit", App.quit),
)
KEYMAP = keymap(ACTIONS)
