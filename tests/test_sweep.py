"""Sweeps on a local Dask cluster: tables, run directories, figures, resuming, formats."""
import csv
import json
import os
import shutil

import pytest

from simulation.core.config import ConfigError, load
from simulation.headless.sweep import parse_vary, plan, sweep, worker_threads
from tests.cells import TINY


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    base = load("mammalian", None, TINY)
    info = sweep(base, parse_vary(["outside.K=5,20", "pump.enabled=true,false"]), 2, 600, out,
                 workers=2, progress=False)
    return out, info


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_sweep_writes_one_row_per_run_and_one_per_point(finished):
    out, info = finished
    assert info["runs"] == 8 and info["ran"] == 8
    rows = _rows(out / "sweep.csv")
    assert len(rows) == 8
    for col in ("outside.K", "pump.enabled", "seed", "run_dir", "V_mean_mV", "V_sem_mV", "E_K_mV", "V_GHK_mV",
                "V_MN_mV", "V_pump_mV", "settled", "warnings", "pump_cycles_per_us", "P_Na_effective", "P_Na_measured", "ussing_K_measured",
                "ussing_K_expected", "wall_s", "version"):
        assert col in rows[0]
    for r in rows:
        run = out / r["run_dir"]
        s = json.loads((run / "summary.json").read_text())
        assert s["seed"] == int(r["seed"]) and s["config"]["outside"]["K"] == float(r["outside.K"])
    summary = _rows(out / "summary.csv")
    assert len(summary) == 4 and all(r["n"] == "2" for r in summary)
    assert "V_mean_mV_mean" in summary[0] and "V_mean_mV_std" in summary[0]
    assert "pump_share_mV" in summary[0]  # the pump's share when pump.enabled is varied


def test_runs_that_did_not_settle_are_counted_flagged_and_named(finished):
    """600 steps is far too short to settle: every run says so in sweep.csv (`settled`, its
    `warnings`), each point in summary.csv (`settled_runs` of `n`), and the sweep names them."""
    out, info = finished
    rows = _rows(out / "sweep.csv")
    assert all(r["settled"] == "False" and r["warnings"] for r in rows)
    assert sorted(info["unsettled"]) == sorted(r["run_dir"] for r in rows)
    summary = _rows(out / "summary.csv")
    assert all(r["settled_runs"] == "0" and r["settled"] == "False" and r["warnings"] for r in summary)


def test_a_settled_run_is_not_flagged():
    from simulation.headless.sweep import aggregate
    rows = [{"k": 1, "seed": s, "run_dir": f"runs/{s}", "version": "x", "settled": ok, "warnings": w,
             "V_mean_mV": -70.0} for s, ok, w in ((0, True, ""), (1, False, "drifts"), (2, False, "drifts"))]
    point = aggregate(rows, ["k"])[0]
    assert point["settled_runs"] == 1 and point["settled"] is False and point["warnings"] == "drifts"
    assert aggregate(rows[:1], ["k"])[0]["settled"] is True


def test_figures_are_valid_images(finished):
    out, _ = finished
    import matplotlib.image as mpimg
    img = mpimg.imread(out / "sweep.png")
    assert img.shape[0] > 200 and img.shape[1] > 200
    assert (out / "sweep.svg").read_text().lstrip().startswith("<?xml")


def test_resume_runs_only_what_is_missing(finished, tmp_path):
    out, _ = finished
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    victim = sorted((copy / "runs").iterdir())[0]
    shutil.rmtree(victim)
    (copy / "runs" / ".tmp-half-written-123").mkdir()   # what an interrupted run leaves
    (copy / "sweep.csv").unlink()
    kept = {p.name: (p / "summary.json").stat().st_mtime for p in (copy / "runs").iterdir() if not p.name.startswith(".")}
    base = load("mammalian", None, TINY)
    info = sweep(base, parse_vary(["outside.K=5,20", "pump.enabled=true,false"]), 2, 600, copy, workers=1,
                 progress=False)
    assert info["ran"] == 1 and info["skipped"] == 7
    assert (victim / "summary.json").exists()
    assert not list((copy / "runs").glob(".tmp-*"))
    for name, mtime in kept.items():
        assert (copy / "runs" / name / "summary.json").stat().st_mtime == mtime
    assert len(_rows(copy / "sweep.csv")) == 8


def test_parquet_tables(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    base = load("mammalian", None, TINY)
    sweep(base, parse_vary(["outside.K=5,10"]), 1, 300, tmp_path, workers=1, fmt="parquet", progress=False)
    t = pq.read_table(tmp_path / "sweep.parquet")
    assert t.num_rows == 2 and "V_mean_mV" in t.column_names
    assert t.schema.metadata[b"version"]
    # one worker has every core as Numba threads
    assert t.column("threads").to_pylist() == [os.cpu_count()] * 2


def test_workers_share_the_cores_as_numba_threads(finished):
    out, _ = finished   # two workers
    assert {int(r["threads"]) for r in _rows(out / "sweep.csv")} == {max(1, os.cpu_count() // 2)}
    assert worker_threads(3, cores=8) == 2 and worker_threads(4, cores=2) == 1


def test_bad_vary_values_fail_before_anything_runs(tmp_path):
    base = load("mammalian", None, TINY)
    with pytest.raises(ConfigError, match="outside.K=-1"):
        plan(base, parse_vary(["outside.K=5,-1"]), 1)
    with pytest.raises(ConfigError, match="expected KEY=v1"):
        parse_vary(["outside.K"])
    with pytest.raises(ConfigError, match="unknown key"):
        plan(base, parse_vary(["box.colour=1,2"]), 1)
    assert not os.listdir(tmp_path)


def test_plot_of_one_run(finished):
    out, _ = finished
    from simulation.headless.figures import run_figure
    run = sorted((out / "runs").iterdir())[0]
    paths = run_figure(run)
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_the_same_sweep_runs_unchanged_on_an_existing_scheduler(tmp_path):
    from dask.distributed import LocalCluster
    base = load("mammalian", None, TINY)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        info = sweep(base, parse_vary(["outside.K=5,10"]), 1, 300, tmp_path, scheduler=cluster.scheduler_address,
                     progress=False)
    assert info["ran"] == 2 and len(_rows(tmp_path / "sweep.csv")) == 2


def test_a_sweep_of_the_held_current_tables_the_firing_and_draws_an_f_i_curve(tmp_path):
    base = load("mammalian", None, TINY + ["stimulus.hold_from_ns=5"])
    sweep(base, parse_vary(["stimulus.hold_pA=0,400"]), 1, 600, tmp_path, workers=1, progress=False)
    rows = _rows(tmp_path / "sweep.csv")
    assert {"spikes", "hold_spikes", "hold_rate_per_us", "hold_interval_ns"} <= set(rows[0])
    by_current = {float(r["stimulus.hold_pA"]): r for r in rows}
    held = json.loads((tmp_path / by_current[400.0]["run_dir"] / "summary.json").read_text())["spikes"]["hold"]
    assert held["from_ns"] == 5.0 and float(by_current[400.0]["hold_spikes"]) == held["count"]
    summary = _rows(tmp_path / "summary.csv")
    assert "hold_rate_per_us_mean" in summary[0]
    import matplotlib.image as mpimg
    assert mpimg.imread(tmp_path / "sweep.png").shape[0] > 200


def test_the_command_line_names_the_runs_that_did_not_settle(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    sets = [a for s in TINY for a in ("--set", s)]
    p = subprocess.run([sys.executable, str(root / "main.py"), "sweep", "--vary", "outside.K=5,20", "--steps", "300",
                        "--workers", "1", "--no-progress", "--out", str(tmp_path / "s"), *sets],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    line = next(w for w in p.stderr.splitlines() if "did not settle" in w)
    assert line.startswith("note: 2 of 2 runs did not settle in their window") and "runs/outside.K=5_seed0" in line


def test_a_sweep_in_process_gives_the_runs_dask_gives(finished, tmp_path):
    """validate's clamp checks in an install without the `sweep` extra run the points here, one by
    one: the same runs, bit for bit (the generator is counter-based; threads do not matter)."""
    out, _ = finished
    base = load("mammalian", None, TINY)
    info = sweep(base, parse_vary(["outside.K=20", "pump.enabled=false"]), 1, 600, tmp_path, first_seed=1,
                 progress=False, in_process=True)
    (row,) = info["rows"]
    (dask_row,) = [r for r in _rows(out / "sweep.csv") if r["run_dir"] == row["run_dir"]]
    assert float(dask_row["V_mean_mV"]) == row["V_mean_mV"] and float(dask_row["seed"]) == 1
