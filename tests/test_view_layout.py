"""The live view at every size and theme: no two pieces of text overlap, none is clipped, text is
legible (contrast) and, in the hall themes, large enough to read from the back row."""
import os

import pygame
import pytest

from particles.species import NAMES
from render import style
from render.app import App
from simulation.core.config import load, preset_names
from simulation.session.session import FAST_FRAME_S
from tests.clocks import ticking

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

SIZES = [(800, 600), (1280, 720), (1920, 1080), (3840, 2160)]
FEWER = ["physics.particles=20000"]   # the same cell and text, fewer dots to place


def boxes_problems(app: App) -> list[str]:
    w, h = app.screen.get_size()
    screen = pygame.Rect(0, 0, w, h)
    boxes = app.text.boxes
    out = []
    for b in boxes:
        if not screen.contains(b.rect):
            out.append(f"{b.text!r} {tuple(b.rect)} is clipped by the window")
        elif b.region is not None and not b.region.contains(b.rect):
            out.append(f"{b.text!r} {tuple(b.rect)} runs out of its panel {tuple(b.region)}")
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if boxes[i].rect.colliderect(boxes[j].rect):
                out.append(f"{boxes[i].text!r} {tuple(boxes[i].rect)} overlaps {boxes[j].text!r} {tuple(boxes[j].rect)}")
    least = app.theme.min_text
    out += [f"{b.text!r} is {b.rect.height} px tall, under {least:.1%} of {h}" for b in boxes
            if b.rect.height < least * h]
    out += [f"{b.text!r} is cut" for b in boxes if b.text.endswith("...")]
    return out


def press(app, key, frames=1):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    app.run(frames=frames)


def check_states(app: App) -> list[str]:
    """The view as it runs; every page of help on either side; with the buttons shown and hidden;
    a key that is refused; event markers; the field off; a voltage clamp and its release."""
    problems = []

    def check(what):
        problems.extend(f"{what}: {p}" for p in boxes_problems(app))
    app.run(frames=25)
    check("running")
    press(app, pygame.K_b)           # the other button state
    check("buttons")
    for side in ("right", "left"):
        press(app, pygame.K_h)
        while app.help_page:
            check(f"help {app.help_page}/{app.help_pages} on the {side}")
            press(app, pygame.K_h)
        press(app, pygame.K_x)       # the panel to the other side (and shown)
        press(app, pygame.K_h)       # ... and off again
        while app.help_page:
            press(app, pygame.K_h)
    press(app, pygame.K_8)           # no Ca2+ in these cells: refused in words
    check("refusal")
    press(app, pygame.K_o, frames=4)
    press(app, pygame.K_o, frames=4)
    press(app, pygame.K_f, frames=12)
    check("field off, with markers")
    press(app, pygame.K_f, frames=4)
    press(app, pygame.K_v, frames=8)  # a voltage clamp: the scope splits, the current below V
    check("clamped")
    press(app, pygame.K_v, frames=8)
    check("released")
    return problems


@pytest.mark.view
@pytest.mark.parametrize("theme", sorted(style.THEMES))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_text_overlaps_or_is_clipped_at_any_size(theme, size):
    problems = []
    for preset in (preset_names() if theme == "dark" else ("mammalian", "k-only")):
        app = App(load(preset, None, FEWER), preset=preset, size=size, seed=1, theme=theme)
        problems += [f"{preset}: {p}" for p in check_states(app)]
        pygame.display.quit()
    assert not problems, "\n".join(problems[:20])


@pytest.mark.view
@pytest.mark.parametrize("theme", sorted(style.THEMES))
def test_no_text_overlaps_in_any_preset_at_projector_size(theme):
    problems = []
    for preset in preset_names():
        app = App(load(preset, None, FEWER), preset=preset, size=(1920, 1080), seed=1, theme=theme)
        app.run(frames=20)
        problems += [f"{preset}: {p}" for p in boxes_problems(app)]
        pygame.display.quit()
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("direction", ["down", "up"])
def test_the_off_scale_arrows_value_clears_the_markers_and_the_axis(direction, monkeypatch):
    """V beyond the axis' limit (here lowered to 100 mV so a small cell gets there): the arrow's
    label, taller than the arrow, overlaps neither the label of a marker just set above it nor the
    time axis below it, and stays inside the plot's panel."""
    from tests.cells import TINY
    import render.scope
    monkeypatch.setattr(render.scope, "AXIS_LIMIT_mV", 100.0)
    leaks = [] if direction == "down" else ["channels.K.relative_permeability=0", "channels.Na.relative_permeability=1"]
    app = App(load("k-only", None, TINY + leaks), preset="k-only", size=(1920, 1080), seed=3, theme="hall")
    try:
        app.run(frames=10)
        for key in (pygame.K_o, pygame.K_f):            # two markers: the pump on, the field off
            press(app, key, frames=2)
        arrow = []
        for _ in range(60):
            app.run(frames=10)
            arrow = [b for b in app.text.boxes if b.text.startswith("V ") and b.text.endswith(" mV")]
            if arrow:
                break
        assert arrow, f"V {app.sim.v_mV:.0f} mV never went past the axis"
        for _ in range(2):                              # markers at the right edge, over the arrow
            press(app, pygame.K_o, frames=1)
        app.run(frames=1)
        assert (app.sim.v_mV > 0) == (direction == "up")
        assert not boxes_problems(app)
        (label,) = [b for b in app.text.boxes if b.text.startswith("V ") and b.text.endswith(" mV")]
        markers = [b for b in app.text.boxes if b.text in ("pump on", "ouabain: pump blocked", "field off")]
        assert len(markers) >= 3
        if direction == "up":                           # below every row of markers' labels
            assert label.rect.top >= max(b.rect.bottom for b in markers), (label.rect, [b.rect for b in markers])
    finally:
        pygame.display.quit()


@pytest.mark.parametrize("theme", sorted(style.THEMES))
def test_text_colours_have_enough_contrast(theme):
    th = style.THEMES[theme]
    pairs = [("text on panel", th.text, th.panel), ("dim text on panel", th.text_dim, th.panel),
             ("text on background", th.text, th.background), ("dim text on background", th.text_dim, th.background),
             ("toast", th.toast_text, th.toast_bg)]
    pairs += [(f"{n} label", th.species_text(n, th.panel), th.panel) for n in NAMES]
    pairs += [(f"{n} legend", th.species_text(n, th.background), th.background) for n in NAMES]
    pairs += [(f"{k} line label", th.line(k, th.panel), th.panel) for k in style.THEORY_LINES]
    low = [f"{name}: {style.contrast_ratio(a, b):.2f}" for name, a, b in pairs
           if style.contrast_ratio(a, b) < style.MIN_CONTRAST]
    assert not low, ", ".join(low)


def test_the_okabe_ito_blue_is_lightened_on_dark_themes_but_kept_as_a_dot():
    th = style.THEMES["projector"]
    assert style.contrast_ratio(style.BLUE, th.panel) < style.MIN_CONTRAST   # why `legible` exists
    assert th.species("K") == style.BLUE and th.species_text("K") != style.BLUE


@pytest.mark.view
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_scenario_step_reads_from_the_back_of_a_hall(size):
    """The hall theme, every step of every shipped scenario: every piece of text (captions, the
    panel, the scope's labels, what a step said) at least 4 % of the height, whole, apart."""
    from render.demo import Demo
    from simulation.session.scenario import load_scenario, scenario_names
    problems = []
    for name in scenario_names():
        demo = Demo(load_scenario(name), fullscreen=False, size=size, theme="hall", seed=0, cell_scale=0.25)
        demo.session.clock = ticking(FAST_FRAME_S / 4)   # a fast-forwarded frame: three calls, on any machine
        demo.run(frames=3)
        for _ in demo.steps:
            demo.run(frames=6)
            problems += [f"{name} step {demo.k + 1}: {p}" for p in boxes_problems(demo)]
            caption = [b for b in demo.text.boxes if b.region == demo.caption_rect]
            if demo.player.step.caption and not caption:
                problems.append(f"{name} step {demo.k + 1}: no caption drawn")
            press(demo, pygame.K_RIGHT)
        pygame.display.quit()
    assert not problems, "\n".join(problems[:20])
