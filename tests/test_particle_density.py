"""physics.particles samples the same cell more or less finely: the capacitance and the
transporters follow the particle density (issue 25), as `--cell` keeps them; what followed is said."""
import pytest

from simulation.core.config import ConfigError, from_data, from_dict, load


def test_fewer_particles_scale_the_capacitance_and_the_pumps_with_the_density():
    cfg = load("mammalian", None, ["physics.particles=20000"])
    assert cfg["physics.capacitance_e_per_mV"] == pytest.approx(2.0 / 8)
    assert cfg["pump.count"] == 2                       # 13 / 8 = 1.6, whole pumps
    assert len(cfg.notes) == 1
    note = cfg.notes[0]
    assert "physics.particles = 20000" in note and "0.125" in note
    assert "capacitance 2 -> 0.25 e/mV" in note and "pump.count 13 -> 2" in note


def test_what_a_layer_sets_beside_the_particles_is_kept():
    cfg = load("mammalian", None, ["physics.particles=20000", "physics.capacitance_e_per_mV=1.5", "pump.count=7"])
    assert cfg["physics.capacitance_e_per_mV"] == 1.5 and cfg["pump.count"] == 7
    assert cfg.notes == ()


def test_a_box_and_particles_changed_together_keep_the_density_and_change_nothing():
    """The ouabain preset's box is a quarter as wide with a quarter of the particles."""
    cfg = load("ouabain")
    assert cfg["physics.capacitance_e_per_mV"] == 2.0 and cfg["pump.count"] == 13 and cfg.notes == ()


def test_every_way_of_setting_the_particles_follows_the_same_rule():
    by_set = load(overrides={"physics.particles": 40000})
    by_dict = from_dict({"physics": {"particles": 40000}})
    by_replace = load().replace({"physics.particles": 40000})
    for cfg in (by_set, by_dict, by_replace):
        assert cfg["physics.capacitance_e_per_mV"] == pytest.approx(0.5) and cfg["pump.count"] == 3
    # a resolved config (summary.json's, a sweep's worker) is taken as it is
    again = from_data(by_set.data)
    assert again["physics.capacitance_e_per_mV"] == pytest.approx(0.5) and again.notes == ()


def test_more_particles_scale_up_and_an_exchanger_follows_too():
    ca = ["inside.Ca=0.5", "outside.Ca=2"]
    cfg = load("mammalian", None, ["physics.particles=320000", "ncx.count=4"] + ca)
    assert cfg["physics.capacitance_e_per_mV"] == pytest.approx(4.0) and cfg["pump.count"] == 26
    assert cfg["ncx.count"] == 4      # set beside it: kept
    cfg = load("mammalian", None, ["ncx.count=4"] + ca).replace({"physics.particles": 80000})
    assert cfg["ncx.count"] == 2


def test_a_cell_too_sparse_for_its_capacitance_is_refused_naming_the_key_and_the_least_count():
    with pytest.raises(ConfigError) as e:
        load("mammalian", None, ["physics.particles=1000"])
    msg = str(e.value)
    assert "physics.particles = 1000" in msg and "physics.particles >= 1600" in msg
    assert "\n" not in msg
    load("mammalian", None, ["physics.particles=1600"])      # the least it names is allowed


def test_the_run_says_what_followed_and_keeps_it_in_its_summary(tmp_path):
    import json
    import subprocess
    import sys
    out = tmp_path / "r"
    p = subprocess.run([sys.executable, "main.py", "run", "--preset", "ghk-no-pump", "--set", "physics.particles=20000",
                        "--steps", "200", "--out", str(out), "--no-progress"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "note: physics.particles = 20000 samples the cell at 0.125 of its particle density" in p.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["config"]["physics"]["capacitance_e_per_mV"] == pytest.approx(0.25)
    assert s["config_notes"] and "capacitance 2 -> 0.25" in s["config_notes"][0]


def test_the_python_lab_warns_what_followed():
    from simulation.lab import ConfigNote, Lab
    with pytest.warns(ConfigNote, match="capacitance 2 -> 0.25 e/mV"):
        lab = Lab("ghk-no-pump", set=["physics.particles=20000"])
    assert lab.config["physics.capacitance_e_per_mV"] == pytest.approx(0.25)
