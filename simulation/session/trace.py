"""The V trace a scope shows: one sample per advance (model time, V, charge carried, clamped?).

It keeps the last `capacity` samples in a ring for the running view, and the whole run, thinned
by half whenever it grows past `history_max`, for the whole-run view (`history`). The thick trace
is a running mean over `smooth_ns` of model time (or a twelfth of the time shown, if longer); the
readout is the mean of the last `readout_ns` with the standard error of correlated samples. Event
markers and the ghost of the cell before a rebuild are kept here too. Drawing it is the front
end's business (render/scope.py, the notebook view).
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from simulation.core.observe import PA_PER_E_PER_US
from simulation.core.statistics import MIN_EFFECTIVE_SAMPLES, mean_and_sem


class VTrace:
    def __init__(self, capacity: int = 900, smooth_ns: float = 20.0, history_max: int = 6000,
                 readout_ns: float = 100.0):
        self.capacity = capacity
        self.smooth_ns = smooth_ns
        self.readout_ns = readout_ns
        self.history_max = history_max
        self.t_ns: deque[float] = deque(maxlen=capacity)
        self.v_mV: deque[float] = deque(maxlen=capacity)
        self.q_e: deque[float] = deque(maxlen=capacity)       # charge carried in so far (e), for the current
        self.held: deque[bool] = deque(maxlen=capacity)       # whether a clamp held V
        self.h_t: list[float] = []
        self.h_v: list[float] = []
        self.h_q: list[float] = []
        self.h_held: list[bool] = []
        self._h_stride = 1
        self._h_count = 0
        self.markers: list[tuple[float, str]] = []  # (time_ns, label), the whole run
        self.history = False
        self.ghost: tuple[np.ndarray, np.ndarray] | None = None   # the trace of the cell before a rebuild
        # Hodgkin and Huxley's equations from the moment of the last pulse: (model times, V)
        self.prediction: tuple[np.ndarray, np.ndarray] | None = None
        self.smooth_max_ns: float | None = None

    def clear(self) -> None:
        for d in (self.t_ns, self.v_mV, self.q_e, self.held, self.h_t, self.h_v, self.h_q, self.h_held):
            d.clear()
        self._h_stride = 1
        self._h_count = 0
        self.markers.clear()
        self.prediction = None

    def add(self, t_ns: float, v_mV: float, carried_e: float = 0.0, clamped: bool = False) -> None:
        """One sample: model time, V, the charge carried in by channels and pumps so far, and
        whether a clamp held V."""
        self.t_ns.append(t_ns)
        self.v_mV.append(v_mV)
        self.q_e.append(carried_e)
        self.held.append(clamped)
        self._h_count += 1
        if self._h_count % self._h_stride == 0:
            self.h_t.append(t_ns)
            self.h_v.append(v_mV)
            self.h_q.append(carried_e)
            self.h_held.append(clamped)
            if len(self.h_t) > self.history_max:   # thin the whole run by half
                self.h_t, self.h_v, self.h_q, self.h_held = (x[::2] for x in (self.h_t, self.h_v, self.h_q,
                                                                                 self.h_held))
                self._h_stride *= 2

    def mark(self, t_ns: float, label: str) -> None:
        self.markers.append((t_ns, label))

    def ring(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, V) of the recent ring, whatever is shown."""
        return (np.fromiter(self.t_ns, dtype=float, count=len(self.t_ns)),
                np.fromiter(self.v_mV, dtype=float, count=len(self.v_mV)))

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, V) of what is shown: the recent ring, or the whole run in history view."""
        if self.history:
            return np.asarray(self.h_t, dtype=float), np.asarray(self.h_v, dtype=float)
        return self.ring()

    def clamp_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(charge carried in, clamped?) for the samples `series` shows."""
        if self.history:
            return np.asarray(self.h_q, dtype=float), np.asarray(self.h_held, dtype=bool)
        return (np.fromiter(self.q_e, dtype=float, count=len(self.q_e)),
                np.fromiter(self.held, dtype=bool, count=len(self.held)))

    @property
    def clamped_now(self) -> bool:
        return bool(self.held and self.held[-1])

    @staticmethod
    def current_pA(t: np.ndarray, q: np.ndarray, window_ns: float) -> np.ndarray:
        """Outward current (pA) at each sample: the charge carried out over `window_ns` centred on
        it (near the live end, over what there is), per time."""
        half = window_ns / 2
        start = np.searchsorted(t, t - half, side="left")
        end = np.minimum(np.searchsorted(t, t + half, side="right"), t.size) - 1
        span = t[end] - t[start]
        with np.errstate(invalid="ignore", divide="ignore"):
            i = -(q[end] - q[start]) / span * 1e3 * PA_PER_E_PER_US
        return np.where(span > 0, i, np.nan)

    def smoothing_ns(self, t: np.ndarray) -> float:
        """The thick trace's averaging time: `smooth_ns`, or a twelfth of the time shown if that
        is longer (a whole run of microseconds is then averaged over hundreds of ns, which is what
        makes a few mV, such as the pump's share, stand out of the noise) — at most `smooth_max_ns`
        if set (a cell that fires: averaging over a spike's own width would flatten its peak)."""
        span = float(t[-1] - t[0]) if t.size > 1 else 0.0
        wide = max(self.smooth_ns, span / 12)
        return wide if self.smooth_max_ns is None else min(wide, self.smooth_max_ns)

    def smoothed(self, t: np.ndarray | None = None, v: np.ndarray | None = None,
                 window_ns: float | None = None) -> np.ndarray:
        """V smoothed over `window_ns` (default `smoothing_ns`) of model time around each sample:
        the value at that sample of a straight line fitted to the samples within half the window
        on either side (local linear regression). In the middle it is the running mean; at the
        two ends, where the window is one-sided, the line follows a trend instead of flattening
        it (a plain mean lags at the live end and sits flat at the start while V falls)."""
        if t is None:
            t, v = self.series()
        if v.size == 0:
            return v
        half = (window_ns if window_ns is not None else self.smoothing_ns(t)) / 2
        start = np.searchsorted(t, t - half, side="left")
        end = np.searchsorted(t, t + half, side="right")
        x = t - t[0]                              # small numbers for the sums of squares
        c = [np.concatenate(([0.0], np.cumsum(q))) for q in (np.ones_like(x), x, x * x, v, x * v)]
        n, sx, sxx, sv, sxv = (q[end] - q[start] for q in c)
        mean_x, mean_v = sx / n, sv / n
        var = sxx / n - mean_x ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(var > 1e-12 * (half * half + 1.0), (sxv / n - mean_x * mean_v) / var, 0.0)
        return mean_v + slope * (x - mean_x)

    def _readout_window(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(t, V) of the last `readout_ns` of the ring, and only since a clamp let go (a held V
        is the command, not the cell's: no mean or spread of the cell's own V is in it); None
        before there are a few samples."""
        t, v = self.ring()
        if t.size < 8:
            return None
        sel = t >= t[-1] - self.readout_ns
        held = np.fromiter(self.held, dtype=bool, count=len(self.held))
        if not held[-1] and held.any():
            sel &= t > t[np.flatnonzero(held)[-1]]
        if sel.sum() < 8:
            return None
        return t[sel], v[sel]

    def recent_mean(self) -> tuple[float, float, float] | None:
        """(mean, SEM, span in ns) of V over the last `readout_ns` of the ring (SEM for
        correlated samples); None before there are a few samples."""
        window = self._readout_window()
        if window is None:
            return None
        t, v = window
        m, sem, n_eff = mean_and_sem(v)
        # a window holding fewer than ~30 independent samples has no trustworthy standard error
        return m, (sem if n_eff >= MIN_EFFECTIVE_SAMPLES else math.nan), float(t[-1] - t[0])

    def recent_drift(self) -> float:
        """How much V moved across the readout's window: the mean of its second half minus that
        of its first (mV); 0 before there are a few samples."""
        window = self._readout_window()
        if window is None:
            return 0.0
        w = window[1]
        h = w.size // 2
        return float(w[h:].mean() - w[:h].mean())

    def settled(self, since_ns: float, now_ns: float, window_ns: float, tolerance_mV: float) -> bool:
        """Whether V has settled since `since_ns`: its means over the last two `window_ns`
        windows agree within `tolerance_mV`."""
        t, v = self.ring()
        if now_ns - since_ns < 2 * window_ns or t.size < 8:
            return False
        a = (t > now_ns - 2 * window_ns) & (t <= now_ns - window_ns)
        b = t > now_ns - window_ns
        if a.sum() < 3 or b.sum() < 3:
            return False
        return abs(v[b].mean() - v[a].mean()) < tolerance_mV
