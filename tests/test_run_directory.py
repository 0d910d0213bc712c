"""A run directory holds one run, whole: `run` refuses a directory that holds anything unless
--overwrite is given, removes the old summary before the first new byte, never writes through a
link already there, and marks the directory while it writes so that a second writer is refused
and `plot` knows the run is not finished (issue 11, items 2 and 9)."""
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.core.config import load, to_toml, toml_string
from simulation.headless import guard
from simulation.headless.run import run
from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
SETS = [a for s in TINY for a in ("--set", s)]


def _run(out, **kw):
    return run(load("mammalian", None, TINY), 200, out, sample_every=50, progress=False, **kw)


def _plot(d):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "plot", str(d)], capture_output=True, text=True,
                          timeout=120)


def test_a_non_empty_out_is_refused_without_overwrite_and_left_as_it_was(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--steps", "50", "--out", str(out), *SETS],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "--overwrite" in r.stderr and "notes.txt" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


def test_overwrite_removes_the_old_summary_before_the_new_run_writes(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _run(out)
    from simulation.core import model

    def crash(self, k=1):
        raise RuntimeError("the machine died here")
    monkeypatch.setattr(model.Simulation, "step", crash)
    with pytest.raises(RuntimeError):
        _run(out, overwrite=True)
    assert not (out / "summary.json").exists()          # no old summary beside the new rows
    assert guard.killed_before_finishing(out)
    r = _plot(out)
    assert r.returncode == 2 and "killed before it finished" in r.stderr


def test_a_finished_run_leaves_no_marker_and_its_fingerprint_names_config_steps_and_seed(tmp_path):
    s = _run(tmp_path / "a")
    assert not (tmp_path / "a" / guard.MARKER).exists()
    from simulation.headless.run import summary_fingerprint
    assert s["fingerprint"] == summary_fingerprint(s)
    other = run(load("mammalian", None, TINY), 200, tmp_path / "b", seed=1, sample_every=50, progress=False)
    assert other["fingerprint"] != s["fingerprint"]


def test_a_second_writer_is_refused_naming_the_first_and_plot_waits(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    lock = guard.DirectoryLock(out, "run").acquire()
    try:
        with pytest.raises(guard.OutputError) as e:
            _run(out, overwrite=True)
        assert f"pid {os.getpid()}" in str(e.value) and "\n" not in str(e.value)
        from simulation.headless.sweep import parse_vary, sweep
        with pytest.raises(guard.OutputError):
            sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,10"]), 1, 100, out, progress=False)
        r = _plot(out)
        assert r.returncode == 2 and "still writing" in r.stderr
    finally:
        lock.release(complete=True)
    assert sorted(p.name for p in out.iterdir()) == []


def test_no_file_is_written_through_a_link_already_in_out(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    out = tmp_path / "run"
    out.mkdir()
    for name in ("timeseries.csv", "config.toml", "summary.json"):
        (out / name).symlink_to(target)
    _run(out, overwrite=True)
    assert target.read_text() == "keep"
    assert not any((out / n).is_symlink() for n in ("timeseries.csv", "config.toml", "summary.json"))
    assert json.loads((out / "summary.json").read_text())["steps"] == 200


@pytest.mark.parametrize("content", ["[]", "{}", "null", '{"config": 3}', "not json"])
def test_plot_of_a_summary_that_is_not_a_runs_is_one_line(tmp_path, content):
    _run(tmp_path / "r")
    (tmp_path / "r" / "summary.json").write_text(content)
    r = _plot(tmp_path / "r")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_any_text_round_trips_through_the_written_toml(text):
    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text


def test_a_config_with_quotes_newlines_and_control_characters_reads_back(tmp_path):
    cfg = load("mammalian", None, TINY + ['name="K\\u00e9 \\"quoted\\" \\\\ back"',
                                          'description="two\\nlines\\tand \\u0007 a bell"'])
    path = tmp_path / "c.toml"
    path.write_text(to_toml(cfg.data))
    back = load(None, str(path), [])
    assert back.data == cfg.data


def test_an_endless_run_still_records_a_row_every_so_often():
    """--steps 9223372036854775807 chose a stride of 4.6e15 steps and recorded one row (issue 27)."""
    from simulation.headless.run import MAX_DEFAULT_STRIDE, default_sample_every
    assert default_sample_every(2 ** 63 - 1) == MAX_DEFAULT_STRIDE
    assert default_sample_every(30_000) == 15 and default_sample_every(100) == 1
