"""Spikes found in a V trace (simulation/core/spikes.py): checked on traces whose answer is known."""
import math

import numpy as np
import pytest

from simulation.core.spikes import find_spikes, summary


def synthetic(t, times, rest=-70.0, peak=40.0, width=20.0):
    """A resting trace with triangular-topped spikes: a linear rise from rest at each time over
    `width` ns to `peak`, then a linear fall over `width` ns."""
    v = np.full_like(t, rest)
    for t0 in times:
        up = (t >= t0) & (t < t0 + width)
        v[up] = rest + (t[up] - t0) / width * (peak - rest)
        down = (t >= t0 + width) & (t < t0 + 2 * width)
        v[down] = peak - (t[down] - t0 - width) / width * (peak - rest)
    return v


def test_known_spikes_are_found_with_their_times_peaks_widths_and_thresholds():
    t = np.arange(0, 1000, 0.05)
    v = synthetic(t, [100.0, 400.0, 700.0])
    spikes = find_spikes(t, v, smooth_ns=0.0)
    assert len(spikes) == 3
    for s, t0 in zip(spikes, (100.0, 400.0, 700.0)):
        # the rise crosses -20 mV 50/110 of the way up
        assert s.time_ns == pytest.approx(t0 + 20.0 * 50 / 110, abs=0.06)
        assert s.peak_mV == pytest.approx(40.0, abs=0.3)
        assert s.threshold_mV == pytest.approx(-70.0, abs=0.6)
        assert s.width_ns == pytest.approx(20.0, abs=0.2)   # half height: half way up and down
    out = summary(t, v)
    assert out["count"] == 3 and out["rate_per_us"] == pytest.approx(3 / 0.99995, rel=1e-3)


def test_noise_and_a_passive_bump_are_not_spikes():
    rng = np.random.default_rng(0)
    t = np.arange(0, 500, 0.05)
    v = -70 + 4 * rng.standard_normal(t.size)
    v[(t > 200) & (t < 260)] += 25          # a bump to -45 mV
    assert find_spikes(t, v) == []


def test_a_trace_that_ends_in_a_spike_counts_it_without_a_width():
    t = np.arange(0, 130, 0.05)
    v = synthetic(t, [100.0])
    (s,) = find_spikes(t, v, smooth_ns=0.0)
    assert math.isnan(s.width_ns) and s.peak_mV > 0


def test_a_threshold_is_read_from_the_upstroke_not_from_an_old_minimum():
    t = np.arange(0, 1200, 0.05)
    v = synthetic(t, [1000.0], rest=-70.0)
    v[t < 100] = -95.0                       # a deep start long before the spike
    (s,) = find_spikes(t, v, smooth_ns=0.0)
    assert s.threshold_mV == pytest.approx(-70.0, abs=0.6)


def test_noise_at_the_top_of_one_spike_counts_once():
    rng = np.random.default_rng(1)
    t = np.arange(0, 600, 0.5)
    v = synthetic(t, [200.0], peak=-10.0, width=40.0) + 3 * rng.standard_normal(t.size)
    assert len(find_spikes(t, v)) == 1


def test_the_summary_gives_each_spikes_peak_time_where_plot_marks_it():
    t = np.arange(0, 1000, 0.5)
    out = summary(t, synthetic(t, [300.0, 600.0]))
    assert out["count"] == 2 and out["peak_times_ns"] == pytest.approx([320.0, 620.0], abs=0.6)


def test_under_a_held_current_the_summary_counts_from_its_start():
    t = np.arange(0, 2000, 0.5)
    out = summary(t, synthetic(t, [100.0, 900.0, 1200.0, 1500.0]), hold_from_ns=800.0)
    hold = out["hold"]
    assert out["count"] == 4 and hold["count"] == 3
    assert hold["rate_per_us"] == pytest.approx(3 / (1999.5 - 800.0) * 1e3)
    assert hold["interval_mean_ns"] == pytest.approx(300.0, abs=0.1)
    assert "hold" not in summary(t, synthetic(t, [100.0]))


def test_a_cell_drifting_across_the_detection_level_has_no_spike():
    """A cell running down toward its Donnan potential (ouabain) crosses -20 mV slowly, with its
    noise: no upstroke, no spike (the run of the `ouabain` preset reported one before)."""
    rng = np.random.default_rng(3)
    t = np.arange(0, 20_000, 0.5)
    v = -30 + 15 * t / t[-1] + 4 * rng.standard_normal(t.size)     # -30 to -15 mV over 20 µs
    assert find_spikes(t, v) == []
    assert len(find_spikes(t, v + synthetic(t, [15_000.0], rest=0.0, peak=60.0))) == 1   # a real one on top still counts
