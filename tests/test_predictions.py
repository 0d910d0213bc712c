"""Predict, then reveal: a scenario step asks the room a question with numbered choices, the
number keys (or Lecture.vote) record the predictions, and a later step reveals the outcome, judged
by a measured number against each choice's band, beside the votes; going back restores them."""
import os
from pathlib import Path

import pygame
import pytest

from simulation.core.config import ConfigError
from simulation.session.player import Player
from simulation.session.scenario import load_scenario, scenario_names

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
ROOT = Path(__file__).resolve().parent.parent

# a small K+-only cell: a tenfold [K+]o step raises V by far more than 30 mV
POLL = '''
name = "poll"
preset = "k-only"
set = ["box.height_nm=160", "physics.particles=16000", "physics.capacitance_e_per_mV=0.4",
       "membrane.channels_per_unit_permeability=20"]
[[step]]
caption = "start"
[[step]]
wait = 150
question = "[K+]o x10: V will"
choices = ["fall", "stay", "rise a little", "rise a lot"]
judge = "dV"
bands = [[-inf, -3], [-3, 3], [3, 30], [30, inf]]
caption = "vote"
[[step]]
set = { "outside.K" = 50 }
caption = "changed"
[[step]]
wait = 300
reveal = true
caption = "dV = {dV} mV"
'''


@pytest.fixture(autouse=True)
def _quit_display():
    yield
    pygame.display.quit()


def _scenario(tmp_path, text=POLL):
    f = tmp_path / "poll.toml"
    f.write_text(text)
    return load_scenario(str(f))


def _play(player, until_k=None):
    while not player.finished and (until_k is None or player.k < until_k):
        player.session.paused = False
        player.session.advance_frame()
        player.update()


def test_votes_are_counted_and_the_reveal_marks_the_choice_the_measured_change_falls_in(tmp_path):
    player = Player(_scenario(tmp_path), seed=1, auto=True, key_wait_ns=20.0)
    assert player.vote(0) is None                      # no question yet: the number keys do nothing here
    _play(player, until_k=1)
    poll = player.open_poll()
    assert poll is not None and poll.question.startswith("[K+]o x10")
    for choice, n in ((0, 2), (2, 5), (3, 1)):
        for _ in range(n):
            assert player.vote(choice)
    assert player.vote(7) is None                      # no such choice
    assert player.unvote() and poll.votes == [2, 0, 5, 0]
    _play(player)
    assert poll.revealed and poll.judge == "dV"
    assert poll.outcome == pytest.approx(poll.v_after - poll.v_before)
    assert poll.outcome > 30 and poll.answer == 3
    # the reveal's caption says what its box says
    assert player.caption() == f"dV = {poll.outcome:+.0f} mV".replace("-", "−")
    row = player.prediction_table()[0]
    assert (row["votes_1"], row["votes_3"], row["answer"], row["judge"]) == (2, 5, 4, "dV")


def test_going_back_restores_the_votes_and_the_open_question(tmp_path):
    player = Player(_scenario(tmp_path), seed=1, auto=False)
    player.next_step()                                 # the question
    player.vote(1)
    player.next_step()
    player.vote(1)                                     # still open until the reveal
    player.next_step()                                 # the reveal
    assert player.polls[-1].revealed and player.polls[-1].votes[1] == 2
    player.previous_step()
    assert not player.polls[-1].revealed and player.polls[-1].votes == [0, 1, 0, 0]
    player.previous_step()
    assert player.polls[-1].votes == [0, 0, 0, 0] and player.open_poll() is not None


BAD = {
    "reveal first": ('[[step]]\nreveal = true\n', "step 1: reveal = true needs a question"),
    "one choice": ('[[step]]\nquestion = "q"\nchoices = ["a"]\n', "step 1: choices must be a list of 2 to 9"),
    "no question": ('[[step]]\nchoices = ["a", "b"]\n', "step 1: choices, judge and bands need a question"),
    "judge alone": ('[[step]]\nquestion = "q"\nchoices = ["a", "b"]\njudge = "dV"\n', "judge and bands go together"),
    "unknown judge": ('[[step]]\nquestion = "q"\nchoices = ["a", "b"]\njudge = "mood"\nbands = [[0, 1], [1, 2]]\n',
                      "judge: unknown 'mood'"),
    "bands short": ('[[step]]\nquestion = "q"\nchoices = ["a", "b"]\njudge = "dV"\nbands = [[0, 1]]\n',
                    "bands must give one [low, high]"),
    "band upside down": ('[[step]]\nquestion = "q"\nchoices = ["a", "b"]\njudge = "V"\nbands = [[0, 1], [5, 2]]\n',
                         "bands must give one [low, high]"),
    "reference uncited": ('[reference]\nK_out = [2]\nV = [-80]\n[[step]]\n', "reference: cite"),
    "reference lengths": ('[reference]\ncite = "x 1977"\nK_out = [2, 4]\nV = [-80]\n[[step]]\n',
                          "K_out, V and sem must be lists of the same length"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_broken_question_or_reference_is_one_line_naming_the_file_step_and_key(case, tmp_path):
    text, expected = BAD[case]
    f = tmp_path / "broken.toml"
    f.write_text('preset = "k-only"\n' + text)
    with pytest.raises(ConfigError) as e:
        load_scenario(str(f))
    assert "broken.toml" in str(e.value) and expected in str(e.value) and "\n" not in str(e.value)


def test_in_the_window_number_keys_vote_while_a_question_is_open_and_change_permeability_otherwise(tmp_path):
    from render.offscreen import OffscreenDemo
    sc = _scenario(tmp_path)
    demo = OffscreenDemo(sc, fullscreen=False, size=(960, 540), theme="projector", seed=1)
    p_k = demo.sim.channels.relative["K"]
    demo.on_key(pygame.K_1)                            # no question: 1 halves P_K, as in the live view
    assert demo.sim.channels.relative["K"] == pytest.approx(p_k / 2, rel=0.05)
    demo.next_step()
    p_k = demo.sim.channels.relative["K"]
    for key in (pygame.K_3, pygame.K_3, pygame.K_KP4, pygame.K_1, pygame.K_BACKSPACE):
        demo.on_key(key)
    assert demo.player.open_poll().votes == [0, 0, 2, 1]
    assert demo.sim.channels.relative["K"] == p_k       # the digits voted, nothing else
    demo.frame(advance=False)
    drawn = " ".join(b.text for b in demo.text.boxes)
    assert "Predict: [K+]o x10" in drawn and "rise a lot" in drawn
    from render.demo import Demo
    assert "1-4: vote" in Demo.title_hint(demo)      # the window's (the offscreen view shows the step only)


def test_a_lecture_in_python_takes_votes_and_returns_the_predictions_as_a_table(tmp_path):
    from simulation.lab import Lecture
    f = tmp_path / "poll.toml"
    f.write_text(POLL)
    lec = Lecture(f, seed=1)
    assert lec.question is None
    with pytest.raises(ValueError, match="no question is open"):
        lec.vote(1)
    while lec.sim.time_ns < 150:                       # the cell finds its rest before the question
        lec.advance(10)
    lec.next()
    assert lec.question.splitlines()[0] == "[K+]o x10: V will" and "4. rise a lot" in lec.question
    lec.vote(4, times=3).vote(2)
    with pytest.raises(ValueError, match="choice must be 1 to 4"):
        lec.vote(5)
    lec.play()
    table = lec.predictions
    assert list(table["votes_4"]) == [3] and list(table["votes_2"]) == [1] and table["answer"][0] == 4


def test_a_handout_prints_each_question_with_boxes_and_each_reveal_with_what_was_measured(tmp_path):
    from render.handout import write_handout
    page = write_handout(_scenario(tmp_path), tmp_path / "poll.md", size=(640, 360), seed=1).read_text()
    assert "**Predict:** [K+]o x10: V will" in page and "- [ ] 4. rise a lot" in page
    assert "**Revealed** ([K+]o x10: V will): V went from" in page and ": choice 4 (rise a lot)." in page


def test_every_scenario_that_asks_has_a_worksheet_with_a_row_per_question():
    """Each replay's worksheet (docs/worksheets/<scenario>.md) has the table a student fills in:
    one row per question the scenario asks, and cites the paper the scenario replays."""
    asking = [n for n in scenario_names() if n != "classics" and any(st.question for st in load_scenario(n).steps)]
    assert set(asking) >= {"horowicz", "purkinje-k", "flux-ratio"}
    for name in asking:
        sheet = ROOT / "docs" / "worksheets" / f"{name}.md"
        assert sheet.exists(), f"{name}: no worksheet"
        text = sheet.read_text()
        table = text.split("## Predict, then see", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Step")]
        assert len(rows) == sum(1 for st in load_scenario(name).steps if st.question), name
        assert f"demo {name}" in text
