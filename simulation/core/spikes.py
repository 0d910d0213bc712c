"""Action potentials found in a V trace: when, how high, how wide, from where.

A spike is an upward crossing of `detect_mV` (default −20 mV: well above any passive bump of a
cell resting near −70 mV, well below an overshoot) followed by the peak before V falls back
below `detect_mV − REARM_mV` (the channels' noise makes V cross the detection level several times
at the top of one spike: it counts once). All on V smoothed over `smooth_ns` (a small cell's V
has several mV of thermal noise, whose largest excursion would otherwise read as the peak): each
spike's time (the upward crossing, interpolated), its peak, its width at half height (between the
upward and downward crossings of the level halfway from its threshold to its peak) and its
threshold, the value where the upstroke's rate of
rise, coming up from the lowest V in the `upstroke_ns` before the crossing, first reaches a tenth
of its largest. A crossing whose peak is less than `MIN_RISE_mV` above that lowest V is not an
upstroke but a cell drifting across the level (a cell running down toward Donnan after ouabain
crosses −20 mV with noise, not with a spike), and is not counted.
A stimulus's own jump can be part of that rise: a threshold read after a strong pulse is the
pulse's foot, so the summary says how it was read. Pure numpy: headless runs, the live view and
tests share it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DETECT_mV = -20.0
SMOOTH_ns = 4.0   # V's thermal noise in a small cell (±5 mV at 1 e/mV) would otherwise set the peak
RISE_FRACTION = 0.1
REARM_mV = 20.0
UPSTROKE_ns = 100.0
MIN_RISE_mV = 40.0   # an upstroke rises at least this much to its peak (a depolarised cell's drift does not)


@dataclass(frozen=True)
class Spike:
    time_ns: float        # V crossed the detection level upward
    peak_mV: float
    peak_ns: float
    width_ns: float       # at half height, threshold to peak (nan if the trace ends first)
    threshold_mV: float


def _smooth(t: np.ndarray, v: np.ndarray, ns: float) -> np.ndarray:
    if t.size < 3 or ns <= 0:
        return v.astype(float)
    dt = float(np.median(np.diff(t)))
    k = max(1, int(round(ns / dt)))
    if k <= 1:
        return v.astype(float)
    kernel = np.ones(k) / k
    pad = k // 2
    padded = np.concatenate([np.full(pad, v[0]), v, np.full(k - 1 - pad, v[-1])])
    return np.convolve(padded, kernel, mode="valid")


def _cross(t, v, i, level):
    """Time at which v crosses `level` between samples i and i+1 (linear)."""
    v0, v1 = v[i], v[i + 1]
    if v1 == v0:
        return float(t[i])
    return float(t[i] + (level - v0) / (v1 - v0) * (t[i + 1] - t[i]))


def find_spikes(t_ns: np.ndarray, v_mV: np.ndarray, detect_mV: float = DETECT_mV,
                smooth_ns: float = SMOOTH_ns, upstroke_ns: float = UPSTROKE_ns) -> list[Spike]:
    """The spikes in a trace sampled at times `t_ns` (increasing)."""
    t = np.asarray(t_ns, dtype=float)
    v = np.asarray(v_mV, dtype=float)
    if t.size < 3:
        return []
    s = _smooth(t, v, smooth_ns)
    above = s >= detect_mV
    below = s < detect_mV - REARM_mV
    ups = np.flatnonzero(~above[:-1] & above[1:])
    rearms = np.flatnonzero(~below[:-1] & below[1:])
    out = []
    last_end = 0
    for u in ups:
        if u < last_end:
            continue                      # the same spike, crossing again near its top
        d = rearms[rearms > u]
        end = int(d[0]) + 1 if d.size else t.size - 1
        seg = slice(u + 1, end + 1)
        p = u + 1 + int(np.argmax(s[seg]))
        # the upstroke: from the lowest smoothed V in the upstroke_ns before the crossing
        first_i = max(last_end, int(np.searchsorted(t, t[u] - upstroke_ns)))
        start = first_i + int(np.argmin(s[first_i:u + 1]))
        if s[p] - s[start] < MIN_RISE_mV:
            continue                      # a drift across the level, not an upstroke (not a spike: it re-arms nothing)
        rise = np.diff(s[start:p + 1]) / np.maximum(np.diff(t[start:p + 1]), 1e-12)
        if rise.size:
            first = int(np.flatnonzero(rise >= RISE_FRACTION * rise.max())[0])
            threshold = float(s[start + first])
        else:
            threshold = float(s[u])
        half = (threshold + float(s[p])) / 2
        width = math.nan
        sh = s >= half
        up_i = np.flatnonzero(~sh[start:p] & sh[start + 1:p + 1])
        after = np.flatnonzero(sh[p:-1] & ~sh[p + 1:])
        if up_i.size and after.size:
            i0 = start + int(up_i[-1])
            i1 = p + int(after[0])
            width = _cross(t, s, i1, half) - _cross(t, s, i0, half)
        out.append(Spike(_cross(t, s, u, detect_mV), float(s[p]), float(t[p]), width, threshold))
        last_end = end
    return out


def summary(t_ns: np.ndarray, v_mV: np.ndarray, detect_mV: float = DETECT_mV, hold_from_ns: float | None = None) -> dict:
    """What summary.json says about the spikes of a run; with `hold_from_ns` (a steady current
    from then on) also `hold`: the spikes from then to the end, their rate and mean interval."""
    spikes = find_spikes(t_ns, v_mV, detect_mV)
    t = np.asarray(t_ns, dtype=float)
    span_us = (float(t[-1] - t[0]) * 1e-3) if t.size > 1 else 0.0
    out = {
        "count": len(spikes),
        "rate_per_us": len(spikes) / span_us if span_us > 0 else math.nan,
        "detect_mV": detect_mV,
        "times_ns": [s.time_ns for s in spikes],
        "peaks_mV": [s.peak_mV for s in spikes],
        "peak_times_ns": [s.peak_ns for s in spikes],
        "widths_ns": [s.width_ns for s in spikes],
        "thresholds_mV": [s.threshold_mV for s in spikes],
        "how": (f"a spike: V (smoothed over {SMOOTH_ns:g} ns) crosses {detect_mV:g} mV upward; its peak is the "
                f"smoothed V's; width at half "
                f"height from threshold to peak; threshold where the rate of rise first reaches "
                f"{RISE_FRACTION:g} of its largest (a pulse's own jump counts)"),
    }
    if hold_from_ns is not None and t.size > 1:
        times = [s.time_ns for s in spikes if s.time_ns >= hold_from_ns]
        held_us = (float(t[-1]) - hold_from_ns) * 1e-3
        out["hold"] = {"from_ns": hold_from_ns, "count": len(times),
                       "rate_per_us": len(times) / held_us if held_us > 0 else math.nan,
                       "interval_mean_ns": float(np.mean(np.diff(times))) if len(times) > 1 else math.nan}
    return out
