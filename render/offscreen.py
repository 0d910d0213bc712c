"""The window's picture drawn onto a plain Surface: no window, no events, no display needed.

The notebook view streams these frames to an image widget; the handout saves them as stills.
`Offscreen` is the live App on an existing session, `OffscreenDemo` the lecture Demo on an
existing player; `frame()` advances the model one frame (or only lays out, `advance=False`) and
draws.
"""
from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")     # no window is opened
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from render.app import App  # noqa: E402
from render.demo import Demo  # noqa: E402


class _Offscreen:
    """Drawing onto a Surface: no window, no events (mixed into the App and the Demo)."""

    def _open_window(self) -> None:
        self.screen = pygame.Surface(self.window_size)

    def _prepare(self, build):
        return build()

    def title_hint(self) -> str:
        return "buttons below the picture"

    def frame(self, advance: bool = True) -> pygame.Surface:
        if advance:
            self._advance()
        else:
            self._after_rebuild()
            self._follow_view()
        self._draw()
        return self.screen


class Offscreen(_Offscreen, App):
    """The live App, offscreen, on an existing session."""


class OffscreenDemo(_Offscreen, Demo):
    """The lecture Demo, offscreen, on an existing player."""

    def title_hint(self) -> str:
        return f"step {self.player.k + 1}/{len(self.player.steps)}"
