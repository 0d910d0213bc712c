"""The live window: a Pygame adapter over a `Session` (simulation/session/session.py).

One frame: handle input → `session.advance_frame()` (the pace decides the steps) → draw box,
minimap, oscilloscope, readouts, buttons, overlays → flip. What a key or button does to the cell
or the pace is a session control (`CONTROLS`: it does its work and returns what to say); the App
binds keys to controls, shows what they say, and owns only what is about the window: its size,
the zoom and pan, help, tint, charges, buttons, full screen.
"""
from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections import deque

import numpy as np
import pygame

from membrane.transporters import TABLE as TRANSPORTERS
from particles.species import LABEL, NAMES, PERMEANT_NAMES, TABLE, Species
from render import style
from render.audio import AudioMonitor
from render.controls import MOUSE_HELP, Action, keymap, layout_buttons, plan_buttons
from render.panel import draw_readouts
from render.scene import draw_box, draw_minimap
from render.scope import Oscilloscope
from render.text import TextLayer, make_fonts, shorten, wrap
from render.transform import ViewTransform
from simulation.core.config import Config
from simulation.core.model import Simulation
from simulation.system import replacing
from simulation.session.interventions import type_words
from simulation.session.session import CONTROL, SLOW_EVERY, Session

DEFAULT_SIZE = (1280, 720)
FPS_CAP = 60
WM_CLASS = "RestingPotentialLab"


class NoDisplay(RuntimeError):
    """No video device to open a window on."""


class BadDisplay(ValueError):
    """A monitor (--display N) this machine does not have."""


def save_png(surface: pygame.Surface, path: str) -> None:
    """Save a PNG under a new name and rename it into place: a link already at `path` is replaced,
    never followed (its target is not overwritten), and a half-written file is never left there.
    Encoded in memory and written by Python, so a full disk raises OSError (SDL's own writer
    left an empty file and said nothing)."""
    buffer = io.BytesIO()
    pygame.image.save(surface, buffer, "still.png")
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(buffer.getvalue())


class App:
    def __init__(self, config: Config, preset: str | None = None, overrides: tuple[str, ...] = (),
                 fullscreen: bool = False, size: tuple[int, int] = DEFAULT_SIZE, seed: int = 0,
                 theme: str = "dark", cell_scale: float = 1.0, session: Session | None = None, display: int = 0):
        # silent unless the audio monitor is asked for (then the user's sound device is opened)
        self._silenced = "SDL_AUDIODRIVER" not in os.environ
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        # so tools (xdotool, a window manager's rules) can find the window: `import pygame` sets the
        # class to the script's name ("main.py") unless the user chose one
        if os.environ.get("SDL_VIDEO_X11_WMCLASS") in (None, os.path.basename(sys.argv[0])):
            os.environ["SDL_VIDEO_X11_WMCLASS"] = WM_CLASS
        try:
            pygame.display.init()
            pygame.font.init()
        except pygame.error as e:
            raise NoDisplay(str(e)) from None
        self.theme = style.THEMES[theme]
        self.display = display
        self.fullscreen = fullscreen
        self.window_size = size
        self._open_window()
        pygame.display.set_caption("Resting Potential Lab")
        self.text = TextLayer()
        self.overrides = tuple(overrides)
        self.tint = False
        self.charges = False
        self.audio = AudioMonitor()
        self.help_page = 0                 # 0 off, else the page of help shown (H turns them)
        self.help_pages = 2                # how many the panel needed when last drawn
        self.help_side = "right"           # the help panel covers the right column or the box (X)
        self.buttons_shown = self.theme.buttons_shown
        self.running = True
        self.scope = Oscilloscope()
        self.toast: tuple[str, float] | None = None
        self._frame_times: deque = deque(maxlen=60)
        self._drag: tuple[int, int, float, float] | None = None
        self._layout_fonts()
        self.session = session or Session(config, seed=seed, preset=preset, cell_scale=cell_scale,
                                          prepare=self._prepare)
        self.session.prepare = self._prepare
        self._generation = self.session.generation
        self._layout()

    @property
    def sim(self) -> Simulation:
        return self.session.sim

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
            if waited > 2.0 and not told:     # a start from the cache takes well under a second
                sys.stderr.write("preparing the model (the first start compiles its kernels: up to a minute)...\n")
                told = True
            if waited > 0.2:
                pygame.event.pump()
                self._draw_preparing(waited)
        if "error" in result:
            raise result["error"]
        return result["sim"]

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
        n = pygame.display.get_num_displays()
        if not 0 <= self.display < n:
            raise BadDisplay(f"--display {self.display}: this machine has {n} display{'s' if n != 1 else ''} "
                             f"(0{f' to {n - 1}' if n > 1 else ''})")
        try:
            if self.fullscreen:
                self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=self.display)
            else:
                self.screen = pygame.display.set_mode(self.window_size, pygame.RESIZABLE, display=self.display)
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
        view_w = int(self.theme.view_share * w)
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
        scope_h = int((bottom - scope_top) * self.theme.scope_share)
        self.scope_rect = pygame.Rect(right, scope_top, w - right - pad, scope_h)
        self.readout_rect = pygame.Rect(right, self.scope_rect.bottom + pad // 2, w - right - pad,
                                        bottom - self.scope_rect.bottom - pad // 2)
        self.buttons = (layout_buttons(pygame.Rect(pad, self.buttons_rect.y + pad // 2, w - 2 * pad,
                                                   self.buttons_rect.height - pad), ACTIONS, rows)
                        if self.buttons_shown else [])

    # ---- what only the window has (bound to keys and buttons by ACTIONS, below the class) --------

    def act(self, control: str) -> None:
        """Do a session control and show what it says."""
        said = CONTROL[control].do(self.session)
        if said:
            self.say(said, 6.0 if len(said) > 60 else 4.0)

    def toggle_tint(self):
        self.tint = not self.tint

    def toggle_charges(self):
        self.charges = not self.charges

    def toggle_audio(self):
        """The audio monitor on or off (`render.audio`)."""
        if self._silenced and not self.audio.on:
            os.environ.pop("SDL_AUDIODRIVER", None)      # the real device, not the silent default
            self._silenced = False
        said = self.audio.toggle()
        self.say(said)
        return said

    def toggle_help(self):
        """Help: the picture explained, then the keys (as many pages as the panel needs), then off."""
        self.help_page = self.help_page + 1 if self.help_page < self.help_pages else 0

    def toggle_help_side(self):
        """The help panel over the right column (the box in view) or over the box (the scope in view)."""
        self.help_side = "left" if self.help_side == "right" else "right"
        if not self.help_page:
            self.help_page = 1

    def toggle_buttons(self):
        self.buttons_shown = not self.buttons_shown
        self._layout()

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

    def say(self, text: str, seconds: float = 4.0):
        self.toast = (text, time.perf_counter() + seconds)

    def _follow_view(self) -> None:
        """Do what the session asked of the view: zoom to the ion it follows, or show the whole."""
        req, self.session.view_request = self.session.view_request, None
        if req is None:
            return
        if req[0] == "follow":
            s = self.sim.state
            i = req[1]
            self.tf.zoom = max(self.tf.zoom, 3.0)
            self.tf.clamp()
            self.tf.y0_nm = float(s.y[i]) - self.tf.visible_height_nm / 2
            self.tf.x0_nm = float(s.x[i]) - self.tf.visible_width_nm / 2
        else:
            self.tf.zoom, self.tf.x0_nm = 1.0, 0.0
        self.tf.clamp()

    def _after_rebuild(self) -> None:
        """The cell was built again (a restart, a scenario step, going back): lay the window out
        for it, keeping the zoom."""
        if self.session.generation == self._generation:
            return
        self._generation = self.session.generation
        old_zoom = self.tf.zoom
        self.tf = None
        self._layout()
        self.tf.zoom = old_zoom
        self.tf.clamp()

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
            save_png(self.screen, screenshot)
        return n / elapsed if elapsed > 0 else 0.0

    def _advance(self):
        """Lay out for what the keys just did (a rebuilt cell, an ion to follow), then step."""
        self._after_rebuild()
        self._follow_view()
        self._frame_times.append(time.perf_counter())
        self.session.view_mid_nm = self.tf.y0_nm + self.tf.visible_height_nm / 2
        self.session.advance_frame()
        if self.audio.on:
            self.audio.frame(self.session.spikes_seen, int(self.session.sim.crossings.sum()))

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

    def toast_bottom(self) -> int:
        """Where what a key said sits: at the bottom of the box."""
        return self.tf.rect.bottom

    def panel_parts(self) -> tuple[str, ...]:
        """What the readout panel shows (style.PANEL_PARTS): the theme's choice."""
        return self.theme.panel_parts

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
            self.session.follow(None)
            return
        wx, wy = self.tf.to_world(*pos)
        s = self.sim.state
        d2 = (s.x - wx) ** 2 + (s.y - wy) ** 2
        i = int(np.argmin(d2))
        if d2[i] * self.tf.px_per_nm ** 2 <= 64:
            self.session.follow(i)
        else:
            self._drag = (pos[0], pos[1], self.tf.x0_nm, self.tf.y0_nm)

    # ---- drawing ----------------------------------------------------------------------------

    def lines_shown(self) -> tuple[str, ...]:
        return self.session.lines_shown()

    def _draw(self):
        ses = self.session
        sim, surf, f, th = self.sim, self.screen, self.fonts, self.theme
        self.text.clear()
        surf.fill(th.background)
        theory = ses.theory_now()
        draw_box(surf, sim, self.tf, f, self.text, th, tint_charge=self.tint, show_charges=self.charges,
                 tracked=ses.tracked, trail=list(ses.trail),
                 pumps_off_label="blocked" if ses.ouabain_given else "off")
        draw_minimap(surf, sim, self.tf, self.minimap_rect, th)
        self._draw_title()
        self._draw_legend()
        self.scope.draw(surf, self.scope_rect, ses.trace, f, self.text, th, theory, ses.lines_shown(),
                        sim.v_mV if ses.trace.t_ns else None)
        rates, atp_rate, window = ses.rates()
        placed = sim.channels.effective_permeability()
        asked = sim.channels.relative
        n_open = sim.channels.open_counts()
        notes = []
        c_in, c_out = ses.concentrations
        if c_in["X"] > 0 or c_out["X"] > 0:
            notes.append("X- : impermeant anions that keep a side neutral")
        if c_in["Y"] > 0 or c_out["Y"] > 0:
            notes.append("Y+ : impermeant cations that keep a side neutral")
        if sim.config["perfusion.enabled"]:
            made = sim.perfusion_exchanged
            notes.append(f"perfused bath: the far outside keeps the saline's make-up "
                         f"({abs(int(made[Species['K']]))} K+ exchanged so far)")
        draw_readouts(surf, self.readout_rect, f, self.text, th, {
            "c_in": c_in, "c_out": c_out, "rates": rates, "rate_window_ns": window,
            # relative to the K+ leak's unit: shown for every type but a K+ leak that is that unit
            "permeability": {name: (asked[name], placed[name]) for name in sim.channels.names()
                             if placed[name] > 0 and not (name == "K" and abs(placed[name] - 1.0) < 1e-9)},
            "channels": {name: (n_open[name], n) for name, n in sim.channel_counts().items() if n > 0},
            "gate_states": sim.channels.gate_states(),
            "transporters": ses.transporter_lines(),
            "pump": {"count": sim.pump_count, "cycles": int(sim.pump_totals[0]), "atp": int(sim.pump_totals[1]),
                     "atp_per_us": atp_rate, "enabled": sim.pumps_on, "ouabain": ses.ouabain_given},
            "notes": notes,
            "time_ns": sim.time_ns, "steps_per_s": ses.steps_per_s(), "fps": self._fps(),
            "steps_per_frame": 0 if ses.paused else (f"1/{SLOW_EVERY}" if ses.slow else ses.steps_per_frame),
            "particles": sim.n_particles, "parts": self.panel_parts()})
        mouse = pygame.mouse.get_pos()
        for b in self.buttons:
            on = bool(b.action.is_on(self)) if b.action.is_on else False
            b.draw(surf, f["small"], self.text, th, on, b.rect.collidepoint(mouse))
        if self.help_page:
            self._draw_help()
        if self.toast and time.perf_counter() < self.toast[1]:
            self._draw_toast(self.toast[0])

    def _draw_toast(self, message: str) -> None:
        """What a key or a step said, at the bottom of the box: wrapped onto up to three lines
        (the body font, or the small one if it needs more), never cut."""
        f, surf, th, view = self.fonts, self.screen, self.theme, self.tf.rect
        for font in (f["body"], f["small"], f["tiny"]):
            lines = [t for t, _, _ in wrap(font, message, None, 0, view.width - 40)]
            if len(lines) <= 3:
                break
        lh = font.get_linesize()
        r = pygame.Rect(0, 0, max(font.size(t)[0] for t in lines), lh * len(lines))
        r.midbottom = (view.centerx, self.toast_bottom() - 12)
        pygame.draw.rect(surf, th.toast_bg, r.inflate(16, 8), border_radius=6)
        for k, line in enumerate(lines):
            self.text.draw(surf, font, line, th.toast_text, region=view, midtop=(r.centerx, r.y + k * lh))

    def _draw_title(self):
        """The title bar: the cell's (or the scenario's) name left, the state flags and the key
        hint right. Where they do not all fit, the hint is shortened first, then the title's font;
        the name is cut only if nothing else is left to give."""
        f, surf, th, r = self.fonts, self.screen, self.theme, self.title_rect
        pad = self.pad
        fast = self.session.fast
        state = (f"FAST x{self.session.fast_factor:.0f}" if fast else
                 "PAUSED" if self.session.paused else self.session.pace)
        flags = "   ".join(x for x in (state, "FIELD OFF" if not self.sim.field_on else "",
                                       "SELECTIVITY OFF" if not self.sim.selective else "",
                                       "WHOLE RUN" if self.session.trace.history else "") if x)
        badge = f["body"].get_linesize() // 2            # each of the fast-forward badge's two triangles
        flags_w = (f["body"].size(flags)[0] + 2 * pad + (2 * badge + pad if fast else 0)) if flags else 0
        name = self.title_text()
        hints = self.title_hints()

        def room(hint: str) -> int:      # for the title, beside this hint and the flags
            return r.width - 5 * pad - f["small"].size(hint)[0] - flags_w
        choice = next(((font, title, hint) for font in (f["title"], f["body"]) for hint in hints
                       for title in (f"Resting Potential Lab — {name}", name) if font.size(title)[0] <= room(hint)),
                      None)
        font, title, hint = choice or (f["body"], shorten(f["body"], name, room(hints[-1])), hints[-1])
        right = r.right - pad
        hint_r = self.text.draw(surf, f["small"], hint, th.text_dim, midright=(right, r.centery))
        right = hint_r.x - 2 * pad
        if flags:
            x = right - f["body"].size(flags)[0]
            if fast:   # a fast-forward badge: two triangles before the text
                x -= 2 * badge + pad
                for k in range(2):
                    x0 = x + k * badge
                    pygame.draw.polygon(surf, th.legible(style.YELLOW, th.background),
                                        [(x0, r.centery - badge // 1.2), (x0, r.centery + badge // 1.2),
                                         (x0 + badge, r.centery)])
                x += 2 * badge + pad
            self.text.draw(surf, f["body"], flags, th.legible(style.YELLOW, th.background), midleft=(x, r.centery))
        if title:
            self.text.draw(surf, font, title, th.text, midleft=(pad, r.centery))

    def title_hints(self) -> list[str]:
        """The key hint in the title bar, longest first (a shorter one where the title needs room)."""
        return [self.title_hint(), "H: help"]

    def _draw_legend(self):
        f, surf, r, th = self.fonts, self.screen, self.legend_rect, self.theme
        # which species the box holds changes only with an intervention (a logged event) or a new
        # cell: counted again only then (a count over a large cell's particles each frame cost ~1 ms)
        key = (id(self.sim), self.sim.state.n, len(self.sim.events))
        if getattr(self, "_legend_key", None) != key:
            present = np.bincount(self.sim.state.species, minlength=len(NAMES)) > 0
            self._legend_names = [n for k, n in enumerate(NAMES) if present[k]]
            self._legend_key = key
        names = self._legend_names
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
            pygame.draw.circle(surf, th.particle(name), (x + rad, r.centery), rad)
            t = self.text.draw(surf, font, label, th.species_text(name, th.background), region=r,
                               midleft=(x + 2 * rad + 6, r.centery))
            x = t.right + font.get_linesize()

    def _help_rect(self) -> pygame.Rect:
        """Where help is shown: beside the picture, over the right column (the box stays in view)
        or over the box (the scope and the panel stay in view)."""
        top, bottom = self.legend_rect.y, self.readout_rect.bottom
        if self.help_side == "left":
            return pygame.Rect(self.pad, top, self.minimap_rect.right - self.pad, bottom - top)
        x = self.minimap_rect.right + self.pad
        return pygame.Rect(x, top, self.screen.get_width() - self.pad - x, bottom - top)

    def _help_pages(self, box: pygame.Rect) -> list[tuple[str, pygame.font.Font, list]]:
        """The help as pages for `box`: (title, font, lines) with each line (text, colour, x
        offset). Paragraphs are wrapped to the width; the body font if every section fits on one
        page, else the small one, and as many pages as the text needs: nothing is cut."""
        sections = [("What the picture shows", self._picture_help()),
                    ("Keys and buttons", [(f"{a.key_label}: {a.help}", None, 0) for a in ACTIONS
                                          if a.available is None or a.available(self)]
                     + [(m, None, 0) for m in MOUSE_HELP])]
        pad = 2 * self.pad
        width = box.width - 2 * pad
        longest = max((title for title, _ in sections), key=len) + " (99/99)"
        for font in (self.fonts["body"], self.fonts["small"]):
            lh = font.get_linesize() + 2
            header = len(self._help_header(font, longest, False, width))
            rows = max(1, (box.height - 2 * pad - header * lh - pad) // lh)   # under the title and its hint
            pages = []
            for title, paragraphs in sections:
                lines = [line for text, colour, indent in paragraphs
                         for line in wrap(font, text, colour, indent, width)]
                chunks = [lines[i:i + rows] for i in range(0, len(lines), rows)] or [[]]
                pages += [(f"{title}" + (f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""), font, chunk)
                          for k, chunk in enumerate(chunks)]
            if len(pages) == len(sections):
                break
        return pages

    def _draw_help(self):
        """Help in a panel beside the picture: H turns the pages (the picture, then the keys), X
        moves the panel to the other side."""
        surf, th = self.screen, self.theme
        box = self._help_rect()
        # what the panel covers is not on screen: forget its text
        self.text.boxes = [b for b in self.text.boxes if not b.rect.colliderect(box)]
        pages = self._help_pages(box)
        self.help_pages = len(pages)
        title, font, lines = pages[min(self.help_page, len(pages)) - 1]
        pygame.draw.rect(surf, th.panel, box, border_radius=8)
        pygame.draw.rect(surf, th.panel_edge, box, 2, border_radius=8)
        pad = self.pad * 2
        lh = font.get_linesize() + 2
        y = box.y + pad
        for line, colour, dx in self._help_header(font, title, self.help_page >= len(pages), box.width - 2 * pad):
            self.text.draw(surf, font, line, colour, region=box, topleft=(box.x + pad + dx, y))
            y += lh
        y += pad
        for line, colour, dx in lines:
            self.text.draw(surf, font, line, colour or th.text, region=box, topleft=(box.x + pad + dx, y))
            y += lh

    def _help_header(self, font, title: str, last: bool, width: int) -> list[tuple[str, tuple, int]]:
        """A help page's title and what H and X do, wrapped to `width`."""
        hint = f"H: {'close' if last else 'next page'}  ·  X: help on the other side"
        return wrap(font, title, self.theme.text, 0, width) + wrap(font, hint, self.theme.text_dim, 0, width)

    def _picture_help(self) -> list[tuple[str, tuple | None, int]]:
        """Paragraphs (text, colour or None, indent level) explaining what the picture shows."""
        th, sim = self.theme, self.sim
        c = sim.capacitance_e_per_mV
        out = [("Left: the cell's edge, seen from the side. Cytoplasm left, membrane (tan band), bath right.", None, 0),
               ("Dots are ions, each a real particle:", None, 0)]
        present = np.bincount(sim.state.species, minlength=len(NAMES)) > 0
        for k, info in enumerate(TABLE):
            if present[k]:
                out.append((f"{info.label.split()[0]}  {info.words}", th.species_text(info.name, th.panel), 1))
        out += [
            ("Channels: lanes across the membrane, coloured by the ion they pass. Open: a coloured lane; "
             "closed: dark with a bar. Leak channels flicker open and shut at random; voltage-gated ones "
             "(a diamond at each end) open and close with V.", None, 0)]
        types = [t for t in sim.channels.types if sim.channels.counts()[t.name] > 0]
        out.append(("this cell: " + ", ".join(type_words(t) for t in types) if types else
                    "this cell has no channels", None, 1))
        for t in TRANSPORTERS:
            if sim.transporters.count(t.name) == 0:
                continue
            out.append((f"{t.label}: blocks; the notch shows the side they face. Each cycle: {t.cycle_words()}. "
                        f"Zoomed in, each says its step: {t.steps_words()}. Grey: blocked"
                        + (" (ouabain)." if t.atp else "."), None, 0))
        lines = [f"E_{ion}" for ion in sim.channels.crossing()]
        out += [
            ("Strip beside the box: the whole membrane, its channels and transporters; the frame is what you see.",
             None, 0),
            ("Scope: V, counted from the ions (thin: each moment; thick: its mean over the time the axis "
             "states). Under the title: the mean of the last 100 ns (± its standard error when the window "
             "holds enough independent samples to know it). Dashed lines: what theory predicts from the "
             "concentrations now:", None, 0),
            (f"{', '.join(lines) or 'E_ion'}: Nernst potential of each ion with channels",
             th.line(f"{lines[0]}_mV" if lines else "E_K_mV", th.panel), 1)]
        out += [(f"{key[:-3]}: where the {t.label}'s cycle does no work ({t.cycle_words()})",
                 th.line(key, th.panel), 1)
                for t in TRANSPORTERS for key in [t.reversal_key] if key in self.lines_shown()]
        out += [
            ("GHK: all channels together (Goldman-Hodgkin-Katz; gated ones at their steady state)",
             th.line("V_GHK_mV", th.panel), 1),
            ("GHK+pump: with the 3:2 pump's current", th.line("V_pump_mV", th.panel), 1),
            ("Donnan (D key): where V drifts if the pumps stop for good", th.line("V_Donnan_mV", th.panel), 1),
            ("Tint (T): each side coloured by its net charge: red = positive, blue = negative.", None, 0),
            (f"Charges (C): one + or - on a face = one unpaired charge; {c * 70:.0f} of them make -70 mV.", None, 0),
            ("Time: model ns. This membrane settles in ~100 ns; a real one in ms (it is far smaller).", None, 0),
        ]
        return out

    def _fps(self) -> float:
        if len(self._frame_times) < 2:
            return 0.0
        return (len(self._frame_times) - 1) / (self._frame_times[-1] - self._frame_times[0])


def _control(name: str, keys, key_label: str) -> Action:
    """A session control bound to keys (its button label, help and "on" from the control)."""
    c = CONTROL[name]
    return Action(tuple(keys), key_label, c.label, c.help, lambda a: a.act(name),
                  (lambda a: c.is_on(a.session)) if c.is_on else None,
                  (lambda a: c.available(a.session)) if c.available else None)


def _view(keys, key_label, button, help_text, do, is_on=None) -> Action:
    """An action on the window only."""
    return Action(tuple(keys), key_label, button, help_text, do, is_on)


DIGIT_PAIRS = 4      # leak types on the digit pairs 1-2, 3-4, 5-6, 7-8


def _permeability_actions() -> tuple[Action, ...]:
    """÷2 and ×2 for the leak types of the first ions that can cross, on the digit keys 1, 2 (K⁺),
    3, 4 (Na⁺), ...; and for any channel type of the cell (declared types, and leak types past the
    digits) on 9 and 0, once Y has selected it."""
    out = []
    for k, ion in enumerate(PERMEANT_NAMES[:DIGIT_PAIRS]):
        down, up = 2 * k + 1, 2 * k + 2
        out += [_control(f"P_{ion}/2", (pygame.K_0 + down,), str(down)),
                _control(f"P_{ion}*2", (pygame.K_0 + up,), str(up))]
    out += [_control("next_type", (pygame.K_y,), "Y"),
            _control("selected/2", (pygame.K_9,), "9"),
            _control("selected*2", (pygame.K_0,), "0")]
    return tuple(out)


ACTIONS: tuple[Action, ...] = (
    _control("pause", (pygame.K_SPACE,), "Space"),
    _control("step", (pygame.K_n,), "N"),
    _control("slower", (pygame.K_MINUS, pygame.K_KP_MINUS), "-"),
    _control("faster", (pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS), "+"),
    _control("slow", (pygame.K_m,), "M"),
    _control("fast", (pygame.K_g,), "G"),
    _control("reset", (pygame.K_r,), "R"),
    _control("preset", (pygame.K_TAB,), "Tab"),
    _control("ouabain", (pygame.K_o,), "O"),
    _control("K_out/2", (pygame.K_j,), "J"),
    _control("K_out*2", (pygame.K_k,), "K"),
) + _permeability_actions() + (
    _control("clamp", (pygame.K_v,), "V"),
    _control("command-", (pygame.K_COMMA,), ","),
    _control("command+", (pygame.K_PERIOD,), "."),
    _control("pulse", (pygame.K_e,), "E"),
    _control("pulse-", (pygame.K_q,), "Q"),
    _control("pulse+", (pygame.K_u,), "U"),
    _control("field", (pygame.K_f,), "F"),
    _control("selectivity", (pygame.K_l,), "L"),
    _control("anions", (pygame.K_a,), "A"),
    _control("cell/2", (pygame.K_LEFTBRACKET,), "["),
    _control("cell*2", (pygame.K_RIGHTBRACKET,), "]"),
    _view((pygame.K_t,), "T", "Tint", "tint each side by its net charge", App.toggle_tint, lambda a: a.tint),
    _view((pygame.K_c,), "C", "Charges", "show the unpaired charges on the faces", App.toggle_charges,
          lambda a: a.charges),
    _view((pygame.K_s,), "S", None, "audio monitor: a click per spike, a soft tick per ion crossing (off at start)",
          App.toggle_audio, lambda a: a.audio.on),
    _control("history", (pygame.K_w,), "W"),
    _control("donnan", (pygame.K_d,), "D"),
    _control("follow", (pygame.K_i,), "I"),
    _view((pygame.K_h, pygame.K_F1), "H", "Help", "help: the picture, then the keys", App.toggle_help,
          lambda a: a.help_page > 0),
    _view((pygame.K_x,), "X", None, "help beside the box or beside the scope", App.toggle_help_side),
    _view((pygame.K_b,), "B", None, "show / hide the buttons", App.toggle_buttons),
    _view((pygame.K_F11,), "F11", None, "full screen on / off", App.toggle_fullscreen),
    _view((pygame.K_UP, pygame.K_PAGEUP), "Up", None, "scroll up the membrane", App.scroll_up),
    _view((pygame.K_DOWN, pygame.K_PAGEDOWN), "Down", None, "scroll down the membrane", App.scroll_down),
    _view((pygame.K_ESCAPE,), "Esc", None, "quit", App.quit),
)
KEYMAP = keymap(ACTIONS)
