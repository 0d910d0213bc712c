"""A lecture scenario played on a session: the timeline, its waits, and going back.

Each step begins on the presenter's word (`next_step`), when V has settled, or some model time
after the previous step began; it applies its changes through the registry of interventions
(as the live keys do), sets the pace and the scope's view, may follow an ion, and is saved (a
deep copy of the model and the trace), so `previous_step` restores the state it began in
exactly. A step that rebuilds the cell keeps the earlier trace as a faint ghost. With `auto`, a
step waiting for the presenter begins after AUTO_KEY_NS of model time (or AUTO_KEY_FRAMES
frames) and the scenario ends AUTO_END_NS after its last step began: `play()` runs a whole
scenario headless that way (tests play every shipped one). The Pygame `Demo` and the notebook
view draw a player; they add no timeline of their own.

Predict, then reveal: a step with a `question` opens a `Poll` that takes votes (`vote`, the number
keys) until a later step with `reveal` measures the outcome: V over the ending step's last stretch
(`_ended_mean`: its second half, at most ENDED_WINDOW_NS), so dV = that minus V over the stretch
before the question; or the step's current or flux-ratio exponent (`numbers`); the choice whose
band holds it is the answer, and the reveal's caption quotes the same {dV} and {n_K} (its {V} and
{I} stay live, as the scope shows them). A step's point on the V against [K+]o inset is the same mean.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from membrane import theory
from membrane.transporters import BY_NAME
from particles.species import CHARGE, NAMES, PERMEANT_NAMES, SOLUTES
from simulation.core.observe import PA_PER_E_PER_US
from simulation.session.interventions import E_LINES, find
from simulation.session.scenario import Scenario, Step, fill_caption
from simulation.session.session import Session

SETTLE_WINDOW_NS = 100.0     # "settled": two consecutive windows of this much model time agree
SETTLE_TOLERANCE_mV = 2.0
SETTLE_GIVE_UP_NS = 1500.0   # ... or this long after the step began, whichever comes first
ENDED_WINDOW_NS = 600.0      # a step's point and a reveal's outcome: V over the ending step's second half, at most this
AUTO_KEY_NS = 150.0          # auto: a step waiting for the presenter begins after this much model time,
AUTO_KEY_FRAMES = 240        # or after this many frames (8 s at 30 fps), whichever comes first
AUTO_END_NS = 100.0          # auto: the last step runs this long, then the scenario ends
# --auto by the wall clock (a `clock` given): the scenario's declared lengths, else these
AUTO_KEY_S = 8.0             # a step waiting for the presenter, seconds
AUTO_END_S = 6.0             # the last step
AUTO_CUT_S = 90.0            # a step whose wait is not met by then is cut (with a warning)
FAST_AFTER = 0.5             # a step whose wait is not met when this share of its length has passed fast-forwards


@dataclass
class Poll:
    """A question put to the room: its votes, and at the reveal what was measured."""
    step: int                          # the step that asked it (from 0)
    title: str
    question: str
    choices: tuple[str, ...]
    votes: list[int]
    v_before: float                    # V when it was asked (mV)
    judge: str | None = None
    bands: tuple = ()
    revealed: bool = False
    outcome: float | None = None       # the judged number, measured at the reveal
    answer: int | None = None          # the choice whose band holds it (from 0), or None
    v_after: float | None = None       # V at the reveal (mV)
    history: list[int] = field(default_factory=list)   # the votes in order, for taking one back


def minus(text: str) -> str:
    """A typographic minus for a number read from a screen."""
    return text.replace("-", "−")


class Player:
    def __init__(self, scenario: Scenario, session: Session | None = None, *, seed: int = 0,
                 cell_scale: float = 1.0, auto: bool = False, prepare=None, key_wait_ns: float = AUTO_KEY_NS,
                 clock=None):
        """`key_wait_ns`: with `auto`, the model time a step waiting for the presenter waits
        instead (and the last step runs, at least AUTO_END_NS). `clock` (a function returning
        seconds, `time.perf_counter`): with `auto`, play by the wall clock to the scenario's
        declared lengths — a step waiting for the presenter lasts its length (or AUTO_KEY_S); one
        waiting for the model fast-forwards when half its length has passed and is cut, with a
        warning, when all of it has (or after AUTO_CUT_S)."""
        self.scenario = scenario
        self.session = session or Session(scenario.config, seed=seed, cell_scale=cell_scale, prepare=prepare)
        self.session.ghosts = True
        self.auto = auto
        self.key_wait_ns = key_wait_ns
        self.clock = clock
        self.lengths = scenario.step_seconds()
        self.warnings: list[str] = []     # steps cut because the machine could not keep the pace
        self._began_wall = 0.0
        self.k = -1
        self.step: Step | None = None
        self.saved: dict[int, dict] = {}
        self.points: list[tuple[float, float]] = []   # ([K+]o, V) collected for the inset
        self.finished = False
        self.began_ns = 0.0
        self.began_frame = 0
        self._step_counts = None
        self._step_crossings = None     # the channels' transits (out, in per species) when the step began
        # since the step began, for the flux ratio: (model time, ns, {ion: ∫ ln(independent influx/efflux) dt})
        self._ussing_integral = (0.0, 0.0, {})
        self.polls: list[Poll] = []     # the questions asked so far, their votes and (once revealed) outcomes
        self.said: list[str] = []       # what the steps said, in order (the front end shows the last)
        self.begin(0)

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.scenario.steps

    @property
    def title(self) -> str:
        return self.step.part if self.step is not None and self.step.part else self.scenario.name

    def speaker_notes(self) -> str:
        """What the presenter needs at this step and no one else sees: where they are, the step's
        notes, what the caption says, and what comes next and when."""
        k, n, step = self.k, len(self.steps), self.step
        head = f"step {k + 1}/{n}: {step.title}"
        lines = [f"── {head} " + "─" * max(3, 72 - len(head))]
        if step.notes:
            lines += [f"  notes: {step.notes}"]
        if step.caption:
            lines += [f"  screen: {step.caption}"]
        if k + 1 < n:
            nxt = self.steps[k + 1]
            when = ({"key": "on your key", "settled": "when V has settled"}[nxt.wait] if isinstance(nxt.wait, str)
                    else f"{nxt.wait:g} ns of model time after this step began")
            lines += [f"  next: {nxt.title} ({when})"]
        else:
            lines += ["  next: the end"]
        return "\n".join(lines)

    def _say(self, text: str | None) -> None:
        if text:
            self.said.append(text)

    # ---- the timeline ------------------------------------------------------------------------

    def begin(self, k: int) -> None:
        """Begin step k: collect the ending step's point, apply k's changes, save the state."""
        s = self.session
        # V over the ending step's last stretch: its point on the inset, the outcome a reveal judges,
        # the V a question is asked at
        ended = self._ended_mean() if self.step is not None else None
        if self.step is not None and self.step.collect:
            self._collect(ended)
        step = self.steps[k]
        if step.reveal:                   # measured before this step's changes and counts
            self._reveal(ended)
        if step.config is not None:       # an included scenario's start: its own cell
            s.cell_scale = s.initial_cell_scale
            s.anions_removed = not step.config["fixed_anions.enabled"]
            self.points = []
        if step.config is None and not any(find(key).rebuild for key in step.changes):
            s.trace.ghost = None          # the ghost stays for the step that rebuilt the cell only
        # checked when the file was read; a cell may still refuse one (no room for more channels)
        for said in s.apply_checked(step.changes, step.title, rebuild_from=step.config, say_refusals=True):
            self._say(said)
        s.paused, s.fast, s.slow = step.pause, step.fast, False
        s.trace.history = step.history
        s.show_donnan = step.donnan
        s._theory = {}
        if step.follow:
            self._say(s.follow_next(step.follow))
        elif self.step is not None and self.step.follow:   # back to the whole picture
            s.stop_following()
        self.k, self.step = k, step
        self.began_ns = s.sim.time_ns
        self.began_frame = s.frame
        self._began_wall = self.clock() if self.clock else 0.0
        self._mark_counts()
        if step.question:
            self.polls.append(Poll(k, step.title, step.question, step.choices, [0] * len(step.choices),
                                   ended if ended is not None else self._v_now(), step.judge, step.bands))
        self.saved[k] = dict(s.snapshot(), points=list(self.points), polls=copy.deepcopy(self.polls))

    def next_step(self) -> None:
        if self.k + 1 < len(self.steps):
            self.begin(self.k + 1)
        elif self.auto:
            self.finished = True

    def previous_step(self) -> None:
        """Back to the state saved when the previous step began (the first step: its start)."""
        self.restore(max(self.k - 1, 0))

    def restore(self, k: int) -> None:
        snap = self.saved[k]
        s = self.session
        s.restore(snap)
        self.points = list(snap["points"])
        self.polls = copy.deepcopy(snap["polls"])
        self.k, self.step = k, self.steps[k]
        self.began_ns = s.sim.time_ns
        self.began_frame = s.frame
        self._mark_counts()

    def update(self) -> None:
        """After a frame's steps: begin the next step if its wait is met (not while paused)."""
        self._integrate_ussing()
        if not self.session.paused and self.waited():
            self.next_step()

    # ---- predict, then reveal ------------------------------------------------------------------

    def open_poll(self) -> Poll | None:
        """The question now asked and not yet revealed (votes go to it), or None."""
        p = self.polls[-1] if self.polls else None
        return p if p is not None and not p.revealed else None

    def shown_poll(self) -> Poll | None:
        """What the screen shows: the open question, or the one this step revealed."""
        if self.step is None or not self.polls:
            return None
        p = self.polls[-1]
        return p if (not p.revealed or self.step.reveal) else None

    def vote(self, choice: int) -> str | None:
        """One vote (the presenter's prediction, or one hand of the room's) for choice 0, 1, ... of
        the open question; what to say, or None when no question is open or there is no such choice."""
        p = self.open_poll()
        if p is None or not 0 <= choice < len(p.choices):
            return None
        p.votes[choice] += 1
        p.history.append(choice)
        return f"vote {choice + 1}: {p.choices[choice]} ({sum(p.votes)} so far)"

    def unvote(self) -> str | None:
        """Take back the last vote of the open question."""
        p = self.open_poll()
        if p is None or not p.history:
            return None
        k = p.history.pop()
        p.votes[k] -= 1
        return f"vote {k + 1} taken back ({sum(p.votes)} so far)"

    def _reveal(self, v_after: float | None) -> None:
        """The last question's outcome: the judged number measured now (V and dV from `v_after`, V
        over the ending step's last stretch), and the choice whose band holds it."""
        p = self.polls[-1] if self.polls else None
        if p is None or p.revealed:
            return
        p.revealed = True
        p.v_after = v_after if v_after is not None else self._v_now()
        if p.judge is None:
            return
        value = dict(self.numbers(), V=p.v_after, dV=p.v_after - p.v_before).get(p.judge, math.nan)
        p.outcome = value
        if math.isfinite(value):
            p.answer = next((k for k, (lo, hi) in enumerate(p.bands) if lo <= value < hi), None)

    def prediction_table(self) -> list[dict]:
        """One row per question asked: the votes and, once revealed, what was measured."""
        rows = []
        for p in self.polls:
            rows.append({"step": p.step + 1, "question": p.question,
                         **{f"votes_{k + 1}": v for k, v in enumerate(p.votes)},
                         "judge": p.judge or "", "measured": p.outcome,
                         "answer": (p.answer + 1) if p.answer is not None else None,
                         "V_before_mV": p.v_before, "V_after_mV": p.v_after})
        return rows

    def play(self, max_frames: int = 1_000_000) -> int:
        """Play to the end headless (auto), frame by frame; returns the frames it took."""
        self.auto = True
        n = 0
        while not self.finished and n < max_frames:
            if self.session.paused:      # a step that pauses waits for the presenter: the presenter goes on
                self.session.paused = False
            self.session.advance_frame()
            self.update()
            n += 1
        return n

    def _collect(self, v: float | None) -> None:
        k_out = self.session.sim.concentrations_mM()[1]["K"]
        if v is not None and k_out > 0:
            self.points.append((k_out, v))

    def _ended_mean(self) -> float | None:
        """V averaged over the ending step's last stretch: its second half, at most the last
        ENDED_WINDOW_NS (at least the readout's 100 ns): a step's point or outcome from hundreds of
        ns, not the 100-ns readout that wanders by several mV in a cell of few channels."""
        t, v = self.session.trace.ring()
        now = self.session.sim.time_ns
        span = max(min((now - self.began_ns) / 2, ENDED_WINDOW_NS), self.session.trace.readout_ns)
        sel = t > now - span
        if sel.sum() >= 8:
            return float(v[sel].mean())
        rm = self.session.trace.recent_mean()
        return rm[0] if rm is not None else None

    def waited(self) -> bool:
        """Has the next step's wait been met?"""
        if self.auto and self.clock is not None:
            return self._waited_by_clock()
        s = self.session
        elapsed = s.sim.time_ns - self.began_ns
        if self.k + 1 >= len(self.steps):
            return self.auto and elapsed >= min(AUTO_END_NS, self.key_wait_ns)
        wait = self.steps[self.k + 1].wait
        if wait == "key":
            return self.auto and (elapsed >= self.key_wait_ns or s.frame - self.began_frame >= AUTO_KEY_FRAMES)
        return self._model_wait_met(wait)

    def _model_wait_met(self, wait) -> bool:
        """A "settled" or model-time wait (ns after the step began) met."""
        elapsed = self.session.sim.time_ns - self.began_ns
        if wait == "settled":
            return self.settled() or elapsed >= SETTLE_GIVE_UP_NS
        return elapsed >= float(wait)

    def _waited_by_clock(self) -> bool:
        """--auto by the wall clock: the step's declared length decides; a model-time wait not met
        in time is fast-forwarded, then cut (said once, in `warnings`)."""
        s = self.session
        spent = self.clock() - self._began_wall
        length = self.lengths[self.k]
        if self.k + 1 >= len(self.steps):
            return spent >= (length if length is not None else AUTO_END_S)
        wait = self.steps[self.k + 1].wait
        if wait == "key":
            return spent >= (length if length is not None else AUTO_KEY_S)
        met = self._model_wait_met(wait)
        limit = length if length is not None else AUTO_CUT_S
        if met:
            return length is None or spent >= length
        if spent >= FAST_AFTER * limit and not s.fast:
            s.fast, s.slow = True, False        # behind: the model runs as fast as it can
        if spent >= limit:
            ran = s.sim.time_ns - self.began_ns
            if wait == "settled" and ran >= 2 * SETTLE_WINDOW_NS:    # time enough to tell, and V still moved
                why = (f"V had not settled after {ran:.0f} ns (its means over the last two {SETTLE_WINDOW_NS:g}-ns "
                       f"windows differ by more than {SETTLE_TOLERANCE_mV:g} mV): a longer step, or --cell 2 "
                       f"for a steadier V")
            else:
                what = "V could settle" if wait == "settled" else f"{float(wait):g} ns of model time ran"
                why = (f"only {ran:.0f} ns ran, before {what}: this machine is slow for this cell "
                       f"(--cell 0.5 halves the work)")
            self.warnings.append(f"step {self.k + 1} cut after {spent:.0f} s: {why}")
            return True
        return False

    def settled(self) -> bool:
        """V's means over the last two SETTLE_WINDOW_NS windows since the step began agree."""
        return self.session.trace.settled(self.began_ns, self.session.sim.time_ns, SETTLE_WINDOW_NS,
                                          SETTLE_TOLERANCE_mV)

    # ---- the caption -------------------------------------------------------------------------

    def caption(self) -> str:
        """The step's caption with its live numbers filled in."""
        return fill_caption(self.step.caption, self.live_values()) if self.step is not None else ""

    def _v_now(self) -> float:
        rm = self.session.trace.recent_mean()
        return rm[0] if rm is not None else self.session.sim.v_mV

    def _mark_counts(self) -> None:
        sim = self.session.sim
        self._step_counts = self._counts()
        self._step_crossings = sim.crossings.copy()
        self._ussing_integral = (sim.time_ns, 0.0, {})

    def _integrate_ussing(self) -> None:
        """Add this frame to ∫ ln(influx/efflux of independent ions) dt: at V and the concentrations
        of the moment, so a bath that drifts during the count (K+ piling up outside) is followed."""
        s = self.session
        t, span, ideal = self._ussing_integral
        now = s.sim.time_ns
        if now <= t:
            return
        s.theory_now()                      # brings the concentrations up to date
        c_in, c_out = s.concentrations
        v, dt = s.sim.v_mV, now - t
        out = dict(ideal)
        for ion in s.sim.channels.crossing():
            if c_in[ion] > 0 and c_out[ion] > 0:
                r = theory.ussing_ratio(CHARGE[ion], c_in[ion], c_out[ion], v, s.sim.temperature_C)
                out[ion] = out.get(ion, 0.0) + math.log(r) * dt
            else:
                out[ion] = math.nan
        self._ussing_integral = (now, span + dt, out)

    def numbers(self) -> dict[str, float]:
        """The measured numbers a question may be judged on (`scenario.judges`), unformatted: V
        (the readout's recent mean), its change since the open or last question was posed (dV), the
        current since the step began (I, pA, outward +), and each crossing ion's flux-ratio
        exponent over the step (n_K: ln(influx / efflux) / the time average of ln(what independent
        ions give at V and the concentrations of each frame); NaN while fewer than 10 transits each
        way)."""
        s = self.session
        sim = s.sim
        v = self._v_now()
        out = {"V": v, "dV": v - self.polls[-1].v_before if self.polls else math.nan}
        t0, carried0, _ = self._step_counts or self._counts()
        t1, carried1, _ = self._counts()
        span_us = (t1 - t0) * 1e-3
        out["I"] = -(carried1 - carried0) / span_us * PA_PER_E_PER_US if span_us > 0.005 else math.nan
        _, span_ns, ideal_dt = self._ussing_integral
        counted = sim.crossings - (self._step_crossings if self._step_crossings is not None else 0)
        for ion in PERMEANT_NAMES:
            k = NAMES.index(ion)
            eff, inf = counted[0, k], counted[1, k]
            out[f"n_{ion}"] = math.nan
            if eff >= 10 and inf >= 10 and span_ns > 0 and math.isfinite(ideal_dt.get(ion, math.nan)):
                ideal = ideal_dt[ion] / span_ns
                if abs(ideal) > 0.05:       # near E the exponent is 0 / 0
                    out[f"n_{ion}"] = math.log(inf / eff) / ideal
        return out

    def live_values(self) -> dict:
        """The numbers a caption may name, formatted as a lecturer would say them."""
        s = self.session
        sim = s.sim
        th = s.theory_now()
        c_in, c_out = s.concentrations
        rm = s.trace.recent_mean()
        v = rm[0] if rm is not None else sim.v_mV

        def mv(x):
            return "?" if x is None or not math.isfinite(x) else minus(f"{x:.0f}")
        out = {"V": mv(v), "t": f"{sim.time_ns:.0f}", "step": str(self.k + 1),
               "V_GHK": mv(th.get("V_GHK_mV")), "V_MN": mv(th.get("V_MN_mV")), "V_pump": mv(th.get("V_pump_mV")),
               "pump_share": mv(th.get("V_pump_mV", math.nan) - th.get("V_GHK_mV", math.nan))}
        for line in E_LINES:
            out[line] = mv(th.get(f"{line}_mV"))
        for name, p in sim.channels.effective_permeability().items():
            out[f"P_{name}"] = f"{p:.3g}"
        for ion in SOLUTES:
            out[f"{ion}_in"] = f"{c_in[ion]:.3g}"
            out[f"{ion}_out"] = f"{c_out[ion]:.3g}"
        if "{V_Donnan" in (self.step.caption if self.step else ""):
            out["V_Donnan"] = mv(sim.donnan_mV())
        out["clamp"] = mv(sim.clamp_mV) if sim.clamped else "off"
        # the current since this step began (a step changes it), and the other measured numbers
        nums = self.numbers()
        out["I"] = mv(nums["I"])
        t0, _, cycles0 = self._step_counts or self._counts()
        t1, _, cycles1 = self._counts()
        span_us = (t1 - t0) * 1e-3
        ok = span_us > 0.005
        poll = self.polls[-1] if self.polls else None
        if self.step is not None and self.step.reveal and poll is not None and poll.revealed:
            # the reveal's caption says what its box says: the change it measured (V and I stay
            # live: the scope shows them)
            nums["dV"] = poll.v_after - poll.v_before
            if poll.judge is not None and poll.outcome is not None and poll.judge not in ("V", "I"):
                nums[poll.judge] = poll.outcome
        out["dV"] = "?" if not math.isfinite(nums["dV"]) else minus(f"{nums['dV']:+.0f}")
        for ion in PERMEANT_NAMES:
            n = nums[f"n_{ion}"]
            out[f"n_{ion}"] = "?" if not math.isfinite(n) else f"{n:.2f}"
        out.update(self._pump_work(cycles1 - cycles0, span_us if ok else 0.0, c_in))
        # the crossings per µs the panel shows: the same window (since the step began or the last
        # change, at most the last 500 ns)
        rates, _, _ = s.rates()              # none yet in the step's first RATE_MIN_NS: "?"
        for ion in PERMEANT_NAMES:
            d = rates.get(ion, (math.nan, math.nan))
            out[f"{ion}_efflux"], out[f"{ion}_influx"] = mv(d[0]), mv(d[1])
        return out

    def _counts(self) -> tuple[float, float, int]:
        """(model time, charge carried in so far by channels and pumps, pump cycles so far)."""
        sim = self.session.sim
        return sim.time_ns, float(sim.charge_carried_in.sum()) + sim.pump_charge_in, int(sim.pump_totals[0])

    def _pump_work(self, cycles: int, span_us: float, c_in: dict) -> dict:
        """The Na/K pumps' work since the step began: the Na+ they carried out, their cycles per
        µs, and how long that pace would take to bring [Na+] inside back to what the cell started
        with (the scenario's cell), in µs of model time ("?" while nothing is in excess or no
        cycle has run)."""
        sim = self.session.sim
        na_per_cycle = -BY_NAME["pump"].stoichiometry["Na"]
        rate = cycles / span_us if span_us > 0 else math.nan
        excess = (c_in["Na"] - self.session.base_config["inside.Na"]) / sim.mM_per_particle[0]   # ions
        restore = excess / (rate * na_per_cycle) if excess > 0 and rate > 0 else math.nan
        return {"pump_Na_out": f"{cycles * na_per_cycle:.0f}",
                "pump_rate": "?" if not math.isfinite(rate) else f"{rate:.0f}",
                "Na_excess": f"{max(excess, 0.0):.0f}",
                "restore_us": "?" if not math.isfinite(restore) else f"{restore:.0f}"}
