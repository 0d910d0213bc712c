"""A V no membrane could hold is said, not computed into a traceback (issue 27's hostile pass: a
held 100 nA drove the spiking cell to +52 V and the summary's GHK flux factors overflowed): the
factors are finite for any V, and the run's notes say V left every membrane's range."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from membrane import theory

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "box.height_nm=120", "--set", "physics.particles=8000", "--set", "physics.capacitance_e_per_mV=0.4"]


@pytest.mark.parametrize("u", [-1e6, -2000.0, -701.0, -50.0, 50.0, 701.0, 2000.0, 1e6])
def test_the_ghk_flux_factors_are_finite_and_tend_to_their_limits(u):
    out, into = theory.ghk_efflux_factor(1, u), theory.ghk_influx_factor(1, u)
    assert math.isfinite(out) and math.isfinite(into) and out >= 0 and into >= 0
    assert math.isclose(out - into, u, rel_tol=1e-9, abs_tol=1e-12)     # net flux factor is z u
    if u > 0:
        assert math.isclose(out, u, rel_tol=1e-9) and into < 1e-15
    else:
        assert math.isclose(into, -u, rel_tol=1e-9) and out < 1e-15


def test_a_run_driven_past_any_membranes_range_finishes_and_says_so(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--preset", "spiking", "--set",
                        "stimulus.hold_pA=100000", *SMALL, "--steps", "1500", "--out", str(tmp_path / "r"),
                        "--no-progress"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "past ±500 mV, where no membrane holds" in r.stderr
    # a gated type placed short of its permeability is said as counted, all open (a KeyError ended
    # every small spiking cell's run here)
    assert "channels.Kv.relative_permeability = 9 asked" in r.stderr and "channels all open)" in r.stderr
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["settling"]["settled"] is False and any("no membrane holds" in w for w in s["settling"]["warnings"])
