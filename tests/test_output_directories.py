"""One output directory holds one kind of result (issue 27: run --overwrite into a sweep's
directory, a sweep into a run's, a resume in another --format, a sweep of another --vary key into
the same --out each mixed or lost results; `--vary 'name="a,b","c"'` was split at every comma)."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.core.config import load
from simulation.headless import guard
from simulation.headless.run import run
from simulation.headless.sweep import parse_vary, sweep
from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
SETS = [a for s in TINY for a in ("--set", s)]


@pytest.fixture(scope="module")
def a_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("kinds") / "sweep"
    sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,10"]), 1, 200, out, progress=False, in_process=True)
    return out


def test_run_overwrite_into_a_sweeps_directory_is_refused_and_nothing_touched(a_sweep):
    before = sorted(p.name for p in a_sweep.iterdir())
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--steps", "50", "--out", str(a_sweep),
                        "--overwrite", "--no-progress", *SETS], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "holds a sweep" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert sorted(p.name for p in a_sweep.iterdir()) == before


def test_a_sweep_into_a_runs_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    run(load("mammalian", None, TINY), 50, out, progress=False)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(guard.OutputError, match="holds a run"):
        sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,10"]), 1, 50, out, progress=False,
              in_process=True)
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_sweep_of_another_key_into_the_same_directory_is_refused(a_sweep):
    with pytest.raises(guard.OutputError, match="holds a sweep of --vary outside.K; this one varies pump.enabled"):
        sweep(load("mammalian", None, TINY), parse_vary(["pump.enabled=true,false"]), 1, 200, a_sweep, progress=False,
              in_process=True)


def test_a_resume_in_the_other_format_leaves_one_table(a_sweep):
    pytest.importorskip("pyarrow")
    sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,10"]), 1, 200, a_sweep, progress=False,
          in_process=True, fmt="parquet")
    names = {p.name for p in a_sweep.iterdir()}
    assert {"sweep.parquet", "summary.parquet"} <= names and not {"sweep.csv", "summary.csv"} & names
    sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,10"]), 1, 200, a_sweep, progress=False,
          in_process=True)
    names = {p.name for p in a_sweep.iterdir()}
    assert {"sweep.csv", "summary.csv"} <= names and not {"sweep.parquet", "summary.parquet"} & names
    with open(a_sweep / "sweep.csv") as f:
        assert len(list(csv.DictReader(f))) == 2


@pytest.mark.parametrize("item, values", [
    ('name="a,b","c"', ["a,b", "c"]),
    ("name='a,b',c", ["a,b", "c"]),
    ('name="q\\",x","y"', ['q",x', "y"]),
    ("outside.K=5,10,20", [5, 10, 20]),
    ("clamp.protocol=[[-70, 5]],[]", [[[-70, 5]], []]),
])
def test_vary_splits_only_at_commas_between_values(item, values):
    (_, got), = parse_vary([item])
    assert got == values
