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
from dataclasses import dataclass, field, replace
from pathlib import Path

from particles.species import PERMEANT_NAMES, SOLUTES
from simulation.core.config import Config, ConfigError, load, preset_names, read_toml
from simulation.data import data_dir
from simulation.session.interventions import E_LINES, check_changes, config_after

SCENARIO_DIR = data_dir("scenarios")



def highlights(config: Config) -> tuple[str, ...]:
    """What a step may highlight: a channel type of its cell, the pumps, a region, the scope, a line."""
    return (tuple(f"channels.{t.name}" for t in config.channel_types())
            + ("pumps", "fixed_anions", "scope", "inside", "outside")
            + tuple(f"line.{k}" for k in E_LINES + ("GHK", "GHK+pump", "Donnan")))


FLAGS = ("pause", "fast", "history", "donnan", "collect", "reveal")
POLL_KEYS = ("question", "choices", "judge", "bands")
STEP_KEYS = ("title", "wait", "caption", "notes", "highlight", "follow", "set", "seconds") + POLL_KEYS + FLAGS
TOP_KEYS = ("name", "description", "preset", "config", "set", "include", "step", "minutes", "reference")
REFERENCE_KEYS = ("cite", "K_out", "V", "sem", "note")
MAX_MINUTES = 240.0      # a scenario's declared length, at most (minutes)
MAX_STEP_S = 3600.0      # a step's declared length, at most (seconds)
# the model time a scenario's timed waits may ask for, each and in all: 100 µs, four times the whole
# lecture's (22.6 µs). Played headless (handout, Lecture.play) by model time, at ~130 ns a second for
# a full-size cell on a 2-core machine: 100 µs is ~13 minutes; 1e6 ns in one step was 18 hours.
MAX_WAIT_NS = 100_000.0
MAX_WAIT_WORDS = ("100 µs: a cell takes minutes of computing to run it, and four times the whole lecture's "
                  "waits; a longer story runs in a cell made to run down faster, as pump.toml does")
MAX_STEPS = 100          # a scenario's steps, includes counted (each keeps a snapshot of the cell to go back to)
MAX_CHOICES = 9          # a question's choices, at most: the number keys 1-9 vote for them


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
            + tuple(f"{i}_{way}" for i in PERMEANT_NAMES for way in ("efflux", "influx"))
            + judges(config)[2:])


def judges(config: Config) -> tuple[str, ...]:
    """The measured numbers a question's `judge` may name: V, its change since the question was
    posed (dV, mV), the clamp's current I (pA, outward +), and each crossing ion's Ussing flux-ratio
    exponent over the step (n_K: ln(influx/efflux) over what independent ions would give at the
    step's mean V; 1 for independent ions)."""
    return ("V", "I", "dV") + tuple(f"n_{i}" for i in PERMEANT_NAMES)




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
    question: str = ""                 # a prediction asked of the room when the step begins
    choices: tuple[str, ...] = ()      # its choices, voted for with the number keys 1, 2, ...
    judge: str | None = None           # the measured number that decides it at the reveal (`judges`) ...
    bands: tuple[tuple[float, float], ...] = ()   # ... choice k is right when it lies in bands[k]
    reveal: bool = False               # when the step begins: the last question's votes beside the outcome


@dataclass(frozen=True)
class Reference:
    """A paper's measured V against [K+]o, drawn (with its error bars and citation) on the inset
    of the points a scenario collects."""
    cite: str
    k_out: tuple[float, ...]
    v_mV: tuple[float, ...]
    sem_mV: tuple[float, ...]
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    config: Config
    steps: tuple[Step, ...]
    source: str                        # the file
    minutes: float | None = None       # its length when played by itself (--auto): the slot it must fit
    reference: Reference | None = None  # a paper's measured points, drawn beside the collected ones

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
    data = read_toml(path, MAX_SCENARIO_BYTES, "scenario file", "a scenario is a few pages of TOML", where)
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
            if len(steps) > MAX_STEPS:
                raise ConfigError(f"{where}: include makes more than {MAX_STEPS} steps; at most {MAX_STEPS} "
                                  f"(each keeps a copy of the cell to go back to)")
        if minutes is None and all(sub_len is not None for sub_len in lengths):
            minutes = sum(lengths) / 60
        _in_all(steps, where)
        return Scenario(name, description, config, tuple(steps), str(path), minutes, _reference(data, where))
    raw = data.get("step")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: no [[step]]; a scenario needs at least one step (or an include list)")
    if len(raw) > MAX_STEPS:
        raise ConfigError(f"{where}: {len(raw)} steps; at most {MAX_STEPS} (each keeps a copy of the cell to go "
                          f"back to)")
    steps, cell = [], config          # each step is checked against the cell the steps before it leave
    for k, s in enumerate(raw):
        step, cell = _step(s, k + 1, where, cell, config, name)
        steps.append(step)
    steps = tuple(steps)
    _in_all(steps, where)
    asked = False
    for k, st in enumerate(steps):
        if st.reveal and not asked:
            raise ConfigError(f"{where}, step {k + 1}: reveal = true needs a question in an earlier step")
        asked = asked or bool(st.question)
    return Scenario(name, description, config, steps, str(path), minutes, _reference(data, where))


def _in_all(steps, where: str) -> None:
    """What a scenario's steps add up to, bounded: their timed waits (model time) and their
    declared lengths (what --auto plays by the clock)."""
    total = sum(st.wait for st in steps if isinstance(st.wait, float))
    if total > MAX_WAIT_NS:
        raise ConfigError(f"{where}: its steps wait {total:.0f} ns of model time in all; at most {MAX_WAIT_NS:.0f} "
                          f"({MAX_WAIT_WORDS})")
    declared = sum(st.seconds for st in steps if st.seconds is not None)
    if declared > MAX_MINUTES * 60:
        raise ConfigError(f"{where}: its steps' seconds add up to {declared / 60:.0f} minutes; at most "
                          f"{MAX_MINUTES:.0f} (a scenario's length), which --auto would play")


def _table(raw, at: str, allowed: tuple[str, ...], what: str = "") -> None:
    """`raw` is a TOML table whose keys are all `allowed` (else one ConfigError naming the key)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{at}: must be a table{what}")
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{at}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _reference(data: dict, where: str) -> Reference | None:
    """The scenario's `[reference]`: a paper's V against [K+]o, checked."""
    ref = data.get("reference")
    if ref is None:
        return None
    at = f"{where}: reference"
    _table(ref, at, REFERENCE_KEYS, f" with {', '.join(REFERENCE_KEYS)}")
    cite = _text(ref.get("cite", ""), at, "cite")
    if not cite.strip():
        raise ConfigError(f"{at}: cite: say where the numbers come from (authors, year, journal)")

    def numbers(key, positive=False):
        v = ref.get(key)
        if (not isinstance(v, list) or not v
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
            raise ConfigError(f"{at}: {key} must be a non-empty list of numbers, got {v!r}")
        if positive and not all(x > 0 for x in v):
            raise ConfigError(f"{at}: {key} must be > 0 (mM), got {v!r}")
        return tuple(float(x) for x in v)
    k_out, v = numbers("K_out", positive=True), numbers("V")
    sem = numbers("sem") if "sem" in ref else tuple(0.0 for _ in v)
    if not len(k_out) == len(v) == len(sem):
        raise ConfigError(f"{at}: K_out, V and sem must be lists of the same length, got {len(k_out)}, "
                          f"{len(v)} and {len(sem)}")
    if any(x < 0 for x in sem):
        raise ConfigError(f"{at}: sem must be >= 0 (mV), got {list(sem)}")
    return Reference(cite, k_out, v, sem, _text(ref.get("note", ""), at, "note"))


def _length(v, where: str, key: str, most: float) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= most:
        raise ConfigError(f"{where}: {key} must be a number > 0 and <= {most:g}, got {v!r}")
    return float(v)


# the longest texts a scenario may hold, in characters (the shipped ones: captions 245, notes 453,
# descriptions 252, questions 150, choices 36): what a screen or a terminal can show
MAX_SCENARIO_BYTES = 256 << 10
MAX_CHARS = {"caption": 1000, "notes": 5000, "title": 120, "name": 120, "description": 1000, "question": 400,
             "choice": 120, "cite": 200, "note": 1000}
MAX_FIELD_WIDTH = 40      # a caption's placeholder may pad or cut its value to at most this many characters
FIELD_SPEC = re.compile(r"^(?:.?[<>^])?(?P<width>\d+)?(?:\.(?P<cut>\d+))?$")


def _text(v, where: str, key: str) -> str:
    if not isinstance(v, str):
        raise ConfigError(f"{where}: {key} must be text, got {v!r}")
    most = MAX_CHARS.get(key, 1000)
    if len(v) > most:
        raise ConfigError(f"{where}: {key} is {len(v)} characters; at most {most}")
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


def _step(raw: dict, k: int, where: str, before: Config, base: Config, part: str) -> tuple[Step, Config]:
    """Step k checked: its changes against the cell `before` it, its caption, highlight and
    question against the cell its changes make (rebuilt from `base` if a change rebuilds it);
    returns the step and that cell's config."""
    at = f"{where}, step {k}"
    _table(raw, at, STEP_KEYS)
    changes = check_changes(raw.get("set", {}), at, before)
    config = config_after(before, changes, base, at)
    wait = raw.get("wait", "key" if k > 1 else 0.0)
    if isinstance(wait, bool) or not (wait in ("key", "settled") or isinstance(wait, (int, float))):
        raise ConfigError(f"{at}: wait must be \"key\", \"settled\" or ns of model time (a number >= 0), got {wait!r}")
    if isinstance(wait, (int, float)) and not (math.isfinite(wait) and 0 <= wait <= MAX_WAIT_NS):
        raise ConfigError(f"{at}: wait must be between 0 and {MAX_WAIT_NS:.0f} ns of model time, got {wait!r} "
                          f"({MAX_WAIT_WORDS})")
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
    title = _text(raw.get("title", f"step {k}"), at, "title")
    seconds = _length(raw.get("seconds"), at, "seconds", MAX_STEP_S)
    notes = _text(raw.get("notes", ""), at, "notes")
    return Step(title, float(wait) if isinstance(wait, (int, float)) else wait, caption, highlight, follow,
                changes, part=part, seconds=seconds, notes=notes, **_poll(raw, at, config), **flags), config


def _poll(raw: dict, at: str, config: Config) -> dict:
    """A step's question: its text, 2 to MAX_CHOICES choices, and (optionally) the measured number
    that judges it with a band of values for each choice."""
    if not any(k in raw for k in POLL_KEYS):
        return {}
    question = _text(raw.get("question", ""), at, "question")
    if not question.strip():
        raise ConfigError(f"{at}: choices, judge and bands need a question")
    choices = raw.get("choices")
    if (not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES
            or not all(isinstance(c, str) and c.strip() for c in choices)):
        raise ConfigError(f"{at}: choices must be a list of 2 to {MAX_CHOICES} texts (the number keys vote for "
                          f"them), got {str(choices)[:200]}")
    for c in choices:
        _text(c, at, "choice")
    judge, bands = raw.get("judge"), raw.get("bands")
    if (judge is None) != (bands is None):
        raise ConfigError(f"{at}: judge and bands go together: the number measured, and a [low, high] band of it "
                          "for each choice")
    out = {"question": question, "choices": tuple(choices)}
    if judge is None:
        return out
    if judge not in judges(config):
        raise ConfigError(f"{at}: judge: unknown {judge!r}; allowed: {', '.join(judges(config))}")
    ok = isinstance(bands, list) and len(bands) == len(choices) and all(
        isinstance(b, list) and len(b) == 2
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x) for x in b)
        and b[0] < b[1] for b in bands)
    if not ok:
        raise ConfigError(f"{at}: bands must give one [low, high] (low < high; inf allowed) for each of the "
                          f"{len(choices)} choices, got {bands!r}")
    return dict(out, judge=judge, bands=tuple((float(a), float(b)) for a, b in bands))


def check_caption(caption: str, at: str, config: Config) -> None:
    try:
        fields = [(f, spec, conversion) for _, f, spec, conversion in string.Formatter().parse(caption)
                  if f is not None]
    except ValueError as e:
        raise ConfigError(f"{at}: caption: {e} (write {{{{ and }}}} for a literal brace)") from None
    allowed = placeholders(config)
    for name, spec, conversion in fields:
        if name not in allowed:
            raise ConfigError(f"{at}: caption: unknown placeholder {{{name}}}; allowed: "
                              + ", ".join("{" + p + "}" for p in allowed[:11]) + ", {K_out}, {P_Na}, ...")
        # the values are text, as a lecturer says them ("−70"): a format may pad or cut them, no more
        m = FIELD_SPEC.match(spec or "")
        if conversion is not None or not m or "{" in (spec or ""):
            raise ConfigError(f"{at}: caption: {{{name}{'!' + conversion if conversion else ''}:{spec}}}: a placeholder's "
                              f"value is text; its format may only pad or cut it, e.g. {{{name}:>5}}")
        for part in ("width", "cut"):
            if m[part] is not None and int(m[part]) > MAX_FIELD_WIDTH:
                raise ConfigError(f"{at}: caption: {{{name}:{spec[:20]}}}: {part} {int(m[part])}; at most "
                                  f"{MAX_FIELD_WIDTH} characters")


def fill_caption(caption: str, values: dict) -> str:
    """The caption with its placeholders filled (numbers as the values dict formats them)."""
    class Live(dict):
        def __missing__(self, k):
            return "?"
    return string.Formatter().vformat(caption, (), Live(values)) if caption else ""
