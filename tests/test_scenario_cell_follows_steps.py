"""A scenario step is checked against the cell the steps before it leave, not the cell the scenario
starts with (issue 27: adding Ca2+ channels after a step that added Ca2+ was refused at load), and
a step after one that rebuilds the cell is checked against the rebuilt cell, as it is played."""
from pathlib import Path

import pytest

from simulation.core.config import ConfigError
from simulation.session.player import Player
from simulation.session.scenario import load_scenario

ADD_CA = '''preset = "k-only"
[[step]]
title = "calcium in the bath"
[step.set]
"outside.Ca" = 2.0
"inside.Ca" = 1.0
'''
CA_CHANNELS = '''[[step]]
title = "calcium channels"
caption = "E_Ca = {E_Ca} mV"
[step.set]
"channels.Ca" = 0.05
'''
REBUILD = '''[[step]]
title = "no fixed anions"
[step.set]
fixed_anions = false
'''


def _write(tmp_path: Path, text: str) -> str:
    f = tmp_path / "steps.toml"
    f.write_text(text)
    return str(f)


def test_channels_for_an_ion_an_earlier_step_added_load_and_play(tmp_path):
    scenario = load_scenario(_write(tmp_path, ADD_CA + CA_CHANNELS))
    assert scenario.steps[1].changes == {"channels.Ca": 0.05}
    player = Player(scenario, auto=True, key_wait_ns=1.0, cell_scale=0.25)
    player.session.steps_per_frame = 50
    while not player.finished:
        player.session.paused = False
        player.session.advance_frame()
        player.update()
    assert not any(s.startswith("cannot") or "0 placed" in s for s in player.said), player.said
    assert player.session.sim.channel_counts()["Ca"] > 0
    assert "?" not in player.caption()            # E_Ca is a theory line of the cell the step made


def test_the_same_change_without_the_earlier_step_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_scenario(_write(tmp_path, ADD_CA.split("[[step]]")[0] + "[[step]]\n" + CA_CHANNELS))
    assert "step 2: set.channels.Ca: inside.Ca must be > 0 mM while Ca crosses" in str(e.value)


def test_changes_in_one_step_are_checked_in_order(tmp_path):
    one = ADD_CA + '"channels.Ca" = 0.05\n'
    assert load_scenario(_write(tmp_path, one)).steps[0].changes["channels.Ca"] == 0.05


def test_a_step_after_a_rebuild_is_checked_against_the_rebuilt_cell(tmp_path):
    """Rebuilding builds the cell again from the scenario's config: the Ca2+ an earlier step added
    is gone, so Ca2+ channels after it are refused, naming that step."""
    with pytest.raises(ConfigError) as e:
        load_scenario(_write(tmp_path, ADD_CA + REBUILD + CA_CHANNELS))
    assert "step 3: set.channels.Ca" in str(e.value) and "inside.Ca must be > 0" in str(e.value)
