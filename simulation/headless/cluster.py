"""Sweeps on an HPC cluster: Dask workers submitted as batch jobs through dask-jobqueue (Slurm,
PBS, SGE; `local` runs the same job scripts on this machine, for trying it out), described on
the command line (`--cluster slurm --cores 8 --memory 16GB --walltime 01:00:00 --jobs 4`) or in a
small TOML file (`--cluster cluster.toml`, the same keys; the command line's win).

Each job is one Dask worker that runs one run at a time (`--nthreads 1`) on Numba threads = its
cores, with the Numba cache on the node's own disk, compiled once per node
(`simulation.headless.node`, preloaded into every worker).
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field, fields, replace

from simulation.core.config import ConfigError, read_toml

SYSTEMS = {"slurm": "dask_jobqueue.SLURMCluster", "pbs": "dask_jobqueue.PBSCluster",
           "sge": "dask_jobqueue.SGECluster", "local": "dask_jobqueue.local.LocalCluster"}
WALLTIME = re.compile(r"^(\d+-)?\d{1,3}:\d{2}(:\d{2})?$")      # [D-]HH:MM[:SS]
MAX_JOBS = 10_000
MAX_CORES = 1024


class ClusterError(ValueError):
    """A cluster description that cannot be used (one line, exit 2)."""


@dataclass(frozen=True)
class ClusterSpec:
    """What each batch job books and runs; `system` names the scheduler (SYSTEMS)."""
    system: str
    cores: int = 1                  # each job's cores = its worker's Numba threads
    memory: str = "4GB"             # each job's memory
    walltime: str = "01:00:00"
    jobs: int = 1                   # how many jobs (workers) to submit
    queue: str | None = None        # the partition or queue
    account: str | None = None      # the account or project charged
    job_directives: list = field(default_factory=list)   # extra #SBATCH/#PBS/#$ lines, e.g. ["--qos=short"]
    prologue: list = field(default_factory=list)         # shell lines before the worker starts (module load ...)
    interface: str | None = None    # the network interface the workers listen on (e.g. "ib0")
    python: str | None = None       # the Python that runs the workers (default: this one)


KEYS = {f.name for f in fields(ClusterSpec)}


def _check(spec: ClusterSpec, where: str, given: set) -> ClusterSpec:
    """Every key's value, or ClusterError naming it (as the option when the command line gave it)."""
    def bad(key: str, allowed: str, v) -> ClusterError:
        named = f"--{key.replace('_', '-')}" if key in given else f"{where}{key}"
        return ClusterError(f"{named}: {allowed}, got {v!r}")
    if spec.system not in SYSTEMS:
        raise bad("system", f"one of {', '.join(SYSTEMS)}", spec.system)
    for key, top in (("cores", MAX_CORES), ("jobs", MAX_JOBS)):
        v = getattr(spec, key)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
            raise bad(key, f"a whole number from 1 to {top}", v)
    from dask.utils import parse_bytes
    try:
        if not isinstance(spec.memory, str) or parse_bytes(spec.memory) <= 0:
            raise ValueError
    except (ValueError, TypeError):
        raise bad("memory", 'a size such as "4GB" or "512MiB"', spec.memory) from None
    if not isinstance(spec.walltime, str) or not WALLTIME.match(spec.walltime):
        raise bad("walltime", "HH:MM:SS (or D-HH:MM:SS)", spec.walltime)
    for key in ("queue", "account", "interface", "python"):
        v = getattr(spec, key)
        if v is not None and (not isinstance(v, str) or not v.strip() or "\n" in v):
            raise bad(key, "a name on one line", v)
    for key in ("job_directives", "prologue"):
        v = getattr(spec, key)
        if not isinstance(v, list) or not all(isinstance(x, str) and "\n" not in x for x in v):
            raise bad(key, "a list of one-line strings", v)
    if spec.system == "local" and spec.prologue:
        raise bad("prologue", "nothing for local (its runner starts the worker command alone, with no shell)",
                  spec.prologue)
    return spec


def load_spec(system_or_file: str, overrides: dict) -> ClusterSpec:
    """`--cluster NAME` or `--cluster FILE.toml`, then the command line's values (not None) over it."""
    given = {k for k, v in overrides.items() if v is not None}
    if system_or_file.endswith(".toml"):
        where = f"--cluster {system_or_file}: "
        try:
            data = read_toml(system_or_file, 64 << 10, "--cluster file", "a cluster's keys are a few lines",
                             f"--cluster {system_or_file}")
        except ConfigError as e:
            raise ClusterError(str(e)) from None
        unknown = sorted(set(data) - KEYS)
        if unknown:
            raise ClusterError(f"{where}unknown key {unknown[0]!r}; allowed: {', '.join(sorted(KEYS))}")
        if "system" not in data:
            raise ClusterError(f"{where}system: missing; one of {', '.join(SYSTEMS)}")
    else:
        where = "--cluster "
        if system_or_file not in SYSTEMS:
            raise ClusterError(f"--cluster {system_or_file!r}: one of {', '.join(SYSTEMS)}, or a .toml file of "
                               f"the cluster's keys ({', '.join(sorted(KEYS - {'system'}))})")
        data = {"system": system_or_file}
    spec = replace(ClusterSpec(**data), **{k: overrides[k] for k in given})
    return _check(spec, where, given)


def worker_args(spec: ClusterSpec) -> list[str]:
    """What each job's `dask worker` gets beyond dask-jobqueue's own: one run at a time, the
    node set up by the preload with Numba threads = the job's cores (the last --nthreads wins)."""
    return ["--nthreads", "1", "--preload", "simulation.headless.node", "--numba-threads", str(spec.cores)]


def _cluster(spec: ClusterSpec, here_only: bool = False):
    """dask-jobqueue's cluster object for `spec` (no job submitted yet; `here_only`: its scheduler
    on loopback, for showing the job script)."""
    import importlib
    module, name = SYSTEMS[spec.system].rsplit(".", 1)
    kwargs = dict(cores=spec.cores, processes=1, memory=spec.memory, walltime=spec.walltime,
                  worker_extra_args=worker_args(spec), job_script_prologue=list(spec.prologue),
                  interface=spec.interface, python=spec.python, queue=spec.queue)
    if spec.system != "local":       # the local runner writes no batch header
        kwargs["job_extra_directives"] = list(spec.job_directives)
    if spec.system == "local" or here_only:    # workers on this machine: the scheduler on loopback only
        kwargs["scheduler_options"] = {"host": "127.0.0.1", "dashboard_address": ":0"}
        kwargs["interface"] = None
    if spec.account:
        kwargs["project" if spec.system in ("sge", "local") else "account"] = spec.account
    return getattr(importlib.import_module(module), name)(**kwargs)


SUBMIT = {"slurm": "sbatch", "pbs": "qsub", "sge": "qsub"}     # what each system submits with


def start(spec: ClusterSpec, timeout_s: float):
    """Submit the jobs; (cluster, client) once the first worker is there, else ClusterError."""
    from dask.distributed import Client
    submit = SUBMIT.get(spec.system)
    if submit and shutil.which(submit) is None:     # else dask-jobqueue logs it and the wait times out
        raise ClusterError(f"--cluster {spec.system}: `{submit}` is not on this machine's PATH; run the sweep where "
                           f"jobs are submitted (a login node of the cluster), or use --cluster local to try it here")
    try:
        cluster = _cluster(spec)
    except Exception as e:  # noqa: BLE001 (dask-jobqueue's own complaint, in one line)
        raise ClusterError(f"--cluster {spec.system}: cannot set up the jobs ({str(e).splitlines()[0]})") from None
    client = Client(cluster)
    try:
        cluster.scale(jobs=spec.jobs)
        client.wait_for_workers(1, timeout=timeout_s)
    except BaseException as e:      # Ctrl-C while waiting too: no job is left in the queue
        client.close()
        cluster.close()
        if isinstance(e, (TimeoutError, OSError)):
            raise ClusterError(f"--cluster {spec.system}: no worker started within {timeout_s:g} s of submitting "
                               f"{spec.jobs} job{'s' if spec.jobs != 1 else ''} (queued? see the scheduler's queue, "
                               f"or raise --timeout){' (' + str(e).splitlines()[0] + ')' if str(e) else ''}") from None
        raise
    return cluster, client


def job_script(spec: ClusterSpec) -> str:
    """The batch script each job would run (its scheduler address is a placeholder's)."""
    cluster = _cluster(spec, here_only=True)
    try:
        return cluster.job_script()
    finally:
        cluster.close()
