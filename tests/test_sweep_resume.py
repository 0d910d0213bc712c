"""A sweep knows what it resumes: a finished run is reused only if its resolved config, steps,
seed and stride are the task's; a directory made with another base config or --steps is refused
with one line naming the difference, and left as it was; a run whose summary cannot be read is
run again; one sweep at a time holds the directory; a refused sweep leaves nothing behind; a
scheduler that is not one, does not answer or has no workers is one line, in seconds (issue 11,
items 1, 6, 7, 8, 9)."""
import json
import shutil
import socket
import threading
import time

import pytest

from simulation.core.config import ConfigError, load
from simulation.headless import guard
from simulation.headless.sweep import SchedulerError, parse_vary, sweep
from tests.cells import TINY

VARY = ["outside.K=5,10"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("made") / "sweep"
    sweep(load("mammalian", None, TINY), parse_vary(VARY), 1, 300, out, workers=1, progress=False)
    return out


@pytest.fixture
def copy(made, tmp_path):
    c = tmp_path / "copy"
    shutil.copytree(made, c)
    return c


def _state(d):
    return {str(p.relative_to(d)): p.stat().st_mtime_ns for p in sorted(d.rglob("*"))}


@pytest.mark.parametrize("preset,sets,steps,word", [
    ("ouabain", [], 300, "pump.enabled"),
    ("mammalian", ["physics.temperature_C=20"], 300, "physics.temperature_C"),
    ("mammalian", [], 600, "--steps 300 before, 600 now"),
])
def test_a_sweep_made_differently_is_refused_naming_the_difference(copy, preset, sets, steps, word):
    before = _state(copy)
    with pytest.raises(guard.OutputError) as e:
        sweep(load(preset, None, TINY + sets), parse_vary(VARY), 1, steps, copy, workers=1, progress=False)
    assert word in str(e.value) and "\n" not in str(e.value)
    assert _state(copy) == before


def test_without_sweep_json_each_run_is_still_checked_before_reuse(copy):
    (copy / "sweep.json").unlink()
    with pytest.raises(guard.OutputError) as e:
        sweep(load("ouabain", None, TINY), parse_vary(VARY), 1, 300, copy, workers=1, progress=False)
    assert "runs/outside.K=5_seed0" in str(e.value) and "pump.enabled" in str(e.value)


def test_the_same_sweep_with_more_values_reuses_what_matches(copy):
    info = sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,10,20"]), 1, 300, copy, workers=1,
                 progress=False)
    assert info["skipped"] == 2 and info["ran"] == 1


@pytest.mark.parametrize("damage", ["[]", "", "{\"config\": "])
def test_a_run_whose_summary_cannot_be_read_is_run_again(copy, damage):
    victim = copy / "runs" / "outside.K=5_seed0" / "summary.json"
    victim.write_text(damage)
    info = sweep(load("mammalian", None, TINY), parse_vary(VARY), 1, 300, copy, workers=1, progress=False)
    assert info["redone"] == ["outside.K=5_seed0"] and info["skipped"] == 1
    assert json.loads(victim.read_text())["steps"] == 300


def test_a_second_sweep_into_the_same_out_is_refused_naming_the_first(copy):
    lock = guard.DirectoryLock(copy, "sweep").acquire()
    try:
        before = _state(copy)
        with pytest.raises(guard.OutputError) as e:
            sweep(load("mammalian", None, TINY), parse_vary(VARY), 1, 300, copy, workers=1, progress=False)
        assert "pid" in str(e.value) and "sweep" in str(e.value)
        assert _state(copy) == before
    finally:
        lock.release(complete=True)


def test_a_refused_sweep_leaves_nothing_behind(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(ConfigError):
        sweep(load("mammalian", None, TINY), parse_vary(["outside.K=5,-1"]), 1, 300, out, workers=1, progress=False)
    assert not out.exists()


@pytest.mark.parametrize("address", ["not a url", "inproc://x", "ucx://1.2.3.4:5", "tcp://127.0.0.1:99999"])
def test_a_scheduler_address_that_cannot_work_is_one_line_and_nothing_written(tmp_path, address):
    with pytest.raises(SchedulerError) as e:
        sweep(load("mammalian", None, TINY), parse_vary(VARY), 1, 300, tmp_path / "o", scheduler=address,
              progress=False, timeout_s=2)
    assert "--scheduler" in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "o").exists()


def test_a_server_that_never_answers_times_out(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(SchedulerError) as e:
            sweep(load("mammalian", None, TINY), parse_vary(VARY), 1, 300, tmp_path / "o",
                  scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}", progress=False, timeout_s=1)
    finally:
        server.close()
    assert "no answer within 1 s" in str(e.value) or "cannot reach" in str(e.value)
    assert time.perf_counter() - t0 < 10 and not (tmp_path / "o").exists()


def test_a_scheduler_with_no_workers_times_out(tmp_path):
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=":0") as cluster:
        with pytest.raises(SchedulerError) as e:
            sweep(load("mammalian", None, TINY), parse_vary(VARY), 1, 300, tmp_path / "o",
                  scheduler=cluster.scheduler_address, progress=False, timeout_s=1)
    assert "no workers after 1 s" in str(e.value) and not (tmp_path / "o").exists()
