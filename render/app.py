"""The live window: the Pygame loop, layout, input, and the App's actions on the model.

One frame: handle input → advance the model by `steps_per_frame` steps (unless paused) → read it
(V into the oscilloscope, new events as markers, rates) → draw box, minimap, oscilloscope,
readouts, buttons, overlays → flip. The App only reads the `Simulation`'s arrays and counters and
calls its interventions; it never changes model state directly.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque

import numpy as np
import pygame

from membrane.transporters import COUNTERS, TABLE as TRANSPORTERS
from particles.species import LABEL, NAMES, PERMEANT_NAMES, TABLE
from particles.state import HELD
from render import style
from render.controls import MOUSE_HELP, Action, keymap, layout_buttons, plan_buttons
from render.panel import draw_readouts
from render.scene import draw_box, draw_minimap
from render.scope import Oscilloscope
from render.text import TextLayer, make_fonts, shorten
from render.transform import ViewTransform
from simulation.core.config import DEFAULT_CHANNELS, Config, ConfigError, load, preset_names
from simulation.core.model import Simulation
from simulation.core.scenario import CELL_SCALES

DEFAULT_SIZE = (1280, 720)
FPS_CAP = 60
SLOW_EVERY = 6          # slow motion: one step every this many frames
MAX_STEPS_PER_FRAME = 512
RATE_WINDOW_NS = 500.0  # crossings per µs are counted over this much model time
FAST_FRAME_S = 0.25     # fast-forward: step this long between drawn frames
CLAMP_STEP_mV = 10.0    # the clamp's command moves in steps of this
WM_CLASS = "RestingPotentialLab"


class NoDisplay(RuntimeError):
    """No video device to open a window on."""


class App:
    def __init__(self, config: Config, preset: str | None = None, overrides: tuple[str, ...] = (),
                 fullscreen: bool = False, size: tuple[int, int] = DEFAULT_SIZE, seed: int = 0,
                 theme: str = "dark", cell_scale: float = 1.0):
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", WM_CLASS)  # so tools can find the window
        try:
            pygame.display.init()
            pygame.font.init()
        except pygame.error as e:
            raise NoDisplay(str(e)) from None
        self.theme = style.THEMES[theme]
        self.fullscreen = fullscreen
        self.window_size = size
        self._open_window()
        pygame.display.set_caption("Resting Potential Lab")
        self.text = TextLayer()
        self.base_config = config
        self.preset = preset
        self.overrides = tuple(overrides)
        self.seed = seed
        self.cell_scale = cell_scale
        self.anions_removed = not config["fixed_anions.enabled"]
        self.steps_per_frame = 10
        self.paused = False
        self.slow = False
        self.fast = False
        self.tint = False
        self.charges = False
        self.help_page = 0                 # 0 off, 1 the picture, 2 the keys
        self.buttons_shown = self.theme.buttons_shown
        self.show_donnan = False
        self.ouabain_given = False
        # the channel type 9 and 0 act on (Y selects): the first declared type, else the K+ leak
        declared = [t.name for t in config.channel_types() if t.name != t.ion]
        self.selected_type = declared[0] if declared else "K"
        self.running = True
        self.scope = Oscilloscope()
        self.toast: tuple[str, float] | None = None
        self.tracked: int | None = None
        self.trail: deque = deque(maxlen=160)
        self._frame = 0
        self._frame_times: deque = deque(maxlen=60)
        self._step_log: deque = deque(maxlen=60)
        self._rate_log: deque = deque()
        self._fast_factor = 1.0
        self._drag: tuple[int, int, float, float] | None = None
        self._events_seen = 0
        self._theory: dict = {}
        self._layout_fonts()
        self.sim = self._prepare(lambda: self._build(config))
        self._layout()

    def _prepare(self, build):
        """Build (and on a first start compile) the model in a thread, showing that it is
        preparing, in the window and on the terminal, instead of a black screen."""
        result: dict = {}

        def work():
            try:
                result["sim"] = build()
            except BaseException as e:     # handed to the main thread below
                result["error"] = e
        worker = threading.Thread(target=work, daemon=True)
        t0 = time.perf_counter()
        worker.start()
        told = False
        while worker.is_alive():
            worker.join(0.1)
            waited = time.perf_counter() - t0
            if waited > 0.5 and not told:
                sys.stderr.write("preparing the model (the first start compiles its kernels: up to a minute)...\n")
                told = True
            if waited > 0.2:
                pygame.event.pump()
                self._draw_preparing(waited)
        if "error" in result:
            raise result["error"]
        return result["sim"]

    def _build(self, cfg: Config) -> Simulation:
        sim = Simulation(self._scaled(cfg), self.seed)
        sim.compile()
        return sim

    def _draw_preparing(self, waited: float) -> None:
        th, surf = self.theme, self.screen
        surf.fill(th.background)
        self.text.clear()
        w, h = surf.get_size()
        self.text.draw(surf, self.fonts["title"], "Resting Potential Lab", th.text, center=(w // 2, h // 2 - h // 10))
        dots = "." * (1 + int(waited * 2) % 3)
        self.text.draw(surf, self.fonts["body"], f"preparing the model{dots}", th.text, center=(w // 2, h // 2))
        self.text.draw(surf, self.fonts["small"], "the first start compiles the kernels; later starts are quick",
                       th.text_dim, center=(w // 2, h // 2 + h // 12))
        pygame.display.flip()

    # ---- window and layout ----------------------------------------------------------------

    def _open_window(self) -> None:
        try:
            if self.fullscreen:
                self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
            else:
                self.screen = pygame.display.set_mode(self.window_size, pygame.RESIZABLE)
        except pygame.error as e:
            raise NoDisplay(str(e)) from None

    def _layout_fonts(self) -> None:
        w, h = self.screen.get_size()
        self.fonts = make_fonts(h, self.theme.text_share)

    def _layout(self) -> None:
        w, h = self.screen.get_size()
        self._layout_fonts()
        f = self.fonts
        pad = max(4, h // 100)
        self.pad = pad
        self.title_rect = pygame.Rect(0, 0, w, f["title"].get_linesize() + pad)
        if self.buttons_shown:
            rows, row_h = plan_buttons(w - 2 * pad, ACTIONS, f["small"])
            gap = max(2, (w - 2 * pad) // 300)
            bar_h = rows * (row_h + gap) + gap + pad
            self.buttons_rect = pygame.Rect(0, h - bar_h, w, bar_h)
        else:
            self.buttons_rect = pygame.Rect(0, h, w, 0)
        top = self.title_rect.bottom + pad // 2
        self.caption_rect = pygame.Rect(0, self.buttons_rect.y - self.bottom_reserved(), w, self.bottom_reserved())
        bottom = self.caption_rect.y - pad
        view_w = int(0.46 * w)
        old = getattr(self, "tf", None)
        g = self.sim.geometry
        self.tf = ViewTransform(pad, top, view_w, bottom - top, g.width_nm, g.height_nm,
                                zoom=old.zoom if old else 1.0, y0_nm=old.y0_nm if old else 0.0)
        if old is None:  # start on the middle of the membrane
            self.tf.y0_nm = (g.height_nm - self.tf.visible_height_nm) / 2
        self.tf.clamp()
        self.minimap_rect = pygame.Rect(pad + view_w + pad // 2, top, max(8, int(0.022 * h)), bottom - top)
        right = self.minimap_rect.right + pad
        self.legend_rect = pygame.Rect(right, top, w - right - pad, f["body"].get_linesize() + pad)
        scope_top = self.legend_rect.bottom + pad // 2
        scope_h = int((bottom - scope_top) * 0.64)
        self.scope_rect = pygame.Rect(right, scope_top, w - right - pad, scope_h)
        self.readout_rect = pygame.Rect(right, self.scope_rect.bottom + pad // 2, w - right - pad,
                                        bottom - self.scope_rect.bottom - pad // 2)
        self.buttons = (layout_buttons(pygame.Rect(pad, self.buttons_rect.y + pad // 2, w - 2 * pad,
                                                   self.buttons_rect.height - pad), ACTIONS, rows)
                        if self.buttons_shown else [])

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
        if self.slow:
            self.fast = False

    def toggle_fast(self):
        """Fast-forward: step as fast as the model runs, drawing a frame every FAST_FRAME_S."""
        self.fast = not self.fast
        if self.fast:
            self.slow = self.paused = False

    def toggle_pumps(self):
        if self.sim.pump_count == 0:
            self.say("this cell has no Na/K pumps")
            return
        self.sim.set_pumps(not self.sim.pumps_on)
        if not self.sim.pumps_on:
            self.ouabain_given = True

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
        x_out = self.sim.concentrations_mM()[1]["X"]
        if factor > 1 and x_out > 0:
            self.say("X- (an impermeant anion) came in with the added K+, to keep the bath neutral", 6.0)
        elif factor < 1 and self.sim.concentrations_mM()[1]["Y"] > 0:
            self.say("Y+ (an impermeant cation) took the place of the K+ removed, to keep the bath neutral", 6.0)

    def scale_permeability(self, name: str, factor: float):
        """×2 or ÷2 a channel type's permeability. ×2 on a type the cell has no channels of adds
        them: a leak type at the textbook neuron's permeability (Na+ 0.05, Cl- 0.45, Ca2+ 0.01 of
        K+'s), a declared type at its config's."""
        channels = self.sim.channels
        t = channels.type_of(name)
        words = _type_words(t)
        current = channels.effective_permeability()[name]
        if current == 0 and factor < 1:
            self.say(f"this cell has no {words}")
            return
        start = DEFAULT_CHANNELS[name]["relative_permeability"] if t.leak and name in DEFAULT_CHANNELS \
            else t.relative_permeability
        asked = start if current == 0 else channels.relative[name] * factor
        try:
            got = self.sim.set_relative_permeability(name, asked)
        except ConfigError as e:
            self.say(f"cannot: {e}")
            return
        if asked > 0 and abs(got / asked - 1) > 0.01:
            self.say(f"P_{name}: {asked:.3g} asked, {got:.3g} placed (whole channels, or no more room on the "
                     f"membrane)", 6.0)
        elif current == 0:
            self.say(f"{words} added: P_{name} = {got:.3g} of P_K", 5.0)

    def next_channel_type(self):
        """Select the next channel type of this cell for the 9 and 0 keys."""
        names = self.sim.channels.names()
        k = names.index(self.selected_type) if self.selected_type in names else -1
        self.selected_type = names[(k + 1) % len(names)]
        t = self.sim.channels.type_of(self.selected_type)
        self.say(f"selected: {_type_words(t)} (P_{t.name} {self.sim.channels.effective_permeability()[t.name]:.3g}); "
                 f"9 halves, 0 doubles it", 5.0)

    def scale_selected(self, factor: float):
        self.scale_permeability(self.selected_type, factor)

    def toggle_clamp(self):
        """Voltage clamp on (at the present V, to the nearest CLAMP_STEP_mV) or off."""
        if self.sim.clamped:
            self.sim.set_clamp(False)
        else:
            self._clamp_at(round(self.sim.v_mV / CLAMP_STEP_mV) * CLAMP_STEP_mV)

    def command_up(self):
        self._step_command(+CLAMP_STEP_mV)

    def command_down(self):
        self._step_command(-CLAMP_STEP_mV)

    def _step_command(self, dv: float):
        now = self.sim.clamp_mV if self.sim.clamped else round(self.sim.v_mV / CLAMP_STEP_mV) * CLAMP_STEP_mV
        self._clamp_at(now + dv)

    def _clamp_at(self, mv: float):
        try:
            self.sim.set_clamp(True, float(mv))
        except ConfigError as e:
            self.say(f"cannot: {e}")

    def toggle_field(self):
        self.sim.set_field(not self.sim.field_on)

    def toggle_selectivity(self):
        self.sim.set_selectivity(not self.sim.selective)

    def toggle_tint(self):
        self.tint = not self.tint

    def toggle_charges(self):
        self.charges = not self.charges

    def toggle_help(self):
        """Help: the picture explained, then the keys, then off."""
        self.help_page = (self.help_page + 1) % 3

    def toggle_buttons(self):
        self.buttons_shown = not self.buttons_shown
        self._layout()

    def toggle_history(self):
        self.scope.history = not self.scope.history

    def toggle_donnan(self):
        self.show_donnan = not self.show_donnan
        self._theory = {}

    def follow_next(self, species: str | None = None):
        """Follow an ion about to cross (of `species`, or any): one in an open pore (or at its
        mouth) of its own type, nearest the middle of the view, in slow motion and zoomed in."""
        sim = self.sim
        s, g, pores = sim.state, sim.geometry, sim.channels.pores
        free = (s.flags & HELD) == 0
        near = free & (s.x > g.x_left_nm - 1.0) & (s.x < g.x_right_nm + 1.0)
        idx = np.flatnonzero(near)
        if idx.size == 0 or pores.y0.size == 0:
            self.say("no ion near an open pore just now")
            return
        j = np.clip(np.searchsorted(pores.y1, s.y[idx]), 0, pores.y0.size - 1)
        ok = (s.y[idx] >= pores.y0[j]) & (s.y[idx] <= pores.y1[j]) & (pores.is_open[j] == 1) \
            & (pores.species[j] == s.species[idx])
        idx = idx[ok]
        if species is not None:
            idx = idx[s.species[idx] == NAMES.index(species)]
        if idx.size == 0:
            self.say("no ion near an open pore just now")
            return
        # deepest in the pore first (most likely to cross soon), then nearest the view's middle
        depth = np.minimum(s.x[idx] - g.x_left_nm, g.x_right_nm - s.x[idx])
        mid = self.tf.y0_nm + self.tf.visible_height_nm / 2
        i = int(idx[np.lexsort((np.abs(s.y[idx] - mid), -depth))[0]])
        self.tracked = i
        self.trail.clear()
        self.trail.append((float(s.x[i]), float(s.y[i])))
        self.tf.zoom = max(self.tf.zoom, 3.0)
        self.tf.clamp()
        self.tf.y0_nm = float(s.y[i]) - self.tf.visible_height_nm / 2
        self.tf.x0_nm = float(s.x[i]) - self.tf.visible_width_nm / 2
        self.tf.clamp()
        self.slow, self.fast, self.paused = True, False, False
        self.say(f"following a {LABEL[NAMES[s.species[i]]]} in a pore, in slow motion (M: normal speed)", 5.0)

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
        cfg = load(self.preset)
        self.base_config = cfg
        self.anions_removed = not cfg["fixed_anions.enabled"]
        self._restart(cfg, f"preset: {cfg['name']}")

    def toggle_anions(self):
        self.anions_removed = not self.anions_removed
        self._restart(self.base_config, "restart: no fixed anions inside (Cl- takes their place)"
                      if self.anions_removed else "restart: fixed anions back inside")

    def cell_up(self):
        if self.cell_scale < max(CELL_SCALES):
            self.cell_scale *= 2
            self._restart(self.base_config, f"restart: cell x{self.cell_scale:g} (membrane, ions, capacitance): "
                          f"the same V, less noise")

    def cell_down(self):
        if self.cell_scale > min(CELL_SCALES):
            self.cell_scale /= 2
            self._restart(self.base_config, f"restart: cell x{self.cell_scale:g} (membrane, ions, capacitance): "
                          f"the same V, more noise")

    def _scaled(self, cfg: Config) -> Config:
        """The config with the App's changes that need a new cell: the fixed anions removed or
        not, and the cell scaled (membrane length, ions, capacitance, pumps and channels together,
        so the resting V is the same and its noise ∝ 1/√scale)."""
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
                "membrane.min_channels_per_type": max(1, int(round(d["membrane"]["min_channels_per_type"] * s))),
            })
        return cfg.replace(changes, "restart")

    def _restart(self, cfg: Config, message: str):
        """Changes the physics cannot make live: build the cell again from its config."""
        try:
            sim = self._prepare(lambda: self._build(cfg))
        except ConfigError as e:
            self.say(f"cannot: {e}")
            return
        self.sim = sim
        self.scope.clear()
        self._events_seen = 0
        self.tracked = None
        self.trail.clear()
        self._rate_log.clear()
        self.ouabain_given = False
        self._theory = {}
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
        if self.fast:
            # as many steps as the model makes in FAST_FRAME_S, sampled for the scope as usual
            done, t_end = 0, now + FAST_FRAME_S
            while time.perf_counter() < t_end:
                self.sim.step(self.steps_per_frame)
                done += self.steps_per_frame
                self._after_step()
            self._step_log.append((now, done))
            self._fast_factor = done / self.steps_per_frame
            return
        k = (1 if self._frame % SLOW_EVERY == 0 else 0) if self.slow else self.steps_per_frame
        if k:
            self.sim.step(k)
            self._step_log.append((now, k))
            self._after_step()

    def _after_step(self):
        sim = self.sim
        self.scope.add(sim.time_ns, sim.v_mV, float(sim.charge_carried_in.sum()) + sim.pump_charge_in, sim.clamped)
        for e in sim.events[self._events_seen:]:
            self.scope.mark(e.time_ns, e.label)
        self._events_seen = len(sim.events)
        self._rate_log.append((sim.time_ns, np.array(sim.crossings), int(sim.pump_totals[1]),
                               sim.transporters.tallies.counts.copy()))
        while len(self._rate_log) > 2 and self._rate_log[1][0] <= sim.time_ns - RATE_WINDOW_NS:
            self._rate_log.popleft()
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
                self.on_key(ev.key)
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

    def on_key(self, key: int) -> None:
        action = KEYMAP.get(key)
        if action is not None:
            action.do(self)

    def title_text(self) -> str:
        return self.sim.config["name"]

    def title_hint(self) -> str:
        return "H: help" + ("" if self.buttons_shown else "   B: buttons")

    def bottom_reserved(self) -> int:
        """Pixels kept free at the bottom of the window (above the buttons) for a caption."""
        return 0

    def _in_view(self, pos) -> bool:
        return self.tf.rect.collidepoint(pos)

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

    def _transporter_lines(self) -> list[tuple]:
        """(label, agents, running, first counter per µs, counter name) of every transporter type
        but the pump (its line is the panel's own) that this cell has."""
        sim = self.sim
        out = []
        span = 0.0
        if len(self._rate_log) >= 2:
            (t0, _, _, k0), (t1, _, _, k1) = self._rate_log[0], self._rate_log[-1]
            span = (t1 - t0) * 1e-3
        for t in TRANSPORTERS[1:]:
            n = sim.transporters.count(t.name)
            if n == 0:
                continue
            c = COUNTERS.index(t.counters[0])
            rate = (k1[c] - k0[c]) / span if span > 0 else 0.0
            out.append((t.label, n, sim.transporters.running(t.name), rate, t.counters[0]))
        return out

    def _rates(self) -> tuple[dict, float, float]:
        """Crossings per µs per ion (out, in) of the channel types present, ATP per µs, and the
        model time they were counted over (up to RATE_WINDOW_NS)."""
        if len(self._rate_log) < 2:
            return {}, 0.0, 0.0
        t0, c0, a0, _ = self._rate_log[0]
        t1, c1, a1, _ = self._rate_log[-1]
        span_ns = t1 - t0
        if span_ns <= 0:
            return {}, 0.0, 0.0
        d = (c1 - c0) / (span_ns * 1e-3)
        crossing = self.sim.channels.crossing()
        return ({ion: (d[0, k], d[1, k]) for k, ion in enumerate(NAMES) if ion in crossing},
                (a1 - a0) / (span_ns * 1e-3), span_ns)

    def lines_shown(self) -> tuple[str, ...]:
        """The theory lines on the scope: Nernst of the ions with channels, the reversal potential
        of each running exchanger, GHK, GHK with the pump while pumps run, Donnan when asked (D)."""
        sim = self.sim
        keys = [f"E_{ion}_mV" for ion in sim.channels.crossing()]
        keys += [t.reversal_key for t in TRANSPORTERS
                 if t.reversal_key and sim.transporters.count(t.name) > 0 and sim.transporters.running(t.name)]
        keys.append("V_GHK_mV")
        if self.sim.pump_count > 0 and self.sim.pumps_on:
            keys.append("V_MN_mV")
        if self.show_donnan:
            keys.append("V_Donnan_mV")
        return tuple(keys)

    def _draw(self):
        sim, surf, f, th = self.sim, self.screen, self.fonts, self.theme
        self.text.clear()
        surf.fill(th.background)
        if self._frame % 5 == 1 or not self._theory:
            c_in, c_out = sim.concentrations_mM()
            self._conc = (c_in, c_out)
            self._theory = sim.theory(c_in, c_out, donnan=self.show_donnan)
        draw_box(surf, sim, self.tf, f, self.text, th, tint_charge=self.tint, show_charges=self.charges,
                 tracked=self.tracked, trail=list(self.trail),
                 pumps_off_label="blocked" if self.ouabain_given else "off")
        draw_minimap(surf, sim, self.tf, self.minimap_rect, th)
        self._draw_title()
        self._draw_legend()
        self.scope.draw(surf, self.scope_rect, f, self.text, th, self._theory, self.lines_shown(),
                        sim.v_mV if self.scope.t_ns else None)
        rates, atp_rate, window = self._rates()
        placed = sim.channels.effective_permeability()
        asked = sim.channels.relative
        n_open = sim.channels.open_counts()
        notes = []
        c_in, c_out = self._conc
        if c_in["X"] > 0 or c_out["X"] > 0:
            notes.append("X- : impermeant anions that keep a side neutral")
        if c_in["Y"] > 0 or c_out["Y"] > 0:
            notes.append("Y+ : impermeant cations that keep a side neutral")
        draw_readouts(surf, self.readout_rect, f, self.text, th, {
            "c_in": c_in, "c_out": c_out, "rates": rates, "rate_window_ns": window,
            # relative to the K+ leak's unit: shown for every type but a K+ leak that is that unit
            "permeability": {name: (asked[name], placed[name]) for name in sim.channels.names()
                             if placed[name] > 0 and not (name == "K" and abs(placed[name] - 1.0) < 1e-9)},
            "channels": {name: (n_open[name], n) for name, n in sim.channel_counts().items() if n > 0},
            "transporters": self._transporter_lines(),
            "pump": {"count": sim.pump_count, "cycles": int(sim.pump_totals[0]), "atp": int(sim.pump_totals[1]),
                     "atp_per_us": atp_rate, "enabled": sim.pumps_on, "ouabain": self.ouabain_given},
            "notes": notes,
            "time_ns": sim.time_ns, "steps_per_s": self._steps_per_s(), "fps": self._fps(),
            "steps_per_frame": 0 if self.paused else (f"1/{SLOW_EVERY}" if self.slow else self.steps_per_frame),
            "particles": sim.n_particles})
        mouse = pygame.mouse.get_pos()
        for b in self.buttons:
            on = bool(b.action.is_on(self)) if b.action.is_on else False
            b.draw(surf, f["small"], self.text, th, on, b.rect.collidepoint(mouse))
        if self.toast and time.perf_counter() < self.toast[1]:
            view = self.tf.rect
            msg = shorten(f["body"], self.toast[0], view.width - 24)
            w, h = f["body"].size(msg)
            r = pygame.Rect(0, 0, w, h)
            r.midbottom = (view.centerx, view.bottom - 12)
            pygame.draw.rect(surf, th.toast_bg, r.inflate(16, 8), border_radius=6)
            self.text.draw(surf, f["body"], msg, th.toast_text, region=view, center=r.center)
        if self.help_page:
            self._draw_help()

    def _draw_title(self):
        f, surf, th, r = self.fonts, self.screen, self.theme, self.title_rect
        pad = self.pad
        if self.fast:
            state = f"FAST x{self._fast_factor:.0f}"
        else:
            state = "PAUSED" if self.paused else ("slow motion" if self.slow else "")
        flags = [x for x in (state, "FIELD OFF" if not self.sim.field_on else "",
                             "SELECTIVITY OFF" if not self.sim.selective else "",
                             "WHOLE RUN" if self.scope.history else "") if x]
        hint = self.title_hint()
        right = r.right - pad
        hint_r = self.text.draw(surf, f["small"], hint, th.text_dim, midright=(right, r.centery))
        right = hint_r.x - 2 * pad
        if flags:
            s = "   ".join(flags)
            font = f["body"]
            w = font.size(s)[0]
            x = right - w
            if self.fast:   # a fast-forward badge: two triangles before the text
                a = font.get_linesize() // 2
                x -= 2 * a + pad
                for k in range(2):
                    x0 = x + k * a
                    pygame.draw.polygon(surf, th.legible(style.YELLOW, th.background),
                                        [(x0, r.centery - a // 1.2), (x0, r.centery + a // 1.2), (x0 + a, r.centery)])
                x += 2 * a + pad
            fr = self.text.draw(surf, font, s, th.legible(style.YELLOW, th.background), midleft=(x, r.centery))
            right = fr.x - (2 * font.get_linesize() // 2 + 2 * pad if self.fast else 2 * pad)
        name = self.title_text()
        title = shorten(f["title"], f"Resting Potential Lab — {name}", right - pad - self.pad)
        if not title.startswith("Resting") or title.endswith("..."):
            title = shorten(f["title"], name, right - 2 * pad)
        if title:
            self.text.draw(surf, f["title"], title, th.text, midleft=(pad, r.centery))

    def _draw_legend(self):
        f, surf, r, th = self.fonts, self.screen, self.legend_rect, self.theme
        present = np.bincount(self.sim.state.species, minlength=len(NAMES)) > 0
        names = [n for k, n in enumerate(NAMES) if present[k]]
        font = f["body"]
        rad = max(4, font.get_linesize() // 3)

        def width(labels):
            return sum(2 * rad + 6 + font.size(t)[0] + font.get_linesize() for t in labels)
        long = [LABEL[n] for n in names]
        labels = long if width(long) <= r.width else [LABEL[n].split()[0] for n in names]
        x = r.x
        for name, label in zip(names, labels):
            if x + 2 * rad + 6 + font.size(label)[0] > r.right:
                break
            pygame.draw.circle(surf, th.species(name), (x + rad, r.centery), rad)
            t = self.text.draw(surf, font, label, th.species_text(name, th.background), region=r,
                               midleft=(x + 2 * rad + 6, r.centery))
            x = t.right + font.get_linesize()

    def _draw_help(self):
        """Page 1 explains the picture; page 2 lists the keys."""
        f, surf, th = self.fonts, self.screen, self.theme
        w, h = surf.get_size()
        # an opaque page below the title bar: the picture's own text is covered, so forgotten
        self.text.boxes = [b for b in self.text.boxes if b.rect.bottom <= self.title_rect.bottom]
        box = pygame.Rect(self.pad, self.title_rect.bottom, w - 2 * self.pad, h - self.title_rect.bottom - self.pad)
        pygame.draw.rect(surf, th.panel, box, border_radius=8)
        pygame.draw.rect(surf, th.panel_edge, box, 2, border_radius=8)
        if self.help_page == 1:
            title, lines = "What the picture shows (H again: the keys)", self._picture_help()
        else:
            title, lines = "Keys and buttons (H again: close)", \
                [(f"{a.key_label}: {a.help}", None) for a in ACTIONS] + [(m, None) for m in MOUSE_HELP]
        pad = self.pad * 2
        tr = self.text.draw(surf, f["body"], title, th.text, region=box, topleft=(box.x + pad, box.y + pad))
        area = pygame.Rect(box.x + pad, tr.bottom + pad, box.width - 2 * pad, box.bottom - tr.bottom - 2 * pad)
        for font in (f["body"], f["small"], f["tiny"]):
            lh = font.get_linesize() + 2
            per_col = max(1, area.height // lh)
            cols = -(-len(lines) // per_col)
            col_w = (area.width - (cols - 1) * pad) // max(cols, 1)
            if cols <= 3 and all(font.size(t)[0] <= col_w for t, _ in lines):
                break
        for k, (line, colour) in enumerate(lines):
            c, row = divmod(k, per_col)
            x = area.x + c * (col_w + pad)
            line = shorten(font, line, col_w)
            if line:
                self.text.draw(surf, font, line, colour or th.text, region=box, topleft=(x, area.y + row * lh))

    def _picture_help(self) -> list[tuple[str, tuple | None]]:
        th, sim = self.theme, self.sim
        c = sim.capacitance_e_per_mV
        out = [("Left: the cell's edge, seen from the side. Cytoplasm left, membrane (tan band), bath right.", None),
               ("Dots are ions, each a real particle:", None)]
        present = np.bincount(sim.state.species, minlength=len(NAMES)) > 0
        for k, info in enumerate(TABLE):
            if present[k]:
                out.append((f"   {info.label}  {info.words}", th.species_text(info.name, th.panel)))
        out += [
            ("Channels: lanes across the membrane, coloured by the ion they pass.", None),
            ("   open: a coloured lane; closed: dark with a bar. Leak channels flicker open and shut at random;", None),
            ("   voltage-gated ones (a diamond at each end) open and close with V.", None)]
        types = [t for t in sim.channels.types if sim.channels.counts()[t.name] > 0]
        out += _wrapped("   this cell: " + ", ".join(_type_words(t) for t in types) if types else
                        "   this cell has no channels")
        for t in TRANSPORTERS:
            if sim.transporters.count(t.name) == 0:
                continue
            out += _wrapped(f"{t.label}: blocks; the notch shows the side they face. Each cycle: {t.cycle_words()}. "
                            f"Zoomed in, each says its step: {t.steps_words()}. Grey: blocked"
                            + (" (ouabain)." if t.atp else "."))
        lines = [f"E_{ion}" for ion in sim.channels.crossing()]
        out += [
            ("Strip beside the box: the whole membrane, its channels and transporters; the frame is what you see.",
             None),
            ("Scope: V, counted from the ions (thin: each moment; thick: its mean over the time", None),
            ("   the axis states). Under the title: the mean of the last 100 ns (± its standard error when", None),
            ("   the window holds enough independent samples to know it).", None),
            ("   dashed lines: what theory predicts from the concentrations now:", None),
            (f"   {', '.join(lines) or 'E_ion'}: Nernst potential of each ion with channels",
             th.line(f"{lines[0]}_mV" if lines else "E_K_mV", th.panel))]
        out += [(f"   {key[:-3]}: where the {t.label}'s cycle does no work ({t.cycle_words()})", th.line(key, th.panel))
                for t in TRANSPORTERS for key in [t.reversal_key] if key in self.lines_shown()]
        out += [
            ("   GHK: all channels together (Goldman-Hodgkin-Katz; gated ones at their steady state)",
             th.line("V_GHK_mV", th.panel)),
            ("   GHK+pump: with the pump's current (Mullins-Noda)", th.line("V_MN_mV", th.panel)),
            ("   Donnan (D key): where V drifts if the pumps stop for good", th.line("V_Donnan_mV", th.panel)),
            ("Tint (T): each side coloured by its net charge: red = positive, blue = negative.", None),
            (f"Charges (C): one + or - on a face = one unpaired charge; {c * 70:.0f} of them make -70 mV.", None),
            ("Time: model ns. This membrane settles in ~100 ns; a real one in ms (it is far smaller).", None),
        ]
        return out

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


def _wrapped(text: str, width: int = 96) -> list[tuple[str, None]]:
    """A help paragraph as lines of the help page (continuations indented)."""
    import textwrap
    lines = textwrap.wrap(text, width, subsequent_indent="   ")
    return [(line, None) for line in lines]


def _type_words(t) -> str:
    """A channel type in words: "K+ leak channels", "Kir channels (K+, kir gating)"."""
    return f"{LABEL[t.ion]} leak channels" if t.name == t.ion else f"{t.name} channels ({LABEL[t.ion]}, {t.gating})"


DIGIT_PAIRS = 4      # leak types on the digit pairs 1-2, 3-4, 5-6, 7-8
BUTTON_PAIRS = 3     # of which the first three also have buttons (the textbook K+, Na+, Cl- leaks)


def _permeability_actions() -> tuple[Action, ...]:
    """÷2 and ×2 for the leak types of the first ions that can cross, on the digit keys 1, 2 (K⁺),
    3, 4 (Na⁺), ...; and for any channel type of the cell (declared types, and leak types past the
    digits) on 9 and 0, once Y has selected it."""
    out = []
    for k, ion in enumerate(PERMEANT_NAMES[:DIGIT_PAIRS]):
        down, up = 2 * k + 1, 2 * k + 2
        button = k < BUTTON_PAIRS
        out += [_act((pygame.K_0 + down,), str(down), f"P_{ion} ÷2" if button else None,
                     f"halve P_{ion} (the {LABEL[ion]} leak channels)", lambda a, ion=ion: a.scale_permeability(ion, 0.5)),
                _act((pygame.K_0 + up,), str(up), f"P_{ion} ×2" if button else None,
                     f"double P_{ion} (adds {LABEL[ion]} leak channels if there are none)",
                     lambda a, ion=ion: a.scale_permeability(ion, 2.0))]
    out += [_act((pygame.K_y,), "Y", None, "select the next channel type (any type of the cell, Kir, Nav, ...) "
                 "for 9 and 0", App.next_channel_type),
            _act((pygame.K_9,), "9", None, "halve P of the selected channel type", lambda a: a.scale_selected(0.5)),
            _act((pygame.K_0,), "0", None, "double P of the selected channel type (adds its channels if there are "
                 "none)", lambda a: a.scale_selected(2.0))]
    return tuple(out)


ACTIONS: tuple[Action, ...] = (
    _act((pygame.K_SPACE,), "Space", "Pause", "pause / run", App.toggle_pause, lambda a: a.paused),
    _act((pygame.K_n,), "N", "Step", "one step (pauses)", App.single_step),
    _act((pygame.K_MINUS, pygame.K_KP_MINUS), "-", "Slower", "half the steps per frame", App.slower),
    _act((pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS), "+", "Faster", "double the steps per frame", App.faster),
    _act((pygame.K_m,), "M", "Slow-mo", "slow motion: one step every few frames", App.toggle_slow, lambda a: a.slow),
    _act((pygame.K_g,), "G", "Fast", "fast-forward: step as fast as the model runs", App.toggle_fast,
         lambda a: a.fast),
    _act((pygame.K_r,), "R", "Reset", "start the cell again from V = 0", App.reset),
    _act((pygame.K_TAB,), "Tab", "Preset", "next preset (restarts)", App.next_preset),
    _act((pygame.K_o,), "O", "Ouabain", "block / unblock the Na/K pumps", App.toggle_pumps,
         lambda a: a.pumps_blocked and a.ouabain_given),
    _act((pygame.K_j,), "J", "[K]o ÷2", "halve outside K+", App.k_out_down),
    _act((pygame.K_k,), "K", "[K]o ×2", "double outside K+ (hyperkalemia)", App.k_out_up),
) + _permeability_actions() + (
    _act((pygame.K_v,), "V", "Clamp", "voltage clamp on / off: hold V where it is (the scope then shows the "
         "current)", App.toggle_clamp, lambda a: a.sim.clamped),
    _act((pygame.K_COMMA,), ",", "V −10", "clamp 10 mV lower", App.command_down),
    _act((pygame.K_PERIOD,), ".", "V +10", "clamp 10 mV higher", App.command_up),
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
    _act((pygame.K_w,), "W", "Whole run", "the scope shows the whole run from t = 0", App.toggle_history,
         lambda a: a.scope.history),
    _act((pygame.K_d,), "D", "Donnan", "show the Donnan potential (where V drifts without pumps)", App.toggle_donnan,
         lambda a: a.show_donnan),
    _act((pygame.K_i,), "I", "Follow ion", "follow an ion about to cross, in slow motion", App.follow_next),
    _act((pygame.K_h, pygame.K_F1), "H", "Help", "help: the picture, then the keys", App.toggle_help,
         lambda a: a.help_page > 0),
    _act((pygame.K_b,), "B", None, "show / hide the buttons", App.toggle_buttons),
    _act((pygame.K_F11,), "F11", None, "full screen on / off", App.toggle_fullscreen),
    _act((pygame.K_UP, pygame.K_PAGEUP), "Up", None, "scroll up the membrane", App.scroll_up),
    _act((pygame.K_DOWN, pygame.K_PAGEDOWN), "Down", None, "scroll down the membrane", App.scroll_down),
    _act((pygame.K_ESCAPE,), "Esc", None, "quit", App.quit),
)
KEYMAP = keymap(ACTIONS)
