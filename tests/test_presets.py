"""Every shipped preset builds at full size, runs, and keeps the invariants."""
import pytest

from particles.species import Species
from simulation.core.config import flatten, load, preset_names
from simulation.core.model import Simulation


@pytest.mark.parametrize("name", preset_names())
def test_preset_runs(name):
    sim = Simulation(load(name), seed=0)
    totals = sim.species_totals()
    assert sim.q_in == pytest.approx(0.0, abs=1e-9)   # neutral as V counts it, pores filled
    sim.step(100)
    made = {name: int(sim.perfusion_exchanged[Species[name]]) for name in totals}   # a perfused bath's
    assert {name: n - made[name] for name, n in sim.species_totals().items()} == totals
    assert sum(sim.species_totals().values()) == sum(totals.values())
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    th = sim.theory()
    assert all(k in th for k in ("E_K_mV", "E_Na_mV", "E_Cl_mV", "V_GHK_mV", "V_MN_mV", "V_pump_mV", "V_Donnan_mV"))


@pytest.mark.parametrize("name", preset_names())
def test_preset_gives_only_what_it_changes(name):
    """The defaults are the mammalian neuron: no preset repeats one (a [channels] table replaces
    the channel list whole, so what it lists is a change even where a value equals the default)."""
    import tomllib

    from simulation.core.config import PRESET_DIR, defaults
    given = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
    d = defaults()
    for key, value in flatten({k: v for k, v in given.items() if k != "channels"}).items():
        node = d
        for part in key.split("."):
            node = node[part]
        assert value != node, f"presets/{name}.toml repeats the default {key} = {value!r}"


def test_the_defaults_are_the_mammalian_preset(tmp_path):
    """A config file that says nothing is the mammalian cell, geometry included."""
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    a, b = load(config_file=empty).data, load("mammalian").data
    a.pop("description"), b.pop("description")
    assert a == b and a["box"]["membrane_x_nm"] == 35.0
