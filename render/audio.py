"""The audio monitor of an electrophysiology rig: a click for each action potential and, much
quieter, a tick for each ion that crosses a channel. Off until asked for (`S`, or `--audio`).

The sounds are made here (a few milliseconds of decaying noise, numpy into pygame.sndarray), so
nothing is shipped. Ticks are capped per frame: in fast-forward thousands of ions cross between
two frames, and a rig's speaker would be a hiss — a few ticks per frame say "busy" as well. Spikes
are counted by the session (`Session.spikes_seen`), so the click and the scope agree.
"""
from __future__ import annotations

import numpy as np
import pygame

RATE_HZ = 44100
CLICK_MS, TICK_MS = 6.0, 1.5
TICK_VOLUME = 0.12
MAX_TICKS_PER_FRAME = 3


def _burst(ms: float, volume: float, seed: int) -> np.ndarray:
    """A click: white noise under a fast exponential decay, as 16-bit stereo samples."""
    n = max(8, int(RATE_HZ * ms / 1000))
    rng = np.random.default_rng(seed)
    wave = rng.uniform(-1.0, 1.0, n) * np.exp(-np.arange(n) / (n / 5))
    mono = (wave * volume * 32767).astype(np.int16)
    return np.column_stack([mono, mono])


class AudioMonitor:
    def __init__(self):
        self.on = False
        self._click = self._tick = None
        self._spikes = self._crossings = None

    def toggle(self) -> str:
        """Switch on (opening the sound device the first time) or off; says what happened."""
        if self.on:
            self.on = False
            return "audio monitor off"
        if self._click is None:
            try:
                if not pygame.mixer.get_init():
                    pygame.mixer.init(frequency=RATE_HZ, size=-16, channels=2)
                pygame.mixer.set_num_channels(16)
                self._click = pygame.sndarray.make_sound(_burst(CLICK_MS, 0.9, 1))
                self._tick = pygame.sndarray.make_sound(_burst(TICK_MS, TICK_VOLUME, 2))
            except pygame.error as e:
                return f"no audio: the sound device did not open ({e})"
        self.on = True
        self._spikes = self._crossings = None
        return "audio monitor on: a click per spike, a soft tick per ion crossing"

    def frame(self, spikes_seen: int, crossings: int) -> tuple[int, int]:
        """Play what happened since the last frame; returns (clicks, ticks) played."""
        if not self.on:
            return 0, 0
        first = self._spikes is None
        new_spikes = 0 if first else max(0, spikes_seen - self._spikes)
        new_crossings = 0 if first else max(0, crossings - self._crossings)
        self._spikes, self._crossings = spikes_seen, crossings
        clicks = min(new_spikes, 1)
        ticks = min(new_crossings, MAX_TICKS_PER_FRAME)
        if clicks:
            self._click.play()
        for _ in range(ticks):
            self._tick.play()
        return clicks, ticks
