"""Sweeps and ensembles: a grid of configs × seeds, run as independent tasks on Dask.

Each task is self-contained (the resolved config as a dict, a seed and a step count in; one result
row out), so any worker can run it and a worker that dies loses only its task, which Dask retries.
A run writes into a temporary directory that is renamed to its final name only when complete, so
a sweep interrupted at any point and started again with the same --out skips every finished run
and redoes the rest; tables are written to a temporary name and renamed too.

DIR/runs/<name>/      each run's own directory, as `run` writes it
DIR/sweep.csv         one row per run (varied values, seed, run_dir, V, theory, fluxes, wall time)
DIR/summary.csv       one row per grid point, aggregated over seeds (mean, std, n)
DIR/sweep.png/.svg    V against the varied key (see simulation.headless.figures)
"""
from __future__ import annotations

import csv
import itertools
import math
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from particles.species import PERMEANT_NAMES, SOLUTES
from simulation import __version__
from simulation.core.config import Config, ConfigError, from_data, parse_value


@dataclass(frozen=True)
class Task:
    point: tuple[tuple[str, object], ...]   # ((key, value), ...) of the varied keys
    seed: int
    name: str
    config: dict                             # the resolved config of this point


def parse_vary(items: list[str]) -> list[tuple[str, list]]:
    """["outside.K=2,5,10", "pump.enabled=true,false"] -> [(key, [values]), ...]."""
    out = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--vary {item!r}: expected KEY=v1,v2,..., e.g. --vary outside.K=2.5,5,10,20")
        key, raw = item.split("=", 1)
        values = [parse_value(v.strip()) for v in raw.split(",") if v.strip()]
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


def plan(base: Config, vary: list[tuple[str, list]], seeds: int, first_seed: int = 0) -> list[Task]:
    """Every grid point × seed, each validated now (a bad value fails before anything runs)."""
    tasks = []
    for combo in itertools.product(*[[(k, v) for v in vals] for k, vals in vary]):
        cfg = base.replace(dict(combo), "--vary " + ", ".join(f"{k}={v}" for k, v in combo))
        for s in range(first_seed, first_seed + seeds):
            name = "_".join(f"{k}={_slug(v)}" for k, v in combo) + f"_seed{s}"
            tasks.append(Task(tuple(combo), s, name, cfg.data))
    return tasks


def run_task(task: Task, steps: int, runs_dir: str, sample_every: int | None) -> dict:
    """Run one point in a temporary directory, rename it into place, return its result row.

    Runs in a worker process: one Numba thread, since the sweep runs one task per core."""
    import numba
    numba.set_num_threads(1)
    from simulation.headless.run import run
    final = Path(runs_dir) / task.name
    if (final / "summary.json").exists():
        return row_from_summary(task, final)
    tmp = Path(runs_dir) / f".tmp-{task.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    run(from_data(task.config, f"sweep point {task.name}"), steps, tmp, seed=task.seed,
        sample_every=sample_every, progress=False)
    if final.exists():  # a half-renamed leftover cannot exist (rename is atomic); a finished twin may
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, final)
    return row_from_summary(task, final)


def row_from_summary(task: Task, run_dir: Path) -> dict:
    import json
    s = json.loads((run_dir / "summary.json").read_text())
    row = {k: v for k, v in task.point}
    row.update(seed=task.seed, run_dir=f"runs/{task.name}", version=s.get("version"), steps=s["steps"],
               V_mean_mV=s["V_mean_mV"], V_sem_mV=s["V_sem_mV"])
    for side in ("in", "out"):
        for ion in SOLUTES:
            row[f"{ion}_{side}_mM"] = s["concentrations_mM"][side][ion]
    for k in [f"E_{ion}_mV" for ion in PERMEANT_NAMES] + ["V_GHK_mV", "V_MN_mV", "V_Donnan_mV"]:
        row[k] = s["theory"].get(k)
    row["zero_current_mV"] = s.get("zero_current_mV")
    row["pump_enabled"] = bool(s["config"]["pump"]["enabled"] and s["config"]["pump"]["count"] > 0)
    row["pump_cycles_per_us"] = s["pump_cycles_per_us"]
    for ion in PERMEANT_NAMES:
        row[f"P_{ion}_effective"] = s["effective_permeability"].get(ion)
        row[f"P_{ion}_measured"] = s.get("measured_permeability", {}).get(ion)
        u = s.get("ussing", {}).get(ion)
        row[f"ussing_{ion}_measured"] = u["measured_ratio"] if u else None
        row[f"ussing_{ion}_expected"] = u["expected_ratio"] if u else None
    row["wall_s"] = s["wall_s"]
    return row


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
    tmp = final.with_name(final.name + ".tmp")
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
    os.replace(tmp, final)
    return final


def sweep(base: Config, vary: list[tuple[str, list]], seeds: int, steps: int, out_dir: str | os.PathLike, *,
          workers: int | None = None, scheduler: str | None = None, sample_every: int | None = None,
          fmt: str = "csv", progress: bool = True, first_seed: int = 0) -> dict:
    """Run the grid on Dask (a local cluster, or `scheduler`), then write the tables and figure."""
    out = Path(out_dir)
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    tasks = plan(base, vary, seeds, first_seed)
    keys = [k for k, _ in vary]
    done = [t for t in tasks if (runs / t.name / "summary.json").exists()]
    todo = [t for t in tasks if t not in done]
    for leftover in runs.glob(".tmp-*"):   # an interrupted run's partial directory
        shutil.rmtree(leftover, ignore_errors=True)
    rows = [row_from_summary(t, runs / t.name) for t in done]
    t0 = time.perf_counter()
    bar = None
    if progress:
        import sys
        if sys.stderr.isatty():
            from tqdm import tqdm
            bar = tqdm(total=len(tasks), initial=len(done), unit="run", file=sys.stderr)
    if todo:
        _warm_cache(base)
        rows += _run_on_dask(todo, steps, str(runs), sample_every, workers, scheduler, bar)
    if bar is not None:
        bar.close()
    order = {t.name: i for i, t in enumerate(tasks)}
    rows.sort(key=lambda r: order[r["run_dir"].split("/", 1)[1]])
    write_table(rows, out / "sweep", fmt)
    summary_rows = aggregate(rows, keys)
    write_table(summary_rows, out / "summary", fmt)
    from simulation.headless.figures import sweep_figure
    sweep_figure(rows, summary_rows, keys, base, out)
    return {"runs": len(tasks), "skipped": len(done), "ran": len(todo), "wall_s": time.perf_counter() - t0}


def _warm_cache(base: Config) -> None:
    """Compile the kernels once here so every worker loads them from Numba's cache."""
    from simulation.core.model import Simulation
    small = base.replace({"physics.particles": min(base["physics.particles"], 4000)})
    Simulation(small, 0).compile()


def _run_on_dask(todo, steps, runs_dir, sample_every, workers, scheduler, bar) -> list[dict]:
    from dask.distributed import Client, LocalCluster, as_completed
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    rows = []
    try:
        futures = [client.submit(run_task, t, steps, runs_dir, sample_every, key=f"run-{t.name}", retries=2,
                                 pure=False) for t in todo]
        for fut in as_completed(futures):
            rows.append(fut.result())
            if bar is not None:
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return rows
