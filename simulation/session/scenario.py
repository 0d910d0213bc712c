"""Lecture scenarios: a timeline of steps, read from TOML and validated before anything opens.

A scenario names the cell it starts from (a preset or a config file, plus `set` overrides) and
lists its steps; a scenario that `include`s others plays them one after another, each starting
from its own cell. A step begins on the presenter's key, when V has settled, or a number of ns of
model time after the previous step began (`wait`); it may change what the live controls change
(`[step.set]`, the voltage clamp included), show a caption with live numbers (`{V}`, `{E_K}`,
`{V_GHK}`, `{I}`, `{K_efflux}`, ...), highlight a
part of the picture, follow an ion, pause, fast-forward, show the whole run or the Donnan line,
and collect a point for the V against [K⁺]o inset. The player is `simulation.session.player`
(drawn by `render.demo`); this module has
no Pygame, so the command line checks a file before any window opens. What a step's
`[step.set]` may change, and how each change is checked and applied, is the registry of
interventions (`simulation.session.interventions`) that live keys and the Python API use too.

    name = "The resting potential emerges"
    preset = "k-only"
    minutes = 2                            # optional: the slot `demo --auto` fits it to
    set = ["physics.particles=80000"]      # optional overrides, as on the command line

    [[step]]
    caption = "Only K+ channels: K+ leaks out and V falls toward E_K = {E_K} mV."
    notes = "Ask first: which way will V go?"    # optional: the speaker's notes (the terminal)
    highlight = "channels.K"

    [[step]]
    wait = "settled"
    seconds = 40                           # optional: this step's share of the slot
    caption = "Now Na+ and Cl- leaks too."
    set = { "channels.Na" = 0.05, "channels.Cl" = 0.45 }
"""
from __future__ import annotations

import math
import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from particles.species import PERMEANT_NAMES, SOLUTES
from simulation.core.config import Config, ConfigError, load, preset_names
from simulation.session.interventions import E_LINES, check_changes

SCENARIO_DIR = Path(__file__).resolve().parent.parent.parent / "scenarios"



def highlights(config: Config) -> tuple[str, ...]:
    """What a step may highlight: a channel type of its cell, the pumps, a region, the scope, a line."""
    return (tuple(f"channels.{t.name}" for t in config.channel_types())
            + ("pumps", "fixed_anions", "scope", "inside", "outside")
            + tuple(f"line.{k}" for k in E_LINES + ("GHK", "GHK+pump", "Donnan")))


FLAGS = ("pause", "fast", "history", "donnan", "collect")
STEP_KEYS = ("title", "wait", "caption", "notes", "highlight", "follow", "set", "seconds") + FLAGS
TOP_KEYS = ("name", "description", "preset", "config", "set", "include", "step", "minutes")
MAX_MINUTES = 240.0      # a scenario's declared length, at most (minutes)
MAX_STEP_S = 3600.0      # a step's declared length, at most (seconds)


def placeholders(config: Config) -> tuple[str, ...]:
    """The live values a caption may name in this cell: V, theory (every E_<ion>, E_NCX), the
    concentrations, each channel type's permeability (P_<type>), the clamp's command and current
    (pA, outward +), each ion's crossings per µs out and in (both since the step began), and the
    pumps' work since the step began (Na+ out, cycles per µs, the Na+ inside above the cell's start
    and the µs that pace needs to take it out)."""
    return (("V", "t") + E_LINES + ("V_GHK", "V_MN", "V_pump", "V_Donnan", "pump_share", "step", "clamp", "I")
            + ("pump_Na_out", "pump_rate", "Na_excess", "restore_us")
            + tuple(f"{i}_{side}" for i in SOLUTES for side in ("in", "out"))
            + tuple(f"P_{t.name}" for t in config.channel_types())
            + tuple(f"{i}_{way}" for i in PERMEANT_NAMES for way in ("efflux", "influx")))




@dataclass(frozen=True)
class Step:
    title: str
    wait: str | float                  # "key", "settled", or ns of model time after the previous step began
    caption: str = ""
    highlight: str | None = None
    follow: str | None = None          # follow an ion of this species about to cross
    changes: dict = field(default_factory=dict)   # [step.set]
    pause: bool = False
    fast: bool = False
    history: bool = False
    donnan: bool = False
    collect: bool = False              # when the step ends: ([K+]o, V) onto the inset
    config: Config | None = None       # set: the step rebuilds the cell from this config (an included scenario's start)
    part: str = ""                     # the scenario it came from
    seconds: float | None = None       # its length when played by itself (--auto), wall-clock seconds
    notes: str = ""                    # the speaker's notes: for the presenter, never on the screen


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    config: Config
    steps: tuple[Step, ...]
    source: str                        # the file
    minutes: float | None = None       # its length when played by itself (--auto): the slot it must fit

    def step_seconds(self) -> list[float | None]:
        """Each step's wall-clock length when played by itself: its own `seconds`, else an even
        share of what the scenario's `minutes` leave, else None (the step's own wait decides)."""
        given = [s.seconds for s in self.steps]
        if self.minutes is None:
            return given
        rest = max(self.minutes * 60 - sum(x for x in given if x is not None), 0.0)
        n = sum(1 for x in given if x is None)
        return [x if x is not None else rest / n for x in given]

    def length_s(self) -> float | None:
        """Its declared length in seconds (the minutes, or every step's seconds), or None."""
        if self.minutes is not None:
            return self.minutes * 60
        given = [s.seconds for s in self.steps]
        return sum(given) if all(x is not None for x in given) else None


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def scenario_path(name_or_file: str) -> Path:
    p = Path(name_or_file)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise ConfigError(f"scenario file {name_or_file}: not found")
        return p
    q = SCENARIO_DIR / f"{name_or_file}.toml"
    if not q.exists():
        raise ConfigError(f"unknown scenario {name_or_file!r}; shipped scenarios: {', '.join(scenario_names())}")
    return q


def load_scenario(name_or_file: str, _seen: tuple[str, ...] = ()) -> Scenario:
    """Read and check a scenario; every error is one ConfigError naming the file, step and key."""
    path = scenario_path(name_or_file)
    where = path.name
    if str(path.resolve()) in _seen:
        raise ConfigError(f"{where}: includes itself")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML ({e})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot read ({e})") from None
    for k in data:
        if k not in TOP_KEYS:
            raise ConfigError(f"{where}: unknown key {k!r}; allowed: {', '.join(TOP_KEYS)}")
    name = _text(data.get("name", path.stem), where, "name")
    description = _text(data.get("description", ""), where, "description")
    minutes = _length(data.get("minutes"), where, "minutes", MAX_MINUTES)
    config = _config(data, path, where)
    if "include" in data:
        if "step" in data:
            raise ConfigError(f"{where}: give either include or steps, not both")
        inc = data["include"]
        if not isinstance(inc, list) or not inc or not all(isinstance(x, str) for x in inc):
            raise ConfigError(f"{where}: include must be a non-empty list of scenario names or files")
        steps, lengths = [], []
        for part in inc:
            ref = str((path.parent / part).resolve()) if part.endswith(".toml") else part
            sub = load_scenario(ref, _seen + (str(path.resolve()),))
            # a part keeps its own pace: its minutes become its steps' seconds
            sub = replace(sub, steps=tuple(replace(st, seconds=x) for st, x in zip(sub.steps, sub.step_seconds())))
            lengths.append(sub.length_s())
            first = sub.steps[0]
            # the next part starts on the presenter's key (the first part at once)
            steps.append(replace(first, config=sub.config, wait=first.wait if not steps else "key"))
            steps += sub.steps[1:]
        if minutes is None and all(sub_len is not None for sub_len in lengths):
            minutes = sum(lengths) / 60
        return Scenario(name, description, config, tuple(steps), str(path), minutes)
    raw = data.get("step")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: no [[step]]; a scenario needs at least one step (or an include list)")
    steps = tuple(_step(s, k + 1, where, config, name) for k, s in enumerate(raw))
    return Scenario(name, description, config, steps, str(path), minutes)


def _length(v, where: str, key: str, most: float) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= most:
        raise ConfigError(f"{where}: {key} must be a number > 0 and <= {most:g}, got {v!r}")
    return float(v)


def _text(v, where: str, key: str) -> str:
    if not isinstance(v, str):
        raise ConfigError(f"{where}: {key} must be text, got {v!r}")
    return v


def _config(data: dict, path: Path, where: str) -> Config:
    preset, cfg_file = data.get("preset"), data.get("config")
    if preset is not None and cfg_file is not None:
        raise ConfigError(f"{where}: give preset or config, not both")
    if preset is not None and preset not in preset_names():
        raise ConfigError(f"{where}: preset: unknown preset {preset!r}; shipped presets: {', '.join(preset_names())}")
    overrides = data.get("set", [])
    if not isinstance(overrides, list) or not all(isinstance(x, str) for x in overrides):
        raise ConfigError(f"{where}: set must be a list of \"KEY=VALUE\" texts")
    file = str(path.parent / cfg_file) if cfg_file else None
    try:
        return load(preset if (preset or file) else "mammalian", file, overrides)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def _step(raw: dict, k: int, where: str, config: Config, part: str) -> Step:
    at = f"{where}, step {k}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{at}: must be a table")
    for key in raw:
        if key not in STEP_KEYS:
            raise ConfigError(f"{at}: unknown key {key!r}; allowed: {', '.join(STEP_KEYS)}")
    wait = raw.get("wait", "key" if k > 1 else 0.0)
    if isinstance(wait, bool) or not (wait in ("key", "settled") or isinstance(wait, (int, float))):
        raise ConfigError(f"{at}: wait must be \"key\", \"settled\" or ns of model time (a number >= 0), got {wait!r}")
    if isinstance(wait, (int, float)) and not (math.isfinite(wait) and 0 <= wait <= 1e6):
        raise ConfigError(f"{at}: wait must be between 0 and 1e6 ns of model time, got {wait!r}")
    caption = _text(raw.get("caption", ""), at, "caption")
    check_caption(caption, at, config)
    highlight = raw.get("highlight")
    if highlight is not None and highlight not in highlights(config):
        raise ConfigError(f"{at}: highlight: unknown {highlight!r}; allowed: {', '.join(highlights(config))}")
    follow = raw.get("follow")
    if follow is not None and follow not in PERMEANT_NAMES:
        raise ConfigError(f"{at}: follow: {follow!r} is not an ion that crosses; allowed: {', '.join(PERMEANT_NAMES)}")
    flags = {}
    for f in FLAGS:
        v = raw.get(f, False)
        if not isinstance(v, bool):
            raise ConfigError(f"{at}: {f} must be true or false, got {v!r}")
        flags[f] = v
    changes = check_changes(raw.get("set", {}), at, config)
    title = _text(raw.get("title", f"step {k}"), at, "title")
    seconds = _length(raw.get("seconds"), at, "seconds", MAX_STEP_S)
    notes = _text(raw.get("notes", ""), at, "notes")
    return Step(title, float(wait) if isinstance(wait, (int, float)) else wait, caption, highlight, follow,
                changes, part=part, seconds=seconds, notes=notes, **flags)


def check_caption(caption: str, at: str, config: Config) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(caption) if f is not None]
    except ValueError as e:
        raise ConfigError(f"{at}: caption: {e} (write {{{{ and }}}} for a literal brace)") from None
    allowed = placeholders(config)
    for f in fields:
        name = re.split(r"[:!]", f, maxsplit=1)[0]
        if name not in allowed:
            raise ConfigError(f"{at}: caption: unknown placeholder {{{name}}}; allowed: "
                              + ", ".join("{" + p + "}" for p in allowed[:11]) + ", {K_out}, {P_Na}, ...")


def fill_caption(caption: str, values: dict) -> str:
    """The caption with its placeholders filled (numbers as the values dict formats them)."""
    class Live(dict):
        def __missing__(self, k):
            return "?"
    return string.Formatter().vformat(caption, (), Live(values)) if caption else ""
