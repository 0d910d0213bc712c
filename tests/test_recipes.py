"""docs/ARCHITECTURE.md's recipes, followed and checked.

A species, a gating model and a transporter are rows of tables that the rest of the program
derives from, at import: so the test copies the source tree, makes exactly the edits the recipes
describe (a made-up permeant cation Li⁺, a gating model "slow-k", a transporter "lix" carrying
2 Na⁺ in for 1 Li⁺ out), and in a fresh interpreter checks every list derived from them, one frame
of the live view, a run's columns and a figure. A channel type needs only a config; a live control
and an output column are exercised in this tree.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

SPECIES_ROW = '''    SpeciesInfo("Li", "Li+", "Li⁺", "lithium", +1, 1.03, True, SOLUTE),   # made up by tests/test_recipes.py
'''
GATING_ROW = '''    GatingModel("slow-k", "one n gate (a test's model)", {"v_shift_mV": SHIFT}, lambda p: (N,),
                shift_key="v_shift_mV"),
'''
TRANSPORTER_ROW = '''
LIX = TransporterType(
    "lix", "Li+/Na+ exchanger",
    (State("IN_EMPTY", INSIDE, "binds Li+ or 2 Na+",
           binds=(Bind("Li", INSIDE, 1, "IN_LI"), Bind("Na", INSIDE, 2, "IN_NA2", "IN_NA"))),
     State("IN_NA", INSIDE, "binds Na+", binds=(Bind("Na", INSIDE, 2, "IN_NA2", "IN_NA"),), lets_go=("IN_NA", "IN_EMPTY")),
     State("IN_NA2", INSIDE, "2 Na+: flips out", flip=Flip("OUT_NA2"), lets_go=("IN_NA", "IN_EMPTY")),
     State("IN_LI", INSIDE, "Li+: flips out", flip=Flip("OUT_LI", ("lix_cycles", 1)), lets_go=("IN_EMPTY", "IN_EMPTY")),
     State("OUT_EMPTY", OUTSIDE, "binds Li+ or 2 Na+",
           binds=(Bind("Li", OUTSIDE, 1, "OUT_LI"), Bind("Na", OUTSIDE, 2, "OUT_NA2", "OUT_NA"))),
     State("OUT_NA", OUTSIDE, "binds Na+", binds=(Bind("Na", OUTSIDE, 2, "OUT_NA2", "OUT_NA"),),
           lets_go=("OUT_NA", "OUT_EMPTY")),
     State("OUT_NA2", OUTSIDE, "2 Na+: flips in", flip=Flip("IN_NA2"), lets_go=("OUT_NA", "OUT_EMPTY")),
     State("OUT_LI", OUTSIDE, "Li+: flips in", flip=Flip("IN_LI", ("lix_cycles", -1)), lets_go=("OUT_EMPTY", "OUT_EMPTY"))),
    {INSIDE: "IN_EMPTY", OUTSIDE: "OUT_EMPTY"}, ("lix_cycles",), {"Na": +2, "Li": -1},
    reversible=True, atp=False, affinity_mM={"Na": 30.0, "Li": 5.0},
    defaults={"enabled": True, "count": 0, "max_turnover_per_us": 20.0, "capture_radius_nm": 3.5})
'''


def _edit(path: Path, after: str, text: str) -> None:
    s = path.read_text()
    assert after in s, f"{path.name}: the recipe's anchor {after!r} is gone"
    path.write_text(s.replace(after, after + text, 1))


CHECK = r'''
import os, json, math
os.environ["SDL_VIDEODRIVER"] = "dummy"; os.environ["SDL_AUDIODRIVER"] = "dummy"
import numpy as np
from particles import species
from simulation import palette
from simulation.core import config
from simulation.session import interventions, scenario
from simulation.core.model import Simulation
from membrane import gating, transporters

# the species table: every derived list has Li
assert species.NAMES[-1] == "Li" and "Li" in species.PERMEANT_NAMES and "Li" in species.SOLUTES
d = config.defaults()
assert d["inside"]["Li"] == 0.0 and d["outside"]["Li"] == 0.0 and "Li" in d["diffusion"]
assert config.DEFAULT_CHANNELS["Li"] == config.GENERIC_LEAK
colours = palette.SPECIES_COLOUR
assert colours["Li"] not in [c for n, c in colours.items() if n != "Li"]
assert palette.THEORY_LINES["E_Li_mV"][0] == colours["Li"]
# the gating model and the transporter
assert "slow-k" in gating.MODELS and transporters.BY_NAME["lix"].reversal_key == "E_LIX_mV"
assert "lix" in d and d["lix"]["count"] == 0 and "lix_cycles" in transporters.COUNTERS

overrides = ["box.height_nm=160", "box.width_nm=36", "box.membrane_x_nm=18", "membrane.site_spacing_nm=4",
             "pump.capture_radius_nm=1.5", "lix.capture_radius_nm=1.5", "membrane.channels_per_unit_permeability=20",
             "physics.particles=6000", "physics.capacitance_e_per_mV=0.5", "pump.count=4", "lix.count=4",
             "inside.Li=10", "outside.Li=20", "channels.Li.relative_permeability=0.2",
             "channels.Lv.ion=Li", "channels.Lv.gating=slow-k", "channels.Lv.relative_permeability=0.3"]
cfg = config.load("mammalian", None, overrides)
assert [t.name for t in cfg.channel_types()] == ["K", "Na", "Cl", "Ca", "Li", "Lv"]
assert cfg["channels.Lv"] == {"ion": "Li", "gating": "slow-k", "relative_permeability": 0.3, "pore_D_factor": 1.0,
                              "v_shift_mV": 0.0}

# scenario placeholders, highlights and clamp targets
ph = scenario.placeholders(cfg)
assert {"E_Li", "Li_in", "Li_out", "P_Li", "P_Lv", "Li_efflux", "E_LIX"} <= set(ph)
assert {"channels.Li", "channels.Lv", "line.E_Li", "line.E_LIX"} <= set(scenario.highlights(cfg))
assert interventions.CLAMP_TARGET.match("E_Li+10") and interventions.clamp_command("E_Li-5", {"E_Li_mV": 12.0}) == 7.0
assert {"inside.Li", "outside.Li", "channels.Lv", "lix"} <= set(interventions.keys_for(cfg))

# a run's columns, its summary and sweep row, and a figure
from simulation.headless.run import run
from simulation.headless.figures import run_figure
from simulation.headless.sweep import summary_row
s = run(cfg, 600, "out", seed=1, sample_every=50, progress=False)
head = open("out/timeseries.csv").readline().strip().split(",")
for col in ("Li_in", "Li_out", "Li_mem", "Li_efflux", "Li_influx", "E_Li_mV", "E_LIX_mV", "Li_charge_in_e",
            "I_Li_pA", "lix_cycles", "lix_charge_in_e", "I_lix_pA", "ch_Li_open", "ch_Lv_open", "I_ch_Lv_pA"):
    assert col in head, col
assert s["channels"]["Lv"] > 0 and s["channels_placed"]["Lv"]["gating"] == "slow-k"
assert s["concentrations_mM"]["in"]["Li"] > 0 and "E_LIX_mV" in s["theory"]
row = summary_row(s)
assert {"Li_in_mM", "E_Li_mV", "P_Li_measured", "I_lix_pA"} <= set(row)
paths = run_figure("out")
assert all(p.stat().st_size > 10_000 for p in paths)

# the live view: one frame, its help pages, the keys (Li's leak on the type selector)
from render.app import ACTIONS, App
from render.controls import key_table_markdown
keys = [a.key_label for a in ACTIONS]
assert keys.count("9") == 1 and keys.count("0") == 1 and "Y" in keys
assert "Li" not in key_table_markdown(ACTIONS).split("| `9`")[0].split("| `7`")[1]   # digits stop at Ca
app = App(cfg, size=(1280, 720))
app.run(frames=3, screenshot="frame.png")
for _ in range(len(cfg.channel_types())):
    app.act("next_type")
    if app.session.selected_type == "Lv":
        break
assert app.session.selected_type == "Lv"
app.act("selected*2")
assert app.sim.channels.relative["Lv"] == 0.6
words = ""
for page in range(1, 6):              # every page of the help panel
    app.help_page = page
    app.run(frames=1)
    words += " ".join(b.text for b in app.text.boxes)
assert "lithium" in words and "slow-k" in words and "Li+/Na+ exchanger" in words and "E_LIX" in words, words[-1500:]
assert "E_Li_mV" in app.lines_shown(), app.lines_shown()
print("recipes ok")
'''


@pytest.mark.recipes
def test_a_made_up_species_gating_model_and_transporter_flow_through_every_derived_list(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "runs", "out",
                                                              ".pytest_cache", ".hypothesis", "*.egg-info"))
    _edit(tree / "particles/species.py", 'SpeciesInfo("Y", "Y+", "Y⁺", "impermeant cations (neutrality)", +1, 0.5, False, FILLER),\n',
          SPECIES_ROW)
    _edit(tree / "membrane/gating.py", 'shift_key="v_shift_mV", outside_scaling=(0.5, 1.0)),\n', GATING_ROW)
    s = (tree / "membrane/transporters.py").read_text()
    s = s.replace("TABLE: tuple[TransporterType, ...] = (PUMP, NCX)",
                  TRANSPORTER_ROW + "\nTABLE: tuple[TransporterType, ...] = (PUMP, NCX, LIX)")
    (tree / "membrane/transporters.py").write_text(s)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK)], cwd=work, env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0 and "recipes ok" in r.stdout, r.stdout[-2000:] + r.stderr[-4000:]
    assert (work / "frame.png").stat().st_size > 10_000


def test_a_live_control_follows_the_recipe(monkeypatch):
    """A made-up intervention (the capacitance), as the recipe writes one: a Simulation method that
    changes config keys through the rules, a row of the registry (so a scenario step and Lab.set
    take it), a session Control, a key; logged, said, refused cleanly in one line."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from render import app as app_module
    from render.controls import key_table_markdown
    from simulation.core.config import ConfigError, load
    from simulation.core.model import Simulation
    from simulation.lab import Lab
    from simulation.session import interventions, session as session_module

    def set_capacitance(sim, c):
        changes = {"physics.capacitance_e_per_mV": c}
        new = sim._check(changes)
        sim.capacitance_e_per_mV = new["physics.capacitance_e_per_mV"]
        sim._apply(new, f"C = {c:g} e/mV", changes)

    def check(config, key, v, where):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{where} must be a number, got {v!r}")
        interventions._by_config(config, "physics.capacitance_e_per_mV", float(v), where)
        return float(v)

    def apply(session, key, c):
        session.sim.set_capacitance(c)
        return f"C = {c:g} e/mV: the same charge now makes {1 / c:.2g} mV per e"

    row = interventions.Intervention("capacitance", "e/mV > 0", "the membrane's capacitance",
                                     lambda k: k == "capacitance", lambda k: ("physics.capacitance_e_per_mV",),
                                     check, apply)
    monkeypatch.setattr(Simulation, "set_capacitance", set_capacitance, raising=False)
    monkeypatch.setattr(interventions, "REGISTRY", interventions.REGISTRY + (row,))
    control = session_module.Control("C*2", "C ×2", "double the capacitance",
                                     lambda s: s.intervene("capacitance", s.sim.capacitance_e_per_mV * 2))
    monkeypatch.setitem(session_module.CONTROL, "C*2", control)
    monkeypatch.setattr(session_module, "CONTROLS", session_module.CONTROLS + (control,))
    monkeypatch.setattr(app_module, "ACTIONS", app_module.ACTIONS + (app_module._control("C*2", (ord("u"),), "U"),))
    monkeypatch.setattr(app_module, "KEYMAP", app_module.keymap(app_module.ACTIONS))
    from tests.cells import TINY
    app = app_module.App(load("mammalian", None, TINY), size=(1280, 720))
    app.on_key(ord("u"))
    assert app.sim.capacitance_e_per_mV == 1.0 and app.sim.events[-1].changes == {"physics.capacitance_e_per_mV": 1.0}
    assert app.toast[0].startswith("C = 1 e/mV")
    assert "| `U` | C ×2 | double the capacitance |" in key_table_markdown(app_module.ACTIONS)
    assert app.session.intervene("capacitance", 0.0).startswith("cannot: ")
    assert app.sim.capacitance_e_per_mV == 1.0
    # the same name from Python and in a scenario step
    lab = Lab("mammalian", set=TINY)
    assert lab.set("capacitance", 2.0).startswith("C = 2 e/mV") and lab.sim.capacitance_e_per_mV == 2.0
    assert "capacitance" in interventions.check_changes({"capacitance": 0.25}, "step 1", lab.sim.config)


def test_an_output_column_follows_the_recipe(monkeypatch):
    """A made-up column appended to the declarations reaches the recorder's rows and arrays, and
    leaves the old columns as they were."""
    from simulation.core import observe
    from simulation.core.config import load
    from simulation.core.model import Simulation
    from simulation.headless.recorders import TimeseriesRecorder
    from tests.cells import TINY

    def record(extra):
        sim = Simulation(load("mammalian", None, TINY), seed=3)
        rec = TimeseriesRecorder(sim, None, 50)
        rec.sample()
        for _ in range(4):
            sim.step(50)
            rec.sample()
        return rec.array()

    before = record(False)
    plain = observe.timeseries_columns
    monkeypatch.setattr(observe, "timeseries_columns", lambda *a, **k: plain(*a, **k) + (
        observe.Column("V_squared_mV2", "mV²", lambda o, b: o.v_mV ** 2, 3, "V squared"),))
    import simulation.core.model as model
    monkeypatch.setattr(model, "timeseries_columns", observe.timeseries_columns)
    after = record(True)
    assert set(after) == set(before) | {"V_squared_mV2"}
    assert all(np.array_equal(before[c], after[c], equal_nan=True) for c in before)
    assert after["V_squared_mV2"] == pytest.approx(np.round(after["V_mV"] ** 2, 3), abs=0.01)
