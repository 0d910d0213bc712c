"""The audio monitor: off at start, a click per spike the session counts (V crossing −20 mV
upward, re-armed 20 mV below, as summary.json counts spikes) and a soft tick per ion crossing,
capped per frame."""
import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import pygame  # noqa: E402
import pytest  # noqa: E402

from render.audio import MAX_TICKS_PER_FRAME, AudioMonitor  # noqa: E402
from simulation.core.config import load  # noqa: E402
from simulation.session.session import Session  # noqa: E402
from tests.test_stimulus import SEALED  # noqa: E402


def test_the_session_counts_spikes_as_v_crosses_upward_once_per_excursion():
    session = Session(load("mammalian", None, SEALED), seed=1)     # a capacitor: V moves by I·T/C only
    assert session.spikes_seen == 0
    for pA, n in ((-1000.0, 0), (1000.0, 1), (300.0, 1), (-1000.0, 1), (1000.0, 2)):
        session.sim.inject(pA, 5.0)
        session.step(int(6.0 / session.sim.dt_ns))
        assert session.spikes_seen == n, (pA, session.sim.v_mV)


def test_clicks_and_ticks_follow_what_happened_since_the_last_frame():
    audio = AudioMonitor()
    assert not audio.on and audio.frame(5, 100) == (0, 0)        # off: silent
    said = audio.toggle()
    if said.startswith("no audio"):
        pytest.skip(said)
    assert audio.on
    assert audio.frame(0, 0) == (0, 0)           # the first frame only sets the counts
    assert audio.frame(1, 2) == (1, 2)
    assert audio.frame(1, 2 + 50) == (0, MAX_TICKS_PER_FRAME)
    assert audio.toggle() == "audio monitor off" and audio.frame(9, 999) == (0, 0)
    pygame.mixer.quit()
