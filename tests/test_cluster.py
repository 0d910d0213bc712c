"""Sweeps on a cluster: batch jobs through dask-jobqueue (its `local` runner starts the same
job commands on this machine), a scheduler file, each worker on Numba threads = its cores, one
run at a time, and the Numba cache on the node's own disk, compiled once per node."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulation.headless import cluster as cl
from simulation.headless import node
from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
SETS = [a for s in TINY for a in ("--set", s)]


def _main(*args, env=None, timeout=400):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture(scope="session")
def node_tmp(tmp_path_factory):
    """The "job's temporary directory" of this machine as a node (TMPDIR of the workers): one for
    every test process of the run, so the node's cache is compiled once (under the lock) for all."""
    where = tmp_path_factory.getbasetemp().parent / "node-tmp"
    where.mkdir(exist_ok=True)
    return where


def test_a_cluster_is_described_on_the_command_line_or_in_a_toml_file(tmp_path):
    spec = cl.load_spec("slurm", {"cores": 8, "memory": "16GB", "walltime": "02:00:00", "jobs": 4, "queue": None})
    assert (spec.system, spec.cores, spec.memory, spec.walltime, spec.jobs, spec.queue) == \
        ("slurm", 8, "16GB", "02:00:00", 4, None)
    f = tmp_path / "c.toml"
    f.write_text('system = "pbs"\ncores = 4\nmemory = "8GB"\nqueue = "short"\nprologue = ["module load python"]\n')
    spec = cl.load_spec(str(f), {"cores": 2, "jobs": None})      # the command line's value wins
    assert (spec.system, spec.cores, spec.memory, spec.queue, spec.prologue) == \
        ("pbs", 2, "8GB", "short", ["module load python"])
    shipped = cl.load_spec(str(ROOT / "docs" / "cluster" / "cluster.toml"), {})
    assert shipped.system == "slurm" and shipped.cores >= 1


@pytest.mark.parametrize("text, overrides, said", [
    ('system = "lsf"\n', {}, "system"),
    ('cores = 2\n', {}, "system: missing"),
    ('system = "slurm"\ncpus = 2\n', {}, "unknown key 'cpus'"),
    ('system = "slurm"\nmemory = "lots"\n', {}, "memory"),
    ('system = "slurm"\nwalltime = "1 hour"\n', {}, "walltime"),
    ('system = "slurm"\ncores = 0\n', {}, "cores"),
    ('system = "slurm"\njobs = true\n', {}, "jobs"),
    ('system = "slurm"\nprologue = "module load x"\n', {}, "prologue"),
    ('system = "local"\nprologue = ["module load x"]\n', {}, "prologue"),
    ('system = "slurm"\n', {"memory": "4 parsecs"}, "--memory"),
    ('system = [\n', {}, "not valid TOML"),
    ('system = "slurm"\nprologue = ["' + "x" * 70000 + '"]\n', {}, "more than 64 kB"),
    (b"\xff\xfe", {}, "not a text file"),
])
def test_a_bad_cluster_description_is_one_line_naming_the_key(tmp_path, text, overrides, said):
    f = tmp_path / "c.toml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(cl.ClusterError) as e:
        cl.load_spec(str(f), overrides)
    assert said in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("args, said", [
    (["--cluster", "lsf"], "--cluster 'lsf'"),
    (["--cluster", "slurm", "--walltime", "soon"], "--walltime"),
    (["--cores", "4"], "--cores describes the jobs of --cluster"),
    (["--cluster", "nowhere.toml"], "--cluster file not found: nowhere.toml"),
    (["--cluster", "/dev/zero.toml"], "--cluster file not found"),
    (["--job-script"], "--job-script"),
    (["--cluster", "slurm", "--workers", "2"], "not allowed with"),
    (["--scheduler-file", "/nonexistent/scheduler.json", "--timeout", "1"], "--scheduler-file"),
    pytest.param(["--cluster", "slurm", "--timeout", "5"], "`sbatch` is not on this machine's PATH",
                 marks=pytest.mark.skipif(bool(shutil.which("sbatch")), reason="a Slurm machine: it would submit")),
])
def test_the_command_line_refuses_a_cluster_it_cannot_use_in_one_line(tmp_path, args, said):
    r = _main("sweep", "--vary", "outside.K=5,10", "--steps", "10", "--out", str(tmp_path / "o"), *SETS, *args)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("note:")]
    assert len(lines) == 1 and said in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


def test_each_slurm_job_books_its_cores_and_runs_one_worker_on_them_as_numba_threads():
    script = cl.job_script(cl.load_spec("slurm", {"cores": 8, "memory": "16GB", "queue": "short",
                                                  "account": "lab"}))
    assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH -p short" in script and "#SBATCH -A lab" in script
    command = script.strip().splitlines()[-1]
    assert command.split().index("--nthreads") < len(command.split()) - command.split()[::-1].index("--nthreads") - 1
    assert command.endswith("--nthreads 1 --preload simulation.headless.node --numba-threads 8")


def test_a_local_job_is_one_worker_running_one_run_at_a_time_on_its_cores(node_tmp):
    pytest.importorskip("dask_jobqueue")
    os.environ["TMPDIR"], before = str(node_tmp), os.environ.get("TMPDIR")
    try:
        jobs, client = cl.start(cl.load_spec("local", {"cores": 2, "jobs": 2}), 60)
        try:
            client.wait_for_workers(2, timeout=60)
            assert set(client.nthreads().values()) == {1}
            env = client.run(lambda: (os.environ.get("NUMBA_NUM_THREADS"), os.environ.get("NUMBA_CACHE_DIR")))
        finally:
            client.close()
            jobs.close()
    finally:
        if before is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = before
    assert set(env.values()) == {("2", str(node_tmp / f"{node.CACHE_NAME}-{os.getuid()}"))}


def _warm_in_a_process(cache_dir: Path, log: Path) -> subprocess.Popen:
    code = (f"import os, time; os.environ['NUMBA_CACHE_DIR'] = {str(cache_dir)!r}\n"
            "from simulation.headless import node\n"
            "node.configure(1)\n"
            f"def compile_kernels():\n"
            f"    with open({str(log)!r}, 'a') as f: f.write(f'start {{time.time()}}\\n')\n"
            "    time.sleep(0.6)\n"
            f"    with open({str(log)!r}, 'a') as f: f.write(f'end {{time.time()}}\\n')\n"
            "print(node.warm(compile_kernels), node.warm(compile_kernels))\n")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_the_workers_of_a_node_compile_one_at_a_time_and_each_once(tmp_path):
    procs = [_warm_in_a_process(tmp_path / "cache", tmp_path / "log") for _ in range(3)]
    outs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert outs == [["True", "False"]] * 3          # once per process: the second call does nothing
    events = [ln.split() for ln in (tmp_path / "log").read_text().splitlines()]
    assert [e[0] for e in events] == ["start", "end"] * 3     # never two compiling at once
    assert (tmp_path / "cache" / node.LOCK_NAME).exists()


@pytest.mark.physics
def test_a_sweep_runs_as_batch_jobs_on_numba_threads_of_their_cores_with_a_cache_per_node(tmp_path, node_tmp):
    pytest.importorskip("dask_jobqueue")
    out = tmp_path / "sweep"
    r = _main("sweep", "--vary", "outside.K=5,10", "--steps", "300", "--out", str(out), "--no-progress",
              "--cluster", "local", "--cores", "2", "--jobs", "2", *SETS, env={"TMPDIR": str(node_tmp)})
    assert r.returncode == 0, r.stderr
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 2
    assert {json.loads((d / "summary.json").read_text())["threads"] for d in runs} == {2}
    cache = node_tmp / f"{node.CACHE_NAME}-{os.getuid()}"
    assert (cache / node.LOCK_NAME).exists() and list(cache.rglob("*.nbi"))     # compiled on the node's disk


@pytest.mark.physics
def test_an_iv_curve_joins_a_scheduler_through_its_file(tmp_path, node_tmp):
    f = tmp_path / "scheduler.json"
    env = {**os.environ, "TMPDIR": str(node_tmp)}
    daemons = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(f),
                                 "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"],
                                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not f.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        daemons.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                         str(f), "--nthreads", "1", "--preload", "simulation.headless.node"],
                                        env={k: v for k, v in env.items() if k != "NUMBA_NUM_THREADS"}, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        out = tmp_path / "iv"
        r = _main("iv", "--from", "-80", "--to", "-40", "--step", "40", "--steps-per-point", "300", "--out", str(out),
                  "--no-progress", "--scheduler-file", str(f), "--timeout", "120", *SETS)
    finally:
        for d in daemons[::-1]:
            d.terminate()
            d.wait(timeout=30)
    assert r.returncode == 0, r.stderr
    assert "2 clamped runs" in r.stdout and (out / "iv.csv").exists()
    threads = {json.loads((d / "summary.json").read_text())["threads"] for d in (out / "runs").iterdir()}
    assert threads == {len(os.sched_getaffinity(0))}      # the worker's CPUs, without --numba-threads


@pytest.mark.parametrize("text, said", [("{not json", "not JSON"), ('{"id": "x"}', "KeyError"),
                                        ('["tcp://127.0.0.1:1"]', "TypeError"), ('{"address": 7}', "not text")])
def test_a_scheduler_file_that_is_not_one_is_one_line(tmp_path, text, said):
    from simulation.headless.sweep import SchedulerError, connect_file
    f = tmp_path / "scheduler.json"
    f.write_text(text)
    with pytest.raises(SchedulerError) as e:
        connect_file(str(f), 5)
    assert said in str(e.value) and "--scheduler-file" in str(e.value) and "\n" not in str(e.value)
