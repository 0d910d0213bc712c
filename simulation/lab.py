"""The lab from Python: build a cell, run it, read it, change it, save it, sweep it.

    from simulation.lab import Lab, sweep, iv

    lab = Lab("mammalian", set=["outside.K=20"], seed=1)   # a preset, a TOML file or a dict
    lab.run(30_000)                     # a progress bar; Ctrl-C (or a notebook's stop) keeps what was recorded
    df = lab.timeseries()               # pandas, the columns of timeseries.csv (units in df.attrs["units"])
    lab.summary()["V_mean_mV"]          # summary.json's numbers, as a dict
    lab.set("pumps", False)             # every live change, by the names scenarios use
    lab.save("runs/k20")                # the run directory `main.py run` writes, identical

A `Lab` composes a `Session` (simulation/session: the cell, its interventions, the V trace a
view draws) with a recorder that samples on a stride. `run` steps through the same loop as the
command line's `run` (simulation.headless.run.record_steps), so the same config, seed and steps
give the same numbers bit for bit. Errors are `ConfigError` with the command line's one-line
message. `sweep` and `iv` run on a local Dask cluster or a `distributed.Client` you pass and
return DataFrames. `Lab.show()` opens the live view in a notebook (render/notebook.py, the
`[notebook]` extra); nothing of it is imported unless called.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation.core.config import Config, ConfigError, from_dict, load, preset_names
from simulation.core.model import Simulation
from simulation.headless import guard
from simulation.headless.recorders import TimeseriesRecorder, check_samples, write_json, write_text
from simulation.headless.run import claim, default_sample_every, record_steps, summary_of
from simulation.session import interventions
from simulation.session.session import CONTROL, CONTROLS, Session

__all__ = ["Lab", "Lecture", "load_config", "sweep", "iv", "presets", "scenarios", "changes", "ConfigError"]


def presets() -> list[str]:
    """The shipped presets' names."""
    return preset_names()


def load_config(cell: str | os.PathLike | dict | Config | None = None,
                set: list[str] | tuple[str, ...] | dict = ()) -> Config:   # noqa: A002 (the command line's word)
    """A validated config: `cell` is a preset name, a TOML file, a dict of config tables
    ({"outside": {"K": 20}}, merged over the defaults as a file is) or a Config; `set` is the
    command line's `--set` texts (["outside.K=20"]) or a dict of dotted keys ({"outside.K": 20}).
    Raises ConfigError with the command line's one-line message."""
    if isinstance(cell, Config):
        return cell.replace(dict(set), "set") if isinstance(set, dict) else (
            cell if not set else from_dict(cell.data, set, cell.source))
    if cell is None:
        return load(None, None, set)
    if isinstance(cell, dict):
        return from_dict(cell, set)
    text = str(cell)
    if text in preset_names():
        return load(text, None, set)
    if text.endswith(".toml") or os.path.exists(text):
        if not os.path.isfile(text):
            raise ConfigError(f"config file {text}: not found")
        return load(None, text, set)
    raise ConfigError(f"unknown preset {text!r}; shipped presets: {', '.join(preset_names())} "
                      f"(or give a .toml file or a dict)")


def scaled(config: Config, scale: float) -> Config:
    """`config`'s cell `scale` times as large (0.25, 0.5, 1, 2 or 4)."""
    from simulation.session.session import scale_cell
    return scale_cell(config, interventions.check(config, "cell", scale, "scale"))


def changes(cell: str | os.PathLike | dict | Config | None = None) -> dict[str, str]:
    """Every change `Lab.set` accepts for this cell, with the values allowed."""
    cfg = load_config(cell)
    return {key: interventions.find(key).allowed for key in interventions.keys_for(cfg)}


class ConfigNote(UserWarning):
    """What a config did that its keys do not show (the command line's `note:` lines): the
    capacitance and pumps that followed `physics.particles`, a small cell's noise."""


class Lab:
    """A cell to run from Python. `cell`: a preset name, a TOML file, a dict or a Config (see
    `load_config`); `set`: overrides; `seed`: the run's seed (the command line's --seed);
    `sample_every`: the recorder's stride in steps (default: the command line's, steps // 2000
    of the first `run`); `scale`: the cell's size against the config's (0.25 ... 4, as the live
    view's [ and ] keys: membrane, ions, capacitance, channels and pumps together, the same V,
    noise ∝ 1/√scale)."""

    def __init__(self, cell: str | os.PathLike | dict | Config | None = None, *,
                 set: list[str] | tuple[str, ...] | dict = (), seed: int = 0,   # noqa: A002
                 sample_every: int | None = None, scale: float = 1.0):
        self.seed = _whole(seed, "seed", 0)
        sample_every = _whole(sample_every, "sample_every", 1, True)
        config = scaled(load_config(cell, set), scale)
        for note in config.notes:          # as `run` says them on stderr (and summary.json keeps them)
            warnings.warn(note, ConfigNote, stacklevel=2)
        preset = str(cell) if isinstance(cell, str) and cell in preset_names() else None
        t0 = time.perf_counter()
        self.session = Session(config, seed=self.seed, preset=preset)
        self.config = self.sim.config        # the config the cell was built from (changes make new ones)
        self._startup_s = time.perf_counter() - t0
        self._every = sample_every
        self._recorder: TimeseriesRecorder | None = None
        self._requested = 0
        self._wall_s = 0.0
        self.interrupted = False

    def __repr__(self) -> str:
        return (f"Lab({self.config['name']!r}, seed={self.seed}, step {self.sim.step_count}, "
                f"{self.sim.time_ns:.0f} ns, V {self.sim.v_mV:.1f} mV)")

    @property
    def sim(self) -> Simulation:
        """The model itself (its arrays, counters and interventions)."""
        return self.session.sim

    @property
    def sample_every(self) -> int | None:
        return self._recorder.every if self._recorder else self._every

    def _recording(self, steps: int) -> TimeseriesRecorder:
        if self._recorder is None or self._recorder.sim is not self.sim:
            if self._recorder is not None:     # the cell was built again: a new record starts
                self._requested = self.sim.step_count
            self._recorder = TimeseriesRecorder(self.sim, None, self._every or default_sample_every(steps))
            self._recorder.sample()
        return self._recorder

    def run(self, steps: int, *, progress: bool = True) -> "Lab":
        """Run `steps` more steps, sampling every `sample_every`. A progress bar (tqdm.auto: in a
        notebook, a widget) shows V. Ctrl-C or the notebook's stop button ends the run between
        chunks, keeps every sample recorded, sets `interrupted` and returns normally."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ConfigError(f"run: steps must be a whole number >= 0, got {steps!r}")
        rec = self._recording(int(steps))
        check_samples(self.sim.config, rec.n_rows * rec.every + int(steps), rec.every)   # what it keeps, in all
        self._requested += int(steps)
        until = self.sim.step_count + int(steps)
        bar = None
        if progress and steps:
            from tqdm.auto import tqdm
            bar = tqdm(total=int(steps), unit="step", unit_scale=True, desc=self.config["name"][:30])
        t0 = time.perf_counter()
        self.interrupted = False
        try:
            with self.session.lock:        # a notebook view showing this cell waits meanwhile
                record_steps(self.sim, rec, until, rec.every, bar, after_chunk=self.session._after_step)
        except KeyboardInterrupt:
            self.interrupted = True
            print(f"interrupted at step {self.sim.step_count}: {rec.n_rows} samples kept "
                  f"(lab.timeseries(), lab.summary(), lab.save() have them)")
        finally:
            self._wall_s += time.perf_counter() - t0
            if bar is not None:
                bar.close()
        return self

    # ---- reading --------------------------------------------------------------------------------

    def timeseries(self):
        """The samples as a pandas DataFrame: timeseries.csv's columns and values (empty cells are
        NaN); `df.attrs["units"]` maps each column to its unit."""
        import pandas as pd
        rec = self._recording(0)
        df = pd.DataFrame(rec.array(), columns=rec.names)           # floats, NaN where the file is empty
        for c in rec.columns:
            if c.digits is None and df[c.name].notna().all():       # counts and steps: whole numbers
                df[c.name] = df[c.name].astype(np.int64)
        df.attrs["units"] = {c.name: c.unit for c in rec.columns}
        return df

    def summary(self, window: tuple[int, int] | None = None) -> dict:
        """summary.json's dict for what was run so far (window: steps a:b to average over, as
        `run --window`; default: the settled part, detected as the command line does)."""
        rec = self._recording(0)
        if window is not None:
            ok = (isinstance(window, (tuple, list)) and len(window) == 2
                  and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in window))
            if not ok or not 0 <= window[0] < window[1] <= self.sim.step_count:
                raise ConfigError(f"summary: window must be (first, last) steps with 0 <= first < last <= "
                                  f"{self.sim.step_count} (the steps run), got {window!r}")
        return summary_of(self.config, self.sim, rec, self._requested, self.seed, rec.every, self.interrupted,
                          self._startup_s, self._wall_s, window)

    def theory(self) -> dict:
        """The theory lines now (mV): Nernst per ion, GHK, GHK with the pump (Mullins-Noda), Donnan,
        each exchanger's reversal potential, at the concentrations the cell has now."""
        return self.sim.theory()

    @property
    def v_mV(self) -> float:
        return self.sim.v_mV

    @property
    def time_ns(self) -> float:
        return self.sim.time_ns

    def plot(self):
        """V and the concentrations over the run, with the theory lines (a matplotlib Figure; a
        notebook shows it)."""
        from simulation.headless.figures import run_plot
        return run_plot(self.summary(), self.timeseries().to_records(index=False))

    # ---- changing it ------------------------------------------------------------------------------

    def set(self, key: str | dict | None = None, value: Any = None, **named) -> str:
        """Change the running cell as a live key or a scenario step does, by the same names:
        `lab.set("outside.K", 20)`, `lab.set("pumps", False)`, `lab.set("clamp", "E_K+20")`,
        `lab.set({"channels.Na": 0.1, "field": False})`, `lab.set(pumps=False)`. Returns what the
        view would say; raises ConfigError (one line: key, value, what is allowed) if refused.
        `changes()` lists the names. A change that rebuilds the cell (`cell`, `fixed_anions`)
        starts a new record."""
        table = dict(key) if isinstance(key, dict) else ({key: value} if key is not None else {})
        table.update(named)
        for k in table:
            if not isinstance(k, str):
                raise ConfigError(f"set: a change is named by text (\"outside.K\", \"pumps\"), got {k!r}")
        if not table:
            raise ConfigError("set: name a change, e.g. lab.set(\"outside.K\", 20); see simulation.lab.changes()")
        with self.session.lock:            # not between a notebook view's steps
            checked = interventions.check_changes(table, "set", self.sim.config)
            self._recording(0)
            said = self.session.apply_checked(checked)
        return "; ".join(s for s in said if s)

    def block_pumps(self) -> str:
        """Ouabain: the Na/K pumps stop (what they hold goes back to its side)."""
        return self.set("pumps", False)

    def clamp(self, command: float | str | bool) -> str:
        """Voltage clamp at `command` mV (or "E_K+20", ...); False releases V."""
        return self.set("clamp", command)

    def control(self, name: str) -> str | None:
        """Do a live control by name, as its key or button does ("K_out*2", "clamp", "follow",
        ...; `Lab.controls()` lists them)."""
        if name not in CONTROL:
            raise ConfigError(f"control {name!r}: unknown; controls: {', '.join(CONTROL)}")
        with self.session.lock:
            self._recording(0)
            return CONTROL[name].do(self.session)

    @staticmethod
    def controls() -> dict[str, str]:
        """The live controls (the window's keys and buttons, the notebook's buttons): name -> help."""
        return {c.name: c.help for c in CONTROLS}

    # ---- saving ---------------------------------------------------------------------------------

    def save(self, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the run directory `main.py run` writes: config.toml (the config the cell was
        built from), timeseries.csv and summary.json, identical to the command line's for the
        same config, seed and steps (but for the wall-clock figures). Refuses (OutputError,
        nothing touched) a directory that holds anything unless `overwrite`."""
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise guard.OutputError(f"save: {out} exists and is not a directory")
        rec = self._recording(0)
        summary = self.summary()
        lock = claim(out, overwrite, "save", ("save:", "overwrite=True"))
        files = (("config.toml", lambda f: write_text(f, _toml(self.config))), ("timeseries.csv", rec.write_csv),
                 ("summary.json", lambda f: write_json(f, summary)))
        for name, write in files:
            try:
                write(out / name)
            except OSError as e:       # a full disk: the marker stays and says so (`plot` repeats it)
                lock.failed(f"cannot write {name}: {e.strerror or e}")
                lock.release(complete=False)
                raise
        lock.release(complete=True)
        return out

    def show(self, **options):
        """The live view in a Jupyter notebook (JupyterLab, VS Code, Colab): the cell, the
        membrane and the scope, updating, with buttons for the live controls. Needs the
        `[notebook]` extra (ipywidgets). Options: see render.notebook.NotebookView."""
        from simulation.installation import require
        require("notebook", "show()")
        from render.notebook import NotebookView
        return NotebookView(self.session, **options).show()


def scenarios() -> list[str]:
    """The shipped lecture scenarios' names."""
    from simulation.session.scenario import scenario_names
    return scenario_names()


class Lecture:
    """A lecture scenario (a shipped name or a .toml file) played from Python or a notebook: the
    same timeline, captions, waits and going back as `main.py demo`. `scale`: the cell's size
    against the scenario's (0.25 ... 4, as `demo --cell`)."""

    def __init__(self, scenario: str | os.PathLike, *, seed: int = 0, scale: float = 1.0):
        from simulation.session.player import Player
        from simulation.session.scenario import load_scenario
        self.player = Player(load_scenario(str(scenario)), seed=seed,
                             cell_scale=interventions.check(None, "cell", scale, "Lecture: scale"))

    def __repr__(self) -> str:
        return f"Lecture({self.player.scenario.name!r}, step {self.step} of {len(self.player.steps)})"

    @property
    def session(self) -> Session:
        return self.player.session

    @property
    def sim(self) -> Simulation:
        return self.player.session.sim

    @property
    def step(self) -> int:
        """The step under way, counted from 1."""
        return self.player.k + 1

    @property
    def caption(self) -> str:
        """The step's caption with its live numbers filled in."""
        return self.player.caption()

    @property
    def notes(self) -> str:
        """The step's speaker notes, its caption as written and what comes next (what `demo`
        prints on the terminal)."""
        return self.player.speaker_notes()

    def next(self) -> "Lecture":
        """The presenter's key: the next step begins."""
        with self.session.lock:
            self.player.next_step()
        return self

    def back(self) -> "Lecture":
        """Back to the state the previous step began in."""
        with self.session.lock:
            self.player.previous_step()
        return self

    def advance(self, frames: int = 1) -> "Lecture":
        """Let the model run `frames` frames; a step whose wait is met begins by itself."""
        for _ in range(frames):
            with self.session.lock:
                self.session.advance_frame()
                self.player.update()
        return self

    @property
    def question(self) -> str | None:
        """The question now open for predictions, with its numbered choices; None when none is."""
        p = self.player.open_poll()
        if p is None:
            return None
        return "\n".join([p.question] + [f"  {k + 1}. {c}" for k, c in enumerate(p.choices)])

    def vote(self, choice: int, times: int = 1) -> "Lecture":
        """Record a prediction for the open question: `times` votes for `choice` (counted from 1,
        as the number keys). Raises ValueError when no question is open or there is no such choice."""
        p = self.player.open_poll()
        if p is None:
            raise ValueError("vote: no question is open at this step")
        if isinstance(choice, bool) or not isinstance(choice, int) or not 1 <= choice <= len(p.choices):
            raise ValueError(f"vote: choice must be 1 to {len(p.choices)}, got {choice!r}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"vote: times must be a whole number >= 1, got {times!r}")
        with self.session.lock:
            for _ in range(times):
                self.player.vote(choice - 1)
        return self

    @property
    def predictions(self):
        """The questions asked so far as a DataFrame: the votes for each choice and, once
        revealed, the number measured (`judge`, `measured`) and the choice it falls in (`answer`)."""
        import pandas as pd
        return pd.DataFrame(self.player.prediction_table())

    def play(self) -> "Lecture":
        """Play to the end headless, each step waiting for the presenter taken after a while."""
        self.player.play()
        return self

    def show(self, **options):
        """The scenario in the notebook: the picture with its caption, next and back buttons."""
        from simulation.installation import require
        require("notebook", "show()")
        from render.notebook import NotebookView
        return NotebookView(player=self.player, **options).show()


def _toml(config: Config) -> str:
    from simulation.core.config import to_toml
    return to_toml(config.data)


# ---- sweeps and I–V curves -------------------------------------------------------------------------

@dataclass
class SweepResult:
    runs: Any          # DataFrame: one row per run (sweep.csv)
    summary: Any       # DataFrame: one row per point, means over seeds (summary.csv)
    out: Path | None   # where the runs are kept (None: a temporary directory, removed)

    def _repr_html_(self):
        return self.summary._repr_html_()


@dataclass
class IVResult:
    points: Any        # DataFrame: one row per command potential (iv.csv)
    reversal: dict     # measured and theory's reversal potentials (iv.json)
    runs: Any          # DataFrame: one row per clamped run
    out: Path | None

    def _repr_html_(self):
        return self.points._repr_html_()


def _whole(value, name: str, least: int, none_ok: bool = False) -> int | None:
    """An argument that must be a whole number >= `least` (or None, where allowed), as the command
    line's; ConfigError naming it otherwise."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not least <= value < 2 ** 63:
        raise ConfigError(f"{name} must be a whole number >= {least}{' (or None)' if none_ok else ''}, got {value!r}")
    return int(value)


def _sweep(base: Config, vary: list[tuple[str, list]], seeds: int, steps: int, out, client, workers,
           sample_every, progress, report=None) -> tuple[dict, Path | None]:
    seeds, steps = _whole(seeds, "seeds", 1), _whole(steps, "steps", 1)
    workers, sample_every = _whole(workers, "workers", 1, True), _whole(sample_every, "sample_every", 1, True)
    from simulation.installation import require
    if client is None:
        require("sweep", "sweep() and iv()", ("dask", "distributed"))
    from simulation.headless.sweep import sweep as run_sweep
    keep = out is not None
    where = Path(out) if keep else Path(tempfile.mkdtemp(prefix="rpl-sweep-"))

    def bar(total, initial):
        from tqdm.auto import tqdm
        return tqdm(total=total, initial=initial, unit="run")
    try:
        info = run_sweep(base, vary, seeds, steps, where, workers=workers, sample_every=sample_every,
                         progress=progress, client=client, progress_bar=bar, report=report)
    finally:
        if not keep:
            shutil.rmtree(where, ignore_errors=True)
    return info, (where if keep else None)


def _vary(vary) -> list[tuple[str, list]]:
    from simulation.headless.sweep import parse_vary
    if isinstance(vary, dict):
        if not vary:
            raise ConfigError("vary: name at least one key and its values, e.g. {\"outside.K\": [5, 10, 20]}")
        return parse_vary([f"{k}={','.join(str(x) for x in (v if isinstance(v, (list, tuple)) else [v]))}"
                           for k, v in vary.items()])
    return parse_vary(list(vary))


def sweep(cell=None, vary: dict | list[str] | None = None, *, set=(), seeds: int = 1, steps: int = 30_000,   # noqa: A002
          out: str | os.PathLike | None = None, client=None, workers: int | None = None,
          sample_every: int | None = None, progress: bool = True, scale: float = 1.0) -> SweepResult:
    """Run a grid of cells (`vary`: {"outside.K": [5, 10, 20]} or the command line's
    ["outside.K=5,10,20"]) × `seeds`, on a local Dask cluster of `workers` processes or on
    `client` (a distributed.Client). Returns the per-run and per-point tables as DataFrames;
    with `out`, the runs, tables and figure stay there (and a rerun resumes), as `main.py sweep`.
    `scale`: each cell's size against the config's, as `Lab`'s."""
    import pandas as pd
    info, where = _sweep(scaled(load_config(cell, set), scale), _vary(vary or {}), seeds, steps, out, client,
                         workers, sample_every, progress)
    return SweepResult(pd.DataFrame(info["rows"]), pd.DataFrame(info["summary_rows"]), where)


def iv(cell=None, *, set=(), v_from: float = -120.0, v_to: float = 40.0, v_step: float = 10.0,   # noqa: A002
       steps_per_point: int = 40_000, seeds: int = 1, out: str | os.PathLike | None = None, client=None,
       workers: int | None = None, sample_every: int | None = None, progress: bool = True,
       scale: float = 1.0) -> IVResult:
    """The current–voltage curve: the cell clamped at each command from `v_from` to `v_to` mV,
    currents measured, GHK and the reversal potentials beside them (as `main.py iv`)."""
    import pandas as pd
    from simulation.headless import iv as ivmod
    base = ivmod.clamped_base(scaled(load_config(cell, set), scale))
    vary = [("clamp.command_mV", ivmod.commands(v_from, v_to, v_step))]
    info, where = _sweep(base, vary, seeds, steps_per_point, out, client, workers, sample_every, progress,
                         report=ivmod.report(steps_per_point))
    result = info["report"]
    pts = pd.DataFrame([{k: v for k, v in p.items() if not isinstance(v, (list, dict))} for p in result["points"]])
    reversal = {k: v for k, v in result["reversal"].items()}
    reversal["P_abs_nm2_per_ns"] = result["P_abs_nm2_per_ns"]
    return IVResult(pts, reversal, pd.DataFrame(info["rows"]), where)
