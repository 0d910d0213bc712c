"""What may change a running cell: one registry, read by scenario steps, live keys, buttons and the API.

An intervention has a name as a user writes it (`pumps`, `outside.K`, `channels.Kir`, `clamp`),
the config keys it changes, a check (by the config file's rules: a refused value raises
ConfigError naming the key and what is allowed) and an apply, which changes the session's cell
through `Simulation`'s methods and returns what to say about it. A scenario's `[step.set]` table,
`Lab.set(...)` and the live view's keys all end here, so the three vocabularies are one:

    pumps, ncx, ...        true/false: run or block a transporter type (false on pumps: ouabain)
    field, selectivity     true/false: the pores' field and selectivity
    fixed_anions           true/false: the trapped anions inside (rebuilds the cell)
    cell                   0.25 ... 4: the cell's size against the one it started as (rebuilds)
    clamp                  false, a command in mV, or a theory line and offset ("E_K+20")
    inside.ION, outside.ION    mM >= 0 (the side kept neutral by fillers)
    channels.TYPE          relative permeability >= 0 of a channel type (0 blocks it)
    pulse                  [pA, ns]: a current pulse from now (positive: depolarising)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from membrane.transporters import TABLE as TRANSPORTERS
from particles.species import LABEL, PERMEANT_NAMES, SOLUTES
from simulation.core.config import Config, ConfigError
from simulation.core.observe import charge_e

CELL_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
# the theory lines: each ion's Nernst potential, each exchanger's reversal potential (E_NCX)
E_LINES = tuple(f"E_{i}" for i in PERMEANT_NAMES) + tuple(t.reversal_key[:-3] for t in TRANSPORTERS if t.reversal_key)
# a clamp's command: mV, or a theory line and an offset ("E_K", "E_K+20", "V_GHK-10"); false releases
CLAMP_TARGET = re.compile(r"^(" + "|".join(E_LINES + ("V_GHK",)) + r")\s*(?:([+-])\s*(\d+(?:\.\d+)?))?$")


@dataclass(frozen=True)
class Intervention:
    name: str                                         # as a user writes it; TYPE / ION stand for any
    allowed: str                                      # the values allowed, in words
    help: str
    matches: Callable[[str], bool]
    config_keys: Callable[[str], tuple[str, ...]]
    check: Callable[[Config, str, Any, str], Any]     # (cell's config, key, value, where) -> the value to apply
    apply: Callable[[Any, str, Any], str]             # (session, key, checked value) -> what to say
    rebuild: bool = False     # apply only stages the change; `apply_changes` then builds the cell again once


# ---- checks -------------------------------------------------------------------------------------

def _bool(config: Config, key: str, v, where: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f"{where} must be true or false, got {v!r}")
    return v


def _cell(config: Config, key: str, v, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) not in CELL_SCALES:
        raise ConfigError(f"{where} must be one of {', '.join(f'{c:g}' for c in CELL_SCALES)}, got {v!r}")
    return float(v)


def _clamp(config: Config, key: str, v, where: str):
    """False (release), a command in mV, or "E_K", "E_K+20", "V_GHK-10", ..."""
    if v is False:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ConfigError(f"{where} must be false, a potential in mV or a theory line with an offset "
                          f"(\"E_K\", \"E_K+20\", \"V_GHK-10\"), got {v!r}")
    if isinstance(v, str):
        if not CLAMP_TARGET.match(v.strip()):
            raise ConfigError(f"{where}: {v!r} is not {', '.join(E_LINES)} or V_GHK with an optional + or - offset "
                              f"in mV (\"E_K+20\")")
        return v.strip()
    _by_config(config, "clamp.command_mV", float(v), where)
    return float(v)


def _amount(config: Config, key: str, v, where: str) -> float:
    """A concentration or a channel type's permeability: a number >= 0 its config accepts."""
    side, _, name = key.partition(".")
    allowed = SOLUTES if side != "channels" else tuple(t.name for t in config.channel_types())
    if name not in allowed:
        what = "ion" if side != "channels" else "channel type"
        raise ConfigError(f"{where}: unknown {what} {name!r}; allowed: {', '.join(allowed)}")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ConfigError(f"{where} must be a number >= 0, got {v!r}")
    _by_config(config, _amount_key(key), float(v), where)
    return float(v)


def _pulse(config: Config, key: str, v, where: str) -> tuple[float, float]:
    """[current in pA, duration in ns], by the rules of the config's stimulus protocol."""
    if (not isinstance(v, (list, tuple)) or len(v) != 2
            or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v)):
        raise ConfigError(f"{where} must be [current in pA, duration in ns], e.g. [300, 2], got {v!r}")
    _by_config(config, "stimulus.protocol", [{"current_pA": float(v[0]), "duration_ns": float(v[1])}], where)
    return float(v[0]), float(v[1])


def pulse_words(current_pA: float, duration_ns: float, capacitance_e_per_mV: float) -> str:
    """What a pulse carries, in words: "25 charges in, +12 mV on a sealed membrane"."""
    charge = charge_e(current_pA, duration_ns)
    return (f"{abs(charge):.0f} charges {'in' if charge >= 0 else 'out'}, "
            f"{charge / capacitance_e_per_mV:+.0f} mV on a sealed membrane")


def _pulse_apply(session, key: str, v: tuple[float, float]) -> str:
    """A pulse, in the terms of the cell the config describes: scaled with the cell (`--cell`,
    [ and ]) like its capacitance, so it moves V the same."""
    current_pA, duration_ns = v[0] * session.cell_scale, v[1]
    sim = session.sim
    held = sim.held_pA                      # a current held goes on through the pulse and after it
    why_not = session.predict([(current_pA + held, duration_ns)], then_pA=held) if not sim.clamped else ""
    sim.inject(current_pA, duration_ns)
    said = f"pulse {current_pA:+.0f} pA for {duration_ns:g} ns: " + pulse_words(current_pA, duration_ns,
                                                                                 sim.capacitance_e_per_mV)
    return said + (f" ({why_not})" if why_not else "")


def _hold(config: Config, key: str, v, where: str) -> float:
    """A steady current in pA (0: none), by the rules of the config's stimulus."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{where} must be a current in pA (0 stops it), got {v!r}")
    _by_config(config, "stimulus.hold_pA", float(v), where)
    return float(v)


def _hold_apply(session, key: str, v: float) -> str:
    """A held current, scaled with the cell as a pulse is."""
    v = v * session.cell_scale
    sim = session.sim
    why_not = session.predict([], then_pA=v) if v and not sim.clamped else ""
    sim.hold(v)
    if not v:
        return "held current off"
    per_100ns = charge_e(v, 100.0)
    return (f"a steady {v:+.0f} pA from now: {abs(per_100ns):.0f} charges {'in' if v > 0 else 'out'} per 100 ns, "
            f"{per_100ns / sim.capacitance_e_per_mV:+.0f} mV per 100 ns on a sealed membrane"
            + (f" ({why_not})" if why_not else ""))


def _amount_key(key: str) -> str:
    return f"{key}.relative_permeability" if key.startswith("channels.") else key


def _by_config(config: Config, full_key: str, v, where: str) -> None:
    try:
        config.replace({full_key: v}, where)
    except ConfigError as e:
        raise ConfigError(str(e)) from None


# ---- applies (each returns what to say) -----------------------------------------------------------

def _transporter(name: str) -> Callable:
    t = next(t for t in TRANSPORTERS if t.name == name)

    def apply(session, key: str, on: bool) -> str:
        sim = session.sim
        if sim.transporters.count(name) == 0:
            return f"this cell has no {t.label}s"
        sim.set_transporter(name, on, ("pump on" if on else "ouabain: pump blocked") if t.atp else None)
        if t.atp and not on:
            session.ouabain_given = True
            return f"ouabain: the {t.label}s are blocked"
        return f"the {t.label}s {'run again' if on else 'are blocked'}"
    return apply


def _field(session, key: str, on: bool) -> str:
    session.sim.set_field(on)
    return "field on: the pores feel V again" if on else "field off: pores ignore V, nothing pushes back"


def _selectivity(session, key: str, on: bool) -> str:
    session.sim.set_selectivity(on)
    return "selectivity on: each pore passes its own ion" if on else "selectivity off: every pore passes every ion"


def _fixed_anions(session, key: str, on: bool) -> str:
    session.anions_removed = not on
    return ("restart: fixed anions back inside" if on
            else "restart: no fixed anions inside (Cl- takes their place)")


def _cell_apply(session, key: str, scale: float) -> str:
    before = session.cell_scale
    session.cell_scale = scale * session.initial_cell_scale
    noise = ("the same noise" if session.cell_scale == before
             else f"{'less' if session.cell_scale > before else 'more'} noise")
    return f"restart: cell x{session.cell_scale:g} (membrane, ions, capacitance): the same V, {noise}"


def clamp_command(target, theory: dict) -> float:
    """The command a clamp target asks for, given the theory lines now (mV)."""
    if not isinstance(target, str):
        return float(target)
    m = CLAMP_TARGET.match(target)
    name, sign, offset = m.group(1), m.group(2), m.group(3)
    base = theory.get(f"{name}_mV")
    if base is None or not math.isfinite(base):
        raise ConfigError(f"clamp {target!r}: {name} has no value in this cell now (an ion it needs is absent on "
                          f"a side, or nothing crosses); give a command in mV")
    return base + (float(offset) if sign == "+" else -float(offset) if sign else 0.0)


def _clamp_apply(session, key: str, target) -> str:
    sim = session.sim
    if target is False:
        sim.set_clamp(False)
        return "clamp off: V is free"
    mv = clamp_command(target, sim.theory(donnan=False))
    sim.set_clamp(True, round(mv, 1))
    return f"clamped at {sim.clamp_mV:.1f} mV"


def _concentration(session, key: str, mM: float) -> str:
    side, ion = key.split(".")
    sim = session.sim
    before = sim.concentrations_mM()[0 if side == "inside" else 1]
    reached = sim.set_concentration(side, ion, mM)
    session.forget_tracked()       # particles may have been renumbered
    after = sim.concentrations_mM()[0 if side == "inside" else 1]
    where = "o" if side == "outside" else "i"
    said = f"[{ion}]{where} = {reached:.3g} mM"
    if abs(reached - mM) > 0.01 * mM:                  # whole particles: a trace rounds to none
        each = sim.mM_per_particle[0 if side == "inside" else 1]
        said += f" ({mM:.3g} asked: this cell holds whole particles, {each:.3g} mM each)"
    for filler, words in (("X", "X- (an impermeant anion)"), ("Y", "Y+ (an impermeant cation)")):
        d = after[filler] - before[filler]
        if filler != ion and abs(d) > 1e-9:
            said += (f"; {words} {'came in with' if d > 0 else 'left for'} the {'added' if reached > before[ion] else 'removed'}"
                     f" {LABEL[ion]}, to keep the {'bath' if side == 'outside' else 'cytoplasm'} neutral")
            break
    return said


def _permeability(session, key: str, relative: float) -> str:
    name = key.split(".", 1)[1]
    sim = session.sim
    t = sim.channels.type_of(name)
    before = sim.channels.effective_permeability()[name]
    got = sim.set_relative_permeability(name, relative)
    words = type_words(t)
    if relative > 0 and abs(got / relative - 1) > 0.01:
        return f"P_{name}: {relative:.3g} asked, {got:.3g} placed (whole channels, or no more room on the membrane)"
    if before == 0 and got > 0:
        return f"{words} added: P_{name} = {got:.3g} of P_K"
    if got == 0:
        return f"{words} blocked: P_{name} = 0"
    return f"P_{name} = {got:.3g} of P_K"


def _single_file(session, key: str, on: bool) -> str:
    name = key.split(".")[1]
    session.sim.set_single_file(name, on)
    t = session.sim.channels.type_of(name)
    return f"{type_words(t)}: {'single file, no ion passes another' if on else 'ions pass each other'}"


def type_words(t) -> str:
    """A channel type in words: "K+ leak channels", "Kir channels (K+, kir gating)"."""
    return f"{LABEL[t.ion]} leak channels" if t.name == t.ion else f"{t.name} channels ({LABEL[t.ion]}, {t.gating})"


def _switch(name: str, help_text: str, apply, config_key: str, rebuild: bool = False):
    return Intervention(name, "true or false", help_text, lambda k, n=name: k == n, lambda k: (config_key,),
                        _bool, apply, rebuild)


REGISTRY: tuple[Intervention, ...] = (
    _switch("pumps", "run (true) or block with ouabain (false) the Na/K pumps", _transporter("pump"),
            "pump.enabled"),
    *(_switch(t.name, f"run (true) or block (false) the {t.label}s", _transporter(t.name), f"{t.name}.enabled")
      for t in TRANSPORTERS[1:]),
    _switch("field", "the field in the pores on (true) or off (false: nothing pushes back)", _field,
            "physics.field"),
    _switch("selectivity", "each pore passes its own ion (true) or every ion (false)", _selectivity,
            "physics.selectivity"),
    _switch("fixed_anions", "the trapped anions inside (true) or none, Cl- in their place (false); "
            "rebuilds the cell", _fixed_anions, "fixed_anions.enabled", rebuild=True),
    Intervention("cell", ", ".join(f"{c:g}" for c in CELL_SCALES),
                 "the cell's size against the one it started as (membrane, ions, capacitance); rebuilds it",
                 lambda k: k == "cell", lambda k: ("box.height_nm", "physics.particles",
                                                   "physics.capacitance_e_per_mV"), _cell, _cell_apply, rebuild=True),
    Intervention("clamp", "false, mV, or E_K / E_Na / ... / V_GHK with an offset (\"E_K+20\")",
                 "voltage clamp: false releases V; a command holds it there",
                 lambda k: k == "clamp", lambda k: ("clamp.enabled", "clamp.command_mV"), _clamp, _clamp_apply),
    Intervention("inside.ION", "mM >= 0", "a concentration inside (the cytoplasm kept neutral by fillers)",
                 lambda k: k.startswith("inside."), lambda k: (k,), _amount, _concentration),
    Intervention("outside.ION", "mM >= 0", "a concentration in the bath (kept neutral by fillers)",
                 lambda k: k.startswith("outside."), lambda k: (k,), _amount, _concentration),
    Intervention("channels.TYPE.single_file", "true or false",
                 "a channel type's pores hold their ions in a row, none passing another (true), or let them "
                 "pass (false): the tracer fluxes change, the current does not",
                 lambda k: k.startswith("channels.") and k.endswith(".single_file"), lambda k: (k,), _bool,
                 _single_file),
    Intervention("channels.TYPE", "relative permeability >= 0",
                 "a channel type's permeability, relative to the K+ leak's unit (0 blocks it: TTX, TEA)",
                 lambda k: k.startswith("channels."), lambda k: (_amount_key(k),), _amount, _permeability),
    Intervention("pulse", "[pA, ns], e.g. [300, 2]",
                 "a current pulse from now, through an electrode (positive: positive charge in, depolarising)",
                 lambda k: k == "pulse", lambda k: ("stimulus.protocol",), _pulse, _pulse_apply),
    Intervention("hold", "pA (0 stops it)",
                 "a steady current from now on, through the electrode (a train of spikes, if the cell fires)",
                 lambda k: k == "hold", lambda k: ("stimulus.hold_pA",), _hold, _hold_apply),
)


def find(key: str, where: str = "set") -> Intervention:
    """The intervention a key names (ConfigError listing the allowed names if none)."""
    for i in REGISTRY:
        if i.matches(key):
            return i
    raise ConfigError(f"{where}: unknown change {key!r}; allowed: {', '.join(i.name for i in REGISTRY)}")


def check(config: Config, key: str, value, where: str | None = None):
    """`value` for `key` checked against the cell `config` describes; returns the value to apply."""
    here = where or f"set {key}"
    return find(key, here).check(config, key, value, here)


def check_changes(changes, at: str, config: Config) -> dict:
    """A table of changes (a scenario step's [step.set], `Lab.set`'s keywords), each checked against
    the cell the changes before it leave (`outside.Ca` then `channels.Ca` in one table is allowed)."""
    if not isinstance(changes, dict):
        raise ConfigError(f"{at}: set must be a table of changes")
    out = {}
    for key, v in changes.items():
        here = f"{at}: set.{key}"
        out[key] = find(key, here).check(config, key, v, here)
        config = _changed(config, {key: out[key]}, here)
    return out


def config_after(config: Config, changes: dict, base: Config, at: str) -> Config:
    """The config of the cell after checked `changes` are applied as `apply_changes` applies them:
    a change that rebuilds the cell builds it from `base` (the scenario's or the part's starting
    config: what a step's other live changes did is gone with the old cell), keeping the fixed
    anions as they were; the others change the cell in place. A scenario checks each step against
    the cell the earlier steps leave."""
    if any(find(key).rebuild for key in changes):
        config = base.replace({"fixed_anions.enabled": config["fixed_anions.enabled"]}, at)
    return _changed(config, changes, at)


def _changed(config: Config, changes: dict, at: str) -> Config:
    """`config` with the lasting part of checked changes (a pulse leaves nothing; a clamp to a theory
    line sets its command only when played; the cell's scale is the session's, not the config's)."""
    table = {}
    for key, v in changes.items():
        if key == "clamp":
            table["clamp.enabled"] = v is not False
            if not isinstance(v, (bool, str)):
                table["clamp.command_mV"] = v
        elif key in ("cell", "pulse"):
            continue
        else:
            (full_key,) = find(key).config_keys(key)
            table[full_key] = v
    return config.replace(table, at) if table else config


def apply_changes(session, changes: dict, title: str | None = None, rebuild_from: Config | None = None,
                  say_refusals: bool = False) -> list[str]:
    """Apply checked changes to a session's cell; returns what each said. Changes that need a new
    cell (`rebuild`) are staged first and the cell is built once, from `rebuild_from` (default:
    the session's base config) and said as `title` if given; the others are applied to it after.
    A change the cell refuses raises ConfigError, or with `say_refusals` is said ("cannot: ...")
    and the others still apply."""
    said = []
    rows = {key: find(key) for key in changes}
    staged = [rows[key].apply(session, key, v) for key, v in changes.items() if rows[key].rebuild]
    if staged or rebuild_from is not None:
        said.append(session.restart(rebuild_from or session.base_config, title or "; ".join(staged)))
    for key, v in changes.items():
        if not rows[key].rebuild:
            try:
                said.append(rows[key].apply(session, key, v))
            except ConfigError as e:
                if not say_refusals:
                    raise
                said.append(f"cannot: {e}")
    return said


def keys_for(config: Config) -> tuple[str, ...]:
    """Every key a cell of this config accepts, spelled out (outside.K, channels.Kir, ...)."""
    out = []
    for i in REGISTRY:
        if i.name.endswith(".ION"):
            out += [f"{i.name.split('.')[0]}.{ion}" for ion in SOLUTES]
        elif i.name == "channels.TYPE":
            out += [f"channels.{t.name}" for t in config.channel_types()]
        else:
            out.append(i.name)
    return tuple(out)
