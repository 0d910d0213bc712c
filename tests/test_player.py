"""The session layer without a front end: every shipped scenario plays to its end headless, going
back restores a step's state exactly, and the registry of interventions is the one vocabulary of
scenario steps, live controls and the API (same checks, same one-line refusals)."""
import math

import numpy as np
import pytest

from simulation.core.config import ConfigError, load
from simulation.session import interventions
from simulation.session.player import Player
from simulation.session.scenario import load_scenario, scenario_names
from simulation.session.session import CONTROL, Session

CLASSICS = ("horowicz", "purkinje-k", "flux-ratio")
SMALL = ["box.height_nm=120", "physics.particles=8000", "physics.capacitance_e_per_mV=0.4", "pump.count=6",
         "membrane.channels_per_unit_permeability=12"]


def _play_quickly(scenario):
    """Play `scenario` to its end on a quarter cell, a presenter's key taken 20 ns after each step
    began, 200 steps a frame; V stays finite. Returns the player, the steps seen and what each
    part had collected for its inset."""
    player = Player(scenario, cell_scale=0.25, auto=True, key_wait_ns=20.0)
    player.session.steps_per_frame = 200
    seen, points = set(), {}
    while not player.finished:
        player.session.paused = False
        player.session.advance_frame()
        assert player.session.trace.t_ns and math.isfinite(player.session.sim.v_mV)
        points[player.step.part] = list(player.points)      # what each part collected for its inset
        player.update()
        seen.add(player.k)
    return player, seen, points


def test_every_shipped_scenario_plays_to_its_end_headless():
    """The lecture includes every other shipped scenario: played to its end (each part from its own
    cell, every wait met, every change applied and none refused). The presenter is quick: a step
    waiting for the key begins 20 ns after the last; "settled" is the file's, and timed waits
    are cut to at most 400 ns (the mechanics, not the physics: the pump story's run-down waits
    20 µs)."""
    from dataclasses import replace
    lecture = load_scenario("lecture")
    lecture = replace(lecture, steps=[replace(st, wait=min(st.wait, 400.0)) if isinstance(st.wait, float) else st
                                      for st in lecture.steps])
    parts = {s.part for s in lecture.steps}
    # `spike` is the next lecture (what the cell does with its resting potential), and `classics`
    # (the classic experiments replayed) another: both played below
    classics = set(CLASSICS) | {"classics"}
    assert parts == {load_scenario(n).name for n in scenario_names() if n not in {"lecture", "spike"} | classics}
    player, seen, points = _play_quickly(lecture)
    assert seen == set(range(len(lecture.steps)))
    assert not [s for s in player.said if s.startswith("cannot")], player.said
    # the hyperkalemia part collects V at four rising [K+]o, and V rises with them
    ks = [k for k, _ in points[load_scenario("hyperkalemia").name]]
    assert len(ks) == 4 and ks == sorted(ks) and ks[-1] == pytest.approx(40, rel=0.05)
    hk = points[load_scenario("hyperkalemia").name]
    assert hk[-1][1] > hk[0][1]
    # the last part is the pump story: its last step has blocked the pumps
    assert not player.session.sim.pumps_on and player.session.ouabain_given


def test_the_action_potential_lecture_plays_to_its_end_headless():
    """`spike`, on a quarter cell (its pulses and held current scaled with it) and its waits cut to
    at most 200 ns (the mechanics, not the physics: that is test_action_potential's): every wait
    met, every change applied and none refused; it ends with the held current off and the Nav and
    Kv channels back, having fired."""
    from dataclasses import replace
    sc = load_scenario("spike")
    sc = replace(sc, steps=[replace(st, wait=min(st.wait, 200.0)) if isinstance(st.wait, float) else st
                            for st in sc.steps])
    player, seen, _ = _play_quickly(sc)
    assert seen == set(range(len(sc.steps)))
    assert not [s for s in player.said if s.startswith("cannot")], player.said
    sim = player.session.sim
    assert sim.stimulus_pA == 0.0 and sim.channel_counts()["Nav"] > 0 and sim.channel_counts()["Kv"] > 0
    assert player.session.spikes_seen >= 1, "the pulse past threshold fired"


def test_the_classic_experiments_play_to_their_end_with_every_question_revealed():
    """`classics` (the three replays) on a quarter cell, every wait cut to at most 200 ns (the
    mechanics; the physics is test_classic_experiments'): every step begins, no change is refused,
    every question is asked and revealed with a number measured, and the V against [K+]o part
    collects its four points beside the paper's three."""
    from dataclasses import replace
    sc = load_scenario("classics")
    assert {s.part for s in sc.steps} == {load_scenario(n).name for n in CLASSICS}
    sc = replace(sc, steps=[replace(st, wait=min(st.wait, 200.0) if isinstance(st.wait, float)
                                    else 200.0 if st.wait == "settled" else st.wait) for st in sc.steps])
    player, seen, points = _play_quickly(sc)
    assert seen == set(range(len(sc.steps)))
    assert not [s for s in player.said if s.startswith("cannot")], player.said
    asked = [st for st in sc.steps if st.question]
    assert len(player.polls) == len(asked) >= 6
    assert all(p.revealed and p.outcome is not None for p in player.polls)
    assert [k for k, _ in points[load_scenario("purkinje-k").name]] == pytest.approx([4, 2, 8, 16], rel=0.05)
    assert load_scenario("purkinje-k").reference.k_out == (2.0, 4.0, 16.0)


def test_a_smaller_cell_keeps_its_pump():
    """The `spiking` cell has one pump: at half or a quarter size it keeps one (round(0.5) would
    have left none, and the lecture's pump steps would have had nothing to show); channels,
    ions and capacitance scale as before; a cell without pumps gets none."""
    from simulation.session.session import scale_cell
    spiking = load("spiking")
    for scale in (0.25, 0.5, 2.0):
        d = scale_cell(spiking, scale).data
        assert d["pump"]["count"] == max(1, round(spiking.data["pump"]["count"] * scale))
        assert d["physics"]["capacitance_e_per_mV"] == spiking.data["physics"]["capacitance_e_per_mV"] * scale
    assert scale_cell(load("mammalian", None, ["pump.count=0"]), 0.5).data["pump"]["count"] == 0
    assert scale_cell(load("mammalian"), 0.5).data["pump"]["count"] == round(load("mammalian").data["pump"]["count"] / 2)


def test_the_scope_of_a_cell_that_can_fire_holds_a_spike_and_its_after_hyperpolarisation():
    """The ring the scope draws, at the default pace: 225 ns for a resting cell; for the spiking
    cell (Nav inactivates) 12 of HH's ms at 6.3 °C on its clock, over 800 ns, where the measured
    spike (latency ~40-100 ns, width ~110 ns) and its after-hyperpolarisation (lowest ~430-700 ns
    after the pulse) fit."""
    for preset, least_ns in (("mammalian", 225.0), ("spiking", 800.0)):
        s = Session(load(preset), preset=preset)
        span = s.trace.capacity * s.steps_per_frame * s.sim.dt_ns
        assert span >= least_ns and (preset == "spiking" or span == least_ns), (preset, span)


def test_a_caption_gives_the_pumps_work_since_its_step_began():
    """{pump_Na_out}, {pump_rate}, {Na_excess} and {restore_us}: counted from the pumps' cycles
    since the step began (3 Na+ each), the Na+ inside (as the panel counts them) above what the
    scenario's cell started with, and the time that pace needs for them; "?" before a cycle has run."""
    player = Player(load_scenario("pump"), cell_scale=0.25)
    s = player.session
    sim = s.sim
    assert sim.pump_count > 0 and sim.pumps_on
    sim.set_concentration("inside", "Na", 2 * s.base_config["inside.Na"])
    player.begin(player.k)
    assert player.live_values()["pump_rate"] == "?"
    cycles0, t0 = int(sim.pump_totals[0]), sim.time_ns
    s.step(8000)
    values = player.live_values()
    cycles = int(sim.pump_totals[0]) - cycles0
    assert cycles > 0
    assert values["pump_Na_out"] == str(3 * cycles)
    rate = cycles / ((sim.time_ns - t0) * 1e-3)
    assert values["pump_rate"] == f"{rate:.0f}"
    excess = (s.concentrations[0]["Na"] - s.base_config["inside.Na"]) / sim.mM_per_particle[0]   # as the panel
    assert excess > 0 and values["Na_excess"] == f"{excess:.0f}"
    assert values["restore_us"] == f"{excess / (3 * rate):.0f}"


def test_going_back_restores_the_state_a_step_began_in():
    player = Player(load_scenario("emerges"), cell_scale=0.25)
    s = player.session
    s.step(200)
    player.next_step()
    began = {k: getattr(s.sim.state, k).copy() for k in ("x", "y", "species", "flags")}
    v, t, counts, trace_n = s.sim.v_mV, s.sim.time_ns, s.sim.channel_counts(), len(s.trace.t_ns)
    s.step(200)
    player.next_step()                     # step 3 adds Na+ and Cl- channels
    assert s.sim.channel_counts()["Na"] > 0
    player.previous_step()
    assert player.k == 1 and s.sim.channel_counts() == counts
    for k, arr in began.items():
        assert np.array_equal(getattr(s.sim.state, k), arr)
    assert s.sim.v_mV == v and s.sim.time_ns == t and len(s.trace.t_ns) == trace_n


def test_a_step_and_an_api_call_and_a_control_change_the_cell_alike():
    cfg = load("mammalian", None, SMALL)
    by_step, by_call = Session(cfg, seed=3), Session(cfg, seed=3)
    changes = interventions.check_changes({"outside.K": 20.0, "pumps": False, "channels.Na": 0.1}, "here", cfg)
    interventions.apply_changes(by_step, changes)
    by_call.apply("outside.K", 20)
    by_call.apply("pumps", False)
    by_call.apply("channels.Na", 0.1)
    for s in (by_step, by_call):
        s.step(50)
    assert np.array_equal(by_step.sim.state.x, by_call.sim.state.x)
    assert by_step.sim.v_mV == by_call.sim.v_mV and not by_call.sim.pumps_on
    # the control that doubles [K]o says what it did, through the same intervention
    said = CONTROL["K_out*2"].do(by_call)
    assert said.startswith("[K]o = ") and float(said.split()[2]) == pytest.approx(40, rel=0.01)   # whole particles
    assert by_call.sim.concentrations_mM()[1]["K"] == pytest.approx(40, rel=0.03)


@pytest.mark.parametrize("key, value, words", [
    ("outside.K", -3, "set outside.K must be a number >= 0, got -3"),
    ("channels.Nav", 1.0, "unknown channel type 'Nav'; allowed: K, Na, Cl"),
    ("pumps", "off", "set pumps must be true or false, got 'off'"),
    ("clamp", "E_Q+3", "'E_Q+3' is not E_K"),
    ("cell", 3, "must be one of 0.25, 0.5, 1, 2, 4"),
    ("volume", 2, "unknown change 'volume'; allowed: pumps, ncx, field, selectivity, fixed_anions, cell, clamp"),
])
def test_a_refused_change_is_one_line_naming_the_key_and_what_is_allowed(key, value, words):
    s = Session(load("mammalian", None, SMALL))
    with pytest.raises(ConfigError) as e:
        s.apply(key, value)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert s.intervene(key, value) == f"cannot: {e.value}"
    assert not s.sim.events          # nothing was changed


def test_the_registry_names_every_change_a_cell_accepts():
    cfg = load("purkinje")
    keys = interventions.keys_for(cfg)
    assert {"pumps", "ncx", "field", "clamp", "cell", "outside.K", "inside.Na", "channels.Kir"} <= set(keys)
    for key in keys:
        assert interventions.find(key).matches(key)


class FakeClock:
    """Wall-clock seconds the test moves by hand."""
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _scenario(tmp_path, text):
    f = tmp_path / "paced.toml"
    f.write_text(text)
    return load_scenario(str(f))


def test_auto_by_the_wall_clock_keeps_each_steps_declared_length(tmp_path):
    sc = _scenario(tmp_path, 'preset = "k-only"\nset = ["box.height_nm=120", "physics.particles=8000", '
                   '"physics.capacitance_e_per_mV=0.4"]\nminutes = 1\n'
                   '[[step]]\nseconds = 10\n[[step]]\n[[step]]\n')
    assert sc.step_seconds() == [10.0, 25.0, 25.0] and sc.length_s() == 60.0
    clock = FakeClock()
    player = Player(sc, auto=True, clock=clock)
    player.update()
    assert player.k == 0
    clock.now = 9.9
    player.update()
    assert player.k == 0
    clock.now = 10.0
    player.update()
    assert player.k == 1                     # a key step lasts its length, however far the model ran
    clock.now = 35.0
    player.update()
    assert player.k == 2 and not player.finished
    clock.now = 60.0
    player.update()
    assert player.finished and not player.warnings


def test_a_step_behind_its_length_fast_forwards_then_is_cut_with_one_note(tmp_path):
    sc = _scenario(tmp_path, 'preset = "k-only"\nset = ["box.height_nm=120", "physics.particles=8000", '
                   '"physics.capacitance_e_per_mV=0.4"]\n'
                   '[[step]]\nseconds = 20\n[[step]]\nwait = 50000\n')
    clock = FakeClock()
    player = Player(sc, auto=True, clock=clock)
    clock.now = 9.0
    player.update()
    assert player.k == 0 and not player.session.fast
    clock.now = 10.5                         # half its length and 50 µs of model time not reached
    player.update()
    assert player.k == 0 and player.session.fast
    clock.now = 20.0
    player.update()
    assert player.k == 1 and len(player.warnings) == 1 and not player.session.fast
    assert player.warnings[0].startswith("step 1 cut after 20 s: only ")
    assert "before 50000 ns of model time ran: this machine is slow" in player.warnings[0]


def test_a_declared_length_is_checked_and_listed(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    from simulation.core.config import ConfigError
    with pytest.raises(ConfigError, match="minutes must be a number > 0"):
        _scenario(tmp_path, 'preset = "k-only"\nminutes = -2\n[[step]]\n')
    with pytest.raises(ConfigError, match="step 1: seconds must be a number > 0"):
        _scenario(tmp_path, 'preset = "k-only"\n[[step]]\nseconds = "soon"\n')
    root = Path(__file__).resolve().parent.parent
    r = subprocess.run([sys.executable, str(root / "main.py"), "demo", "--list"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == scenario_names()
    assert all(" steps " in line for line in lines)
