"""Headless runs: build, compile, step in chunks, record, summarise, and survive any stop signal.

`run` writes DIR/config.toml (the resolved config, to rerun exactly), DIR/timeseries.csv (rows
flushed as they come) and, last, DIR/summary.json (atomically, also after an interruption, with
`interrupted: true`). It refuses a directory that holds anything unless `overwrite` is given, and
then removes the old summary.json before the first new byte, so old and new never sit together.
While it writes, DIR/.in-progress names it and is locked (see `guard`); the marker goes when the
summary is written. Every file is created under a new name, never through a link already there.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from simulation import __version__
from simulation.core.config import Config, to_toml
from simulation.core import spikes
from simulation.core.model import Simulation
from simulation.headless import guard
from simulation.headless.recorders import TimeseriesRecorder, check_samples, summarise, write_json, write_text

MAX_CHUNK = 2000  # steps between checks for Ctrl-C and progress updates
RUN_FILES = ("summary.json", "timeseries.csv", "config.toml", "run.png", "run.svg")  # summary first


PERMEABILITY_TOLERANCE = 0.01   # relative miss of a requested permeability that is worth a word


def notes(summary: dict) -> list[str]:
    """One-line remarks a user should see about a finished run (printed on stderr by `run`)."""
    out = [f"note: {w}" for w in (summary.get("settling") or {}).get("warnings", [])]
    for ion, t in (summary.get("channels_placed") or {}).items():
        asked, got = t["relative_permeability_asked"], t["relative_permeability_achieved"]
        if asked > 0 and abs(got / asked - 1) > PERMEABILITY_TOLERANCE:
            how = (f"at open probability {t['open_probability_used']:.3g}" if "open_probability_used" in t
                   else "all open")        # a gated type's permeability is counted with every channel open
            out.append(f"note: channels.{ion}.relative_permeability = {asked:g} asked, {got:.4g} placed "
                       f"({t['channels']} channels {how})")
    return out


MAX_DEFAULT_STRIDE = 100_000   # a row at least every 100 000 steps (5 µs at 0.05 ns) by default


def default_sample_every(steps: int) -> int:
    """About 2000 rows; but a row at least every MAX_DEFAULT_STRIDE steps (an endless --steps
    once chose a stride of 4.6e15 and recorded one row)."""
    return max(1, min(steps // 2000, MAX_DEFAULT_STRIDE))


LABELS = ("name", "description")   # words about a config, not the cell: not part of its fingerprint


def fingerprint(config_data: dict, steps: int, seed: int, sample_every: int) -> str:
    """What makes two runs the same run: the resolved config (but its labels), the steps, the
    seed and the stride. A sweep reuses a finished run only when this matches."""
    physics = {k: v for k, v in config_data.items() if k not in LABELS}
    text = json.dumps({"config": physics, "steps": int(steps), "seed": int(seed),
                       "sample_every": int(sample_every)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def summary_fingerprint(summary: dict) -> str | None:
    """The fingerprint of the run a summary.json describes (recomputed, so older files work too)."""
    try:
        return fingerprint(summary["config"], summary["steps_requested"], summary["seed"], summary["sample_every"])
    except (KeyError, TypeError, ValueError):
        return None


class Interrupted(Exception):
    """Raised after an interrupted run has flushed its files; carries the summary."""

    def __init__(self, summary: dict):
        super().__init__("interrupted")
        self.summary = summary


def claim(out: Path, overwrite: bool, what: str = "run", words: tuple[str, str] = ("--out", "--overwrite")
          ) -> guard.DirectoryLock:
    """Take DIR for a new run: refuse another writer, and a directory that holds anything unless
    `overwrite`; then remove the old run's files, summary.json first. Nothing is touched when refused."""
    busy = guard.holder(out) if out.is_dir() else None
    if busy:
        raise guard.busy_error(out, busy)
    existing = sorted(p.name for p in out.iterdir() if p.name != guard.MARKER) if out.is_dir() else []
    if "sweep.json" in existing:        # --overwrite replaces a run, never a sweep's results
        raise guard.OutputError(f"{words[0]} {out}: holds a sweep (sweep.json, runs/); a run goes into a directory "
                                f"of its own: choose another")
    if existing and not overwrite:
        shown = ", ".join(existing[:4]) + (", ..." if len(existing) > 4 else "")
        raise guard.OutputError(f"{words[0]} {out}: not empty (holds {shown}); give {words[1]} to replace the run "
                                f"there, or choose another directory")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        lock = guard.DirectoryLock(out, what).acquire()
    except guard.OutputError:
        if created:
            os.rmdir(out)
        raise
    for name in RUN_FILES:          # unlink removes a link itself, never what it points to
        p = out / name
        if p.is_symlink() or p.exists():
            if p.is_dir() and not p.is_symlink():
                lock.release(complete=True)
                raise guard.OutputError(f"{words[0]} {out}: {name} is a directory; remove it or choose another "
                                        f"directory")
            p.unlink()
    return lock


def run(config: Config, steps: int, out_dir: str | os.PathLike, seed: int = 0,
        sample_every: int | None = None, progress: bool = True,
        window: tuple[int, int] | None = None, overwrite: bool = False) -> dict:
    """Run `steps` steps headless and write the run directory. Returns summary.json's dict.

    Raises `guard.OutputError` (nothing touched) if DIR is in use or not empty without `overwrite`,
    and `Interrupted` (after writing everything recorded) on KeyboardInterrupt or a stop signal.
    """
    out = Path(out_dir)
    every = sample_every or default_sample_every(steps)
    check_samples(config, steps, every)
    lock = claim(out, overwrite)
    try:
        summary, interrupted, failed = _run_claimed(config, steps, out, seed, every, progress, window, lock)
    except OSError as e:               # not even the summary could be written: the marker says why
        e.why = _failure(e, out)
        lock.failed(e.why)
        raise
    finally:
        lock.release(complete=False)   # after an error: the marker stays, saying the run did not finish
    if failed is not None:
        failed.summary = summary
        raise failed
    if interrupted:
        raise Interrupted(summary)
    return summary


def _failure(e: OSError, out: Path) -> str:
    """A failed write in words: "cannot write timeseries.csv: No space left on device"."""
    name = e.filename2 or e.filename
    where = os.path.basename(str(name)) if name else str(out)
    return f"cannot write {where}: {e.strerror or e}"


def _run_claimed(config: Config, steps: int, out: Path, seed: int, every: int, progress: bool, window,
                 lock: guard.DirectoryLock) -> tuple[dict, bool, OSError | None]:
    """The body of `run` once DIR is held: step, record, and write the summary last. A write that
    fails (a full disk, a quota) stops the run as a signal does: timeseries.csv is cut back to its
    whole rows and summary.json, written in the room the marker kept, says why (`error`)."""
    t0 = time.perf_counter()
    sim = rec = bar = failed = None
    interrupted = False
    startup_s = wall_s = 0.0
    try:
        write_text(out / "config.toml", to_toml(config.data))
        sim = Simulation(config, seed)
        rec = TimeseriesRecorder(sim, out / "timeseries.csv", every)
        rec.sample()
        rec.flush()
        sim.compile()
        guard.check()                  # a signal the compiler swallowed
        startup_s = time.perf_counter() - t0
        if progress and sys.stderr.isatty():
            from tqdm import tqdm
            bar = tqdm(total=steps, unit="step", unit_scale=True, file=sys.stderr, dynamic_ncols=True)
        t1 = time.perf_counter()
        try:
            record_steps(sim, rec, steps, every, bar)
        finally:
            wall_s = time.perf_counter() - t1
    except KeyboardInterrupt:
        interrupted = sim is None or sim.step_count < steps   # a signal after the last step stops nothing
        if not startup_s:
            startup_s = time.perf_counter() - t0
    except OSError as e:
        failed = e
    with guard.deferred():             # nothing cuts the final write short
        if bar is not None:
            bar.close()
        if rec is not None and failed is None:
            try:
                rec.close()
            except OSError as e:       # its last rows did not fit
                failed = e
        if failed is not None:
            interrupted = True
            startup_s = startup_s or time.perf_counter() - t0
            lock.free_reserve()
            if rec is not None:
                rec.abandon()
                if not (failed.filename or failed.filename2):      # a flush of the rows names no file
                    failed.filename = rec.path
        summary = summary_of(config, sim, rec, steps, seed, every, interrupted, startup_s, wall_s, window)
        if failed is not None:
            summary["error"] = _failure(failed, out)
        try:
            write_json(out / "summary.json", summary)
        except OSError as e:
            raise (failed or e) from None          # the first failure is the one to name
        lock.release(complete=True)
    return summary, interrupted, failed


def record_steps(sim, rec: TimeseriesRecorder, until_step: int, every: int, bar=None, after_chunk=None) -> None:
    """Step `sim` to step `until_step` in chunks, a sample every `every` steps and at the end,
    checking for a stop signal between chunks (Ctrl-C: KeyboardInterrupt, what was recorded kept).
    The one stepping loop of `run` and of `Lab.run`, so both give the same rows bit for bit."""
    while sim.step_count < until_step:
        to_sample = every - sim.step_count % every
        k = min(to_sample, MAX_CHUNK, until_step - sim.step_count)
        sim.step(k)
        if sim.step_count % every == 0 or sim.step_count == until_step:
            rec.sample()
            rec.flush()
        if after_chunk is not None:
            after_chunk()
        if bar is not None:
            bar.update(k)
            bar.set_postfix_str(f"V {sim.v_mV:6.1f} mV", refresh=False)
        guard.check()


def summary_of(config: Config, sim, rec, steps: int, seed: int, every: int, interrupted: bool,
               startup_s: float, wall_s: float, window) -> dict:
    """summary.json's dict for a cell built from `config` and stepped with `rec` reading it."""
    done = sim.step_count if sim is not None else 0
    summary = {
        "name": config["name"],
        "version": __version__,
        "seed": seed,
        "steps": done,
        "steps_requested": steps,
        "interrupted": interrupted,
        "signal": guard.signal_name(),
        "fingerprint": fingerprint(config.data, steps, seed, every),
        "dt_ns": sim.dt_ns if sim is not None else config["physics.dt_ns"],
        "time_ns": sim.time_ns if sim is not None else 0.0,
        "particles": sim.n_particles if sim is not None else None,
        "sample_every": every,
        "wall_s": wall_s,
        "startup_s": startup_s,
        "particle_steps_per_s": sim.n_particles * done / wall_s if sim is not None and wall_s > 0 and done else None,
        "threads": sim.threads.max_threads if sim is not None else None,   # Numba threads it could step on
        "pump_cycles": int(sim.pump_totals[0]) if sim is not None else 0,
        "atp_spent": int(sim.pump_totals[1]) if sim is not None else 0,
        "events": [e.__dict__ for e in sim.events] if sim is not None else [],
        # what the config did that its keys do not show (config.density_follows)
        "config_notes": list(config.notes),
        # the pores' ions at the start (their steady occupancy) and the inside's filler that
        # makes up the charge they induce (simulation.core.model.Simulation._balance_inside)
        "pore_ions_placed": sim.pore_ions_placed if sim is not None else None,
        "inside_balanced_by": sim.pore_balance if sim is not None else None,
    }
    if sim is not None and rec is not None:
        samples = rec.array()
        summary.update(summarise(sim, samples, window))
        if samples["step"].size:      # action potentials over the whole run (simulation.core.spikes)
            # a held current (or a sweep's point at 0 pA with the same start): spikes counted from its start
            held = config["stimulus.hold_pA"] or config["stimulus.hold_from_ns"]
            hold = config["stimulus.hold_from_ns"] if held else None
            summary["spikes"] = spikes.summary(samples["step"] * sim.dt_ns, samples["V_mV"], hold_from_ns=hold)
    else:   # stopped while the cell was being built: nothing was recorded
        summary.update({"window": None, "V_mean_mV": None, "V_sem_mV": None})
    summary["config"] = config.data
    return summary
