"""Values that used to pass validation and then crash after the whole run, or run as nonsense,
are refused at load time: one line naming the key, exit code 2, nothing written (issue 11, items 4-5)."""
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.core.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent

PROBES = [  # --set value -> a word the one-line message must contain
    ("physics.temperature_C=-270", "physics.temperature_C"),
    ("physics.temperature_C=-273.0", "physics.temperature_C"),
    ("physics.temperature_C=1e5", "physics.temperature_C"),
    ("physics.capacitance_e_per_mV=1e-300", "physics.capacitance_e_per_mV"),
    ("physics.capacitance_e_per_mV=1e300", "physics.capacitance_e_per_mV"),
    ("box.width_nm=1e300", "box.width_nm"),
    ("box.height_nm=1e12", "box.height_nm"),
    ("physics.particles=10", "physics.particles"),
    ("outside.K=1e300", "outside.K"),
    ("outside.Na=5001", "outside.Na"),
    ("inside.Na=1e-300", "inside.Na"),
    ("fixed_anions.charge=-1000000", "fixed_anions.charge"),
    ("fixed_anions.charge=-99999999999999999999", "fixed_anions.charge"),
    ("physics.dt_ns=1e-300", "physics.dt_ns"),
    ("channels.K.mean_open_time_ns=1e-300", "channels.K.mean_open_time_ns"),
    ("pump.max_turnover_per_us=1e300", "pump.max_turnover_per_us"),
]


@pytest.mark.parametrize("setting,key", PROBES, ids=[p[0] for p in PROBES])
def test_a_value_the_model_cannot_compute_with_is_refused_at_load(setting, key):
    with pytest.raises(ConfigError) as e:
        load("mammalian", None, [setting])
    assert key in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("setting,key", PROBES[:4] + PROBES[7:9], ids=[p[0] for p in PROBES[:4] + PROBES[7:9]])
def test_on_the_command_line_it_is_one_line_exit_2_and_nothing_written(setting, key, tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--steps", "50", "--set", setting,
                        "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and key in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() or not any(out.iterdir())


def test_the_shipped_presets_and_the_validation_cells_still_load():
    from simulation.core.config import preset_names
    for name in preset_names():
        load(name)
    load("mammalian", None, ["physics.temperature_C=-5", "physics.capacitance_e_per_mV=0.02"])


CLI = [  # arguments -> a word the one-line message must contain
    (["run", "--steps", "10", "--preset", "", "--out", "O"], "--preset"),
    (["run", "--steps", "10", "--preset", "../presets/squid", "--out", "O"], "--config"),
    (["run", "--steps", "10", "--out", ""], "--out"),
    (["run", "--steps", "10", "--seed", str(2 ** 64), "--out", "O"], "--seed"),
    (["sweep", "--vary", "outside.K=5,5,5.0", "--steps", "10", "--out", "O"], "more than once"),
    (["sweep", "--vary", "outside.K=5,10", "--first-seed", str(2 ** 70), "--steps", "10", "--out", "O"],
     "--first-seed"),
    (["run", "--steps", "300", "--window", "5000:9000", "--out", "O"], "--window"),
    (["run", "--steps", "1000", "--sample-every", "50", "--window", "110:140", "--out", "O"], "fewer than 2 samples"),
    (["run", "--steps", "10", "--set", 'name="two\nlines"', "--out", "O"], "name"),
    (["run", "--steps", "10", "--set", f'description="{"x" * 5000}"', "--out", "O"], "description"),
    (["run", "--steps", "10", "--set", "channels.Cl.open_probability=5e-324", "--out", "O"], "open_probability"),
    (["run", "--steps", "10", "--set", "membrane.channels_per_unit_permeability=100000000000000000000", "--out", "O"],
     "channels_per_unit_permeability"),
    (["sweep", "--vary", "outside.K=5,10", "--steps", "10", "--scheduler", "not a url", "--out", "O"], "--scheduler"),
    (["sweep", "--vary", "outside.K=5,10", "--steps", "10", "--scheduler", "inproc://x", "--out", "O"], "--scheduler"),
    (["iv", "--from=-1e308", "--to=1e308", "--step=1e300", "--steps-per-point", "10", "--out", "O"], "--from"),
    (["sweep", "--vary", "outside.K=" + ",".join(str(5 + k) for k in range(1000)), "--vary",
      "inside.K=" + ",".join(str(100 + k) for k in range(1000)), "--steps", "10", "--out", "O"], "at most 10000"),
    (["iv", "--from=-100", "--to=1e308", "--step=10", "--steps-per-point", "10", "--out", "O"], "--to"),
    (["iv", "--from=-100", "--to=100", "--step=1e-300", "--steps-per-point", "10", "--out", "O"], "points"),
]


@pytest.mark.parametrize("args,word", CLI, ids=[" ".join(a[:4]) + "…" for a, _ in CLI])
def test_bad_arguments_are_one_line_and_exit_2(args, word, tmp_path):
    args = [str(tmp_path / "O") if a == "O" else a for a in args]
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and word in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "O").exists()


def test_a_config_file_larger_than_a_page_is_refused_before_it_is_parsed(tmp_path):
    f = tmp_path / "big.toml"
    f.write_text('description = "' + "x" * (2 << 20) + '"\n')
    with pytest.raises(ConfigError) as e:
        load(None, str(f), [])
    assert "MB" in str(e.value)


def test_a_binary_config_file_is_one_line_not_a_traceback(tmp_path):
    f = tmp_path / "cell.toml"
    f.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError) as e:
        load(None, str(f), [])
    assert "not a text file" in str(e.value)
