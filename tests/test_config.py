"""The config: defaults, presets, files, --set, and one clear error per kind of bad input."""
import math

import pytest

from simulation.core.config import ConfigError, defaults, load, preset_names, to_toml


def test_defaults_are_the_mammalian_neuron():
    cfg = load()
    assert cfg["inside.K"] == 140.0 and cfg["outside.K"] == 5.0
    assert cfg["inside.Na"] == 15.0 and cfg["outside.Na"] == 145.0
    assert cfg["inside.Cl"] == 10.0 and cfg["outside.Cl"] == 150.0
    assert cfg["channels.Na.relative_permeability"] == 0.05
    assert cfg["channels.Cl.relative_permeability"] == 0.45
    assert cfg["physics.temperature_C"] == 37.0 and cfg["pump.enabled"] is True


def test_issue_presets_are_shipped():
    for name in ("mammalian", "k-only", "ghk-no-pump", "ouabain", "hyperkalemia", "squid", "no-fixed-anions"):
        assert name in preset_names()
        load(name)


def test_preset_values():
    assert load("hyperkalemia")["outside.K"] == 20.0
    assert load("ouabain")["pump.enabled"] is False
    sq = load("squid")
    assert sq["physics.temperature_C"] == 6.3 and sq["inside.K"] == 400.0
    assert sq["channels.Na.relative_permeability"] == 0.04
    assert load("k-only").permeant == ("K",)
    assert load("no-fixed-anions")["fixed_anions.enabled"] is False


def test_set_overrides_parse_toml_values():
    cfg = load(overrides=["outside.K=20", "pump.enabled=false", "name=Test cell", "physics.particles=5000"])
    assert cfg["outside.K"] == 20.0 and isinstance(cfg["outside.K"], float)
    assert cfg["pump.enabled"] is False
    assert cfg["name"] == "Test cell"
    assert cfg["physics.particles"] == 5000


def test_channels_table_in_a_file_replaces_the_list(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[channels.K]\nrelative_permeability = 1.0\n")
    cfg = load(config_file=f)
    assert cfg.permeant == ("K",)
    f.write_text("[outside]\nK = 10.0\n")
    assert load(config_file=f).permeant == ("K", "Na", "Cl")


def test_zero_permeability_means_no_crossing():
    assert load(overrides=["channels.Na.relative_permeability=0"]).permeant == ("K", "Cl")


@pytest.mark.parametrize("preset", ["squid", "purkinje"])   # purkinje: a declared channel type
def test_resolved_config_round_trips_through_toml(tmp_path, preset):
    cfg = load(preset)
    f = tmp_path / "resolved.toml"
    f.write_text(to_toml(cfg.data))
    assert load(config_file=f).data == cfg.data


@pytest.mark.parametrize("override, words", [
    ("box.colour=3", "unknown key"),
    ("nonsense=1", "unknown key"),
    ("channels.Mg.relative_permeability=1", "Mg2+ cannot cross the membrane"),
    ("channels.Kir.relative_permeability=1", "channels.Kir declares a channel type and needs ion and gating"),
    ("channels.K.gating=kir", "[channels.K] is the K+ leak type"),
    ("channels.K.v_shift_mV=5", "[channels.K] is the K+ leak type"),
    ("channels.K-ir.relative_permeability=1", "a channel type's name is a letter"),
    ("channels.Ca.relative_permeability=0.01", "inside.Ca must be > 0 mM while Ca crosses"),
    ("outside.K=abc", "outside.K must be a number"),
    ("pump.enabled=3", "pump.enabled must be true or false"),
    ("physics.particles=12.5", "physics.particles must be a whole number"),
    ("outside.K=-1", "outside.K must be a number >= 0"),
    ("inside.K=0", "inside.K must be > 0 mM while K crosses"),
    ("physics.temperature_C=-300", "above absolute zero"),
    ("physics.temperature_C=-273.15", "above absolute zero"),
    ("box.membrane_x_nm=3", "membrane does not fit"),
    ("box.width_nm=20", "membrane does not fit"),
    ("physics.particles=100000000000000", "will not fit in this machine's memory"),
    ("outside.Mg=-2", "outside.Mg must be a number >= 0"),
    ("physics.dt_ns=1", "physics.dt_ns"),
    ("physics.capacitance_e_per_mV=0", "capacitance_e_per_mV must be a number >= 0.02"),
    ("pump.count=1000", "pump.count = 1000: 1000 transporters do not fit on the membrane"),
    ("channels.Na.relative_permeability=1000", "do not fit on the membrane"),
])
def test_bad_values_give_one_line_naming_the_key(override, words):
    with pytest.raises(ConfigError) as e:
        load(overrides=[override])
    msg = str(e.value)
    assert words in msg
    assert "\n" not in msg


def test_bad_set_syntax_and_sources():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load(overrides=["outside.K"])
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        load("nope")
    with pytest.raises(ConfigError, match="config file not found"):
        load(config_file="/nonexistent/cell.toml")


def test_broken_toml_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[box\nwidth_nm = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(config_file=f)
    f.write_text("box = 3\n")
    with pytest.raises(ConfigError, match="box must be a table"):
        load(config_file=f)


def test_defaults_dict_has_every_spec_key():
    d = defaults()
    for table, keys in {"box": ["width_nm", "height_nm", "membrane_x_nm", "membrane_thickness_nm"],
                        "physics": ["temperature_C", "dt_ns", "particles", "capacitance_e_per_mV"],
                        "pump": ["enabled"]}.items():
        for k in keys:
            assert k in d[table]
    assert math.isclose(load()["box.membrane_x_nm"], 35.0)


def test_channels_that_do_not_fit_are_scaled_down_keeping_the_ratios():
    from simulation.core.config import channel_plan
    cfg = load(overrides=["channels.Na.relative_permeability=1.0"])
    plan = channel_plan(cfg.data)
    assert plan.channels_per_unit < 40
    assert sum(plan.counts.values()) + cfg["pump.count"] <= 100
    assert plan.effective_permeability["Na"] / plan.effective_permeability["K"] == pytest.approx(1.0, rel=0.1)


def test_any_outside_potassium_of_a_classic_sweep_is_a_valid_saline():
    """[K⁺]o from 1 to 80 mM with the default Cl⁻: below 5 mM Y⁺ fills, above it X⁻ does."""
    from simulation.core.model import Simulation
    for k in (1, 2.5, 5, 10, 20, 40, 80):
        cfg = load(overrides=[f"outside.K={k}", "physics.particles=4000", "box.height_nm=160"])
        sim = Simulation(cfg, seed=1)
        fill = sim.fillers["outside"]
        assert (fill["Y"] > 0) == (k < 5) and (fill["X"] > 0) == (k > 5)


def test_sea_water_and_hypokalemia_presets_load_as_written():
    sq = load("squid")
    assert sq["outside.Cl"] == 560.0 and sq["outside.Ca"] == 10.0 and sq["outside.Mg"] == 54.0
    assert load("hypokalemia")["outside.K"] == 2.5
