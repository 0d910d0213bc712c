"""Channel types apart from ions: [channels.K] is still the K⁺ leak, other names declare a type with
`ion` and `gating`; pores carry their type; counts, open channels and currents are per type where
they are about a type and per ion where they are about an ion (a cell may hold two K⁺ types); a
type is blocked and restored live (a resolved config with declared types round-trips through TOML:
tests/test_config.py)."""
import csv
import json

import numpy as np
import pytest

from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation

from tests.cells import TINY

TWO_K = TINY + ["channels.Kir.ion=K", "channels.Kir.gating=kir", "channels.Kir.relative_permeability=0.5"]


def test_leak_types_read_as_before_and_a_declared_type_takes_its_models_keys():
    cfg = load("mammalian", None, TWO_K)
    ch = cfg["channels"]
    assert set(ch["K"]) == {"relative_permeability", "open_probability", "mean_open_time_ns", "pore_D_factor"}
    assert ch["Kir"] == {"ion": "K", "gating": "kir", "relative_permeability": 0.5, "pore_D_factor": 1.0,
                         "v_shift_mV": 10.0, "slope_mV": 8.0, "time_constant_ns": 5.0}
    names = [t.name for t in cfg.channel_types()]
    assert names == ["K", "Na", "Cl", "Ca", "Kir"]      # leak types in the species table's order, then declared
    assert cfg.permeant == ("K", "Na", "Cl")


@pytest.mark.parametrize("bad, words", [
    (["channels.Nav.ion=Na"], "needs gating"),
    (["channels.Nav.ion=Na", "channels.Nav.gating=hh-x"], "gating must be one of leak, hh-na, hh-k, kir"),
    (["channels.Nav.ion=Mg", "channels.Nav.gating=hh-na"], "ion must be an ion that can cross"),
    (["channels.Nav.ion=Na", "channels.Nav.gating=hh-na", "channels.Nav.open_probability=0.5"],
     "a hh-na type has no open_probability"),
    (["channels.Nav.ion=Na", "channels.Nav.gating=hh-na", "channels.Nav.v_shift_mV=500"], "v_shift_mV must be"),
    (["channels.Kir.ion=K", "channels.Kir.gating=kir", "channels.Kir.time_constant_ns=0.01"], "two time steps"),
])
def test_bad_channel_types_give_one_line(bad, words):
    with pytest.raises(ConfigError, match=words) as e:
        load("mammalian", None, TINY + bad)
    assert "\n" not in str(e.value)


def test_pores_carry_their_type_and_two_k_types_share_the_ion(tmp_path):
    sim = Simulation(load("mammalian", None, TWO_K), seed=5)
    pores, ch = sim.channels.pores, sim.channels
    kir = ch.index["Kir"]
    assert (pores.kind == kir).sum() == sim.channel_counts()["Kir"] > 0
    assert np.all(pores.species[pores.kind == kir] == pores.species[pores.kind == ch.index["K"]][0])
    assert sim.channels.crossing() == ("K", "Na", "Cl")
    # the K⁺ permeability of the cell counts both types; the leak type's alone is the leak's
    assert sim.effective_permeability["K"] == pytest.approx(ch.effective_permeability()["K"]
                                                           + ch.effective_permeability()["Kir"])


def test_per_type_currents_add_up_to_the_ions_current_in_the_file(tmp_path):
    from simulation.headless.run import run
    out = tmp_path / "run"
    s = run(load("mammalian", None, TWO_K + ["clamp.enabled=true", "clamp.command_mV=-100"]), 1500, out, seed=6,
            sample_every=100, progress=False)
    rows = list(csv.DictReader(open(out / "timeseries.csv")))
    for row in rows[1:]:
        assert float(row["I_K_pA"]) == pytest.approx(float(row["I_ch_K_pA"]) + float(row["I_ch_Kir_pA"]), abs=1e-4)
        assert int(row["ch_Kir_open"]) <= s["channels"]["Kir"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["channels_placed"]["Kir"]["ion"] == "K" and summary["channels_placed"]["Kir"]["gating"] == "kir"
    assert "open_probability_used" not in summary["channels_placed"]["Kir"]     # its gates say how often
    assert 0 < summary["channels_open_mean"]["Kir"] <= summary["channels"]["Kir"]
    assert set(summary["currents"]) >= {"K", "ch_K", "ch_Kir"}


def test_a_type_is_blocked_and_restored_live_like_a_drug():
    sim = Simulation(load("mammalian", None, TWO_K), seed=7)
    sim.step(200)
    n = sim.channel_counts()["Kir"]
    assert sim.set_relative_permeability("Kir", 0.0) == 0.0           # TEA, Ba2+ on Kir
    assert sim.channel_counts()["Kir"] == 0 and sim.channel_counts()["K"] > 0
    assert sim.q_in == pytest.approx(sim.recount_inside_charge(), abs=1e-6)
    sim.step(200)
    assert sim.set_relative_permeability("Kir", 0.5) > 0 and sim.channel_counts()["Kir"] == n
    assert [e.changes for e in sim.events] == [{"channels.Kir.relative_permeability": 0.0},
                                               {"channels.Kir.relative_permeability": 0.5}]
    with pytest.raises(ConfigError, match="no channel type 'Kv'"):
        sim.set_relative_permeability("Kv", 1.0)
    # new gated channels start at their gates' steady state for V now: a few are open, not all
    sim.step(100)
    assert 0 <= sim.channels.open_counts()["Kir"] <= n


def test_gates_read_v_of_the_previous_step_in_the_compiled_step():
    """Clamped far above E_K, Kir channels shut; far below, they open (inward rectification),
    however the steps are split between calls."""
    def open_share(command):
        sim = Simulation(load("mammalian", None, TWO_K + ["clamp.enabled=true", f"clamp.command_mV={command}"]),
                         seed=8)
        shares = []
        for _ in range(40):
            sim.step(37)
            shares.append(sim.channels.open_counts()["Kir"] / sim.channel_counts()["Kir"])
        return float(np.mean(shares[10:]))
    assert open_share(-140.0) > 0.4 > 0.05 > open_share(0.0)


def test_the_reversal_potential_a_gate_reads_is_recounted_at_fixed_steps():
    """Kir reads E_K from the bulk every nanosecond of model time, at the same steps whatever
    the calls' lengths, so a run is the same split any way."""
    a = Simulation(load("mammalian", None, TWO_K), seed=9)
    b = Simulation(load("mammalian", None, TWO_K), seed=9)
    a.step(1000)
    for k in (1, 7, 40, 333, 619):
        b.step(k)
    assert np.array_equal(a.state.x, b.state.x) and np.array_equal(a.channels.pores.gates, b.channels.pores.gates)
    assert a.channels.table.e_mV[0] == b.channels.table.e_mV[0] != 0.0


def test_a_scenario_names_any_type_of_its_cell(tmp_path):
    from simulation.session.scenario import load_scenario
    f = tmp_path / "kir.toml"
    f.write_text('name = "Kir"\npreset = "purkinje"\n[[step]]\ncaption = "P_Kir = {P_Kir}, E_K = {E_K}"\n'
                 'highlight = "channels.Kir"\nset = { "channels.Kir" = 0.5 }\n')
    sc = load_scenario(str(f))
    assert sc.steps[0].highlight == "channels.Kir" and sc.steps[0].changes == {"channels.Kir": 0.5}
    f.write_text('name = "Kir"\npreset = "mammalian"\n[[step]]\ncaption = "P_Kir = {P_Kir}"\n')
    with pytest.raises(ConfigError, match="unknown placeholder {P_Kir}"):
        load_scenario(str(f))
