"""What the lecturer has beside the screen: speaker notes on the terminal as each step begins (never
drawn), a handout of a scenario's captions and stills, and a hall theme whose panel shows what
the step is about."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pygame
import pytest

from render import style
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


def press(app, key, frames=1):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    app.run(frames=frames)


def test_every_shipped_step_has_speaker_notes_and_every_scenario_a_length():
    for name in scenario_names():
        sc = load_scenario(name)
        assert sc.length_s() is not None, f"{name} declares no length"
        assert all(step.notes for step in sc.steps), f"{name}: a step without notes"


def test_speaker_notes_go_to_the_terminal_as_each_step_begins_and_never_onto_the_screen():
    sc = load_scenario("emerges")
    out = io.StringIO()
    demo = Demo(sc, fullscreen=False, size=(1280, 720), seed=0, cell_scale=0.25, notes=out)
    demo.run(frames=2)
    first = out.getvalue()
    assert "step 1/4: K+ channels only" in first and sc.steps[0].notes in first
    assert f"next: {sc.steps[1].title} (when V has settled)" in first
    on_screen = " ".join(b.text for b in demo.text.boxes)
    assert sc.steps[0].notes.split()[0:4] != on_screen.split()[0:4]
    assert not any(sc.steps[0].notes[:30] in b.text for b in demo.text.boxes)
    press(demo, pygame.K_RIGHT, frames=2)
    assert "step 2/4: Toward E_K" in out.getvalue()[len(first):]


def test_notes_that_are_not_text_are_one_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('preset = "k-only"\n[[step]]\ncaption = "hi"\nnotes = 3\n')
    with pytest.raises(ConfigError, match=r"bad.toml, step 1: notes must be text"):
        load_scenario(str(f))


def test_the_handout_is_a_page_of_captions_with_a_still_of_every_step(tmp_path):
    page = tmp_path / "emerges.md"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "handout", "emerges", "--cell", "0.25",
                        "--size", "800x450", "--out", str(page)], capture_output=True, text=True, cwd=tmp_path,
                       timeout=600, env=dict(os.environ, SDL_VIDEODRIVER="dummy"))
    assert r.returncode == 0, r.stderr[-800:]
    text = page.read_text()
    sc = load_scenario("emerges")
    stills = sorted((tmp_path / "emerges-stills").glob("*.png"))
    assert len(stills) == len(sc.steps)
    for still in stills:
        assert f"(emerges-stills/{still.name})" in text
        assert pygame.image.load(str(still)).get_size() == (800, 450)
    for step in sc.steps:
        assert f". {step.title}" in text
    assert "{" not in text and "?" not in text.split("## 4.")[1], "every placeholder filled with a number"
    assert "seed 0, cell x0.25" in text


def test_a_handouts_still_shows_where_its_step_began(tmp_path):
    """A pulse at the start of a step longer than the scope's window: the still is the step's last
    frame whose scope still shows that start (so the spike its caption talks about is in it), not
    its last frame, where the trace would have scrolled past it."""
    import re
    from render.handout import write_handout
    f = tmp_path / "long.toml"
    f.write_text('preset = "k-only"\nset = ["box.height_nm=120", "physics.particles=4000", '
                 '"physics.capacitance_e_per_mV=0.4"]\n'
                 '[[step]]\ntitle = "rest"\nwait = 0\n'
                 '[[step]]\ntitle = "pulse"\nwait = 50\nset = { pulse = [300, 2] }\ncaption = "V = {V} mV"\n'
                 '[[step]]\ntitle = "after"\nwait = 600\n')
    sc = load_scenario(str(f))
    page = write_handout(sc, tmp_path / "long.md", size=(320, 180))
    times = [float(x) for x in re.findall(r"model time (\d+) ns", page.read_text())]
    assert len(times) == 3
    from simulation.session.player import Player
    s = Player(sc).session
    span = s.trace.capacity * s.sim.dt_ns * s.steps_per_frame      # the scope's window, ns
    assert 50 < times[1] <= 50 + span + 1, (times, span)     # the pulse step: its start still in view
    assert times[1] < 600 + 50 - span                         # well before that step ended


def test_a_handout_to_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "handout", "emerges", "--out",
                        str(tmp_path / "nowhere" / "x.md")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such directory" in r.stderr


def test_the_command_lines_themes_are_the_styles():
    import main
    parser = main.build_parser()
    for command in ("live", "demo", "handout"):
        action = next(a for a in parser._subparsers._group_actions[0].choices[command]._actions
                      if a.dest == "theme")
        assert set(action.choices) == set(style.THEMES), command


def test_the_hall_panel_shows_what_the_step_is_about():
    sc = load_scenario("why-nothing-flows")
    demo = Demo(sc, fullscreen=False, size=(1920, 1080), theme="hall", seed=0, cell_scale=0.25)
    demo.run(frames=3)
    assert demo.panel_parts() == ("concentrations",)          # step 1 names no crossings, no pump
    press(demo, pygame.K_RIGHT, frames=3)                      # step 2: "{K_efflux} out and {K_influx} in"
    assert "crossings" in demo.panel_parts()
    dark = Demo(sc, fullscreen=False, size=(1280, 720), theme="projector", seed=0, cell_scale=0.25,
                player=demo.player)
    assert dark.panel_parts() == style.PANEL_PARTS             # other themes show it all


def test_a_lecture_in_python_gives_the_speaker_notes_of_its_step():
    from simulation.lab import Lecture
    lecture = Lecture("pump", scale=0.25)
    assert "step 1/6: Leaks and pumps" in lecture.notes and "electrogenic" in lecture.notes
    lecture.next()
    assert "step 2/6: The pump's share" in lecture.notes and "next: Ouabain (on your key)" in lecture.notes
