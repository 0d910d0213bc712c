"""A Dask worker on a cluster node, set up for the lab: loaded into every worker the lab starts
(`--preload simulation.headless.node --numba-threads N`; the Slurm example starts its workers so).

- **Numba threads = the worker's cores.** A worker runs one run at a time (`--nthreads 1`) and
  steps it on all the cores its job booked: `--numba-threads N` (the lab's batch jobs pass it),
  else NUMBA_NUM_THREADS when set, else the CPUs this process may run on (a Slurm task's
  --cpus-per-task; Numba's own default would be every CPU of the node). Set before Numba is
  imported. (A worker started with `--scheduler-file` and no scheduler address cannot take
  preload options: Dask's command line would read them as the address; the default serves.)
- **The Numba cache is per node.** On a shared filesystem, many workers writing one cache race
  (and every node would read kernels compiled for another's CPU), so unless NUMBA_CACHE_DIR is
  set, it goes under the job's temporary directory on the node's own disk ($SLURM_TMPDIR, else
  $TMPDIR, which PBS and SGE set per job, else /tmp).
- **Warmed once.** The first run on a node compiles the kernels under a lock in that directory;
  the node's other workers wait for it and load them from the cache (`warm`).
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

import click

from particles import cache

CACHE_NAME = f"{cache.APP}-numba"
LOCK_NAME = ".warm.lock"
_state = {"warmed": False, "node": False}


def node_cache_dir() -> Path:
    """The node's own cache directory: under the job's temporary directory."""
    return cache.temp_cache_dir(os.environ.get("SLURM_TMPDIR"))


def own_cpus() -> int:
    """The CPUs this process may run on (its affinity: what the batch system gave the task)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure(numba_threads: int | None) -> None:
    """Set this process's Numba threads and cache directory (before Numba is imported)."""
    import sys
    if numba_threads or not os.environ.get("NUMBA_NUM_THREADS"):
        os.environ["NUMBA_NUM_THREADS"] = str(numba_threads or own_cpus())
    if not os.environ.get("NUMBA_CACHE_DIR"):
        os.environ["NUMBA_CACHE_DIR"] = str(node_cache_dir())
    if "numba" in sys.modules:      # imported already (another preload): its config is read, so set it there
        from numba.core import config
        config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
    _state["node"] = True


def warm(compile_kernels) -> bool:
    """Compile once per node: under an exclusive lock in the cache directory, the first process
    compiles (and Numba writes the cache); the others wait, then load. Once per process; True if
    this call did it. Only on a node `configure` set up (elsewhere the sweep warms the cache)."""
    if _state["warmed"] or not _state["node"]:
        return False
    where = Path(os.environ["NUMBA_CACHE_DIR"])
    where.mkdir(parents=True, exist_ok=True)
    with open(where / LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            compile_kernels()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _state["warmed"] = True
    return True


@click.command()
@click.option("--numba-threads", type=int, default=None, help="Numba threads for each run (the worker's cores)")
def dask_setup(worker, numba_threads):   # noqa: ARG001 (Dask's preload signature)
    configure(numba_threads)
