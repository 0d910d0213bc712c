"""The live view: headless frames and screenshot, controls driven by synthetic Pygame events, the
no-display message, and one real window under Xvfb driven with xdotool."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pygame
import pytest

from render.app import ACTIONS, KEYMAP, WM_CLASS, App
from render.controls import key_table_markdown
from render.style import DARK
from simulation.core.config import load
from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"


@pytest.fixture
def app():
    a = App(load("mammalian", None, TINY), preset="mammalian", overrides=tuple(TINY), size=(1280, 720), seed=2)
    yield a
    pygame.display.quit()


def press(app, key, frames=1):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    app.run(frames=frames)


def click(app, pos, button=1):
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button))
    app.run(frames=1)


def test_frames_and_screenshot_from_the_command_line(tmp_path):
    shot = tmp_path / "shot.png"
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    sets = [a for s in TINY for a in ("--set", s)]
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "live", "--frames", "20", "--screenshot", str(shot),
                        *sets], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("fps: ") and float(line.split()[1]) > 0
    img = pygame.image.load(str(shot))
    assert img.get_size() == (1280, 720)


def test_no_display_is_one_line_with_the_headless_alternative():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    r = subprocess.run([sys.executable, str(ROOT / "main.py")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "python main.py run" in r.stderr
    # the interpreter that was actually used, not a bare `python` that may not exist
    assert os.path.relpath(sys.executable) in r.stderr or sys.executable in r.stderr
    assert "Traceback" not in r.stderr


def test_every_action_is_bound_to_a_callable_and_a_key_of_its_own():
    for a in ACTIONS:
        assert callable(a.do) and (a.is_on is None or callable(a.is_on)), a.help
    keys = [k for a in ACTIONS for k in a.keys]
    assert len(keys) == len(set(keys)) == len(KEYMAP), "a key bound to two actions"


def test_every_toggle_reads_the_app(app):
    for a in ACTIONS:
        if a.is_on is not None:
            assert isinstance(a.is_on(app), bool), a.help


def test_readme_key_table_is_the_action_table():
    assert key_table_markdown(ACTIONS) in (ROOT / "README.md").read_text()


def test_clamp_keys_hold_v_step_the_command_and_show_the_current(app):
    app.run(frames=30)
    press(app, pygame.K_v, frames=5)
    sim = app.sim
    held = sim.clamp_mV
    assert sim.clamped and held % 10 == 0 and sim.v_mV == held
    press(app, pygame.K_PERIOD, frames=5)
    press(app, pygame.K_PERIOD, frames=5)
    press(app, pygame.K_COMMA, frames=30)
    assert sim.clamp_mV == held + 10 and sim.v_mV == held + 10
    labels = [b.text for b in app.text.boxes]
    assert any(t.startswith("clamp current, pA") or t.startswith("I, pA") for t in labels), labels
    assert any("clamped" in t for t in labels)
    press(app, pygame.K_v, frames=3)
    assert not sim.clamped
    assert [e.label for e in sim.events] == [f"clamp {held:+.0f} mV", f"clamp {held + 10:+.0f} mV",
                                             f"clamp {held + 20:+.0f} mV", f"clamp {held + 10:+.0f} mV",
                                             "clamp released"]


def test_pause_step_and_speed(app):
    app.run(frames=2)
    press(app, pygame.K_SPACE)
    assert app.session.paused
    n = app.sim.step_count
    app.run(frames=3)
    assert app.sim.step_count == n
    press(app, pygame.K_n)
    assert app.sim.step_count == n + 1
    spf = app.session.steps_per_frame
    press(app, pygame.K_EQUALS)
    assert app.session.steps_per_frame == 2 * spf
    press(app, pygame.K_MINUS)
    assert app.session.steps_per_frame == spf


def test_ouabain_key_blocks_the_pumps_and_marks_the_trace(app):
    app.run(frames=3)
    press(app, pygame.K_o, frames=2)
    assert not app.sim.pumps_on
    assert any("ouabain" in label for _, label in app.session.trace.markers)
    press(app, pygame.K_o)
    assert app.sim.pumps_on


def test_outside_potassium_and_permeability_keys_change_the_model(app):
    app.run(frames=2)
    k0 = app.sim.concentrations_mM()[1]["K"]
    press(app, pygame.K_k)
    assert app.sim.concentrations_mM()[1]["K"] == pytest.approx(2 * k0, rel=0.1)
    na = app.sim.effective_permeability["Na"]
    press(app, pygame.K_3)  # halve P_Na: always room
    assert app.sim.effective_permeability["Na"] == pytest.approx(na / 2, rel=1e-9)
    press(app, pygame.K_f)
    assert not app.sim.field_on
    press(app, pygame.K_l)
    assert not app.sim.selective
    assert len(app.session.trace.markers) >= 4


def test_buttons_do_what_their_keys_do(app):
    app.run(frames=1)
    button = next(b for b in app.buttons if b.action.button == "Ouabain")
    click(app, button.rect.center)
    assert not app.sim.pumps_on


def test_restarts_for_anions_cell_size_and_reset(app):
    app.run(frames=3)
    press(app, pygame.K_a)
    assert app.sim.species_totals()["A"] == 0 and app.sim.step_count <= 10
    h = app.sim.geometry.height_nm
    press(app, pygame.K_RIGHTBRACKET)
    assert app.sim.geometry.height_nm == 2 * h
    assert app.sim.capacitance_e_per_mV == 2 * app.session.base_config["physics.capacitance_e_per_mV"]
    app.run(frames=3)
    press(app, pygame.K_r)
    assert app.sim.step_count <= 10 and app.toast is not None


def test_clicking_an_ion_tracks_it(app):
    app.run(frames=2)
    s, tf = app.sim.state, app.tf
    inside = [i for i in range(s.n) if s.x[i] < app.sim.geometry.x_left_nm
              and tf.y0_nm + 5 < s.y[i] < tf.y0_nm + tf.visible_height_nm - 5]
    i = inside[0]
    pos = tuple(int(round(v)) for v in tf.to_screen(s.x[i], s.y[i]))
    click(app, pos)
    assert app.session.tracked is not None
    app.run(frames=5)
    assert len(app.session.trail) >= 5


def test_window_resize_reflows_and_fonts_grow(app):
    small = app.fonts["body"].get_height()
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, w=1920, h=1080, size=(1920, 1080)))
    app.run(frames=1)
    assert app.screen.get_size() == (1920, 1080)
    assert app.fonts["body"].get_height() > small
    assert app.scope_rect.right <= 1920 and app.buttons_rect.bottom <= 1080


@pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
                    reason="needs Debian's xvfb and xdotool (.ci/run installs them)")
def test_real_window_under_xvfb_takes_a_key_from_xdotool(tmp_path):
    from PIL import ImageGrab
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # nothing inherited from this process (an App made here sets the window class in os.environ)
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "SDL_VIDEO_X11_WMCLASS")}
    env.update(DISPLAY=display, SDL_AUDIODRIVER="dummy")
    sets = [a for s in TINY for a in ("--set", s)]
    app = None
    try:
        time.sleep(1.0)
        app = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "live", *sets], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wid = None
        deadline = time.time() + 120
        while time.time() < deadline and wid is None:
            r = subprocess.run(["xdotool", "search", "--class", WM_CLASS], env=env,
                               capture_output=True, text=True, timeout=10)
            wid = r.stdout.split()[0] if r.returncode == 0 and r.stdout.split() else None
            time.sleep(0.5)
        assert wid, "the window did not appear"
        time.sleep(2.0)
        before = ImageGrab.grab(xdisplay=display)
        # no window manager runs on Xvfb: focus the window, then type through XTEST
        subprocess.run(["xdotool", "windowfocus", wid], env=env, capture_output=True, timeout=10)
        subprocess.run(["xdotool", "key", "h"], env=env, check=True, timeout=10)
        time.sleep(1.5)
        after = ImageGrab.grab(xdisplay=display)
        after.save(tmp_path / "xvfb.png")
        w, h = after.size
        right = (int(0.55 * w), h // 4, int(0.95 * w), 3 * h // 4)    # where the help panel opens

        def panel_share(img):     # how much of the right column is the help panel's plain colour
            return float(np.all(np.asarray(img.crop(right).convert("RGB")) == DARK.panel, axis=-1).mean())
        assert panel_share(before) < 0.5 < panel_share(after), \
            f"the help panel did not appear ({panel_share(before):.2f} -> {panel_share(after):.2f} panel colour)"
        subprocess.run(["xdotool", "key", "Escape"], env=env, check=True, timeout=10)
        assert app.wait(timeout=30) == 0
    finally:
        if app and app.poll() is None:
            app.kill()
        xvfb.kill()
