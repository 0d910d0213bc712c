"""Nothing on screen is false: what the live view says matches the model it shows."""
import os

import numpy as np
import pygame
import pytest

from particles.state import HELD
from render.app import App
from simulation.session.session import FAST_FRAME_S
from simulation.core.config import load
from tests.cells import TINY
from tests.clocks import ticking

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"


def make(preset="mammalian", extra=(), **kw):
    cfg = load(preset, None, TINY + list(extra))
    return App(cfg, preset=preset, size=(1280, 720), seed=3, **kw)


def texts(app):
    return [b.text for b in app.text.boxes]


def press(app, key, frames=1):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
    app.run(frames=frames)


@pytest.fixture(autouse=True)
def _quit_display():
    yield
    pygame.display.quit()


def test_doubling_a_missing_channel_type_adds_it_and_the_scope_gains_its_line():
    app = make("k-only")
    app.run(frames=2)
    assert app.sim.channel_counts()["Na"] == 0 and "E_Na_mV" not in app.lines_shown()
    press(app, pygame.K_4)    # P_Na ×2
    assert app.sim.channel_counts()["Na"] > 0
    assert app.sim.effective_permeability["Na"] == pytest.approx(0.05, rel=1e-6)
    assert "E_Na_mV" in app.lines_shown()
    assert not any("no free place" in t for t in texts(app))


def test_a_permeability_the_membrane_cannot_hold_is_said_on_screen():
    app = make("mammalian")
    app.run(frames=1)
    for _ in range(8):        # double P_Cl until the sites run out
        press(app, pygame.K_6)
    asked, placed = app.sim.channels.relative["Cl"], app.sim.effective_permeability["Cl"]
    assert placed < 0.99 * asked
    assert any("asked" in t and "placed" in t for t in texts(app))


def test_a_cell_without_pumps_says_so_and_draws_no_pump_line():
    app = make("mammalian", ["pump.count=0"])
    app.run(frames=3)
    assert any("no Na/K pumps" in t for t in texts(app))
    assert not any("running" in t or "BLOCKED" in t for t in texts(app))
    assert "V_pump_mV" not in app.lines_shown()
    assert not any(t.startswith("GHK+pump") for t in texts(app))


def test_blocked_is_said_only_after_ouabain_was_given():
    app = make("ouabain")          # pumps off in the config
    app.run(frames=2)
    assert not any("BLOCKED" in t for t in texts(app))
    press(app, pygame.K_o)          # on
    press(app, pygame.K_o, frames=2)  # ouabain
    assert any("BLOCKED (ouabain)" in t for t in texts(app))


def test_the_legend_lists_only_species_present():
    app = make("no-fixed-anions")
    app.run(frames=2)
    legend = [b.text for b in app.text.boxes if app.legend_rect.contains(b.rect)]
    assert legend and not any(t.startswith("A") for t in legend)


def test_raising_outside_potassium_says_why_an_impermeant_anion_appears():
    app = make("mammalian")
    app.run(frames=1)
    press(app, pygame.K_k)
    press(app, pygame.K_k)
    assert app.sim.concentrations_mM()[1]["X"] > 0
    assert any("X-" in t and "neutral" in t for t in texts(app))


def test_with_the_field_off_the_axis_follows_v_or_an_arrow_gives_its_value():
    app = make("k-only")
    press(app, pygame.K_f)
    for _ in range(30):
        app.run(frames=10)
    v = app.sim.v_mV
    assert v < -110, "with nothing pushing back, K+ keeps leaving"
    ticks = [t for t in texts(app) if t.lstrip("−").isdigit()]
    lowest = -max(int(t.lstrip("−")) for t in ticks if t.startswith("−"))
    arrow = [t for t in texts(app) if t.startswith("V ") and t.endswith(" mV")]
    assert lowest <= v or arrow, f"V {v:.0f} mV off an axis that ends at {lowest}"


def test_crossing_rates_are_counted_over_a_stated_window():
    app = make("mammalian")
    app.run(frames=240)                      # 60 ns: past the 50 ns before which no rate is shown
    rates, _, window = app.session.rates()
    assert window > 0 and set(rates) == {"K", "Na", "Cl"}
    assert any(f"({window:.0f} ns)" in t for t in texts(app))


def test_fast_forward_steps_more_per_frame_and_shows_a_badge():
    app = make("mammalian")
    app.run(frames=2)
    # a clock that moves 1/64 s each time it is read, however busy the machine: a fast frame
    # (FAST_FRAME_S) is then a fixed number of the model's calls
    app.session.clock = ticking(1 / 64)
    before = app.sim.step_count
    press(app, pygame.K_g)
    per_frame = app.sim.step_count - before
    calls = round(FAST_FRAME_S * 64) - 1
    assert per_frame == calls * app.session.steps_per_frame
    assert f"FAST x{calls}" in " ".join(texts(app))


def test_whole_run_history_starts_at_zero_and_keeps_every_marker():
    app = make("mammalian")
    app.session.trace.capacity = 50
    app.session.trace.t_ns = type(app.session.trace.t_ns)(maxlen=50)
    app.session.trace.v_mV = type(app.session.trace.v_mV)(maxlen=50)
    app.run(frames=2)
    press(app, pygame.K_o)                  # an early event
    app.run(frames=120)
    t, _ = app.session.trace.series()
    assert t[0] > app.session.trace.markers[0][0]   # the ring has scrolled past the marker
    press(app, pygame.K_w)
    t, _ = app.session.trace.series()
    assert t[0] <= app.session.trace.markers[0][0] and any("ouabain" in x for x in texts(app))


def test_follow_next_picks_an_ion_in_an_open_pore_of_its_type_and_slows_down():
    app = make("mammalian")
    app.run(frames=20)
    press(app, pygame.K_i)
    i = app.session.tracked
    assert i is not None and app.session.slow
    s, g, pores = app.sim.state, app.sim.geometry, app.sim.channels.pores
    # where it was picked: the trail's first point
    x, y = app.session.trail[0]
    assert g.x_left_nm - 1.0 < x < g.x_right_nm + 1.0
    j = int(np.searchsorted(pores.y1, y))
    assert pores.y0[j] <= y <= pores.y1[j] and pores.species[j] == s.species[i]
    assert (s.flags[i] & HELD) == 0


def test_the_smoothed_trace_is_right_at_both_ends():
    """A steady fall: the thick trace follows it everywhere, at the start and at the live end too
    (a running mean sat flat at the start and lagged at the end); on noise it is the mean."""
    from simulation.session.trace import VTrace
    trace = VTrace()
    t = np.linspace(0, 100, 401)
    v = -t * 0.7
    sm = trace.smoothed(t, v, window_ns=20.0)
    assert np.max(np.abs(sm - v)) < 1e-9
    rng = np.random.default_rng(1)
    noisy = -60 + rng.normal(0, 3, t.size)
    sm = trace.smoothed(t, noisy, window_ns=20.0)
    assert abs(sm[200] - noisy[160:241].mean()) < 1e-9          # the middle: the running mean
    assert np.std(sm) < 3 / 3                                    # and it smooths


def test_projector_theme_hides_the_debug_figures_and_folds_the_buttons():
    app = make("mammalian", theme="projector")
    app.run(frames=3)
    assert not app.buttons and not any("FPS" in t for t in texts(app))
    press(app, pygame.K_b)
    assert app.buttons


def test_the_panels_crossings_and_the_captions_agree_frame_by_frame():
    """In the scenario that talks about them, every frame: the K+ crossings the panel shows are the
    caption's {K_efflux} and {K_influx}, counted over the window the panel states, which starts
    again at each step."""
    from render.demo import Demo
    from simulation.session.scenario import load_scenario
    from simulation.session.session import RATE_MIN_NS
    demo = Demo(load_scenario("why-nothing-flows"), fullscreen=False, size=(1280, 720), cell_scale=0.25)
    demo.session.steps_per_frame = 200
    checked = 0
    for k in range(1, 4):
        demo.next_step()
        while demo.k < k:
            demo.next_step()
        for _ in range(20):
            demo.run(frames=1)
            values = demo.player.live_values()
            rates, _, window = demo.session.rates()
            boxes = texts(demo)
            head = next(t for t in boxes if t.startswith("crossings/µs out / in"))
            # the window as the panel states it (none yet in a frame that made no step since the change)
            assert head == (f"crossings/µs out / in ({window:.0f} ns)" if window else "crossings/µs out / in")
            assert head != "crossings/µs out / in" or not window, "the panel has room to state its window"
            assert window <= demo.sim.time_ns - demo.player.began_ns + 1e-6     # restarted at the step
            if window < RATE_MIN_NS:             # too few ns to count: no numbers on either
                assert not rates and not any(" / " in t and t[0].isdigit() for t in boxes)
                assert values["K_efflux"] == values["K_influx"] == "?"
                continue
            panel = f"{rates['K'][0]:.0f} / {rates['K'][1]:.0f}"
            assert panel in boxes
            assert panel == f"{values['K_efflux']} / {values['K_influx']}".replace("−", "-")
            drawn = " ".join(b.text for b in demo.text.boxes if demo.caption_rect.contains(b.rect))
            if "{K_efflux}" in demo.player.step.caption:
                assert drawn == demo.player.caption()          # the caption on screen, these numbers in it
                assert f"{values['K_efflux']} out" in drawn and f"{values['K_influx']} in" in drawn
                checked += 1
    assert checked > 10


def test_a_key_that_could_only_be_refused_is_not_offered_and_says_why_in_full():
    """The default cell has no Ca2+: its keys (7, 8) are not on the keys' help page, and pressing
    8 says why in a line that fits, instead of a cut refusal from the config's rules."""
    app = make("mammalian")
    app.run(frames=2)
    press(app, pygame.K_8)
    said = app.toast[0]
    assert said.startswith("no Ca2+ inside this cell") and app.sim.channel_counts()["Ca"] == 0
    view, drawn = app.tf.rect, []
    for b in reversed(app.text.boxes):           # the toast is the last thing drawn, in the box
        if b.region != view:
            break
        drawn.insert(0, b.text)
    toast = " ".join(drawn)
    assert toast == said                         # drawn whole (wrapped if need be), not shortened
    keys_page = ""
    press(app, pygame.K_h)
    while app.help_page:                         # every page of help
        keys_page += " ".join(texts(app))
        press(app, pygame.K_h)
    assert "8: double P_Ca" not in keys_page and "2: double P_K" in keys_page


def test_a_marker_label_is_never_crossed_by_a_markers_line():
    """Markers close together (three changes a few frames apart): every label is drawn over the
    lines, on its own background, and beside its own line, never across it."""
    app = make("mammalian")
    app.run(frames=20)
    for key in (pygame.K_o, pygame.K_f, pygame.K_o, pygame.K_f):
        press(app, key, frames=2)
    app.run(frames=2)
    marker = app.theme.marker
    labels = [b for b in app.text.boxes if b.text in ("ouabain: pump blocked", "pump on", "field off", "field on")
              and app.scope_rect.contains(b.rect)]
    assert len(labels) >= 2
    pix = pygame.surfarray.pixels3d(app.screen)
    try:
        for b in labels:
            r = b.rect.inflate(-2, -2)
            for x in range(r.left, r.right):
                column = pix[x, r.top:r.bottom]
                is_marker = np.all(np.abs(column.astype(int) - np.array(marker)) <= 8, axis=1)
                assert not is_marker.all(), f"a marker line crosses the label {b.text!r} at x={x}"
    finally:
        del pix


@pytest.mark.view
def test_the_captions_numbers_are_the_scopes_in_every_scenario():
    """Every step of every shipped scenario, frame by frame: a caption's V is the scope's mean
    (the same window, rounded), and its E_K, E_Na, E_Cl, V_GHK are the scope's line labels."""
    import re

    from render.demo import Demo
    from simulation.session.scenario import load_scenario, scenario_names
    labels = {"E_K": "E_K", "E_Na": "E_Na", "E_Cl": "E_Cl", "V_GHK": "GHK"}
    compared = 0
    for name in scenario_names():
        if name == "lecture":          # its parts are the other scenarios
            continue
        demo = Demo(load_scenario(name), fullscreen=False, size=(1280, 720), cell_scale=0.25)
        demo.session.steps_per_frame = 100
        for k in range(len(demo.steps)):
            while demo.k < k:
                demo.next_step()
            for _ in range(6):
                demo.run(frames=1)
                values, boxes = demo.player.live_values(), texts(demo)
                caption = demo.player.step.caption
                mean = next((t for t in boxes if re.match(r"(still \w+: )?mean ", t)), None)
                if "{V}" in caption and mean is not None and values["V"] != "?":
                    shown = float(re.search(r"mean ([−\d.]+)", mean).group(1).replace("−", "-"))
                    assert abs(float(values["V"].replace("−", "-")) - shown) <= 0.55, (name, k, values["V"], mean)
                    compared += 1
                for key, label in labels.items():
                    line = next((t for t in boxes if t.startswith(label + " ")), None)
                    if "{" + key + "}" in caption and line is not None and values[key] != "?":
                        shown = float(line.split()[1].replace("−", "-"))
                        assert abs(float(values[key].replace("−", "-")) - shown) <= 0.55, (name, k, key, line)
                        compared += 1
        pygame.display.quit()
    assert compared > 50


def test_the_mean_under_the_title_leaves_out_the_time_a_clamp_held_v():
    """A held V is the electrode's command, with no spread: after the release the readout's mean
    is of the cell's own V only (never "mean −103.3 ± 0.0 mV" over the clamped stretch)."""
    app = make("k-only")
    app.run(frames=40)
    press(app, pygame.K_v, frames=40)             # clamp where V is
    press(app, pygame.K_COMMA, frames=40)         # 10 mV lower
    press(app, pygame.K_v, frames=2)              # release
    tr = app.session.trace
    t, v = tr.ring()
    held = np.array(tr.held)
    released_at = t[np.flatnonzero(held)[-1]]
    window = tr._readout_window()
    assert window is None or window[0].min() > released_at
    app.run(frames=30)
    mean_line = next(x for x in texts(app) if "mean" in x)
    assert "± 0.0" not in mean_line
    m, _, span = tr.recent_mean()
    t, v = tr.ring()
    assert span <= t[-1] - released_at + 1e-9
    assert abs(m - v[(t > released_at) & (t >= t[-1] - tr.readout_ns)].mean()) < 1e-9
