"""The samples a run keeps for its summary are bounded (issue 27: `--sample-every 1` held ~2.1 kB
a row as Python lists, without limit): 8 bytes a value, and a run that would keep more than
MAX_SAMPLE_BYTES is refused before anything is written, naming the stride that fits."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.core.config import ConfigError, load
from simulation.core.model import Simulation
from simulation.headless.recorders import MAX_SAMPLE_BYTES, TimeseriesRecorder, check_samples

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["box.height_nm=120", "physics.particles=8000", "physics.capacitance_e_per_mV=0.4"]


def test_a_sample_costs_eight_bytes_a_column_and_reads_back_as_written(tmp_path):
    sim = Simulation(load("mammalian", None, SMALL), 1)
    rec = TimeseriesRecorder(sim, tmp_path / "t.csv", 5)
    for _ in range(200):
        rec.sample()
        sim.step(5)
    rec.close()
    kept = sum(b.nbytes for b in rec._blocks)
    assert rec._blocks[0].itemsize == 8 and rec._blocks[0].shape[1] == len(rec.names)
    assert kept <= 2 * 200 * 8 * len(rec.names)          # grown by doubling up to a block
    rec.write_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "t.csv").read_bytes()
    a = rec.array()
    assert a["step"].dtype == np.float64 and a["step"][-1] == 995 and np.isnan(a["I_total_pA"][0])


def test_a_plan_over_the_budget_is_refused_with_the_stride_that_fits():
    cfg = load("mammalian", None, SMALL)
    check_samples(cfg, 10 ** 8, 50)                       # 2 million rows: ~1 GiB, allowed
    with pytest.raises(ConfigError) as e:
        check_samples(cfg, 10 ** 9, 1)
    said = str(e.value)
    stride = int(re.search(r"sample every (\d+) steps or more", said)[1])
    check_samples(cfg, 10 ** 9, stride)                   # the stride it names fits
    with pytest.raises(ConfigError):
        check_samples(cfg, 10 ** 9, stride - 1)
    assert "GiB) in memory" in said and str(MAX_SAMPLE_BYTES >> 30) + " GiB" in said


def test_the_command_line_refuses_in_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "r"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--steps", "1000000000", "--sample-every",
                        "1", "--out", str(out), *[a for kv in SMALL for a in ("--set", kv)]],
                       capture_output=True, text=True, timeout=120)
    errors = [line for line in r.stderr.splitlines() if not line.startswith("note:")]
    assert r.returncode == 2 and len(errors) == 1 and "sample every 250 steps or more" in errors[0], r.stderr
    assert not out.exists()
