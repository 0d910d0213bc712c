"""`iv`: a resumable sweep of clamped runs reported as an I–V table and figure; bad arguments
get one line and exit 2. (Whether the curve matches theory: tests/test_clamp_physics.py.)"""
import csv
import json
import math

import numpy as np
import pytest

from simulation.core.config import ConfigError
from simulation.headless import iv
from tests.cells import TINY
from tests.test_cli import main_py

SETS = [a for s in TINY for a in ("--set", s)]


def test_iv_writes_its_table_and_figure_and_resumes(tmp_path):
    out = tmp_path / "iv"
    args = ("iv", "--preset", "k-only", *SETS, "--from", "-120", "--to", "-40", "--step", "40",
            "--steps-per-point", "6000", "--out", str(out), "--workers", "2", "--no-progress", "--sample-every", "50")
    r = main_py(*args, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "3 clamped runs (0 already done, 3 run now" in r.stdout
    assert "E_K (Nernst)" in r.stdout
    for name in ("iv.csv", "iv.json", "iv.png", "iv.svg", "sweep.csv", "sweep.json"):
        assert (out / name).exists(), name
    rows = list(csv.DictReader(open(out / "iv.csv")))
    assert [float(x["command_mV"]) for x in rows] == [-120.0, -80.0, -40.0]
    for x in rows:
        assert float(x["I_total_pA"]) == pytest.approx(float(x["I_K_pA"]), abs=1e-9)   # K⁺ only, no pump
        assert float(x["I_K_e_per_us"]) == pytest.approx(float(x["I_K_pA"]) / 0.1602176634, rel=1e-5)
        assert float(x["I_K_pA_sem"]) > 0
    # the K⁺ current rises with V and its GHK prediction is drawn at each point
    assert float(rows[0]["I_K_GHK_pA"]) < float(rows[1]["I_K_GHK_pA"]) < float(rows[2]["I_K_GHK_pA"])
    info = json.loads((out / "iv.json").read_text())
    assert info["ions"] == ["K"] and info["P_abs_nm2_per_ns"]["K"] > 0 and info["steps_per_point"] == 6000
    r = main_py(*args, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "3 clamped runs (3 already done, 0 run now" in r.stdout


@pytest.mark.parametrize("args,words", [
    (("--from", "-40", "--to", "-120", "--step", "10"), "--to must be >= --from"),
    (("--from", "-120", "--to", "40", "--step", "0"), "must be > 0"),
    (("--from", "-120", "--to", "40", "--step", "0.1"), "at most 201"),
    (("--from", "nan", "--to", "40", "--step", "10"), "a potential in mV"),
    (("--from", "-300", "--to", "40", "--step", "10"), "clamp.command_mV"),
])
def test_bad_iv_arguments_get_one_line_and_exit_2(tmp_path, args, words):
    r = main_py("iv", *args, "--steps-per-point", "100", "--out", str(tmp_path / "x"), "--no-progress")
    assert r.returncode == 2
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "x").exists()


def test_commands_cover_the_range():
    assert iv.commands(-120, 40, 10) == [float(v) for v in range(-120, 41, 10)]
    assert iv.commands(-50, -50, 5) == [-50.0]
    assert iv.commands(-100, -75, 10) == [-100.0, -90.0, -80.0]
    with pytest.raises(ConfigError):
        iv.commands(0, 10, -1)


def test_reversal_is_read_between_the_points_that_bracket_zero():
    v = np.array([-120.0, -100.0, -80.0, -60.0])
    i = np.array([-30.0, -10.0, 10.0, 40.0])
    sem = np.ones(4)
    v0, s, used = iv.reversal(v, i, sem)
    assert v0 == pytest.approx(-90.0, abs=1e-9) and used == [1, 2] and 0 < s < 5
    v0, s, used = iv.reversal(v, np.array([1.0, 2.0, 3.0, 4.0]), sem)
    assert math.isnan(v0) and used == []


def test_an_iv_too_short_to_measure_permeabilities_says_so_instead_of_a_ghk_value():
    """Three points 250 mV apart on a tiny cell: the reversal is a straight line across a curve,
    and the ions that crossed fewer than 10 times have no measured permeability, so "GHK" would be
    another ion's Nernst potential (issue 27: "reverses at -221.5 ± 24.5, GHK -72.2", P_K 0)."""
    from simulation.headless.iv import MIN_TRANSITS, caveats, lines
    result = {"transits": {"K": 0, "Na": 1, "Cl": 40}, "ions": ["K", "Na", "Cl"],
              "reversal": {"channels_mV": -221.5, "channels_sem_mV": 24.5, "GHK_mV": -72.2,
                           "channels_points_mV": [-250.0, 0.0], "zero_current_with_pump_mV": float("nan"),
                           "total_mV": float("nan")}}
    said = caveats(result)
    assert len(said) == 2 and "K 0, Na 1" in said[0] and str(MIN_TRANSITS) in said[0] and "250 mV apart" in said[1]
    printed = lines(result)
    assert "GHK -72.2" not in printed[0] and "GHK not given" in printed[0]
    result["transits"] = {"K": 50, "Na": 20, "Cl": 40}
    result["reversal"]["channels_points_mV"] = [-80.0, -70.0]
    assert caveats(result) == [] and "GHK -72.2 mV" in lines(result)[0]
