"""The Python API (simulation.lab): the same numbers as the command line bit for bit, the tables a
methods section reads (DataFrames with timeseries.csv's columns and units, summary.json's dict),
every live change by the scenario names with one-line errors, an interrupted run keeping what it
recorded, and sweeps and I-V curves returning DataFrames on a Client the caller passes."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.core.config import ConfigError
from simulation.lab import Lab, changes, iv, load_config, sweep
from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
WALL_CLOCK = ("wall_s", "startup_s", "particle_steps_per_s", "threads")   # how it ran, not what it found


def test_the_same_seed_gives_the_command_lines_numbers_bit_for_bit(tmp_path):
    sets = [a for s in TINY for a in ("--set", s)]
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--preset", "k-only", "--steps", "1500",
                        "--seed", "7", "--out", str(tmp_path / "cli"), "--no-progress", *sets],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lab = Lab("k-only", set=TINY, seed=7)
    lab.run(1000, progress=False).run(500, progress=False)      # in two calls: the same steps
    lab.save(tmp_path / "api")
    for name in ("timeseries.csv", "config.toml"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    cli, api = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("cli", "api"))
    assert {k: v for k, v in api.items() if k not in WALL_CLOCK} == {k: v for k, v in cli.items()
                                                                      if k not in WALL_CLOCK}
    df = lab.timeseries()
    on_disk = pd.read_csv(tmp_path / "cli" / "timeseries.csv")
    assert list(df.columns) == list(on_disk.columns)
    pd.testing.assert_frame_equal(df, on_disk, check_dtype=False)
    assert df.attrs["units"]["V_mV"] == "mV" and df.attrs["units"]["time_ns"] == "ns"


def test_a_cell_from_a_preset_a_file_or_a_dict_by_the_command_lines_rules(tmp_path):
    f = tmp_path / "cell.toml"
    f.write_text('[outside]\nK = 20.0\n')
    assert load_config(f)["outside.K"] == 20.0
    assert load_config({"outside": {"K": 20.0}})["outside.K"] == 20.0
    assert load_config("mammalian", set={"outside.K": 12})["outside.K"] == 12.0
    assert load_config("mammalian", set=["outside.K=12"]) .data == load_config("mammalian", set={"outside.K": 12}).data
    for bad, words in [("frog", "unknown preset 'frog'; shipped presets: "),
                       (tmp_path / "none.toml", "none.toml: not found"),
                       ({"outside": {"K": -1}}, "outside.K"),
                       ({"outsde": {"K": 1}}, "outsde")]:
        with pytest.raises(ConfigError) as e:
            load_config(bad)
        assert words in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="--set outside.K"):
        Lab("mammalian", set=["outside.K=-4"])


def test_every_live_change_by_name_and_its_refusals():
    lab = Lab("mammalian", set=TINY, seed=2)
    assert {"pumps", "clamp", "outside.K", "channels.Na", "cell", "fixed_anions"} <= set(changes("mammalian"))
    lab.run(200, progress=False)
    said = lab.set("outside.K", 20)
    assert said.startswith("[K]o = 20")
    assert lab.block_pumps().startswith("ouabain") and not lab.sim.pumps_on
    assert lab.set({"channels.Na": 0.1, "field": False}).count(";") == 1
    assert lab.clamp("E_K+10").startswith("clamped at")
    assert lab.sim.clamp_mV == pytest.approx(round(lab.theory()["E_K_mV"] + 10, 1))
    lab.run(100, progress=False)
    df = lab.timeseries()
    assert df["clamp_mV"].iloc[-1] == pytest.approx(lab.sim.clamp_mV)
    labels = [e["label"] for e in lab.summary()["events"]]
    assert labels[:2] == ["[K]o = 20 mM", "ouabain: pump blocked"]
    with pytest.raises(ConfigError) as e:
        lab.set("channels.Nav", 1)
    assert str(e.value).startswith("set: set.channels.Nav: unknown channel type 'Nav'")
    before = lab.sim.concentrations_mM()[1]["K"]
    assert lab.control("K_out*2").startswith(f"[K]o = {2 * before:.3g}")
    with pytest.raises(ConfigError, match="controls: pause, step"):
        lab.control("nope")


def test_an_interrupted_run_keeps_what_it_recorded(tmp_path, monkeypatch):
    lab = Lab("mammalian", set=TINY, seed=3, sample_every=10)
    calls = []

    def stop_on_the_third_chunk():
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
    monkeypatch.setattr(lab.session, "_after_step", stop_on_the_third_chunk)
    lab.run(1000, progress=False)
    assert lab.interrupted and lab.sim.step_count == 30
    assert list(lab.timeseries()["step"]) == [0, 10, 20, 30]
    lab.save(tmp_path / "cut")
    s = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert s["interrupted"] and s["steps"] == 30 and s["steps_requested"] == 1000


def test_a_rebuilding_change_starts_a_new_record():
    lab = Lab("mammalian", set=TINY)
    lab.run(100, progress=False)
    lab.set("cell", 2)
    assert lab.sim.step_count == 0 and list(lab.timeseries()["step"]) == [0]
    lab.run(60, progress=False)
    assert lab.timeseries()["step"].iloc[-1] == 60 and lab.summary()["steps"] == 60


def test_sweeps_and_iv_curves_return_dataframes_on_a_client_the_caller_passes():
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        res = sweep("ghk-no-pump", {"outside.K": [5, 40]}, set=TINY, steps=400, sample_every=20, client=client,
                    progress=False)
        assert list(res.summary["outside.K"]) == [5.0, 40.0] and len(res.runs) == 2 and res.out is None
        assert res.summary["V_mean_mV_mean"].iloc[1] > res.summary["V_mean_mV_mean"].iloc[0]
        assert set(res.runs["outside.K"]) == {5.0, 40.0} and "V_mean_mV" in res.runs
        curve = iv("k-only", set=TINY, v_from=-100, v_to=-40, v_step=60, steps_per_point=400, client=client,
                   progress=False)
        assert list(curve.points["command_mV"]) == [-100.0, -40.0]
        assert np.all(np.isfinite(curve.points["I_total_pA"])) and "GHK_mV" in curve.reversal
        assert not client.status == "closed"     # the caller's client is left open


def test_save_refuses_a_directory_that_holds_anything_unless_told(tmp_path):
    from simulation.headless.guard import OutputError
    lab = Lab("mammalian", set=TINY).run(50, progress=False)
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(OutputError) as e:
        lab.save(tmp_path)
    assert "give overwrite=True" in str(e.value) and (tmp_path / "mine.txt").read_text() == "keep"
    lab.save(tmp_path / "run")
    lab.save(tmp_path / "run", overwrite=True)
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == 50
