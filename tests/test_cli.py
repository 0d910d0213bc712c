"""The command line: `run` writes SPEC §4's files, `presets` lists, bad input is one line and
exit code 2, Ctrl-C flushes what was recorded and exits 130."""
import csv
import os
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation.core.config import preset_names
from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
SETS = [a for s in TINY for a in ("--set", s)]


def main_py(*args, **kw):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=kw.pop("cwd", ROOT), timeout=kw.pop("timeout", 300), **kw)


def test_run_writes_timeseries_and_summary(tmp_path):
    out = tmp_path / "run"
    r = main_py("run", "--steps", "600", "--seed", "4", "--out", str(out), "--sample-every", "50", *SETS)
    assert r.returncode == 0, r.stderr
    assert "V =" in r.stdout
    with open(out / "timeseries.csv") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert head[:3] == ["step", "time_ns", "V_mV"]
    for ion in ("K", "Na", "Cl", "Ca", "Mg", "A", "X", "Y"):
        i = head.index(f"{ion}_in")
        assert head[i:i + 3] == [f"{ion}_in", f"{ion}_out", f"{ion}_mem"]
    for col in ("pump_cycles", "atp_spent", "K_efflux", "K_influx", "Na_efflux", "Na_influx", "Cl_efflux",
                "Cl_influx"):
        assert col in head
    # SPEC's columns end with the theory (each ion's Nernst potential, the exchanger's reversal
    # potential, GHK); the clamp's, the currents and each channel type's columns follow them
    theory_end = head.index("V_GHK_mV") + 1
    assert head[theory_end - 6:theory_end] == ["E_K_mV", "E_Na_mV", "E_Cl_mV", "E_Ca_mV", "E_NCX_mV", "V_GHK_mV"]
    assert head[theory_end:theory_end + 2] == ["clamp_mV", "electrode_e"]
    currents = [c for c in head if c.startswith("I_")]
    assert currents[:7] == ["I_K_pA", "I_Na_pA", "I_Cl_pA", "I_Ca_pA", "I_pump_pA", "I_ncx_pA", "I_total_pA"]
    assert head[-8:] == ["ch_K_open", "I_ch_K_pA", "ch_Na_open", "I_ch_Na_pA", "ch_Cl_open", "I_ch_Cl_pA",
                         "ch_Ca_open", "I_ch_Ca_pA"]
    assert len(rows) == 1 + 600 // 50 + 1
    # particle totals can be checked from the file: in + out + mem is constant per species
    for ion in ("K", "Na", "Cl"):
        cols = [head.index(f"{ion}_{r}") for r in ("in", "out", "mem")]
        totals = {sum(int(row[c]) for c in cols) for row in rows[1:]}
        assert len(totals) == 1
    s = json.loads((out / "summary.json").read_text())
    for key in ("config", "seed", "version", "steps", "wall_s", "startup_s", "particle_steps_per_s", "window",
                "V_mean_mV", "V_sem_mV", "concentrations_mM", "theory", "effective_permeability",
                "pump_cycles_per_us"):
        assert key in s
    assert s["seed"] == 4 and s["steps"] == 600 and s["window"][1] == 600
    assert s["settling"]["method"].startswith("detected") and s["window"][0] == s["settling"]["transient_end_step"]
    assert set(s["theory"]) >= {"E_K_mV", "E_Na_mV", "E_Cl_mV", "V_GHK_mV", "V_MN_mV", "V_pump_mV", "V_Donnan_mV"}
    assert set(s["concentrations_mM"]) == {"in", "out"}
    assert s["config"]["box"]["height_nm"] == 160.0
    assert (out / "config.toml").exists()


def test_same_seed_same_files(tmp_path):
    for name in ("a", "b"):
        assert main_py("run", "--steps", "300", "--out", str(tmp_path / name), "--no-progress", *SETS).returncode == 0
    assert (tmp_path / "a" / "timeseries.csv").read_text() == (tmp_path / "b" / "timeseries.csv").read_text()


def test_presets_lists_every_preset_with_a_line():
    r = main_py("presets")
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    assert [l.split()[0] for l in lines] == preset_names()
    assert all(len(l.split()) > 3 for l in lines)


@pytest.mark.parametrize("args, words", [
    (["run", "--steps", "10", "--out", "X", "--preset", "nope"], "unknown preset"),
    (["run", "--steps", "10", "--out", "X", "--config", "/no/such.toml"], "config file not found"),
    (["run", "--steps", "10", "--out", "X", "--set", "outside.K"], "expected KEY=VALUE"),
    (["run", "--steps", "10", "--out", "X", "--set", "outside.K=-3"], "outside.K must be"),
    (["run", "--steps", "10", "--out", "X", "--set", "physics.temperature_C=-300"], "absolute zero"),
    (["run", "--steps", "-5", "--out", "X"], "must be >= 0"),
    (["run", "--steps", "ten", "--out", "X"], "expected a whole number"),
    (["run", "--out", "X"], "--steps"),
    (["run", "--steps", "10", "--out", "X", "--preset", "squid", "--config", "a.toml"], "not allowed with"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, args, words):
    r = main_py(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "X").exists()


def test_out_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "afile"
    f.write_text("keep me")
    r = main_py("run", "--steps", "10", "--out", str(f), *SETS)
    assert r.returncode == 2 and f.read_text() == "keep me"


def test_ctrl_c_flushes_the_recorded_samples_and_exits_130(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--steps", "40000000", "--out", str(out),
                          "--sample-every", "20", *SETS], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    csv_path = out / "timeseries.csv"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if csv_path.exists() and len(csv_path.read_text().splitlines()) > 20:
                break
            time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err
    rows = csv_path.read_text().splitlines()
    assert len(rows) > 20
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is True and s["steps"] < 40000000
    assert s["V_mean_mV"] is not None
    last_step = int(rows[-1].split(",")[0])
    assert last_step <= s["steps"]


def test_a_run_too_short_to_settle_says_so_in_one_line_and_in_the_summary(tmp_path):
    out = tmp_path / "short"
    r = main_py("run", "--preset", "k-only", "--steps", "400", "--out", str(out), "--sample-every", "10", *SETS)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if line.startswith("note:")]
    assert notes and all(len(n) < 200 for n in notes)
    s = json.loads((out / "summary.json").read_text())
    assert s["settling"]["settled"] is False and s["settling"]["warnings"]


def test_a_requested_permeability_is_met_exactly_and_reported(tmp_path):
    out = tmp_path / "exact"
    r = main_py("run", "--steps", "20", "--out", str(out), *SETS, "--set", "channels.Na.relative_permeability=0.04")
    assert r.returncode == 0, r.stderr
    placed = json.loads((out / "summary.json").read_text())["channels_placed"]
    assert placed["Na"]["relative_permeability_achieved"] == pytest.approx(0.04, rel=1e-9)
    assert not any("channels.Na" in line for line in r.stderr.splitlines())


@pytest.mark.parametrize("command", [["live", "--frames", "2"], ["demo", "emerges", "--window", "--frames", "2",
                                                                  "--record", "never.gif"]])
def test_a_monitor_the_machine_lacks_is_one_line_and_exit_2_with_nothing_written(command, tmp_path):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), *command, "--display", "7"], capture_output=True,
                       text=True, env=env, timeout=120, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--display 7: this machine has 1 display (0)" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "never.gif").exists()
