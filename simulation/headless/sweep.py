"""Sweeps and ensembles: a grid of configs × seeds, run as independent tasks on Dask.

Each task is self-contained (the resolved config as a dict, a seed and a step count in; one result
row out), so any worker can run it and a worker that dies loses only its task, which Dask retries.
A run writes into a temporary directory that is renamed to its final name only when complete, so
a sweep interrupted at any point and started again with the same --out skips every finished run
and redoes the rest; tables are written to a temporary name and renamed too. A finished run is
reused only if its fingerprint (resolved config, steps, seed, stride) is the task's, and a
directory made with another base config or --steps is refused with one line saying what differs
(DIR/sweep.json keeps what the sweep was made with). One sweep at a time holds the directory.

DIR/runs/<name>/      each run's own directory, as `run` writes it
DIR/sweep.csv         one row per run (varied values, seed, run_dir, V, theory, fluxes, wall time)
DIR/summary.csv       one row per grid point, aggregated over seeds (mean, std, n)
DIR/sweep.png/.svg    V against the varied key (see simulation.headless.figures)
DIR/sweep.json        the base config, the varied keys, steps and stride the sweep was made with
"""
from __future__ import annotations

import csv
import itertools
import json
import logging
import math
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from simulation import __version__
from simulation.core.config import Config, ConfigError, flatten, from_data, parse_value
from simulation.core.observe import summary_columns
from simulation.headless import guard
from simulation.headless.recorders import check_samples, write_json
from simulation.headless.run import LABELS, RUN_FILES, default_sample_every, fingerprint, summary_fingerprint
from simulation.system import replacing


@dataclass(frozen=True)
class Task:
    point: tuple[tuple[str, object], ...]   # ((key, value), ...) of the varied keys
    seed: int
    name: str
    config: dict                             # the resolved config of this point
    notes: tuple[str, ...] = ()              # what its config did that its keys do not show


class SchedulerError(Exception):
    """--scheduler cannot be used: a bad address, no answer, or no workers (one line, exit 2)."""


def split_values(raw: str) -> list[str]:
    """The comma-separated values of --vary, as TOML reads them: a comma inside a quoted string
    or a [list] is part of the value (`name="a,b","c"` is two values)."""
    parts, current, quote, depth, i = [], [], None, 0, 0
    while i < len(raw):
        ch = raw[i]
        if quote == '"' and ch == "\\":          # an escape in a basic string: the next character as it is
            current.append(raw[i:i + 2])
            i += 2
            continue
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current, i = [], i + 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def parse_vary(items: list[str]) -> list[tuple[str, list]]:
    """["outside.K=2,5,10", "pump.enabled=true,false"] -> [(key, [values]), ...]."""
    out = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--vary {item!r}: expected KEY=v1,v2,..., e.g. --vary outside.K=2.5,5,10,20")
        key, raw = item.split("=", 1)
        values = [parse_value(v.strip()) for v in split_values(raw) if v.strip()]
        if not values:
            raise ConfigError(f"--vary {key}: no values given")
        seen = []
        for v in values:
            if any(v == w and type(v) is not bool and type(w) is not bool or v is w for w in seen):
                raise ConfigError(f"--vary {key}: the value {v!r} is given more than once (use --seeds N for "
                                  f"replicates)")
            seen.append(v)
        if key.strip() in [k for k, _ in out]:
            raise ConfigError(f"--vary {key}: given twice")
        out.append((key.strip(), values))
    if not out:
        raise ConfigError("sweep needs at least one --vary KEY=v1,v2,...")
    return out


def _slug(v) -> str:
    text = str(v).lower() if isinstance(v, bool) else str(v)
    return re.sub(r"[^A-Za-z0-9.+-]", "_", text)


MAX_RUNS = 10_000      # a grid of more runs is a typo (1000 × 1000 planned for a minute at +40 MB/s)


def plan(base: Config, vary: list[tuple[str, list]], seeds: int, first_seed: int = 0) -> list[Task]:
    """Every grid point × seed, each validated now (a bad value fails before anything runs)."""
    n = seeds * math.prod(len(vals) for _, vals in vary)
    if n > MAX_RUNS:
        shape = " × ".join(f"{len(vals)} {k}" for k, vals in vary) + (f" × {seeds} seeds" if seeds > 1 else "")
        raise ConfigError(f"--vary: {shape} makes {n} runs; a sweep holds at most {MAX_RUNS} (split it into "
                          f"sweeps of their own --out)")
    tasks = []
    for combo in itertools.product(*[[(k, v) for v in vals] for k, vals in vary]):
        cfg = base.replace(dict(combo), "--vary " + ", ".join(f"{k}={v}" for k, v in combo))
        for s in range(first_seed, first_seed + seeds):
            name = "_".join(f"{k}={_slug(v)}" for k, v in combo) + f"_seed{s}"
            tasks.append(Task(tuple(combo), s, name, cfg.data, cfg.notes))
    return tasks


def plan_notes(tasks: list[Task], base: Config) -> list[str]:
    """The notes of the points' configs that the base config does not have, each once."""
    out = []
    for t in tasks:
        out += [n for n in t.notes if n not in base.notes and n not in out]
    return out


def run_task(task: Task, steps: int, runs_dir: str, sample_every: int | None) -> dict:
    """Run one point in a temporary directory, rename it into place, return its result row.

    Runs in a worker process, on the Numba threads its environment gives it (NUMBA_NUM_THREADS:
    the local cluster sets cores / workers, so workers × threads = cores), or on one where that is
    not set (a worker started by hand: one per core is the safe guess)."""
    import numba
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if "NUMBA_NUM_THREADS" in os.environ else 1)
    from simulation.headless import node
    node.warm(lambda: _warm_cache(from_data(task.config, f"sweep point {task.name}")))   # once a node (cluster)
    return run_here(task, steps, runs_dir, sample_every)


def run_here(task: Task, steps: int, runs_dir: str, sample_every: int | None) -> dict:
    """Run one point in this process (on its Numba threads), as `run_task` does on a worker."""
    from simulation.headless.run import run
    final = Path(runs_dir) / task.name
    if finished_fingerprint(final) == task_fingerprint(task, steps, sample_every):
        return row_from_summary(task, final)
    tmp = Path(runs_dir) / f".tmp-{task.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    cfg = from_data(task.config, f"sweep point {task.name}")
    run(Config(cfg.data, cfg.source, task.notes), steps, tmp, seed=task.seed,
        sample_every=sample_every, progress=False)
    if final.exists():  # a run that could not be read is replaced; rename itself is atomic
        shutil.rmtree(final)
    os.replace(tmp, final)
    return row_from_summary(task, final)


def task_fingerprint(task: Task, steps: int, sample_every: int | None) -> str:
    return fingerprint(task.config, steps, task.seed, sample_every or default_sample_every(steps))


def read_summary(run_dir: Path) -> dict | None:
    """A finished run's summary.json, or None if it is missing, unreadable or not a run's."""
    try:
        s = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    needed = ("config", "seed", "steps", "V_mean_mV", "concentrations_mM", "theory")
    if not isinstance(s, dict) or any(k not in s for k in needed) or s.get("interrupted"):
        return None
    return s


def finished_fingerprint(run_dir: Path) -> str | None:
    s = read_summary(run_dir)
    return summary_fingerprint(s) if s is not None else None


def row_from_summary(task: Task, run_dir: Path) -> dict:
    s = json.loads((run_dir / "summary.json").read_text())
    row = {k: v for k, v in task.point}
    row.update(seed=task.seed, run_dir=f"runs/{task.name}")
    row.update(summary_row(s))
    return row


def summary_row(s: dict) -> dict:
    """A finished run's numbers as one row of sweep.csv (without the varied keys and the seed),
    read by the declared columns (`simulation.core.observe.summary_columns`)."""
    return {c.name: c.read(s, None) for c in summary_columns(s)}


def aggregate(rows: list[dict], keys: list[str]) -> list[dict]:
    """One row per grid point: mean, standard deviation and n over its seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    numeric = [c for c in rows[0] if c not in keys and c not in ("seed", "run_dir", "version", "pump_enabled")
               and isinstance(rows[0][c], (int, float)) and not isinstance(rows[0][c], bool)]
    out = []
    for point, rs in groups.items():
        row = dict(zip(keys, point))
        row["n"] = len(rs)
        row["version"] = rs[0]["version"]
        row["seeds"] = " ".join(str(r["seed"]) for r in rs)
        row["run_dirs"] = " ".join(r["run_dir"] for r in rs)
        # the point's runs that settled, and what the others said (each once)
        row["settled_runs"] = sum(1 for r in rs if r.get("settled"))
        row["settled"] = row["settled_runs"] == len(rs)
        row["warnings"] = "; ".join(dict.fromkeys(w for r in rs for w in (r.get("warnings") or "").split("; ") if w))
        for c in numeric:
            vals = [r[c] for r in rs if r[c] is not None and math.isfinite(r[c])]
            n = len(vals)
            mean = sum(vals) / n if n else math.nan
            std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else math.nan
            row[f"{c}_mean"], row[f"{c}_std"] = mean, std
        out.append(row)
    if "pump.enabled" in keys:  # the pump's share of the potential: V(pump on) − V(pump off)
        _pump_share(out, keys)
    return out


def _pump_share(rows: list[dict], keys: list[str]) -> None:
    others = [k for k in keys if k != "pump.enabled"]
    by_rest: dict[tuple, dict] = {}
    for r in rows:
        by_rest.setdefault(tuple(r[k] for k in others), {})[bool(r["pump.enabled"])] = r
    for pair in by_rest.values():
        if True in pair and False in pair:
            share = pair[True]["V_mean_mV_mean"] - pair[False]["V_mean_mV_mean"]
            for r in pair.values():
                r["pump_share_mV"] = share


def write_table(rows: list[dict], path: Path, fmt: str) -> Path:
    """CSV (default) or Parquet, written to a temporary name and renamed."""
    columns = list(dict.fromkeys(c for r in rows for c in r))
    final = path.with_suffix(".parquet" if fmt == "parquet" else ".csv")
    stale = path.with_suffix(".csv" if fmt == "parquet" else ".parquet")
    if stale.is_file() or stale.is_symlink():      # a resume in the other --format: one table, not two that differ
        stale.unlink()
    with replacing(final) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq
            table = pa.table({c: [r.get(c) for r in rows] for c in columns})
            table = table.replace_schema_metadata({"version": __version__})
            pq.write_table(table, tmp)
        else:
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=columns)
                w.writeheader()
                for r in rows:
                    w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in columns})
    return final


def sweep(base: Config, vary: list[tuple[str, list]], seeds: int, steps: int, out_dir: str | os.PathLike, *,
          workers: int | None = None, scheduler: str | None = None, scheduler_file: str | None = None,
          cluster=None, sample_every: int | None = None,
          fmt: str = "csv", progress: bool = True, first_seed: int = 0, timeout_s: float = 30.0,
          report=None, client=None, progress_bar=None, in_process: bool = False) -> dict:
    """Run the grid on Dask (a local cluster, or `scheduler`), then write the tables and figure.

    `report(rows, summary_rows, keys, base, out)` writes the figures (default: `sweep_figure`, V
    against the varied key; `iv` gives its own) and returns anything to hand back as "report".
    `client`: a `distributed.Client` to run on (left open); else `scheduler` (an address),
    `scheduler_file` (a scheduler's file) or `cluster` (a cluster.ClusterSpec: batch jobs submitted
    now, cancelled at the end); else a local cluster of `workers` processes.
    `progress_bar(total, initial)`: a bar to use (the Python API passes tqdm.auto's) instead of tqdm on a terminal.
    `in_process`: no Dask at all, the runs one after another here (validate's clamp checks in an
    install without the `sweep` extra: each run then steps on all of this process's threads).
    Refuses (guard.OutputError, nothing touched) a directory another sweep holds, or one made with
    another base config, --steps or stride; raises SchedulerError for a scheduler it cannot use."""
    out = Path(out_dir)
    runs = out / "runs"
    tasks = plan(base, vary, seeds, first_seed)          # every point validated before anything is made
    keys = [k for k, _ in vary]
    every = sample_every or default_sample_every(steps)
    check_samples(base, steps, every, "sweep")           # each run keeps its samples for its summary
    if out.is_dir() and not (out / "sweep.json").exists() and any((out / f).exists() for f in RUN_FILES[:2]):
        raise guard.OutputError(f"--out {out}: holds a run (summary.json, timeseries.csv); a sweep goes into a "
                                f"directory of its own: choose another")
    own_client = client is None and bool(scheduler or scheduler_file or cluster)
    remote = own_client and not scheduler      # workers on nodes of their own, with their own Numba cache
    jobs = None
    if own_client and cluster is not None:
        from simulation.headless.cluster import start
        jobs, client = start(cluster, timeout_s)
    elif own_client:
        client = connect(scheduler, timeout_s) if scheduler else connect_file(scheduler_file, timeout_s)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = guard.DirectoryLock(out, "sweep").acquire()
    except BaseException:
        if own_client:
            client.close()
        if jobs is not None:
            jobs.close()
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    complete = False
    try:
        manifest = {"version": __version__, "base_config": base.data, "vary": [[k, list(v)] for k, v in vary],
                    "steps": steps, "sample_every": every}
        _check_manifest(out, manifest)
        redo = _check_finished(tasks, runs, steps, sample_every)
        runs.mkdir(exist_ok=True)
        write_json(out / "sweep.json", manifest)
        _remove_leftovers(runs)          # an interrupted or dead worker's partial directories
        done = [t for t in tasks if (runs / t.name).is_dir() and t.name not in redo]
        todo = [t for t in tasks if t not in done]
        rows = [row_from_summary(t, runs / t.name) for t in done]
        t0 = time.perf_counter()
        bar = progress_bar(len(tasks), len(done)) if progress and progress_bar else None
        if progress and progress_bar is None:
            import sys
            if sys.stderr.isatty():
                from tqdm import tqdm
                bar = tqdm(total=len(tasks), initial=len(done), unit="run", file=sys.stderr)
        try:
            if todo and in_process:
                for t in todo:
                    guard.check()
                    rows.append(run_here(t, steps, str(runs), sample_every))
                    if bar is not None:
                        bar.update(1)
            elif todo:
                if not remote:
                    _warm_cache(base)
                guard.check()
                rows += _run_on_dask(todo, steps, str(runs), sample_every, workers, client, out, bar)
        finally:
            if bar is not None:
                bar.close()
            _remove_leftovers(runs)
        with guard.deferred():
            order = {t.name: i for i, t in enumerate(tasks)}
            rows.sort(key=lambda r: order[r["run_dir"].split("/", 1)[1]])
            write_table(rows, out / "sweep", fmt)
            summary_rows = aggregate(rows, keys)
            write_table(summary_rows, out / "summary", fmt)
            if report is None:
                from simulation.headless.figures import sweep_figure as report
            reported = report(rows, summary_rows, keys, base, out)
        complete = True
    finally:
        if own_client:
            client.close()
        if jobs is not None:
            jobs.close()            # the batch jobs are cancelled
        # a refused sweep leaves nothing behind; any other ending removes the marker too, since
        # every run it kept is complete (a killed process leaves the marker, unlocked)
        lock.release(complete=True)
        if created and not complete and not any(out.iterdir()):
            out.rmdir()
    return {"runs": len(tasks), "skipped": len(done), "ran": len(todo), "redone": sorted(redo),
            "unsettled": [r["run_dir"] for r in rows if not r.get("settled", True)],
            "notes": plan_notes(tasks, base),
            "wall_s": time.perf_counter() - t0, "report": reported, "rows": rows, "summary_rows": summary_rows}


def _remove_leftovers(runs: Path) -> None:
    if runs.is_dir():
        for leftover in runs.glob(".tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def config_diff(before: dict, now: dict, ignore: set[str] = frozenset(), limit: int = 3) -> str:
    """'outside.K 5 before, 10 now; pump.enabled ...' for the keys whose values differ."""
    a, b = flatten(before), flatten(now)
    keys = [k for k in dict.fromkeys([*a, *b]) if k not in ignore and k not in LABELS and a.get(k) != b.get(k)]
    def show(v):
        return "unset" if v is None else json.dumps(v)[:40]
    parts = [f"{k} {show(a.get(k))} before, {show(b.get(k))} now" for k in keys[:limit]]
    return "; ".join(parts) + (f"; and {len(keys) - limit} more" if len(keys) > limit else "")


def _differences(before: tuple, now: tuple, ignore: set[str] = frozenset()) -> list[str]:
    """What differs between two (steps, sampling stride, config) made by a sweep, in words."""
    (steps_0, every_0, config_0), (steps_1, every_1, config_1) = before, now
    diff = []
    if steps_0 != steps_1:
        diff.append(f"--steps {steps_0} before, {steps_1} now")
    elif every_0 != every_1:
        diff.append(f"sampled every {every_0} steps before, {every_1} now")
    d = config_diff(config_0, config_1, ignore=ignore)
    if d:
        diff.append(d)
    return diff


def _check_manifest(out: Path, manifest: dict) -> None:
    """Refuse a directory whose sweep.json says it was made with another base config, steps or stride."""
    path = out / "sweep.json"
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text())
        old_keys = {k for k, _ in old["vary"]}
        old_base, old_steps, old_every = old["base_config"], old["steps"], old["sample_every"]
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise guard.OutputError(f"--out {out}: sweep.json is not as a sweep writes it; remove it (the runs are "
                                f"checked one by one) or choose another --out") from None
    new_keys = {k for k, _ in manifest["vary"]}
    if old_keys != new_keys:        # other run names: the tables would drop the old sweep's runs
        raise guard.OutputError(f"--out {out} holds a sweep of --vary {', '.join(sorted(old_keys))}; this one varies "
                                f"{', '.join(sorted(new_keys))}: choose another --out (more values or seeds of the "
                                f"same keys resume it)")
    varied = old_keys | new_keys
    diff = _differences((old_steps, old_every, old_base),
                        (manifest["steps"], manifest["sample_every"], manifest["base_config"]), ignore=varied)
    if diff:
        raise guard.OutputError(f"--out {out} holds a sweep made differently ({'; '.join(diff)}); "
                                f"choose another --out to keep both")


def _check_finished(tasks: list[Task], runs: Path, steps: int, sample_every: int | None) -> set[str]:
    """Names of runs to redo (a summary that cannot be read); refuses a finished run made differently."""
    redo = set()
    for t in tasks:
        d = runs / t.name
        if not d.is_dir():
            continue
        s = read_summary(d)
        if s is None:
            redo.add(t.name)
            continue
        if summary_fingerprint(s) != task_fingerprint(t, steps, sample_every):
            diff = _differences((s.get("steps_requested"), s.get("sample_every"), s.get("config", {})),
                                (steps, sample_every or default_sample_every(steps), t.config))
            raise guard.OutputError(f"--out {runs.parent}: runs/{t.name} was made differently "
                                    f"({'; '.join(diff) or 'another version'}); choose another --out to keep both")
    return redo


def _warm_cache(base: Config) -> None:
    """Compile the kernels once here so every worker loads them from Numba's cache."""
    from simulation.core.model import Simulation
    small = base.replace({"physics.particles": min(base["physics.particles"], 4000)})
    Simulation(small, 0).compile()


def connect(address: str, timeout_s: float):
    """A Client on an existing scheduler that has at least one worker, or SchedulerError in
    at most about 2 × timeout_s (a silent server would otherwise keep the handshake waiting forever)."""
    from dask.distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls", "ws", "wss"):
            raise ValueError(f"{scheme}:// is not supported; tcp://, tls://, ws:// or wss:// are")
        _, port = parse_host_port(location)
        if not 0 < int(port) < 65536:
            raise ValueError(f"port {port} is not within 1..65535")
    except ValueError as e:
        raise SchedulerError(f"--scheduler {address!r}: not a scheduler address ({e}); expected tcp://HOST:PORT") from None
    got: dict = {}

    def attempt():
        try:
            got["client"] = Client(address, timeout=f"{timeout_s}s")
        except BaseException as e:  # noqa: BLE001 (reported below, in one line)
            got["error"] = e
    t = threading.Thread(target=attempt, daemon=True, name="connect-scheduler")
    t.start()
    t.join(timeout_s + 2)
    if t.is_alive() or not got:
        raise SchedulerError(f"--scheduler {address}: no answer within {timeout_s:g} s (is a Dask scheduler there?)")
    if "error" in got:
        raise SchedulerError(f"--scheduler {address}: cannot reach it ({str(got['error']).splitlines()[0]})")
    client = got["client"]
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        client.close()
        raise SchedulerError(f"--scheduler {address}: no workers after {timeout_s:g} s; start some with "
                             f"`dask worker {address}`") from None
    return client


def connect_file(path: str, timeout_s: float):
    """A Client on the scheduler that wrote `path` (`dask scheduler --scheduler-file PATH`), once it
    has a worker; SchedulerError if the file is missing or unreadable, or no worker comes."""
    first = time.monotonic()
    deadline = first + timeout_s
    while True:         # in a batch script the scheduler may still be starting: wait for its file
        try:
            with open(path) as f:
                address = json.load(f)["address"]
            break
        except FileNotFoundError:
            if time.monotonic() > deadline:
                raise SchedulerError(f"--scheduler-file {path}: no such file after {timeout_s:g} s (start "
                                     f"`dask scheduler --scheduler-file {path}` first)") from None
            time.sleep(0.5)
        except ValueError as e:     # being written as it was read: a moment later it is whole
            if time.monotonic() > min(deadline, first + 2.0):
                raise SchedulerError(f"--scheduler-file {path}: not a Dask scheduler file (not JSON: "
                                     f"{str(e).splitlines()[0]})") from None
            time.sleep(0.2)
        except (OSError, KeyError, TypeError) as e:
            raise SchedulerError(f"--scheduler-file {path}: not a Dask scheduler file ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0] if str(e) else e!r})") from None
    if not isinstance(address, str):
        raise SchedulerError(f"--scheduler-file {path}: its address is not text ({address!r})")
    try:
        return connect(address, timeout_s)
    except SchedulerError as e:
        raise SchedulerError(str(e).replace(f"--scheduler {address}", f"--scheduler-file {path} ({address})", 1)) from None


def worker_threads(workers: int, cores: int | None = None) -> int:
    """Numba threads for each of `workers` worker processes on a machine of `cores`: its share of them."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, workers))


def _run_on_dask(todo, steps, runs_dir, sample_every, workers, client, out: Path, bar) -> list[dict]:
    from dask.distributed import Client, LocalCluster, as_completed
    cluster = None
    scratch = out / ".dask-scratch"
    if client is None:
        n = workers or os.cpu_count() or 1
        import dask
        # Dask's scratch and lock files in DIR (removed at the end), not in the system temp directory
        with guard.children_ignore_terminal_signals(), dask.config.set({"temporary-directory": str(scratch)}):
            # silence_logs: stopping a busy worker on Ctrl-C or SIGTERM is expected, not a warning worth
            # a screen; CRITICAL because a worker whose scheduler closed first logs its failed heartbeat
            # at ERROR with a traceback (seen in CI); a task's own failure still reaches us through
            # fut.result(), and a dead worker as KilledWorker;
            # env: each worker's Numba threads, set as it starts (before Numba is imported there): the
            # cores shared out, so workers × threads = cores
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   local_directory=str(scratch), silence_logs=logging.CRITICAL,
                                   env={"NUMBA_NUM_THREADS": str(worker_threads(n))})
        client = Client(cluster)
    rows, futures = [], []
    try:
        futures = [client.submit(run_task, t, steps, runs_dir, sample_every, key=f"run-{t.name}", retries=2,
                                 pure=False) for t in todo]
        for fut in as_completed(futures):
            rows.append(fut.result())
            if bar is not None:
                bar.update(1)
    finally:
        with guard.deferred():
            if len(rows) < len(todo) and cluster is None and futures:
                client.cancel(futures)      # a shared scheduler's workers stop too
            if cluster is not None:
                client.close()
                cluster.close()
                shutil.rmtree(scratch, ignore_errors=True)
    return rows
