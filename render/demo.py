"""Lecture mode: a Pygame adapter over a scenario `Player` (simulation/session/player.py).

The `Demo` is the live `App` drawing a player's session, with the step's caption (live numbers
filled in by the player) in a band at the bottom, the part of the picture the step highlights,
and the V against [K+]o inset of the points the steps collected. The timeline, its waits, the
changes each step makes and the snapshots for going back are the player's.

Each step's speaker notes (the scenario's `notes`, the caption as written, what comes next) go
to `notes` (the terminal, on the lecturer's laptop) as the step begins; they are never drawn.

Presenter's keys (what clickers send): Space, Right, PageDown = next step; Left, PageUp = back
one step; B blanks the screen; P pauses; S saves a PNG named by scenario, step and model time.
While a step's question is open (predict, then reveal), the number keys 1-9 each add a vote for
that choice (the presenter's prediction, or a count of the room's hands) and Backspace takes the
last one back; the box shows the question and the votes, and the step that reveals it marks the
choice the measured outcome falls in. Every other key does what it does in the live view.
"""
from __future__ import annotations

import math
import re
import sys
import time

import numpy as np
import pygame

from membrane import theory
from render import style
from render.app import App, save_png
from render.scene import pump_body
from render.text import minus, shorten, wrap_lines
from simulation.session.player import Player
from simulation.session.scenario import Scenario

NEXT_KEYS = (pygame.K_SPACE, pygame.K_RIGHT, pygame.K_PAGEDOWN)
BACK_KEYS = (pygame.K_LEFT, pygame.K_PAGEUP)
VOTE_KEYS = {**{pygame.K_1 + k: k for k in range(9)}, **{pygame.K_KP1 + k: k for k in range(9)}}
UNVOTE_KEYS = (pygame.K_BACKSPACE,)


class Demo(App):
    def __init__(self, scenario: Scenario, *, fullscreen: bool = True, size=(1920, 1080), theme: str = "projector",
                 seed: int = 0, auto: bool = False, recorder=None, cell_scale: float = 1.0, screenshot_dir=".",
                 player: Player | None = None, display: int = 0, notes=None):
        """A new player of `scenario`, or the `player` given (already under way). `notes`: a
        stream (the terminal) that gets each step's speaker notes as it begins."""
        self.notes = notes
        self.blank = False
        self.recorder = recorder
        self.screenshot_dir = screenshot_dir
        self._flash_until = 0.0
        super().__init__(scenario.config, preset=None, fullscreen=fullscreen, size=size, seed=seed, theme=theme,
                         cell_scale=cell_scale, session=player.session if player else None, display=display)
        # --auto plays by the wall clock, to the scenario's declared lengths
        self.player = player or Player(scenario, self.session, auto=auto, clock=time.perf_counter if auto else None)
        self._warned = 0
        self._shown = (-1, 0)        # (step, messages) the window has shown
        self.buttons_shown = False
        self._layout()
        self._show_player()

    # the player's timeline, as the window's tests and the command line read it
    @property
    def scenario(self) -> Scenario:
        return self.player.scenario

    @property
    def steps(self):
        return self.player.steps

    @property
    def k(self) -> int:
        return self.player.k

    @property
    def finished(self) -> bool:
        return self.player.finished

    def next_step(self) -> None:
        self.player.next_step()
        self._show_player()

    def previous_step(self) -> None:
        self.player.previous_step()
        self._show_player()

    def _show_player(self) -> None:
        """After the player moved: lay out a rebuilt cell, zoom for a followed ion, light up the
        caption band of a new step, show what its changes said."""
        self._after_rebuild()
        self._follow_view()
        k, n = self.player.k, len(self.player.said)
        if (k, n) != self._shown:
            if k != self._shown[0]:
                self._flash_until = time.perf_counter() + 1.5
                if self.notes is not None:
                    self.notes.write(self.player.speaker_notes() + "\n")
                    self.notes.flush()
            if n > self._shown[1]:
                self.say(self.player.said[-1])
            self._shown = (k, n)
        for line in self.player.warnings[self._warned:]:
            self.say(line, 6.0)
            sys.stderr.write(f"note: {line}\n")
        self._warned = len(self.player.warnings)
        if self.player.finished:
            self.running = False

    # ---- the App's hooks ---------------------------------------------------------------------

    def vote(self, choice: int) -> None:
        """A vote for choice 0, 1, ... of the open question (said in the picture)."""
        said = self.player.vote(choice)
        if said:
            self.say(said, 2.0)

    def unvote(self) -> None:
        said = self.player.unvote()
        if said:
            self.say(said, 2.0)

    def on_key(self, key: int) -> None:
        poll = self.player.open_poll()
        if poll is not None and key in VOTE_KEYS and VOTE_KEYS[key] < len(poll.choices):
            self.vote(VOTE_KEYS[key])
        elif poll is not None and key in UNVOTE_KEYS:
            self.unvote()
        elif key in NEXT_KEYS:
            self.next_step()
        elif key in BACK_KEYS:
            self.previous_step()
        elif key == pygame.K_b:
            self.blank = not self.blank
        elif key == pygame.K_p:
            self.act("pause")
        elif key == pygame.K_s:
            self.save_still()
        else:
            super().on_key(key)

    def title_text(self) -> str:
        return self.player.title

    def title_hint(self) -> str:
        poll = self.player.open_poll()
        vote = f"   1-{len(poll.choices)}: vote" if poll is not None else ""
        return f"step {self.player.k + 1}/{len(self.player.steps)}   Space: next   Left: back{vote}   H: help"

    def title_hints(self) -> list[str]:
        k, n = self.player.k + 1, len(self.player.steps)
        return [self.title_hint(), f"step {k}/{n}   H: help", f"step {k}/{n}", f"{k}/{n}"]

    def bottom_reserved(self) -> int:
        return self.theme.caption_lines * self.fonts["title"].get_linesize() + 2 * max(4, self.screen.get_height() // 100)

    def toast_bottom(self) -> int:
        """Above the inset of collected points, when there is one."""
        return self._inset_rect().y if self.player.points else super().toast_bottom()

    def _inset_rect(self) -> pygame.Rect:
        view = self.tf.rect
        r = pygame.Rect(0, 0, int(view.width * 0.62), int(view.height * 0.42))
        r.bottomleft = (view.x + self.pad, view.bottom - self.pad)
        return r

    def panel_parts(self) -> tuple[str, ...]:
        """A theme that reduces the panel (the hall) shows what the step's caption and highlight
        are about: the concentrations always; crossings, permeabilities, the pumps when named."""
        step = self.player.step
        if self.theme.panel_parts == style.PANEL_PARTS or step is None:
            return self.theme.panel_parts
        words = f"{step.caption} {step.highlight or ''}"
        need = {"concentrations"}
        if "_efflux}" in words or "_influx}" in words:
            need.add("crossings")
        if "{P_" in words or "channels." in words:
            need.add("permeability")
        if "pump" in words.lower() or "{V_MN}" in words or "{V_pump}" in words:
            need.add("pump")
        if "exchanger" in words.lower() or "{E_NCX}" in words:
            need.add("transporters")
        return tuple(p for p in style.PANEL_PARTS if p in need)

    def save_still(self, path: str | None = None) -> str:
        if path is None:
            stem = re.sub(r"[^A-Za-z0-9]+", "-", self.scenario.name).strip("-").lower()
            path = f"{self.screenshot_dir}/{stem}-step{self.player.k + 1}-{self.sim.time_ns:.0f}ns.png"
        try:
            save_png(self.screen, path)
        except OSError as e:           # in front of a class: said on screen, the lecture goes on
            self.say(f"cannot save {path}: {e.strerror or e}")
            return path
        self.say(f"saved {path}")
        return path

    # ---- the loop ----------------------------------------------------------------------------

    def _advance(self):
        super()._advance()
        self.player.update()
        self._show_player()

    def _draw(self):
        if self.blank:
            self.text.clear()
            self.screen.fill((0, 0, 0))
        else:
            super()._draw()
            if not self.help_page:     # the help panel lies over the box or the scope
                self._draw_highlight()
                self._draw_inset()
                self._draw_poll()
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

    def _draw_caption(self):
        r, th, f = self.caption_rect, self.theme, self.fonts
        if r.height <= 0 or self.player.step is None:
            return
        pad = self.pad
        pygame.draw.rect(self.screen, th.panel, r.inflate(-2 * pad, -pad // 2), border_radius=8)
        if time.perf_counter() < self._flash_until:    # a new step: its band lights up briefly
            pygame.draw.rect(self.screen, th.marker, r.inflate(-2 * pad, -pad // 2), 3, border_radius=8)
        text = self.player.caption()
        if not text:
            return
        box = r.inflate(-4 * pad, -2 * pad)
        for font in (f["title"], f["body"], f["small"]):
            lines = wrap_lines(font, text, box.width)
            if len(lines) * font.get_linesize() <= box.height:
                break
        lines = lines[: max(1, box.height // font.get_linesize())]
        lines[-1] = shorten(font, lines[-1], box.width)
        y = box.y + (box.height - len(lines) * font.get_linesize()) // 2
        for line in lines:
            self.text.draw(self.screen, font, line, th.text, region=r, topleft=(box.x, y))
            y += font.get_linesize()

    def _draw_highlight(self):
        step = self.player.step
        h = step.highlight if step else None
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
            name = {"GHK": "V_GHK_mV", "GHK+pump": "V_pump_mV", "Donnan": "V_Donnan_mV"}.get(
                h.split(".", 1)[1], h.split(".", 1)[1] + "_mV")
            v = self.session.theory_now().get(name)
            if v is not None and math.isfinite(v):
                plot, y = self.scope.last_plot[0], self.scope.y_at(v)
                pygame.draw.line(surf, th.line(name, th.panel), (plot.x, y), (plot.right, y), 4 + int(3 * pulse))

    def _draw_poll(self):
        """The question and its choices over the top of the box, each with its votes; once
        revealed, what was measured, and the choice it falls in outlined. A choice too long for
        its line wraps."""
        poll = self.player.shown_poll()
        if poll is None:
            return
        th, surf, f = self.theme, self.screen, self.fonts
        view, pad = self.tf.rect, self.pad
        width = view.width - 2 * pad
        body, small = f["body"], f["small"]
        q_lines = wrap_lines(body, ("Predict: " if not poll.revealed else "") + poll.question, width - 2 * pad)
        total = sum(poll.votes)
        count_w = small.size("000")[0]
        bar_w = max(16, width // 9)
        text_w = width - 3 * pad - bar_w - count_w
        rows = [wrap_lines(small, f"{k + 1}  {c}", text_w) for k, c in enumerate(poll.choices)]
        result = self._poll_result(poll) if poll.revealed else ""
        result_lines = wrap_lines(small, result, width - 2 * pad) if result else []
        lh_b, lh_s = body.get_linesize(), small.get_linesize()
        height = (pad + len(q_lines) * lh_b + pad // 2 + sum(len(r) * lh_s + 2 for r in rows)
                  + (pad // 2 + len(result_lines) * lh_s if result_lines else 0) + pad)
        top = view.y + body.get_linesize() + 2 * pad       # below the INSIDE / OUTSIDE labels
        r = pygame.Rect(view.x + pad, top, width, min(height, view.bottom - pad - top))
        pygame.draw.rect(surf, th.panel, r, border_radius=8)
        self.text.cover(r)                                 # what lay there (a pump's label) is hidden
        pygame.draw.rect(surf, th.marker if not poll.revealed else th.panel_edge, r, 3, border_radius=8)
        y = r.y + pad
        for line in q_lines:
            self.text.draw(surf, body, line, th.text, region=r, topleft=(r.x + pad, y))
            y += lh_b
        y += pad // 2
        for k, lines in enumerate(rows):
            right = poll.revealed and poll.answer == k
            h = len(lines) * lh_s
            if right:
                pygame.draw.rect(surf, th.marker, pygame.Rect(r.x + pad // 2, y - 1, width - pad, h + 2), 2,
                                 border_radius=4)
            colour = th.text if (right or not poll.revealed) else th.text_dim
            for j, line in enumerate(lines):
                self.text.draw(surf, small, line, colour, region=r, topleft=(r.x + pad, y + j * lh_s))
            bar = pygame.Rect(r.right - pad - count_w - pad // 2 - bar_w, y + lh_s // 4, bar_w, lh_s // 2)
            pygame.draw.rect(surf, th.grid, bar, 1)
            if total:
                pygame.draw.rect(surf, th.trace, (bar.x, bar.y, int(bar_w * poll.votes[k] / total), bar.height))
            self.text.draw(surf, small, str(poll.votes[k]), th.text, region=r, topright=(r.right - pad, y))
            y += h + 2
        if result_lines:
            y += pad // 2
            for line in result_lines:
                self.text.draw(surf, small, line, th.marker, region=r, topleft=(r.x + pad, y))
                y += lh_s

    @staticmethod
    def _poll_result(poll) -> str:
        """What the reveal says under the choices: the number measured and which choice it is."""
        if poll.judge is None or poll.outcome is None:
            return ""
        unit = {"V": " mV", "dV": " mV", "I": " pA"}.get(poll.judge, "")
        value = minus(f"{poll.outcome:+.0f}" if poll.judge in ("dV", "I") else
                      f"{poll.outcome:.0f}" if poll.judge == "V" else f"{poll.outcome:.2f}")
        if not math.isfinite(poll.outcome):
            return f"measured {poll.judge}: not enough counted yet"
        which = f": choice {poll.answer + 1}" if poll.answer is not None else ": outside every choice's band"
        return f"measured {poll.judge} = {value}{unit}{which}"

    def _draw_inset(self):
        """V against [K+]o, log scale: the points collected, the GHK curve of this cell and E_K's
        Nernst line; with the scenario's `reference`, the paper's points (squares, ± SEM) and
        where they come from."""
        points = self.player.points
        if not points:
            return
        ref = self.scenario.reference
        th, surf, f, sim = self.theme, self.screen, self.fonts, self.sim
        font = f["small"]
        lh = font.get_linesize()
        r = self._inset_rect()
        pygame.draw.rect(surf, th.panel, r, border_radius=6)
        pygame.draw.rect(surf, th.panel_edge, r, 2, border_radius=6)
        room = r.width - 2 * self.pad
        title = next(t for t in ("V against [K+] outside", "V against [K+]o") if font.size(t)[0] <= room
                     or t == "V against [K+]o")
        self.text.draw(surf, font, shorten(font, title, room), th.text, region=r,
                       topleft=(r.x + self.pad, r.y + self.pad // 2))
        top = r.y + lh + self.pad
        if ref is not None:     # who measured the squares, as short as the inset needs
            year = re.search(r"\b(?:19|20)\d\d\b", ref.cite)
            first = re.match(r"[^\s,&]+", ref.cite)
            words = [f"squares: {ref.cite}"]
            if year:
                words += [f"squares: {ref.cite[:year.end()]}", ref.cite[:year.end()],
                          f"{first.group(0)} {year.group(0)}" if first else year.group(0)]
            said = next((t for t in words if font.size(t)[0] <= room), None)
            if said is not None:          # else the inset is too narrow: the caption and notes cite it
                self.text.draw(surf, font, said, th.text_dim, region=r,
                               topleft=(r.x + self.pad, r.y + self.pad // 2 + lh))
                top += lh
        plot = pygame.Rect(r.x + self.pad + font.size("−100")[0] + 4, top, 0, 0)
        plot.width = r.right - self.pad - plot.x
        plot.height = r.bottom - lh - self.pad - plot.y
        if plot.width < 40 or plot.height < 30:
            return
        ks = [k for k, _ in points] + (list(ref.k_out) if ref else [])
        k_lo, k_hi = min(ks + [2.0]) / 1.5, max(ks + [20.0]) * 1.5
        lowest = min([v for _, v in points] + ([v - e for v, e in zip(ref.v_mV, ref.sem_mV)] if ref else []))
        v_lo, v_hi = min(-100.0, 10 * math.floor((lowest - 5) / 10)), 0.0

        def xy(k, v):
            x = plot.x + (math.log(k) - math.log(k_lo)) / (math.log(k_hi) - math.log(k_lo)) * plot.width
            y = plot.bottom - (min(max(v, v_lo), v_hi) - v_lo) / (v_hi - v_lo) * plot.height
            return x, y
        pygame.draw.rect(surf, th.background, plot)
        for v in (v_lo, (v_lo + v_hi) / 2, v_hi):
            _, y = xy(k_lo, v)
            pygame.draw.line(surf, th.grid, (plot.x, y), (plot.right, y), 1)
            self.text.draw(surf, font, minus(f"{v:.0f}"), th.text_dim, region=r,
                           midright=(plot.x - 3, min(max(y, plot.y + lh / 2), plot.bottom - lh / 2)))
        # GHK of this cell as [K+]o varies, the inside and the other outside ions as they are now;
        # E_K's Nernst line (61 mV per tenfold at 37 C) beside it
        c_in, c_out = sim.concentrations_mM()
        ks_curve = np.exp(np.linspace(math.log(k_lo), math.log(k_hi), 60))
        surf.set_clip(plot)
        pts = [xy(k, sim.resting_theory_mV(c_in, dict(c_out, K=k))[0]) for k in ks_curve]
        pygame.draw.lines(surf, th.line("V_GHK_mV", th.panel), False, pts, 2)
        vt = theory.thermal_voltage_mV(sim.temperature_C)
        if c_in["K"] > 0:
            nernst = [xy(k, vt * math.log(k / c_in["K"])) for k in ks_curve]
            pygame.draw.lines(surf, th.line("E_K_mV", th.panel), False, nernst, 1)
        surf.set_clip(None)
        if c_in["K"] > 0:
            x, y = xy(k_hi / 1.15, vt * math.log(k_hi / 1.15 / c_in["K"]))
            if plot.y + lh / 2 <= y <= plot.bottom - lh / 2:
                self.text.draw(surf, font, "E_K", th.line("E_K_mV", th.panel), region=r, midright=(x - 4, y))
        if ref is not None:
            half = max(3, lh // 4)
            for k, v, e in zip(ref.k_out, ref.v_mV, ref.sem_mV):
                x, y = xy(k, v)
                _, y0 = xy(k, v - e)
                _, y1 = xy(k, v + e)
                pygame.draw.line(surf, th.text, (x, y0), (x, y1), 2)
                pygame.draw.rect(surf, th.text, pygame.Rect(x - half, y - half, 2 * half, 2 * half), 2)
        for k, v in points:
            pygame.draw.circle(surf, th.trace, xy(k, v), max(4, lh // 4))
        last = -1e9
        ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500) if k_lo <= t <= k_hi]
        for k in ticks:
            x, _ = xy(k, v_lo)
            label = f"{k:g}"
            w = font.size(label)[0]
            if x - w / 2 > last + 4 and x + w / 2 <= r.right - 2:
                self.text.draw(surf, font, label, th.text_dim, region=r, midtop=(x, plot.bottom + 1))
                last = x + w / 2
