"""Lecture mode in the window: the Demo draws a player (tests/test_player.py plays every scenario
headless), goes back exactly on the presenter's key, records real video, and a broken scenario file
is one line, exit 2, before anything opens."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygame
import pytest

from render.demo import Demo
from simulation.core.config import ConfigError
from simulation.session.scenario import load_scenario, scenario_names

ROOT = Path(__file__).resolve().parent.parent
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"


@pytest.fixture(autouse=True)
def _quit_display():
    yield
    pygame.display.quit()


def test_the_shipped_scenarios_are_the_story():
    assert set(scenario_names()) >= {"emerges", "pump", "hyperkalemia", "fixed-anions", "why-nothing-flows",
                                     "lecture"}
    lecture = load_scenario("lecture")
    parts = {s.part for s in lecture.steps}
    assert len(parts) == 5 and all(s.wait == "key" for s in lecture.steps[1:] if s.config is not None)


def test_going_back_a_step_restores_the_state_saved_when_it_began():
    demo = Demo(load_scenario("emerges"), fullscreen=False, size=(1280, 720), cell_scale=0.25)
    demo.run(frames=20)
    demo.next_step()
    saved = {k: getattr(demo.sim.state, k).copy() for k in ("x", "y", "species", "flags")}
    v, t, counts = demo.sim.v_mV, demo.sim.time_ns, demo.sim.channel_counts()
    demo.run(frames=20)
    demo.next_step()                       # step 3 adds Na+ and Cl- channels
    assert demo.sim.channel_counts()["Na"] > 0
    demo.run(frames=5)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT, mod=0, unicode="", scancode=0))
    demo.run(frames=1)
    assert demo.k == 1 and demo.sim.channel_counts() == counts
    # the first frame after going back steps the model; compare with the copy it was restored from
    snap = demo.player.saved[1]["sim"]
    for k, arr in saved.items():
        assert np.array_equal(getattr(snap.state, k), arr)
    assert snap.v_mV == v and snap.time_ns == t


def test_a_rebuild_keeps_the_earlier_trace_as_a_ghost():
    demo = Demo(load_scenario("fixed-anions"), fullscreen=False, size=(1280, 720), cell_scale=0.25)
    demo.run(frames=40)
    demo.next_step()
    demo.next_step()                       # without fixed anions: the cell is rebuilt
    assert not demo.sim.config["fixed_anions.enabled"]
    assert demo.session.trace.ghost is not None and demo.session.trace.ghost[0].size > 10


def test_captions_fill_in_live_numbers():
    demo = Demo(load_scenario("emerges"), fullscreen=False, size=(1280, 720), cell_scale=0.25)
    demo.run(frames=30)
    demo.next_step()
    demo.run(frames=2)
    caption = " ".join(b.text for b in demo.text.boxes if demo.caption_rect.contains(b.rect))
    e_k = f"{demo.sim.theory(donnan=False)['E_K_mV']:.0f}".replace("-", "−")
    assert "E_K = " + e_k in caption and "{" not in caption


def _demo_cli(*args, env_extra=None, timeout=300):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "demo", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def test_a_short_recording_is_a_real_video_of_the_right_size_and_length(tmp_path):
    import imageio.v3 as iio
    out = tmp_path / "demo.mp4"
    from render.record import bitrate_cap_mbit
    r = _demo_cli("emerges", "--size", "640x400", "--frames", "48", "--cell", "0.25", "--record", str(out))
    assert r.returncode == 0, r.stderr
    meta = iio.immeta(out, plugin="FFMPEG")
    frames = list(iio.imiter(out, plugin="FFMPEG"))
    assert len(frames) == 48 and frames[0].shape[:2] == (400, 640), meta
    # a sane bitrate: the medium cap for this size (the first second overshoots it a little)
    mbit = out.stat().st_size * 8 / (48 / 30) / 1e6
    assert mbit <= 1.5 * bitrate_cap_mbit("medium", (640, 400)), mbit
    gif = tmp_path / "demo.gif"
    r = _demo_cli("emerges", "--size", "640x400", "--frames", "5", "--cell", "0.25", "--record", str(gif))
    assert r.returncode == 0, r.stderr
    g = iio.imread(gif)
    assert g.shape[0] == 5 and g.shape[1:3] == (400, 640)


BAD = {
    "unknown key": ('preset = "k-only"\n[[step]]\ncaptoin = "x"\n', "step 1: unknown key 'captoin'"),
    "value out of range": ('preset = "k-only"\n[[step]]\nset = { "outside.K" = -3 }\n', "step 1: set.outside.K"),
    "bad time": ('preset = "k-only"\n[[step]]\n[[step]]\nwait = "soon"\n', "step 2: wait"),
    "unknown highlight": ('preset = "k-only"\n[[step]]\nhighlight = "the pumps"\n', "step 1: highlight"),
    "unknown placeholder": ('preset = "k-only"\n[[step]]\ncaption = "V is {Vm}"\n', "unknown placeholder {Vm}"),
    "unknown preset": ('preset = "frog"\n[[step]]\n', "unknown preset 'frog'"),
    "no steps": ('preset = "k-only"\n', "no [[step]]"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_broken_scenario_is_one_line_and_exit_2_before_anything_opens(case, tmp_path):
    text, expected = BAD[case]
    f = tmp_path / "broken.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_scenario(str(f))
    assert "broken.toml" in str(e.value) and expected in str(e.value)
    r = _demo_cli(str(f), env_extra={"SDL_VIDEODRIVER": ""}, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "broken.toml" in r.stderr and "Traceback" not in r.stderr


def test_s_saves_a_still_named_by_scenario_step_and_time(tmp_path):
    demo = Demo(load_scenario("emerges"), fullscreen=False, size=(800, 600), cell_scale=0.25,
                screenshot_dir=str(tmp_path))
    demo.run(frames=3)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s, mod=0, unicode="", scancode=0))
    demo.run(frames=1)
    files = list(tmp_path.glob("the-resting-potential-emerges-step1-*ns.png"))
    assert len(files) == 1


def test_presenter_keys_blank_and_pause():
    demo = Demo(load_scenario("emerges"), fullscreen=False, size=(800, 600), cell_scale=0.25)
    demo.run(frames=2)
    for key in (pygame.K_b, pygame.K_p):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    demo.run(frames=1)
    assert demo.blank and demo.session.paused and not demo.text.boxes
    assert demo.screen.get_at((400, 300))[:3] == (0, 0, 0)


def test_the_lecture_plays_through_every_part_on_the_presenters_key():
    demo = Demo(load_scenario("lecture"), fullscreen=False, size=(800, 600), auto=True, cell_scale=0.25)
    names = []
    for _ in range(len(demo.steps)):
        demo.run(frames=2)
        names.append(demo.title_text())
        demo.next_step()
    assert demo.finished
    assert len(dict.fromkeys(names)) == 5    # each part's own title, in turn
    assert demo.sim.config["name"] == load_scenario("pump").config["name"]
