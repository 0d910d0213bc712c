"""A cell being watched and handled: what a live front end does, without drawing anything.

A `Session` owns the `Simulation` it shows and what a user changes about showing it: the pace
(steps per frame, pause, slow motion, fast-forward), the V trace (`VTrace`), the rates of the
last half µs, the ion being followed, the theory lines, and the changes that need the cell built
again (the cell's size, the fixed anions, the preset). Every live action is a method that does
its work and returns what to say (a line for a toast, a notebook label or a log); none calls a
view. Changes to the cell go through the registry of interventions (`apply`, `intervene`), the
one vocabulary of scenario steps, keys, buttons and the API. `CONTROLS` lists the actions a
front end offers as buttons or keys, with their labels and help, so the Pygame window and the
notebook view show the same ones.

One frame of a front end: `advance_frame()` (the pace decides how many steps, and the trace,
markers, rates and trail are read after them), then draw from `sim`, `trace` and `theory_now()`.
"""
from __future__ import annotations

import copy
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from membrane.gating import MODELS, clock_factor
from membrane.transporters import COUNTERS, TABLE as TRANSPORTERS
from particles.species import LABEL, NAMES, PERMEANT_NAMES
from particles.state import HELD
from simulation.core.config import DEFAULT_CHANNELS, Config, ConfigError, load, preset_names
from simulation.core.model import Simulation
from simulation.core.spike_theory import UnitMeter
from simulation.core.spikes import DETECT_mV, REARM_mV
from simulation.session import interventions
from simulation.session.interventions import CELL_SCALES, pulse_words, type_words
from simulation.session.trace import VTrace

SLOW_EVERY = 6          # slow motion: one step every this many frames
MAX_STEPS_PER_FRAME = 512
RATE_WINDOW_NS = 500.0  # crossings per µs are counted over this much model time
RATE_MIN_NS = 50.0      # ... and not shown before this much has passed since a change (~30 K+ crossings each way
                         # at rest: fewer, and two equal rates read 30 % apart)
FAST_FRAME_S = 0.25     # fast-forward: step this long between frames
CLAMP_STEP_mV = 10.0    # the clamp's command moves in steps of this
PULSE_MIN_pA, PULSE_MAX_pA = 10.0, 1e5   # the live pulse (E): its start is the config's stimulus.live_pulse_pA
TRAIL_LENGTH = 160      # positions of the followed ion kept for its trail
SPIKE_SMOOTH_NS = 4.0   # a cell with gated channels: its thick trace averages over at most this (a spike rises in ~30 ns)
PREDICT_NS = 600.0      # after a pulse, the equations' V is drawn this far ahead
PREDICT_MIN_TRANSITS = 100   # ... once the pores' unit of permeability rests on this many transits (±10 %)


class Session:
    def __init__(self, config: Config, seed: int = 0, preset: str | None = None, cell_scale: float = 1.0,
                 prepare: Callable[[Callable[[], Simulation]], Simulation] | None = None):
        """`prepare(build)` runs `build` (which makes and compiles a Simulation) and returns its
        result: a front end may show that it is preparing meanwhile. Default: just run it."""
        self.base_config = config
        self.preset = preset
        self.seed = seed
        self.cell_scale = cell_scale
        self.initial_cell_scale = cell_scale       # a scenario's `cell` is relative to this
        self.anions_removed = not config["fixed_anions.enabled"]
        self.prepare = prepare or (lambda build: build())
        self.lock = threading.RLock()   # held while stepping or drawing: a view thread and Lab.run take turns
        self.steps_per_frame = 10
        self.paused = self.slow = self.fast = False
        self.fast_factor = 1.0
        self.clock: Callable[[], float] = time.perf_counter   # seconds: the pace of fast-forward (a test injects one)
        self.frame = 0
        self.show_donnan = False
        self.ouabain_given = False
        self.pulse_pA, self.pulse_ns = config["stimulus.live_pulse_pA"], config["stimulus.live_pulse_ns"]
        # the channel type 9 and 0 act on (Y selects): the first declared type, else the K+ leak
        declared = [t.name for t in config.channel_types() if t.name != t.ion]
        self.selected_type = declared[0] if declared else "K"
        self.trace = VTrace(capacity=trace_capacity(config, self.steps_per_frame))
        self.tracked: int | None = None
        self.trail: deque = deque(maxlen=TRAIL_LENGTH)
        self.view_request: tuple[str, Any] | None = None   # ("follow", i) or ("whole", None) for a view
        self.view_mid_nm: float | None = None   # the middle of what a view shows (y), if it says
        self.generation = 0                                  # +1 each time the cell is built again
        self.ghosts = False        # a rebuilt cell's trace starts beside a faint copy of the old one
        self._events_seen = 0
        self._rate_log: deque = deque()
        self._step_log: deque = deque(maxlen=60)
        self._theory: dict = {}
        self._theory_frame = -1
        self.spikes_seen = 0            # V crossing DETECT_mV upward, re-armed REARM_mV below (the audio's clicks)
        self._spike_armed = False
        self.sim = self.prepare(lambda: self._build(config))
        self.unit_meter = self._meter()

    # ---- building ------------------------------------------------------------------------------

    def _build(self, cfg: Config) -> Simulation:
        sim = Simulation(self.scaled(cfg), self.seed)
        sim.compile()
        return sim

    def scaled(self, cfg: Config) -> Config:
        """The config with the changes that need a new cell: the fixed anions removed or not, and
        the cell scaled (`scale_cell`)."""
        return scale_cell(cfg.replace({"fixed_anions.enabled": not self.anions_removed}, "restart"), self.cell_scale)

    def restart(self, cfg: Config, message: str) -> str:
        """Changes the physics cannot make live: build the cell again from its config. The trace
        keeps the old cell's as a ghost if `ghosts` is set (a scenario's rebuilding step)."""
        ghost = self.trace.series()
        try:
            sim = self.prepare(lambda: self._build(cfg))
        except ConfigError as e:
            return f"cannot: {e}"
        self.base_config = cfg
        self.sim = sim
        self.trace.clear()
        self.trace.ghost = ghost if self.ghosts and ghost[0].size >= 2 else None
        self._events_seen = 0
        self.forget_tracked()
        self._rate_log.clear()
        self.ouabain_given = False
        self._theory = {}
        self.unit_meter = self._meter()
        self.generation += 1
        return message

    def _meter(self) -> UnitMeter | None:
        """A cell with voltage-gated channels measures its pores' unit of permeability as it runs,
        for the equations drawn beside its V after a pulse (`predict`); its thick trace averages
        over at most SPIKE_SMOOTH_NS (a spike's peak stays a peak)."""
        sim = self.sim
        self.trace.smooth_max_ns = SPIKE_SMOOTH_NS if sim.channels.gated() else None
        if not sim.channels.gated():
            return None
        return UnitMeter(sim)

    # ---- the pace and one frame ------------------------------------------------------------------

    def advance_frame(self) -> int:
        """One frame's worth of model steps, by the pace (paused, slow, fast, steps per frame);
        returns the steps made."""
        self.frame += 1
        now = self.clock()
        if self.paused:
            return 0
        if self.fast:
            # as many steps as the model makes in FAST_FRAME_S, sampled for the trace as usual
            done, t_end = 0, now + FAST_FRAME_S
            while self.clock() < t_end:
                self.step(self.steps_per_frame)
                done += self.steps_per_frame
            self._step_log.append((now, done))
            self.fast_factor = done / self.steps_per_frame
            return done
        k = (1 if self.frame % SLOW_EVERY == 0 else 0) if self.slow else self.steps_per_frame
        if k:
            self.step(k)
            self._step_log.append((now, k))
        return k

    def step(self, k: int = 1) -> None:
        """`k` model steps, then the trace, markers, rates and trail read them."""
        self.sim.step(k)
        self._after_step()

    def _after_step(self) -> None:
        sim = self.sim
        self.trace.add(sim.time_ns, sim.v_mV, float(sim.charge_carried_in.sum()) + sim.pump_charge_in, sim.clamped)
        for e in sim.events[self._events_seen:]:
            self.trace.mark(e.time_ns, e.label)
        self._events_seen = len(sim.events)
        self._rate_log.append(self._rate_entry())
        while len(self._rate_log) > 2 and self._rate_log[1][0] <= sim.time_ns - RATE_WINDOW_NS:
            self._rate_log.popleft()
        if self.tracked is not None and self.tracked < sim.state.n:
            self.trail.append((float(sim.state.x[self.tracked]), float(sim.state.y[self.tracked])))
        if sim.v_mV > DETECT_mV and self._spike_armed:     # a spike, as summary.json counts them
            self.spikes_seen += 1
            self._spike_armed = False
        elif sim.v_mV < DETECT_mV - REARM_mV:
            self._spike_armed = True
        if self.unit_meter is not None:     # GHK's expectation holds only with the field on, selective, free
            self.unit_meter.sample(sim, counted=not sim.clamped and sim.field_on and sim.selective)

    def predict(self, protocol: list[tuple[float, float]], then_pA: float = 0.0) -> str:
        """Hodgkin and Huxley's equations for this cell from this moment under `protocol` ((pA, ns)
        segments), then `then_pA` held, for PREDICT_NS in all: the trace's `prediction`, drawn
        beside V. Needs the pores' unit of permeability measured from this cell's own transits
        first; says why not if it cannot."""
        sim, meter = self.sim, self.unit_meter
        if meter is None:
            return ""
        unit = meter.unit(sim)
        if unit.transits < PREDICT_MIN_TRANSITS:
            self.trace.prediction = None
            return (f"the equations need the pores' permeability: {unit.transits} of "
                    f"{PREDICT_MIN_TRANSITS} transits counted so far")
        protocol = list(protocol) + [(then_pA, PREDICT_NS - sum(ns for _, ns in protocol))]
        run = sim.deterministic_response(protocol, unit.nm2_per_ns, meter.pump_cycles_per_ns(sim), every_ns=1.0)
        self.trace.prediction = (sim.time_ns + run["t_ns"], run["V_mV"])
        return ""

    def _rate_entry(self) -> tuple:
        sim = self.sim
        return (sim.time_ns, np.array(sim.crossings), int(sim.pump_totals[1]), sim.transporters.tallies.counts.copy())

    def restart_rates(self) -> None:
        """Count crossings afresh from now (a change, a scenario's new step)."""
        self._rate_log.clear()
        self._rate_log.append(self._rate_entry())

    def steps_per_s(self) -> float:
        if len(self._step_log) < 2:
            return 0.0
        steps = sum(k for _, k in list(self._step_log)[1:])
        return steps / max(self._step_log[-1][0] - self._step_log[0][0], 1e-9)

    @property
    def pace(self) -> str:
        """The pace in words: "paused", "slow motion", "fast x40", or ""."""
        if self.fast:
            return f"fast x{self.fast_factor:.0f}"
        return "paused" if self.paused else ("slow motion" if self.slow else "")

    # ---- what a front end reads ------------------------------------------------------------------

    def theory_now(self, every_frames: int = 5) -> dict:
        """The theory lines at the concentrations now (recomputed every `every_frames` frames)."""
        if not self._theory or self.frame - self._theory_frame >= every_frames or self.frame < self._theory_frame:
            c_in, c_out = self.sim.concentrations_mM()
            self.concentrations = (c_in, c_out)
            self._theory = self.sim.theory(c_in, c_out, donnan=self.show_donnan)
            self._theory_frame = self.frame
        return self._theory

    def lines_shown(self) -> tuple[str, ...]:
        """The theory lines a scope shows: Nernst of the ions with channels, the reversal potential
        of each running exchanger, GHK, GHK with the pump while pumps run, Donnan when asked (D)."""
        sim = self.sim
        keys = [f"E_{ion}_mV" for ion in sim.channels.crossing()]
        keys += [t.reversal_key for t in TRANSPORTERS
                 if t.reversal_key and sim.transporters.count(t.name) > 0 and sim.transporters.running(t.name)]
        keys.append("V_GHK_mV")
        if sim.pump_count > 0 and sim.pumps_on:
            keys.append("V_pump_mV")
        if self.show_donnan:
            keys.append("V_Donnan_mV")
        return tuple(keys)

    def rates(self) -> tuple[dict, float, float]:
        """Crossings per µs per ion (out, in) of the channel types present, ATP per µs, and the
        model time they were counted over: the last RATE_WINDOW_NS, or since the last change to
        the cell (or a scenario's step) if that is more recent. The panel and a caption's
        {K_efflux} read this same window. Until RATE_MIN_NS have passed no rates are given (a few
        crossings in a few ns would read as hundreds per µs), only the time counted so far."""
        if len(self._rate_log) < 2:
            return {}, 0.0, 0.0
        t0, c0, a0, _ = self._rate_log[0]
        t1, c1, a1, _ = self._rate_log[-1]
        span_ns = t1 - t0
        if span_ns < RATE_MIN_NS:
            return {}, 0.0, max(span_ns, 0.0)
        d = (c1 - c0) / (span_ns * 1e-3)
        crossing = self.sim.channels.crossing()
        return ({ion: (d[0, k], d[1, k]) for k, ion in enumerate(NAMES) if ion in crossing},
                (a1 - a0) / (span_ns * 1e-3), span_ns)

    def transporter_lines(self) -> list[tuple]:
        """(label, agents, running, first counter per µs, counter name) of every transporter type
        but the pump that this cell has."""
        sim = self.sim
        out = []
        span = 0.0
        if len(self._rate_log) >= 2:
            (t0, _, _, k0), (t1, _, _, k1) = self._rate_log[0], self._rate_log[-1]
            span = (t1 - t0) * 1e-3
        for t in TRANSPORTERS[1:]:
            n = sim.transporters.count(t.name)
            if n == 0:
                continue
            c = COUNTERS.index(t.counters[0])
            rate = (k1[c] - k0[c]) / span if span > 0 else 0.0
            out.append((t.label, n, sim.transporters.running(t.name), rate, t.counters[0]))
        return out

    # ---- changes to the cell: the registry of interventions --------------------------------------

    def apply(self, key: str, value) -> str:
        """Check `value` for `key` by the registry and apply it; returns what to say. Raises
        ConfigError (one line: the key, the value, what is allowed) when refused."""
        checked = interventions.check(self.sim.config, key, value)
        return "; ".join(self.apply_checked({key: checked}))

    def apply_checked(self, changes: dict, title: str | None = None, rebuild_from: Config | None = None,
                      say_refusals: bool = False) -> list[str]:
        """Apply changes the registry has checked (`interventions.apply_changes`); the theory is
        recomputed and the crossings counted afresh from here."""
        try:
            return interventions.apply_changes(self, changes, title, rebuild_from, say_refusals)
        finally:
            self._theory = {}
            self.restart_rates()

    def intervene(self, key: str, value) -> str:
        """`apply`, with a refusal said rather than raised (for keys and buttons)."""
        try:
            return self.apply(key, value)
        except ConfigError as e:
            return f"cannot: {e}"

    # ---- live actions (each returns what to say, or None) ----------------------------------------

    def toggle_pause(self):
        self.paused = not self.paused

    def single_step(self):
        self.paused = True
        self.step(1)

    def slower(self):
        self.steps_per_frame = max(1, self.steps_per_frame // 2)
        return f"{self.steps_per_frame} steps per frame"

    def faster(self):
        self.steps_per_frame = min(MAX_STEPS_PER_FRAME, self.steps_per_frame * 2)
        return f"{self.steps_per_frame} steps per frame"

    def toggle_slow(self):
        self.slow = not self.slow
        if self.slow:
            self.fast = False

    def toggle_fast(self):
        """Fast-forward: step as fast as the model runs, a frame every FAST_FRAME_S."""
        self.fast = not self.fast
        if self.fast:
            self.slow = self.paused = False

    def toggle_pumps(self):
        return self.intervene("pumps", not self.sim.pumps_on)

    def scale_outside(self, ion: str, factor: float):
        c = self.sim.concentrations_mM()[1][ion]
        return self.intervene(f"outside.{ion}", max(0.5, c * factor))

    def scale_permeability(self, name: str, factor: float):
        """×2 or ÷2 a channel type's permeability. ×2 on a type the cell has no channels of adds
        them: a leak type at the textbook neuron's permeability (Na+ 0.05, Cl- 0.45, Ca2+ 0.01 of
        K+'s), a declared type at its config's."""
        channels = self.sim.channels
        t = channels.type_of(name)
        current = channels.effective_permeability()[name]
        if current == 0 and factor < 1:
            return f"this cell has no {type_words(t)}"
        c_in, c_out = self.sim.concentrations_mM()
        if current == 0 and not (c_in[t.ion] > 0 and c_out[t.ion] > 0):
            side = "inside" if c_in[t.ion] <= 0 else "outside"
            return f"no {LABEL[t.ion]} {side} this cell: no {LABEL[t.ion]} channels to add"
        start = DEFAULT_CHANNELS[name]["relative_permeability"] if t.leak and name in DEFAULT_CHANNELS \
            else t.relative_permeability
        return self.intervene(f"channels.{name}", start if current == 0 else channels.relative[name] * factor)

    def next_channel_type(self):
        """Select the next channel type of this cell for scale_selected."""
        names = self.sim.channels.names()
        k = names.index(self.selected_type) if self.selected_type in names else -1
        self.selected_type = names[(k + 1) % len(names)]
        t = self.sim.channels.type_of(self.selected_type)
        return (f"selected: {type_words(t)} (P_{t.name} {self.sim.channels.effective_permeability()[t.name]:.3g}); "
                f"9 halves, 0 doubles it")

    def scale_selected(self, factor: float):
        if self.selected_type not in self.sim.channels.names():
            self.selected_type = self.sim.channels.names()[0]
        return self.scale_permeability(self.selected_type, factor)

    def toggle_clamp(self):
        """Voltage clamp on (at the present V, to the nearest CLAMP_STEP_mV) or off."""
        if self.sim.clamped:
            return self.intervene("clamp", False)
        return self.intervene("clamp", round(self.sim.v_mV / CLAMP_STEP_mV) * CLAMP_STEP_mV)

    def command_step(self, dv: float):
        sim = self.sim
        now = sim.clamp_mV if sim.clamped else round(sim.v_mV / CLAMP_STEP_mV) * CLAMP_STEP_mV
        return self.intervene("clamp", now + dv)

    def toggle_field(self):
        return self.intervene("field", not self.sim.field_on)

    def pulse(self):
        """A current pulse of the size set (`pulse_pA` for `pulse_ns`)."""
        return self.intervene("pulse", [self.pulse_pA, self.pulse_ns])

    def pulse_size(self, factor: float):
        """The next pulse's current ×factor (between PULSE_MIN_pA and PULSE_MAX_pA)."""
        self.pulse_pA = float(min(max(self.pulse_pA * factor, PULSE_MIN_pA), PULSE_MAX_pA))
        actual = self.pulse_pA * self.cell_scale       # in this cell's terms (`interventions._pulse_apply`)
        return (f"next pulse: {actual:.0f} pA for {self.pulse_ns:g} ns "
                f"({pulse_words(actual, self.pulse_ns, self.sim.capacitance_e_per_mV)})")

    def toggle_selectivity(self):
        return self.intervene("selectivity", not self.sim.selective)

    def toggle_history(self):
        self.trace.history = not self.trace.history

    def toggle_donnan(self):
        self.show_donnan = not self.show_donnan
        self._theory = {}

    def toggle_anions(self):
        return self.intervene("fixed_anions", self.anions_removed)

    def _rescale(self, factor: float):
        """The cell ×2 or ÷2 (the `cell` intervention, relative to the size it started as)."""
        relative = self.cell_scale * factor / self.initial_cell_scale
        if relative not in CELL_SCALES:
            return f"the cell is at its {'largest' if factor > 1 else 'smallest'} (x{self.cell_scale:g})"
        return self.intervene("cell", relative)

    def cell_up(self):
        return self._rescale(2.0)

    def cell_down(self):
        return self._rescale(0.5)

    def reset(self, message: str | None = None):
        return self.restart(self.base_config, message or "reset: the cell starts again from V = 0")

    def next_preset(self):
        names = preset_names()
        i = (names.index(self.preset) + 1) % len(names) if self.preset in names else 0
        self.preset = names[i]
        cfg = load(self.preset)
        self.anions_removed = not cfg["fixed_anions.enabled"]
        return self.restart(cfg, f"preset: {cfg['name']}")

    def forget_tracked(self) -> None:
        self.tracked = None
        self.trail.clear()

    def follow(self, i: int | None):
        """Follow particle `i` (None: stop following)."""
        self.forget_tracked()
        if i is not None:
            self.tracked = int(i)
            s = self.sim.state
            self.trail.append((float(s.x[i]), float(s.y[i])))

    def follow_next(self, species: str | None = None, y_mid_nm: float | None = None):
        """Follow an ion about to cross (of `species`, or any): one in an open pore (or at its
        mouth) of its own type, deepest first, then nearest `y_mid_nm` (default: the middle of
        what the view shows, `view_mid_nm`); in slow motion. A view is asked to zoom to it (`view_request`)."""
        sim = self.sim
        s, g, pores = sim.state, sim.geometry, sim.channels.pores
        if species is not None and species not in sim.channels.crossing():
            return f"no {LABEL[species]} channels in this cell: none to follow"
        free = (s.flags & HELD) == 0
        near = free & (s.x > g.x_left_nm - 1.0) & (s.x < g.x_right_nm + 1.0)
        idx = np.flatnonzero(near)
        if idx.size == 0 or pores.y0.size == 0:
            return "no ion near an open pore just now"
        j = np.clip(np.searchsorted(pores.y1, s.y[idx]), 0, pores.y0.size - 1)
        ok = (s.y[idx] >= pores.y0[j]) & (s.y[idx] <= pores.y1[j]) & (pores.is_open[j] == 1) \
            & (pores.species[j] == s.species[idx])
        idx = idx[ok]
        if species is not None:
            idx = idx[s.species[idx] == NAMES.index(species)]
        if idx.size == 0:
            return "no ion near an open pore just now"
        depth = np.minimum(s.x[idx] - g.x_left_nm, g.x_right_nm - s.x[idx])
        mid = y_mid_nm if y_mid_nm is not None else (self.view_mid_nm if self.view_mid_nm is not None
                                                     else g.height_nm / 2)
        i = int(idx[np.lexsort((np.abs(s.y[idx] - mid), -depth))[0]])
        self.follow(i)
        self.view_request = ("follow", i)
        self.slow, self.fast, self.paused = True, False, False
        return f"following a {LABEL[NAMES[s.species[i]]]} in a pore, in slow motion (M: normal speed)"

    def stop_following(self):
        """Stop following and show the whole membrane again."""
        self.forget_tracked()
        self.view_request = ("whole", None)

    # ---- snapshots (a scenario's going back) --------------------------------------------------

    SNAPSHOT = ("cell_scale", "anions_removed", "ouabain_given", "base_config", "paused", "fast", "show_donnan",
                "pulse_pA")

    def snapshot(self) -> dict:
        """The state a user can come back to: the model and the trace (deep copies) and the pace."""
        snap = {k: getattr(self, k) for k in self.SNAPSHOT}
        snap.update(sim=copy.deepcopy(self.sim), trace=copy.deepcopy(self.trace))
        return snap

    def restore(self, snap: dict) -> None:
        rebuilt = self.sim.geometry.height_nm != snap["sim"].geometry.height_nm
        self.sim = copy.deepcopy(snap["sim"])
        self.trace = copy.deepcopy(snap["trace"])
        for k in self.SNAPSHOT:
            setattr(self, k, snap[k])
        self._events_seen = len(self.sim.events)
        self.forget_tracked()
        self._rate_log.clear()
        self._theory = {}
        if rebuilt:
            self.generation += 1


SPIKE_SPAN_HH_MS = 12.0   # an HH spike and its after-hyperpolarisation, in HH's ms at 6.3 °C


def trace_capacity(config: Config, steps_per_frame: int, least: int = 900) -> int:
    """The scope's ring in samples (one a frame): `least`, or, for a cell that can fire (a type
    whose gating inactivates, as Nav's h does), enough for a whole spike and its
    after-hyperpolarisation at `steps_per_frame` (SPIKE_SPAN_HH_MS on the cell's clock: 820 ns in
    the spiking preset, where 900 frames held 225 ns and its start had scrolled away before V
    came back)."""
    firing = [MODELS[t.gating] for t in config.channel_types() if MODELS[t.gating].inactivation is not None]
    if not firing:
        return least
    span_ns = SPIKE_SPAN_HH_MS / clock_factor(firing[0], config["physics.temperature_C"],
                                              config["membrane.hh_time_scale_ns_per_ms"])
    return max(least, int(np.ceil(span_ns / (steps_per_frame * config["physics.dt_ns"]))))


def scale_cell(cfg: Config, scale: float) -> Config:
    """The cell `scale` times as large: membrane length, ions, capacitance, pumps, exchangers and
    channels together, so the resting V is the same and its noise ∝ 1/√scale. A cell with any
    pumps (exchangers) keeps at least one: a smaller `spiking` cell (one pump) still has its pump,
    at a higher density."""
    if scale == 1.0:
        return cfg
    d = cfg.data

    def agents(n: int) -> int:
        return max(1, int(round(n * scale))) if n > 0 else 0
    changes = {
        "box.height_nm": d["box"]["height_nm"] * scale,
        "physics.particles": int(d["physics"]["particles"] * scale),
        "physics.capacitance_e_per_mV": d["physics"]["capacitance_e_per_mV"] * scale,
        "pump.count": agents(d["pump"]["count"]),
        "membrane.channels_per_unit_permeability": max(1, int(round(
            d["membrane"]["channels_per_unit_permeability"] * scale))),
        "membrane.min_channels_per_type": max(1, int(round(d["membrane"]["min_channels_per_type"] * scale))),
    }
    for t in TRANSPORTERS[1:]:
        if t.name in d:
            changes[f"{t.name}.count"] = agents(d[t.name]["count"])
    return cfg.replace(changes, f"cell x{scale:g}")


@dataclass(frozen=True)
class Control:
    """A live action a front end offers: a button label (None: key-only), help, what it does
    (returns what to say, or None) and whether it shows "on"."""
    name: str
    label: str | None
    help: str
    do: Callable[[Session], str | None]
    is_on: Callable[[Session], bool] | None = None
    available: Callable[[Session], bool] | None = None   # False: in this cell it could only be refused


def _ion_here(ion: str) -> Callable[[Session], bool]:
    """Whether a leak type of `ion` can be scaled in this cell: it has channels of it, or the ion
    is on both sides (a channel of an ion absent from a side is refused by the config's rules)."""
    def here(s: Session) -> bool:
        if s.sim.channels.effective_permeability().get(ion, 0.0) > 0:
            return True
        c_in, c_out = s.sim.concentrations_mM()
        return c_in[ion] > 0 and c_out[ion] > 0
    return here


def _permeability_controls() -> tuple[Control, ...]:
    """÷2 and ×2 for the leak types of the first ions that can cross (K⁺, Na⁺, Cl⁻ with buttons),
    then the selected type's."""
    out = []
    for k, ion in enumerate(PERMEANT_NAMES[:4]):
        button = k < 3
        out += [Control(f"P_{ion}/2", f"P_{ion} ÷2" if button else None,
                        f"halve P_{ion} (the {LABEL[ion]} leak channels)",
                        lambda s, ion=ion: s.scale_permeability(ion, 0.5), available=_ion_here(ion)),
                Control(f"P_{ion}*2", f"P_{ion} ×2" if button else None,
                        f"double P_{ion} (adds {LABEL[ion]} leak channels if there are none)",
                        lambda s, ion=ion: s.scale_permeability(ion, 2.0), available=_ion_here(ion))]
    out += [Control("next_type", None, "select the next channel type (any type of the cell, Kir, Nav, ...) "
                    "for 9 and 0", Session.next_channel_type),
            Control("selected/2", None, "halve P of the selected channel type", lambda s: s.scale_selected(0.5)),
            Control("selected*2", None, "double P of the selected channel type (adds its channels if there are "
                    "none)", lambda s: s.scale_selected(2.0))]
    return tuple(out)


CONTROLS: tuple[Control, ...] = (
    Control("pause", "Pause", "pause / run", Session.toggle_pause, lambda s: s.paused),
    Control("step", "Step", "one step (pauses)", Session.single_step),
    Control("slower", "Slower", "half the steps per frame", Session.slower),
    Control("faster", "Faster", "double the steps per frame", Session.faster),
    Control("slow", "Slow-mo", "slow motion: one step every few frames", Session.toggle_slow, lambda s: s.slow),
    Control("fast", "Fast", "fast-forward: step as fast as the model runs", Session.toggle_fast, lambda s: s.fast),
    Control("reset", "Reset", "start the cell again from V = 0", lambda s: s.reset()),
    Control("preset", "Preset", "next preset (restarts)", Session.next_preset),
    Control("ouabain", "Ouabain", "block / unblock the Na/K pumps", Session.toggle_pumps,
            lambda s: not s.sim.pumps_on and s.ouabain_given),
    Control("K_out/2", "[K]o ÷2", "halve outside K+", lambda s: s.scale_outside("K", 0.5)),
    Control("K_out*2", "[K]o ×2", "double outside K+ (hyperkalemia)", lambda s: s.scale_outside("K", 2.0)),
) + _permeability_controls() + (
    Control("clamp", "Clamp", "voltage clamp on / off: hold V where it is (the scope then shows the current)",
            Session.toggle_clamp, lambda s: s.sim.clamped),
    Control("command-", "V −10", "clamp 10 mV lower", lambda s: s.command_step(-CLAMP_STEP_mV)),
    Control("command+", "V +10", "clamp 10 mV higher", lambda s: s.command_step(+CLAMP_STEP_mV)),
    Control("pulse", "Pulse", "a current pulse into the cell (its size: Q smaller, U bigger)", Session.pulse),
    Control("pulse-", None, "the next pulse smaller (÷1.25)", lambda s: s.pulse_size(0.8)),
    Control("pulse+", None, "the next pulse bigger (×1.25)", lambda s: s.pulse_size(1.25)),
    Control("field", "Field off", "pores ignore V: nothing pushes back", Session.toggle_field,
            lambda s: not s.sim.field_on),
    Control("selectivity", "Select. off", "every pore passes every ion", Session.toggle_selectivity,
            lambda s: not s.sim.selective),
    Control("anions", "No A-", "remove / restore the fixed anions (restarts)", Session.toggle_anions,
            lambda s: s.anions_removed),
    Control("cell/2", "Cell ÷2", "halve the cell (restarts): noisier V", Session.cell_down),
    Control("cell*2", "Cell ×2", "double the cell (restarts): steadier V", Session.cell_up),
    Control("history", "Whole run", "the scope shows the whole run from t = 0", Session.toggle_history,
            lambda s: s.trace.history),
    Control("donnan", "Donnan", "show the Donnan potential (where V drifts without pumps)", Session.toggle_donnan,
            lambda s: s.show_donnan),
    Control("follow", "Follow ion", "follow an ion about to cross, in slow motion", lambda s: s.follow_next()),
)
CONTROL = {c.name: c for c in CONTROLS}
