"""The config: TOML presets and files, `--set` overrides, validation, one frozen result.

Every key has a default (the mammalian neuron), with its bounds beside it in `SCHEMA`; a preset or
file gives only what it changes. A file with a `[channels]` table replaces the channel list whole:
an ion it does not list does not cross. `[channels.K]`, `[channels.Na]`, ... (a permeant species'
name) are the leak types of those ions; any other name declares a channel type with `ion` and
`gating` (a model of `membrane.gating.MODELS`, whose keys it then takes). The per-species tables
([inside], [outside], [diffusion]) are derived from the species table (`particles.species`), the
transporters' tables ([pump], [ncx]) from the transporter table (`membrane.transporters`); the
default concentrations of each solute are in `DEFAULT_mM` below. Validation happens here, and raises `ConfigError` with one
line that names the key, what was wrong and what is allowed; live changes (`Config.replace`) pass
the same rules. The resolved config is a plain nested dict with the same tables and keys as the
TOML, so it can be written back out (summary.json) and read again.
"""
from __future__ import annotations

import copy
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from membrane import theory
from membrane.channels import ChannelPlan, ChannelType, Gating, plan_channels
from membrane.gating import MODELS
from membrane.transporters import TABLE as TRANSPORTERS
from particles.diffusion import step_half_width_nm
from particles.species import DIFFUSING_NAMES, INFO, LABEL, NAMES, PERMEANT_NAMES as PERMEANT, SOLUTES, Species
from particles.state import compartment_counts
from simulation.data import data_dir

PRESET_DIR = data_dir("presets")
DEFAULT_PRESET = "mammalian"
BYTES_PER_PARTICLE = 64  # state arrays (~22 B) plus recorder and kernel scratch, generously
MIN_COMPARTMENT_NM = 5.0


class ConfigError(ValueError):
    """A bad config value; str() is the one line the command line prints."""


@dataclass(frozen=True)
class Key:
    default: Any
    kind: type
    lo: float | None = None        # inclusive lower bound
    lo_open: bool = False          # lower bound exclusive
    hi: float | None = None        # inclusive upper bound (a list: its greatest length)
    nullable: bool = False
    item: dict | None = None       # a list's items are tables with these keys, all needed

    def allowed(self) -> str:
        if self.kind is list:
            keys = ", ".join(f"{k} ({v.allowed()})" for k, v in self.item.items())
            return f"a list of at most {self.hi:g} tables {{{keys}}}"
        kind = {float: "a number", int: "a whole number", bool: "true or false", str: "a string"}[self.kind]
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"<= {self.hi:g}")
        return kind + (" " + " and ".join(parts) if parts else "")


# The mammalian neuron's solutes, mM (inside, outside): Hille, Ion Channels, table 1.1 (rounded).
# Ca²⁺ and Mg²⁺ are absent unless a config gives them (SPEC: default 0).
DEFAULT_mM = {"K": (140.0, 5.0), "Na": (15.0, 145.0), "Cl": (10.0, 150.0), "Ca": (0.0, 0.0), "Mg": (0.0, 0.0)}
# The default cell: a 25 nm cytoplasm and a 40 nm bath either side of a 20 nm membrane.
PERFUSION_MIN_nm = 5.0   # the perfused bath starts this far from the membrane at least (beyond pores, pumps and steps)
DEFAULT_WIDTH_nm = 85.0
DEFAULT_MEMBRANE_X_nm = 35.0


MAX_mM = 5000.0    # no salt of these ions dissolves much further (KCl saturates near 4.6 M at 25 °C)


def _concentrations(side: int) -> dict[str, Key]:
    """Every solute of the species table (one not in DEFAULT_mM is absent unless a config gives it)."""
    return {ion: Key(DEFAULT_mM.get(ion, (0.0, 0.0))[side], float, lo=0.0, hi=MAX_mM) for ion in SOLUTES}


MIN_CROSSING_D = 0.001   # nm²/ns


def _diffusion() -> dict[str, Key]:
    """A species that crosses must move (D at least 0.001 nm²/ns, a thousandth of an ion's in water);
    a filler may stand still (D = 0)."""
    return {n: Key(INFO[n].d_nm2_per_ns, float, lo=MIN_CROSSING_D if INFO[n].permeant else 0.0)
            for n in DIFFUSING_NAMES}


MAX_COMMAND_mV = 250.0      # beyond this a real membrane breaks down (electroporation)
MAX_PROTOCOL_STEPS = 1000
MAX_STIMULUS_pA = 1e5       # 100 nA: 624 e per ns, enough to move this capacitor by hundreds of mV per ns


SCHEMA: dict[str, Any] = {
    "name": Key("Mammalian neuron", str),
    "description": Key("", str),
    "box": {
        "width_nm": Key(DEFAULT_WIDTH_nm, float, lo=0.0, lo_open=True, hi=1e5),   # up to 100 µm
        "height_nm": Key(800.0, float, lo=0.0, lo_open=True, hi=1e6),
        # default: 35 nm in the default box; the middle of a box of any other width
        "membrane_x_nm": Key(None, float, lo=0.0, lo_open=True, nullable=True),
        "membrane_thickness_nm": Key(20.0, float, lo=0.0, lo_open=True),
    },
    "physics": {
        "temperature_C": Key(37.0, float),     # checked in _validate_all: liquid water
        "dt_ns": Key(0.025, float, lo=1e-4),      # shorter: no run would be long enough to settle
        "particles": Key(160000, int, lo=10),
        "capacitance_e_per_mV": Key(2.0, float, lo=0.02),   # below: one ion moves V by more than 50 mV
        "field": Key(True, bool),
        "selectivity": Key(True, bool),
    },
    "inside": _concentrations(0),
    "outside": _concentrations(1),
    "fixed_anions": {
        "enabled": Key(True, bool),
        "charge": Key(-1, int, lo=-10, hi=-1),
        "D_nm2_per_ns": Key(0.0, float, lo=0.0),
    },
    "diffusion": _diffusion(),  # nm²/ns
    "membrane": {
        "pore_width_nm": Key(1.2, float, lo=0.0, lo_open=True),
        "site_spacing_nm": Key(8.0, float, lo=0.0, lo_open=True),
        "channels_per_unit_permeability": Key(40, int, lo=1, hi=10000),
        # a type needing fewer channels gets this many, each open less often (membrane.channels.plan_channels)
        "min_channels_per_type": Key(8, int, lo=1, hi=1000),
        # model ns per millisecond of Hodgkin & Huxley's rates (after Q10 to the cell's temperature)
        "hh_time_scale_ns_per_ms": Key(10.0, float, lo=0.0, lo_open=True, hi=1e6),
    },
    "channels": "per-ion",  # see CHANNEL_KEYS
    # The far bulk stirred (particles.diffusion): what a 2D strip lacks of a real cell's volume.
    "stirring": {
        "enabled": Key(True, bool),
        "from_nm": Key(3.0, float, lo=0.0),
        "ramp_nm": Key(2.0, float, lo=0.0, lo_open=True),
        "D_factor": Key(16.0, float, lo=1.0, hi=100.0),
    },
    # A perfused bath (simulation.core.perfusion): every every_ns the outside's ions beyond
    # from_nm of the membrane are re-labelled so the outside keeps the saline's composition.
    "perfusion": {
        "enabled": Key(False, bool),
        "from_nm": Key(20.0, float, lo=0.0, lo_open=True),
        "every_ns": Key(1.0, float, lo=0.0, lo_open=True, hi=1e6),
    },
    # A voltage clamp (simulation.core.model.Simulation.set_clamp): V held at a command potential,
    # the electrode supplying the charge the ions carry. The protocol runs from the first step,
    # each entry held for its duration; after it (or without one) V is held at command_mV.
    "clamp": {
        "enabled": Key(False, bool),
        "command_mV": Key(-70.0, float, lo=-MAX_COMMAND_mV, hi=MAX_COMMAND_mV),
        "protocol": Key([], list, hi=MAX_PROTOCOL_STEPS,
                        item={"command_mV": Key(0.0, float, lo=-MAX_COMMAND_mV, hi=MAX_COMMAND_mV),
                              "duration_ns": Key(0.0, float, lo=0.0, lo_open=True)}),
    },
    # A current stimulus (simulation.core.model.Simulation.inject): an electrode injects each entry's
    # current for its duration from the first step, then none (positive: positive charge into the
    # inside, depolarising). Its charge is part of the electrode's (V = (Q_in + electrode) / C).
    "stimulus": {
        "protocol": Key([], list, hi=MAX_PROTOCOL_STEPS,
                        item={"current_pA": Key(0.0, float, lo=-MAX_STIMULUS_pA, hi=MAX_STIMULUS_pA),
                              "duration_ns": Key(0.0, float, lo=0.0, lo_open=True)}),
        # and a steady current from hold_from_ns to the end of the run, on top of the protocol (one
        # number, so that `sweep --vary stimulus.hold_pA=...` draws an f-I curve)
        "hold_pA": Key(0.0, float, lo=-MAX_STIMULUS_pA, hi=MAX_STIMULUS_pA),
        "hold_from_ns": Key(0.0, float, lo=0.0, hi=1e9),
        # the live pulse (key E; Q/U change it) a session starts with: a spiking cell's preset sets
        # one that fires it
        "live_pulse_pA": Key(2000.0, float, lo=10.0, hi=1e5),
        "live_pulse_ns": Key(2.0, float, lo=0.0, lo_open=True, hi=1000.0),
    },
}


def _transporter_keys(defaults: dict) -> dict[str, Key]:
    return {"enabled": Key(defaults["enabled"], bool),
            "count": Key(defaults["count"], int, lo=0),
            "max_turnover_per_us": Key(defaults["max_turnover_per_us"], float, lo=0.0, lo_open=True),
            "capture_radius_nm": Key(defaults["capture_radius_nm"], float, lo=0.1)}   # nm: at least an ion's radius


# [pump], [ncx], ...: one table per transporter type of membrane.transporters.TABLE
SCHEMA.update({t.name: _transporter_keys(t.defaults) for t in TRANSPORTERS})

# The keys of a channel type's table: the leak's, the declared type's `ion` and `gating`, and every
# gating model's own (membrane.gating.MODELS: which of them a type takes depends on its model).
LEAK_KEYS = {
    "relative_permeability": Key(0.0, float, lo=0.0),
    "open_probability": Key(0.9, float, lo=0.001, hi=1.0),   # rarer openings: give a lower relative_permeability
    "mean_open_time_ns": Key(20.0, float, lo=0.0, lo_open=True),
    # D in the pore over D in the bulk: a lazy walk in the pore (a narrower, slower channel)
    "pore_D_factor": Key(1.0, float, lo=0.0, lo_open=True, hi=1.0),
    # its pores hold their ions in a row: none passes another (membrane.crossing.single_file_relabel)
    "single_file": Key(False, bool),
}
CHANNEL_KEYS = dict(LEAK_KEYS, ion=Key(None, str), gating=Key("leak", str))
for _model in MODELS.values():
    for _k, _p in _model.params.items():
        CHANNEL_KEYS.setdefault(_k, Key(_p.default, float, lo=_p.lo, lo_open=_p.lo_open, hi=_p.hi))
COMMON_KEYS = ("relative_permeability", "pore_D_factor", "single_file")   # every type, whatever its gating
TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,15}$")
# Every permeant species has a default leak type (used when a table names it without all keys,
# or when a live change adds the type); the mammalian membrane has the types in DEFAULT_MEMBRANE.
# A permeant species not named here gets GENERIC_LEAK.
DEFAULT_CHANNELS = {
    "K": {"relative_permeability": 1.0, "open_probability": 0.9, "mean_open_time_ns": 20.0, "pore_D_factor": 1.0},
    "Na": {"relative_permeability": 0.05, "open_probability": 0.66, "mean_open_time_ns": 10.0, "pore_D_factor": 1.0},
    "Cl": {"relative_permeability": 0.45, "open_probability": 0.78, "mean_open_time_ns": 10.0, "pore_D_factor": 1.0},
    "Ca": {"relative_permeability": 0.01, "open_probability": 0.5, "mean_open_time_ns": 5.0, "pore_D_factor": 1.0},
}
GENERIC_LEAK = {"relative_permeability": 0.05, "open_probability": 0.5, "mean_open_time_ns": 10.0, "pore_D_factor": 1.0}
for _ion in PERMEANT:
    DEFAULT_CHANNELS.setdefault(_ion, dict(GENERIC_LEAK))
DEFAULT_MEMBRANE = ("K", "Na", "Cl")


def defaults() -> dict:
    def build(schema):
        return {k: build(v) if isinstance(v, dict) else copy.deepcopy(v.default)
                for k, v in schema.items() if k != "channels"}
    d = build(SCHEMA)
    d["channels"] = {ion: copy.deepcopy(DEFAULT_CHANNELS[ion]) for ion in DEFAULT_MEMBRANE}
    return d


class Config:
    """A validated, resolved config. Read with `cfg["box.width_nm"]` or `cfg.data` (a copy)."""

    def __init__(self, data: dict, source: str = "defaults", notes: tuple[str, ...] = ()):
        self._data = data
        self.source = source
        # what the config did that its keys do not show (density_follows), and what a user should
        # know about the cell it makes (noise_note)
        self.notes = tuple(notes) + tuple(n for n in noise_note(data) if n not in notes)

    def __getitem__(self, dotted: str):
        node = self._data
        for part in dotted.split("."):
            node = node[part]
        return copy.deepcopy(node) if isinstance(node, (dict, list)) else node

    @property
    def data(self) -> dict:
        return copy.deepcopy(self._data)

    @property
    def permeant(self) -> tuple[str, ...]:
        """Ions with channels of non-zero permeability (of any type), in the species table's order."""
        crossing = {t.ion for t in channel_types(self._data) if t.relative_permeability > 0}
        return tuple(i for i in PERMEANT if i in crossing)

    def channel_types(self) -> list[ChannelType]:
        return channel_types(self._data)

    def gating(self) -> dict[str, Gating]:
        return gating(self._data)

    def replace(self, changes: dict, where: str = "change") -> "Config":
        """A new validated config with some keys changed: replace({"outside.K": 20.0}).
        Errors name `where` (e.g. the sweep point) before the key."""
        data = self.data
        before = _density(data)
        for k, v in changes.items():
            _set_dotted(data, k, v, where)
        note = density_follows(data, before, {str(k).strip() for k in changes}, where)
        return Config(_validate_all(data, where), self.source, self.notes + note)

    def __repr__(self):
        return f"Config({self._data['name']!r} from {self.source})"


# ---- loading -----------------------------------------------------------------------------------

def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def preset_path(name: str) -> Path:
    """A shipped preset by name (a path goes through --config, never here)."""
    path = PRESET_DIR / f"{name}.toml"
    if name not in preset_names() or not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; shipped presets: {', '.join(preset_names())}")
    return path


MAX_CONFIG_BYTES = 1 << 20   # a config is a page of text; more is a wrong file (or /dev/zero)


def read_toml(path: str | os.PathLike, most_bytes: int = MAX_CONFIG_BYTES, kind: str = "config file",
              what: str = "a config file is a page of TOML", name: str | None = None) -> dict:
    """A TOML file (a `kind`: config, scenario, --cluster file) read whole, at most `most_bytes` of
    it (`/dev/zero` is a file name too): every failure is one ConfigError, after `name` (default:
    the path)."""
    name = name or str(path)
    size = f"{most_bytes >> 20} MB" if most_bytes >= 1 << 20 else f"{most_bytes >> 10} kB"
    try:
        with open(path, "rb") as f:
            raw = f.read(most_bytes + 1)
        if len(raw) > most_bytes:
            raise ConfigError(f"{name}: more than {size}; {what}")
        return tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{kind} not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{kind} {path} is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{name}: not valid TOML ({e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not a text file (TOML is UTF-8 text)") from None
    except OSError as e:
        raise ConfigError(f"{name}: cannot read it ({e.strerror or e})") from None


def load(preset: str | None = None, config_file: str | os.PathLike | None = None,
         overrides: list[str] | tuple[str, ...] | dict = ()) -> Config:
    """Defaults, then a preset or a file merged over them, then `--set KEY=VALUE` overrides."""
    if preset and config_file:
        raise ConfigError("give either --preset or --config, not both")
    data = defaults()
    if config_file:
        source = str(config_file)
        notes = _merge(data, read_toml(config_file), source)
    else:
        name = preset or DEFAULT_PRESET
        source = f"preset {name}"
        notes = _merge(data, read_toml(preset_path(name)), source)
    notes += _override(data, overrides)
    return Config(_validate_all(data, source), source, notes)


def from_dict(cell: dict, overrides: list[str] | tuple[str, ...] | dict = (), source: str = "dict") -> Config:
    """A config from a dict shaped like a config file's tables ({"outside": {"K": 20}}), merged
    over the defaults as a file is, then overrides: by the same rules and with the same errors."""
    if not isinstance(cell, dict):
        raise ConfigError(f"a cell must be a preset name, a TOML file or a dict of config tables, got {cell!r}")
    data = defaults()
    notes = _merge(data, cell, source)
    notes += _override(data, overrides)
    return Config(_validate_all(data, source), source, notes)


def _override(data: dict, overrides) -> tuple[str, ...]:
    """`--set KEY=VALUE` texts (parsed as the command line does), or from Python a dict of
    dotted keys and values ({"outside.K": 20}); all of them one layer (density_follows)."""
    before = _density(data)
    given = set()
    if isinstance(overrides, dict):
        for key, value in overrides.items():
            given.add(str(key).strip())
            _set_dotted(data, str(key).strip(), value, f"set {key}")
        return density_follows(data, before, given, "set physics.particles")
    if isinstance(overrides, str):
        overrides = [overrides]
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set outside.K=20")
        key, raw = item.split("=", 1)
        key = key.strip()
        given.add(key)
        _set_dotted(data, key, _parse_value(raw.strip()), f"--set {key}")
    return density_follows(data, before, given, "--set physics.particles")


def flatten(data: dict, prefix: str = "") -> dict:
    """{"outside": {"K": 5.0}} -> {"outside.K": 5.0}: a resolved config (or any part) by dotted key."""
    out = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def from_data(data: dict, source: str = "data") -> Config:
    """A validated Config from a resolved config dict (as summary.json holds it): how sweep tasks
    carry their whole config to a worker."""
    merged = defaults()
    _merge_tables(merged, {k: v for k, v in data.items() if v is not None}, source)   # resolved: nothing follows
    for table, body in data.items():
        if isinstance(body, dict) and table != "channels":
            for k, v in body.items():
                if v is None:
                    merged[table][k] = None
    return Config(_validate_all(merged, source), source)


def parse_value(raw: str):
    """A command-line value read as TOML (20, 1.5, false, "text"); a bare word stays a string."""
    return _parse_value(raw)


def _parse_value(raw: str):
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare word: kept as a string, the type check says if a string is wrong here


def _merge(data: dict, new: dict, where: str) -> tuple[str, ...]:
    """A file's (or dict's) tables over `data`, as one layer (density_follows)."""
    before = _density(data)
    _merge_tables(data, new, where)
    given = {f"{k}.{kk}" for k, v in new.items() if isinstance(v, dict) for kk in v}
    return density_follows(data, before, given, where)


# ---- the particle density -------------------------------------------------------------------------
# physics.particles sets how finely the same cell is sampled. The currents through each channel
# scale with the ions' density by themselves; the capacitance and the transporters do not, so a
# layer (a file, a preset, the --set list, one replace) that sets the particle number scales them
# with the density it makes, unless it sets them too. Without this a fewer-particle cell charges
# slower (tau = C/G, G ~ density) and its capacitor takes a larger share of the ions (C*V against
# pools ~ density): 20 000 particles at C = 2 e/mV settled 3-5 mV off its own V_GHK (issue 25).
MIN_CAPACITANCE = SCHEMA["physics"]["capacitance_e_per_mV"].lo   # e/mV: below, one ion moves V by more than 50 mV


def _density(data: dict) -> float | None:
    """Particles per nm² of the compartments (the box less the membrane band), or None when the
    box is not (yet) one."""
    box = data["box"]
    try:
        area = (box["width_nm"] - box["membrane_thickness_nm"]) * box["height_nm"]
        return data["physics"]["particles"] / area if area > 0 else None
    except (TypeError, ZeroDivisionError):
        return None


def density_follows(data: dict, before: float | None, given: set[str], where: str) -> tuple[str, ...]:
    """After a layer that set physics.particles: the capacitance and every transporter count it
    did not set scale with the density (a type with any keeps at least one). Returns the note
    that says what followed (empty when nothing did)."""
    after = _density(data)
    if "physics.particles" not in given or not before or not after or abs(after / before - 1) < 1e-9:
        return ()
    r = after / before
    phys, changed = data["physics"], []
    if "physics.capacitance_e_per_mV" not in given:
        c0 = phys["capacitance_e_per_mV"]
        c = c0 * r
        if c < MIN_CAPACITANCE:
            least = math.ceil(phys["particles"] * MIN_CAPACITANCE / c)
            raise ConfigError(f"{where}: physics.particles = {phys['particles']} is {r:.3g} of the cell's particle "
                              f"density; its capacitance would follow to {c:.3g} e/mV, below {MIN_CAPACITANCE:g} "
                              f"(one ion would move V by more than 50 mV); allowed: physics.particles >= {least} "
                              f"with this box, or give physics.capacitance_e_per_mV beside it")
        phys["capacitance_e_per_mV"] = c
        changed.append(f"capacitance {c0:.4g} -> {c:.4g} e/mV")
    for t in TRANSPORTERS:
        key = f"{t.name}.count"
        n0 = data[t.name]["count"]
        if key not in given and n0 > 0:
            n = max(1, int(round(n0 * r)))
            data[t.name]["count"] = n
            if n != n0:
                changed.append(f"{key} {n0} -> {n}")
    if not changed:
        return ()
    return (f"physics.particles = {phys['particles']} samples the cell at {r:.3g} of its particle density, so "
            f"{', '.join(changed)} follow{'s' if len(changed) == 1 else ''} it (the same cell, as --cell keeps "
            f"it; set {'it' if len(changed) == 1 else 'them'} beside physics.particles to choose yourself)",)


NOISY_mV = 15.0   # V's thermal noise above which a cell is said to be small


def noise_note(data: dict) -> tuple[str, ...]:
    """A cell whose capacitor is so small that V's thermal noise, √(V_T/C), passes NOISY_mV: the
    potentials of theory assume a steady V, and hold for so noisy a V only to a few mV."""
    try:
        sigma = math.sqrt(theory.thermal_voltage_mV(data["physics"]["temperature_C"])
                          / data["physics"]["capacitance_e_per_mV"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return ()
    if sigma <= NOISY_mV:
        return ()
    return (f"a small cell: V's thermal noise sqrt(V_T/C) is {sigma:.0f} mV rms (physics.capacitance_e_per_mV = "
            f"{data['physics']['capacitance_e_per_mV']:.3g}); Nernst and GHK assume a steady V and hold for so noisy "
            f"a V only to a few mV (ghk-no-pump at 3500 particles, 24 mV rms: V - V_GHK = +3.2 +- 1.0 mV over six "
            f"5-us runs), and a mean to 1 mV takes microseconds",)


def _merge_tables(data: dict, new: dict, where: str) -> None:
    for key, value in new.items():
        if key == "channels":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [channels] must be a table of channel types ([channels.K] ... or a "
                                  f"declared type)")
            channels = {}
            for name, table in value.items():
                _check_type_name(name, where)
                if not isinstance(table, dict):
                    raise ConfigError(f"{where}: channels.{name} must be a table")
                channels[name] = {k: _check(f"channels.{name}.{k}", CHANNEL_KEYS.get(k), v, where)
                                  for k, v in table.items()}
            data["channels"] = channels   # completed (defaults, the type's own keys) in _validate_all
            continue
        spec = SCHEMA.get(key)
        if spec is None:
            raise ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(SCHEMA)}")
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {key} must be a table [{key}]")
            for k, v in value.items():
                if k not in spec:
                    raise ConfigError(f"{where}: unknown key {key}.{k}; allowed in [{key}]: {', '.join(spec)}")
                data[key][k] = _check(f"{key}.{k}", spec[k], v, where)
        else:
            data[key] = _check(key, spec, value, where)


def _set_dotted(data: dict, key: str, value, where: str) -> None:
    parts = key.split(".")
    if parts[0] == "channels":
        if len(parts) != 3 or parts[2] not in CHANNEL_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r}; channel keys are channels.TYPE.KEY with TYPE a leak "
                              f"type ({', '.join(PERMEANT)}) or a declared type, and KEY in {', '.join(CHANNEL_KEYS)}")
        _check_type_name(parts[1], where)
        table = data["channels"].setdefault(parts[1], copy.deepcopy(DEFAULT_CHANNELS[parts[1]])
                                            if parts[1] in PERMEANT else {})
        table[parts[2]] = _check(key, CHANNEL_KEYS[parts[2]], value, where)
        return
    spec = SCHEMA.get(parts[0])
    if len(parts) == 1 and isinstance(spec, Key):
        data[key] = _check(key, spec, value, where)
        return
    if len(parts) == 2 and isinstance(spec, dict) and parts[1] in spec:
        data[parts[0]][parts[1]] = _check(key, spec[parts[1]], value, where)
        return
    raise ConfigError(f"{where}: unknown key {key!r}; keys look like box.width_nm, outside.K, pump.enabled, "
                      f"channels.Na.relative_permeability")


def _check_type_name(name, where: str) -> None:
    """A channel type's name: a permeant species' (its leak type) or a name of letters and digits
    that is no species' name."""
    if name in PERMEANT:
        return
    if name in NAMES:
        raise ConfigError(f"{where}: channels.{name}: {LABEL[name]} cannot cross the membrane (the species table "
                          f"makes it impermeant); a channel type passes one of {', '.join(PERMEANT)}")
    if not isinstance(name, str) or not TYPE_NAME.match(name):
        raise ConfigError(f"{where}: channels.{name}: a channel type's name is a letter and up to 15 more letters or "
                          f"digits (as Kir, Nav, Kv2), or a leak type ({', '.join(PERMEANT)})")


def _check(key: str, spec: Key | None, value, where: str):
    if spec is None:
        raise ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(CHANNEL_KEYS)}")
    bad = f"{where}: {key} must be {spec.allowed()}, got {value!r}"
    if spec.kind is list:
        return _check_list(key, spec, value, where)
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(bad)
        return value
    if spec.kind is str:
        if not isinstance(value, str):
            raise ConfigError(bad)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(bad)
    if spec.kind is int:
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise ConfigError(bad)
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(bad)
    if spec.lo is not None and (value < spec.lo or (spec.lo_open and value == spec.lo)):
        raise ConfigError(bad)
    if spec.hi is not None and value > spec.hi:
        raise ConfigError(bad)
    return value


def _check_list(key: str, spec: Key, value, where: str) -> list:
    """A list of tables, each with exactly the keys `spec.item` names, each value checked."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be {spec.allowed()}, got {str(value)[:60]!r}")
    if len(value) > spec.hi:
        raise ConfigError(f"{where}: {key} has {len(value)} entries; allowed: at most {spec.hi:g}")
    out = []
    for n, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: {key} entry {n} must be a table {{{', '.join(spec.item)}}}, "
                              f"got {str(entry)[:60]!r}")
        missing = [k for k in spec.item if k not in entry]
        unknown = [k for k in entry if k not in spec.item]
        if missing or unknown:
            what = f"lacks {', '.join(missing)}" if missing else f"has unknown key {unknown[0]!r}"
            raise ConfigError(f"{where}: {key} entry {n} {what}; each entry needs exactly {', '.join(spec.item)}")
        out.append({k: _check(f"{key} entry {n} {k}", spec.item[k], entry[k], where) for k in spec.item})
    return out


# ---- cross-key checks ----------------------------------------------------------------------------

MAX_TEXT = {"name": 120, "description": 2000}   # characters: a title line, a paragraph (copied into every run)


def _validate_text(data: dict, where: str) -> None:
    for key, most in MAX_TEXT.items():
        try:
            data[key].encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"{where}: {key} is not valid text (bytes that are not UTF-8)") from None
        if len(data[key]) > most:
            raise ConfigError(f"{where}: {key} is {len(data[key])} characters long; allowed: at most {most}")
    bad = next((c for c in data["name"] if ord(c) < 32 or 127 <= ord(c) < 160), None)
    if bad is not None:
        raise ConfigError(f"{where}: name holds a control character ({bad!r}); a name is one line of text")


def _validate_all(data: dict, where: str) -> dict:
    """Checks that involve several keys; fills derived defaults (membrane_x_nm)."""
    box, phys, mem = data["box"], data["physics"], data["membrane"]
    _validate_text(data, where)
    if phys["temperature_C"] <= -273.15:
        raise ConfigError(f"{where}: physics.temperature_C must be above absolute zero (-273.15), "
                          f"got {phys['temperature_C']:g}")
    if not -5.0 <= phys["temperature_C"] <= 100.0:
        raise ConfigError(f"{where}: physics.temperature_C must be within liquid water, -5 to 100 (the ions diffuse "
                          f"in water), got {phys['temperature_C']:g}")
    if box["membrane_x_nm"] is None:
        box["membrane_x_nm"] = (DEFAULT_MEMBRANE_X_nm if box["width_nm"] == DEFAULT_WIDTH_nm
                                else box["width_nm"] / 2.0)
    half = box["membrane_thickness_nm"] / 2.0
    left = box["membrane_x_nm"] - half
    right = box["width_nm"] - box["membrane_x_nm"] - half
    if left < MIN_COMPARTMENT_NM or right < MIN_COMPARTMENT_NM:
        raise ConfigError(
            f"{where}: the membrane does not fit: box.membrane_x_nm={box['membrane_x_nm']:g} with thickness "
            f"{box['membrane_thickness_nm']:g} leaves {left:g} nm inside and {right:g} nm outside in a "
            f"{box['width_nm']:g} nm box; each side needs at least {MIN_COMPARTMENT_NM:g} nm")
    for side in ("inside", "outside"):
        for ion in SOLUTES:
            c = data[side][ion]
            if c < 0:
                raise ConfigError(f"{where}: {side}.{ion} must be >= 0 mM, got {c:g}")
    _complete_channels(data, where)
    for name, ch in data["channels"].items():
        ion = _ion_of(name, ch)
        if ch["relative_permeability"] > 0:
            for side in ("inside", "outside"):
                if data[side][ion] <= 0:
                    raise ConfigError(f"{where}: {side}.{ion} must be > 0 mM while {ion} crosses the membrane "
                                      f"(channels.{name}.relative_permeability = {ch['relative_permeability']:g})")
    _check_counts(data, where)   # particles on both sides of a crossing ion; a chargeable capacitor
    for name, ch in data["channels"].items():
        for key in ("mean_open_time_ns", "time_constant_ns"):   # a leak gate's, a Kir gate's
            if key in ch and ch[key] < 2 * phys["dt_ns"]:
                raise ConfigError(f"{where}: channels.{name}.{key} = {ch[key]:g} is shorter than two time steps "
                                  f"({2 * phys['dt_ns']:g} ns): the gates would flip every step; "
                                  f"allowed: >= {2 * phys['dt_ns']:g}")
    clamp = data["clamp"]
    if clamp["protocol"] and not clamp["enabled"]:
        raise ConfigError(f"{where}: clamp.protocol is given but clamp.enabled is false; set clamp.enabled = true "
                          f"to run it")
    for table in ("clamp", "stimulus"):        # the electrodes' protocols: whole steps
        for n, entry in enumerate(data[table]["protocol"], 1):
            if entry["duration_ns"] < phys["dt_ns"]:
                raise ConfigError(f"{where}: {table}.protocol entry {n} duration_ns = {entry['duration_ns']:g} is "
                                  f"shorter than one time step; allowed: >= physics.dt_ns ({phys['dt_ns']:g})")
    agents = [t for t in TRANSPORTERS if data[t.name]["count"] > 0]   # the types this membrane has
    for t in agents:
        k_per_step = 2 * data[t.name]["max_turnover_per_us"] * 1e-3 * phys["dt_ns"]
        if k_per_step > 0.5:
            raise ConfigError(f"{where}: {t.name}.max_turnover_per_us = {data[t.name]['max_turnover_per_us']:g} is too "
                              f"fast for physics.dt_ns = {phys['dt_ns']:g} (a {t.label}'s step would have to happen "
                              f"more than every other time step); allowed: <= {0.25e3 / phys['dt_ns']:.4g}")
    # steps must stay well inside a pore and far thinner than the band
    d_max = max(data["diffusion"].values())
    d_max = max(d_max, data["fixed_anions"]["D_nm2_per_ns"])
    a_limit = min(mem["pore_width_nm"] / 2.0, box["membrane_thickness_nm"] / 4.0)
    dt_max = a_limit ** 2 / (6.0 * d_max)
    if phys["dt_ns"] > dt_max:
        raise ConfigError(f"{where}: physics.dt_ns = {phys['dt_ns']:g} makes steps too long for the pores and "
                          f"membrane; allowed: <= {dt_max:.4g} ns with these D, pore width and thickness")
    stir = data["stirring"]
    if stir["enabled"]:
        reach = float(step_half_width_nm(d_max, phys["dt_ns"])) * math.sqrt(stir["D_factor"])
        if stir["from_nm"] < reach:
            raise ConfigError(f"{where}: stirring.from_nm must be >= {reach:.3g} nm (the longest stirred step, so no "
                              f"stirred step reaches the membrane), got {stir['from_nm']:g}")
    perf = data["perfusion"]
    if perf["enabled"]:
        outside = box["width_nm"] - box["membrane_x_nm"] - box["membrane_thickness_nm"] / 2
        if not PERFUSION_MIN_nm <= perf["from_nm"] <= outside - PERFUSION_MIN_nm:
            raise ConfigError(f"{where}: perfusion.from_nm must lie between {PERFUSION_MIN_nm:g} nm from the membrane "
                              f"and {PERFUSION_MIN_nm:g} nm from the far wall (the outside is {outside:g} nm wide), "
                              f"got {perf['from_nm']:g}")
        if perf["every_ns"] < phys["dt_ns"]:
            raise ConfigError(f"{where}: perfusion.every_ns must be at least one step ({phys['dt_ns']:g} ns), "
                              f"got {perf['every_ns']:g}")
    if mem["pore_width_nm"] >= mem["site_spacing_nm"]:
        raise ConfigError(f"{where}: membrane.pore_width_nm ({mem['pore_width_nm']:g}) must be smaller than "
                          f"membrane.site_spacing_nm ({mem['site_spacing_nm']:g}) so walls separate the pores")
    for t in agents:
        if 2 * data[t.name]["capture_radius_nm"] >= mem["site_spacing_nm"]:
            raise ConfigError(f"{where}: {t.name}.capture_radius_nm must be < membrane.site_spacing_nm / 2 "
                              f"({mem['site_spacing_nm'] / 2:g}), got {data[t.name]['capture_radius_nm']:g}")
    if mem["site_spacing_nm"] > box["height_nm"]:
        raise ConfigError(f"{where}: membrane.site_spacing_nm must be <= box.height_nm ({box['height_nm']:g})")
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        pages = 8 << 30
    max_particles = pages // 2 // BYTES_PER_PARTICLE
    if phys["particles"] > max_particles:
        raise ConfigError(f"{where}: physics.particles = {phys['particles']} will not fit in this machine's "
                          f"memory ({pages / 2**30:.0f} GiB); allowed: <= {max_particles}")
    n_sites = membrane_sites(data)
    if n_sites > MAX_SITES:
        raise ConfigError(f"{where}: box.height_nm = {box['height_nm']:g} makes {n_sites} membrane sites "
                          f"(box.height_nm / membrane.site_spacing_nm); allowed: <= {MAX_SITES}")
    # Channel and transporter numbers must fit on the membrane's sites.
    n_agents = transporter_count(data)
    if n_agents > n_sites:
        counts = ", ".join(f"{t.name}.count = {data[t.name]['count']}" for t in agents)
        raise ConfigError(f"{where}: {counts}: {n_agents} transporters do not fit on the membrane's "
                          f"{n_sites} sites (box.height_nm / membrane.site_spacing_nm); allowed: <= {n_sites}")
    plan = channel_plan(data)
    needed = sum(plan.counts.values()) + n_agents
    if needed > n_sites:
        raise ConfigError(f"{where}: even at one channel per unit permeability, {needed} channels and transporters do "
                          f"not fit on the membrane's {n_sites} sites; lower pump.count or the permeability ratios, "
                          f"or raise box.height_nm")
    return data


MAX_SITES = 200_000            # channel and pump sites along the membrane
MIN_CROSSING_PARTICLES = 3     # of an ion that crosses, on each side: "a few"; fewer and it has no gradient to speak of
MAX_CHARGE_SHARE = 0.25        # the unpaired charge at -100 mV, as a share of the inside's ions


def _check_counts(data: dict, where: str) -> None:
    """What the placement will make of these concentrations, box and particle number: an ion
    that crosses needs particles on both sides, and the capacitor must be chargeable."""
    box, phys = data["box"], data["physics"]
    half = box["membrane_thickness_nm"] / 2.0
    area_in = (box["membrane_x_nm"] - half) * box["height_nm"]
    area_out = (box["width_nm"] - box["membrane_x_nm"] - half) * box["height_nm"]
    fa = data["fixed_anions"]
    try:
        with np.errstate(all="raise"):
            counts = compartment_counts(data["inside"], data["outside"], fa["charge"], fa["enabled"],
                                        area_in, area_out, phys["particles"])
    except (ValueError, OverflowError, FloatingPointError, ZeroDivisionError):
        raise ConfigError(f"{where}: these concentrations, box and physics.particles = {phys['particles']} give no "
                          f"countable particles (a value is too large or too small); allowed: concentrations and "
                          f"box sizes that place at least {MIN_CROSSING_PARTICLES} ions of each crossing species "
                          f"on each side") from None
    carried = {t.ion for t in channel_types(data) if t.relative_permeability > 0}
    # an exchanger's ions too (it settles where its cycle does no work: both sides of every ion it carries)
    carried |= {ion for t in TRANSPORTERS if not t.atp and data[t.name]["count"] > 0 and data[t.name]["enabled"]
                for ion in t.stoichiometry}
    for ion in (i for i in SOLUTES if i in carried):
        for side, n in (("inside", counts.inside), ("outside", counts.outside)):
            if n[Species[ion]] < MIN_CROSSING_PARTICLES:
                raise ConfigError(f"{where}: {side}.{ion} = {data[side][ion]:g} mM places {n[Species[ion]]} {ion} "
                                  f"particles {side} (with physics.particles = {phys['particles']}); an ion that "
                                  f"crosses needs at least {MIN_CROSSING_PARTICLES} on each side: raise "
                                  f"{side}.{ion} or physics.particles")
    n_in = int(counts.inside.sum())
    need = 100.0 * phys["capacitance_e_per_mV"]
    if need > MAX_CHARGE_SHARE * n_in:
        raise ConfigError(f"{where}: physics.capacitance_e_per_mV = {phys['capacitance_e_per_mV']:g} needs "
                          f"{need:.3g} unpaired charges for -100 mV, more than {MAX_CHARGE_SHARE:.0%} of the "
                          f"{n_in} ions a cell placed with these concentrations and physics.particles = "
                          f"{phys['particles']} would hold inside; allowed: <= {MAX_CHARGE_SHARE * n_in / 100:.4g}")


def membrane_sites(data: dict) -> int:
    return int(data["box"]["height_nm"] // data["membrane"]["site_spacing_nm"])


def transporter_count(data: dict) -> int:
    return sum(data[t.name]["count"] for t in TRANSPORTERS)


def _ion_of(name: str, table: dict) -> str:
    return name if name in PERMEANT else table["ion"]


def _complete_channels(data: dict, where: str) -> None:
    """Each channel type's table completed (in place): a leak type of an ion gets that ion's leak
    defaults; a declared type needs `ion` and `gating` and takes its model's keys and defaults."""
    for name, t in list(data["channels"].items()):
        if name in PERMEANT:
            extra = [k for k in t if k not in LEAK_KEYS]
            if extra:
                raise ConfigError(f"{where}: channels.{name}.{extra[0]}: [channels.{name}] is the {LABEL[name]} leak "
                                  f"type, whose keys are {', '.join(LEAK_KEYS)}; declare a type of its own for other "
                                  f"gating, e.g. [channels.{name}v] with ion = \"{name}\" and gating = \"...\"")
            data["channels"][name] = {**DEFAULT_CHANNELS[name], **t}
            continue
        missing = [k for k in ("ion", "gating") if k not in t]
        if missing:
            raise ConfigError(f"{where}: channels.{name} declares a channel type and needs {' and '.join(missing)} "
                              f"(ion: one of {', '.join(PERMEANT)}; gating: one of {', '.join(MODELS)})")
        if t["ion"] not in PERMEANT:
            raise ConfigError(f"{where}: channels.{name}.ion must be an ion that can cross: one of {', '.join(PERMEANT)}, "
                              f"got {t['ion']!r}")
        if t["gating"] not in MODELS:
            raise ConfigError(f"{where}: channels.{name}.gating must be one of {', '.join(MODELS)}, got {t['gating']!r}")
        model = MODELS[t["gating"]]
        own = dict(DEFAULT_CHANNELS[t["ion"]]) if model.leak else {k: p.default for k, p in model.params.items()}
        allowed = ("ion", "gating") + tuple(LEAK_KEYS if model.leak else COMMON_KEYS) + tuple(model.params)
        extra = [k for k in t if k not in allowed]
        if extra:
            raise ConfigError(f"{where}: channels.{name}.{extra[0]}: a {t['gating']} type has no {extra[0]}; its keys "
                              f"are {', '.join(allowed)}")
        resolved = {"ion": t["ion"], "gating": t["gating"], "relative_permeability": 1.0, "pore_D_factor": 1.0}
        resolved.update({k: v for k, v in own.items() if k != "relative_permeability" or model.leak})
        resolved.update({k: v for k, v in t.items() if k not in ("ion", "gating")})
        data["channels"][name] = resolved


def channel_types(data: dict) -> list[ChannelType]:
    """A cell's channel types: the leak type of every ion that can cross (in the species table's
    order; absent from the config, it has no channels until a live change adds some), then the
    declared types in the config's order. A type's index in this list is its id in the kernels."""
    ch = data["channels"]
    out = [ChannelType.from_table(ion, ion, "leak", ch.get(ion, dict(DEFAULT_CHANNELS[ion], relative_permeability=0.0)),
                                  ion in ch) for ion in PERMEANT]
    out += [ChannelType.from_table(name, t["ion"], t["gating"], t, True) for name, t in ch.items() if name not in PERMEANT]
    return out


def gating(data: dict) -> dict[str, Gating]:
    """Gating of every permeant species' channels: the config's, or the defaults of a type it lacks."""
    ch = data["channels"]
    return {ion: Gating(t["open_probability"], t["mean_open_time_ns"])
            for ion, t in ((i, ch.get(i, DEFAULT_CHANNELS[i])) for i in PERMEANT)}


def channel_plan(data: dict) -> ChannelPlan:
    """How many channels of each type the config's permeabilities need (see `membrane.channels`)."""
    return plan_channels(channel_types(data), {ion: data["diffusion"][ion] for ion in PERMEANT},
                         membrane_sites(data) - transporter_count(data),
                         data["membrane"]["channels_per_unit_permeability"],
                         data["membrane"]["min_channels_per_type"])


_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string for any text: quotes, backslashes and every control character escaped."""
    out = []
    for c in text:
        if c in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[c])
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def to_toml(data: dict) -> str:
    """The resolved config written back as TOML (for reruns)."""
    def fmt(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return toml_string(v)
        if isinstance(v, list):
            return "[" + ", ".join(fmt(e) for e in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {fmt(e)}" for k, e in v.items()) + "}"
        return repr(v)
    lines = [f"{k} = {fmt(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for table, body in data.items():
        if not isinstance(body, dict) or table == "channels":
            continue
        lines += ["", f"[{table}]"] + [f"{k} = {fmt(v)}" for k, v in body.items() if v is not None]
    for ion, body in data["channels"].items():
        lines += ["", f"[channels.{ion}]"] + [f"{k} = {fmt(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"
