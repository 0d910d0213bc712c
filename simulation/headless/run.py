"""Headless runs: build, compile, step in chunks, record, summarise, and survive Ctrl-C.

`run` writes DIR/timeseries.csv (rows flushed as they come), DIR/summary.json (written atomically
at the end, also after an interruption, with `interrupted: true`) and DIR/config.toml (the
resolved config, to rerun exactly).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from simulation import __version__
from simulation.core.config import Config, to_toml
from simulation.core.model import Simulation
from simulation.headless.recorders import TimeseriesRecorder, summarise, write_json

MAX_CHUNK = 2000  # steps between checks for Ctrl-C and progress updates


PERMEABILITY_TOLERANCE = 0.01   # relative miss of a requested permeability that is worth a word


def notes(summary: dict) -> list[str]:
    """One-line remarks a user should see about a finished run (printed on stderr by `run`)."""
    out = [f"note: {w}" for w in (summary.get("settling") or {}).get("warnings", [])]
    for ion, t in (summary.get("channels_placed") or {}).items():
        asked, got = t["relative_permeability_asked"], t["relative_permeability_achieved"]
        if asked > 0 and abs(got / asked - 1) > PERMEABILITY_TOLERANCE:
            out.append(f"note: channels.{ion}.relative_permeability = {asked:g} asked, {got:.4g} placed "
                       f"({t['channels']} channels at open probability {t['open_probability_used']:.3g})")
    return out


def default_sample_every(steps: int) -> int:
    return max(1, steps // 2000)


class Interrupted(Exception):
    """Raised after an interrupted run has flushed its files; carries the summary."""

    def __init__(self, summary: dict):
        super().__init__("interrupted")
        self.summary = summary


def run(config: Config, steps: int, out_dir: str | os.PathLike, seed: int = 0,
        sample_every: int | None = None, progress: bool = True,
        window: tuple[int, int] | None = None) -> dict:
    """Run `steps` steps headless and write the run directory. Returns summary.json's dict.

    Raises `Interrupted` (after writing everything recorded) on KeyboardInterrupt.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    every = sample_every or default_sample_every(steps)
    t0 = time.perf_counter()
    sim = Simulation(config, seed)
    sim.compile()
    startup_s = time.perf_counter() - t0
    (out / "config.toml").write_text(to_toml(config.data))
    rec = TimeseriesRecorder(sim, out / "timeseries.csv", every)
    rec.sample()
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=steps, unit="step", unit_scale=True, file=sys.stderr, dynamic_ncols=True)
    interrupted = False
    t1 = time.perf_counter()
    try:
        while sim.step_count < steps:
            to_sample = every - sim.step_count % every
            k = min(to_sample, MAX_CHUNK, steps - sim.step_count)
            sim.step(k)
            if sim.step_count % every == 0 or sim.step_count == steps:
                rec.sample()
                rec.flush()
            if bar is not None:
                bar.update(k)
                bar.set_postfix_str(f"V {sim.v_mV:6.1f} mV", refresh=False)
    except KeyboardInterrupt:
        interrupted = True
    wall_s = time.perf_counter() - t1
    if bar is not None:
        bar.close()
    rec.close()
    summary = {
        "name": config["name"],
        "version": __version__,
        "seed": sim.seed,
        "steps": sim.step_count,
        "steps_requested": steps,
        "interrupted": interrupted,
        "dt_ns": sim.dt_ns,
        "time_ns": sim.time_ns,
        "particles": sim.n_particles,
        "sample_every": every,
        "wall_s": wall_s,
        "startup_s": startup_s,
        "particle_steps_per_s": sim.n_particles * sim.step_count / wall_s if wall_s > 0 else None,
        "pump_cycles": int(sim.pump_totals[0]),
        "atp_spent": int(sim.pump_totals[1]),
        "events": [e.__dict__ for e in sim.events],
    }
    summary.update(summarise(sim, rec.array(), window))
    summary["config"] = config.data
    write_json(out / "summary.json", summary)
    if interrupted:
        raise Interrupted(summary)
    return summary
