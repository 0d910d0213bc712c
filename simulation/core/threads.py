"""How many threads step the model: chosen by measuring, while it runs.

Every step ends its parallel loop at a barrier. On a quiet machine two threads are nearly twice
as fast as one; with another busy process on the machine (a browser, a projector driver) a thread
is often descheduled while its partner waits at the barrier, and two threads were measured two to
three times *slower* than one (OpenMP threads also spin while they wait). No wait policy fixes
both cases (passive waiting made the quiet case slower than one thread), so the governor
measures: every call to the stepper is timed per step, the faster thread count is used, and the
other one is tried again now and then (sooner when the chosen one slows down, later each time the
other keeps losing), for a few milliseconds' worth of steps. The counter-based generator and the
fixed blocks make a run bit-identical whatever the thread count, so switching never changes a
result, only how fast it comes.
"""
from __future__ import annotations

import time
from typing import Callable

TRIAL_S = 0.01          # a trial of the other thread count lasts about this long
SLICE_S = 0.05          # steps run at the chosen count between looks at the clock
RETRY_S = (1.0, 30.0)   # the other count is tried again after this long, doubling while it loses
SMOOTHING = 0.3         # weight of a new measurement in the running time per step
MARGIN = 1.15           # more threads must be this much faster to be chosen (a wrong switch costs more)


class ThreadGovernor:
    """Runs `advance(k)` at the thread count that is fastest now (1 or `max_threads`)."""

    def __init__(self, max_threads: int, set_threads: Callable[[int], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        if set_threads is None:
            import numba
            set_threads = numba.set_num_threads
        self.max_threads = max(1, int(max_threads))
        self._set = set_threads
        self._clock = clock
        self.threads = self.max_threads
        self.per_step: dict[int, float] = {}        # seconds per step, running
        self._measured: dict[int, int] = {}         # how many times (the first, with compiling, is replaced)
        self._tried_at: dict[int, float] = {}
        self._retry_s = RETRY_S[0]
        self._just_switched = False

    def advance(self, advance: Callable[[int], None], k: int) -> None:
        """Run k steps, in pieces of about SLICE_S each timed, so a count that turns slow (the
        machine got busy, or a trial was lucky) costs at most a piece before it is dropped."""
        if self.max_threads == 1:
            advance(k)
            return
        while k > 0:
            other = 1 if self.threads == self.max_threads else self.max_threads
            trial = self._trial_due(other)
            threads = other if trial else self.threads
            # a trial, and the first piece after a switch (one lucky trial must not cost a slice)
            budget = TRIAL_S if trial or self._just_switched else SLICE_S
            self._just_switched = False
            if self._measured.get(threads, 0) == 0:
                n = max(1, min(k, 10))          # a first look (it may include compiling)
            else:
                n = max(1, min(k, int(budget / max(self.per_step[threads], 1e-9))))
            self._timed(advance, n, threads)
            k -= n
            self._choose(after_trial=trial)

    def _trial_due(self, other: int) -> bool:
        now = self._clock()
        if self._measured.get(other, 0) < 2:
            return True
        if now - self._tried_at.get(other, -1e300) >= self._retry_s:
            return True
        # the chosen count has slowed down below what the other did last time: look again now
        return self.per_step.get(self.threads, 0.0) > 1.5 * self.per_step[other]

    def _timed(self, advance: Callable[[int], None], k: int, threads: int) -> None:
        self._set(threads)
        t0 = self._clock()
        advance(k)
        dt = (self._clock() - t0) / k
        seen = self._measured.get(threads, 0)
        self.per_step[threads] = dt if seen < 2 else (1 - SMOOTHING) * self.per_step[threads] + SMOOTHING * dt
        self._measured[threads] = seen + 1
        self._tried_at[threads] = self._clock()

    def _choose(self, after_trial: bool) -> None:
        many, one = self.per_step.get(self.max_threads), self.per_step.get(1)
        if many is None or one is None:
            return
        best = self.max_threads if many * MARGIN < one else 1
        if best != self.threads:
            self._retry_s = RETRY_S[0]
            self._just_switched = True
        elif after_trial:
            self._retry_s = min(RETRY_S[1], self._retry_s * 2)   # the other lost again: try it less often
        self.threads = best
