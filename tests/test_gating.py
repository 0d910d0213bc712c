"""Gates as a physicist checks them: at a fixed V a gate is open a fraction α/(α + β) of the time,
its open and closed dwell times are exponential with means 1/β and 1/α (exactly those of the
two-state chain over dt, which tend to 1/β and 1/α as (α + β)·dt → 0), a channel is open when all
its gates are, Q10 and the time scale set the rates, and the leak gate is drawn as it always was.
Standard errors from the counts; fixed seeds."""
import math

import numpy as np
import pytest

from membrane import gating as gm
from membrane.channels import ChannelType, Pores, gate_channels
from particles.species import NAMES, N_SPECIES, Species
from simulation.core.statistics import mean_and_sem

DT = 0.025


def _table(model: str, params: dict, temperature_C=6.3, ns_per_ms=1.0, e_k=None):
    t = ChannelType("X", "K", model, 1.0, 1.0, 0.0, 1.0, params)
    table = gm.build_table([t], {n: int(Species[n]) for n in NAMES}, N_SPECIES, temperature_C, ns_per_ms, DT)
    if e_k is not None:
        table.e_mV[Species.K] = e_k
    return table


def _pores(n: int) -> Pores:
    z = np.zeros(n)
    return Pores(z, z + 1.0, np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.uint8), z.copy(), z.copy(),
                 np.ones(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.uint8),
                 np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=np.uint8))


def _record(table, v_mV, n_channels=1500, steps=12000, seed=7, warm=2000):
    """The gate bits of every channel at every step (after `warm` steps from all closed)."""
    pores = _pores(n_channels)
    out = np.empty((steps, n_channels), dtype=np.uint8)
    opened = np.empty((steps, n_channels), dtype=np.uint8)
    for s in range(warm):
        gate_channels(pores, table, v_mV, seed, s)
    for s in range(steps):
        gate_channels(pores, table, v_mV, seed, warm + s)
        out[s] = pores.gates
        opened[s] = pores.is_open
    return out, opened


def _dwells(bits: np.ndarray, starting_before: int) -> tuple[np.ndarray, np.ndarray]:
    """Open and closed dwell times (steps) of every column of a 0/1 record, of the dwells that
    begin before step `starting_before` and end within the record. (Keeping only the dwells that
    fit in a window would favour short ones; choosing them by when they begin does not, and with
    the record many mean dwells longer than that, nearly all of them end in it.)"""
    opens, closes = [], []
    for col in bits.T:
        change = np.flatnonzero(np.diff(col)) + 1
        if change.size < 2:
            continue
        first = change[:-1]
        lengths = np.diff(change)
        keep = first < starting_before
        state = col[first[keep]]
        opens.append(lengths[keep][state == 1])
        closes.append(lengths[keep][state == 0])
    return np.concatenate(opens), np.concatenate(closes)


def _exact_dwell_steps(p_leave: float) -> float:
    return 1.0 / p_leave                              # geometric: mean number of steps


@pytest.mark.parametrize("v_mV", [-60.0, -30.0])
def test_an_hh_n_gate_is_open_alpha_over_alpha_plus_beta_with_exponential_dwells(v_mV):
    table = _table("hh-k", {"v_shift_mV": 0.0})
    bits, opened = _record(table, v_mV)
    a, b = gm.alpha_beta(table, 0, 0, v_mV)           # per ns
    lam = a + b
    # the share of all gates open at each step: a time series whose samples are correlated over
    # 1/λ (statistics.mean_and_sem counts that)
    each = sum(((bits >> g) & 1).mean(axis=1) for g in range(4)) / 4
    frac, sem, _ = mean_and_sem(each)
    assert frac == pytest.approx(a / lam, abs=3 * sem)
    # all four gates are alike and independent: the channel is open n∞⁴ of the time
    all_frac, all_sem, _ = mean_and_sem(opened.mean(axis=1))
    assert all_frac == pytest.approx((a / lam) ** 4, abs=3 * all_sem)
    assert np.array_equal(opened, (bits == 15).astype(np.uint8))
    # dwell times: means those of the two-state chain, tending to 1/β (open) and 1/α (closed)
    f = -math.expm1(-lam * DT)
    p_oc, p_co = b / lam * f, a / lam * f
    gate = bits & 1
    opens, closes = _dwells(gate, starting_before=gate.shape[0] // 3)
    for state, dwell, p_leave, rate in ((1, opens, p_oc, b), (0, closes, p_co, a)):
        # the chain's own leaving probability: leaving transitions over steps spent in the state
        now, then = gate[:-1], gate[1:]
        n_in = float((now == state).sum())
        p_hat = float(((now == state) & (then != state)).sum()) / n_in
        assert p_hat == pytest.approx(p_leave, abs=3 * math.sqrt(p_leave * (1 - p_leave) / n_in))
        mean = dwell.mean()
        se = dwell.std(ddof=1) / math.sqrt(dwell.size)
        assert mean == pytest.approx(_exact_dwell_steps(p_leave), abs=3 * se)
        assert abs(_exact_dwell_steps(p_leave) * DT * rate - 1.0) < lam * DT   # → 1/rate as λ dt → 0
        # exponential: a fraction e^-k of the dwells outlast k mean dwells (binomial errors)
        for k in (1.0, 2.0, 3.0):
            longer = float((dwell > k * mean).mean())
            se_k = math.sqrt(math.exp(-k) * (1 - math.exp(-k)) / dwell.size)
            assert longer == pytest.approx(math.exp(-k), abs=3 * se_k + 1.0 / mean)


def test_an_hh_na_channel_is_open_m_cubed_h():
    table = _table("hh-na", {"v_shift_mV": 0.0})
    v = -45.0
    bits, opened = _record(table, v, n_channels=2000, steps=8000)
    m = gm.gate_open_fractions("hh-na", {"v_shift_mV": 0.0}, v)
    assert m[0] == m[1] == m[2] and len(m) == 4
    for g in range(4):
        frac, sem, _ = mean_and_sem(((bits >> g) & 1).mean(axis=1))
        assert frac == pytest.approx(m[g], abs=3 * sem)
    expected = m[0] ** 3 * m[3]
    frac, sem, _ = mean_and_sem(opened.mean(axis=1))
    assert frac == pytest.approx(expected, abs=3 * sem)
    assert gm.open_probability("hh-na", {"v_shift_mV": 0.0}, v) == pytest.approx(expected)


def test_a_shift_moves_the_rate_curves_along_v():
    plain = gm.gate_open_fractions("hh-k", {"v_shift_mV": 0.0}, -40.0)
    shifted = gm.gate_open_fractions("hh-k", {"v_shift_mV": 15.0}, -25.0)
    assert shifted == pytest.approx(plain)


def test_q10_and_the_time_scale_set_the_rates_not_the_open_fractions():
    cold = _table("hh-k", {"v_shift_mV": 0.0}, temperature_C=6.3, ns_per_ms=1.0)
    warm = _table("hh-k", {"v_shift_mV": 0.0}, temperature_C=16.3, ns_per_ms=1.0)
    slow = _table("hh-k", {"v_shift_mV": 0.0}, temperature_C=6.3, ns_per_ms=10.0)
    a0, b0 = gm.alpha_beta(cold, 0, 0, -50.0)
    a1, b1 = gm.alpha_beta(warm, 0, 0, -50.0)
    a2, b2 = gm.alpha_beta(slow, 0, 0, -50.0)
    assert a1 == pytest.approx(3.0 * a0) and b1 == pytest.approx(3.0 * b0)      # Q10 = 3 over 10 °C
    assert a2 == pytest.approx(a0 / 10.0) and b2 == pytest.approx(b0 / 10.0)    # 10 ns per HH ms
    # HH's α_n at -50 mV: 0.01·5 / (1 - e^-0.5) per ms at 6.3 °C
    assert a0 == pytest.approx(0.05 / (1 - math.exp(-0.5)))


def test_a_kir_gate_follows_v_minus_e_k():
    params = {"v_shift_mV": 10.0, "slope_mV": 8.0, "time_constant_ns": 2.0}
    for e_k, v in ((-90.0, -80.0), (-60.0, -50.0)):           # the same V - E_K: the same open fraction
        # (outside K+ at 1 mM: the √(1 mM / [K+]o) of its conductance is 1)
        table = _table("kir", params, e_k=e_k)
        bits, opened = _record(table, v, n_channels=1000, steps=6000, warm=600)
        expected = 1.0 / (1.0 + math.exp((v - e_k - 10.0) / 8.0))
        assert expected == pytest.approx(0.5)
        frac, sem, _ = mean_and_sem(opened.mean(axis=1))
        assert frac == pytest.approx(expected, abs=3 * sem)
        assert gm.open_probability("kir", params, v, e_k) == pytest.approx(expected)
    # inward rectification: open below E_K + shift, closed above
    assert gm.open_probability("kir", params, -110.0, -90.0) > 0.9 > 0.1 > gm.open_probability("kir", params, -50.0, -90.0)
    a, b = gm.alpha_beta(_table("kir", params), 0, 0, 0.0)
    assert a + b == pytest.approx(1.0 / 2.0)                  # relaxes with the time constant


def test_leak_gates_are_drawn_as_before_and_gated_ones_do_not_touch_them():
    """A leak pore's gate uses one draw per pore and step from the gating stream, whatever other
    types share the membrane (their gates draw from a stream of their own)."""
    from particles.rng import STREAM_GATING, draw, step_key, unit
    leak = ChannelType("K", "K", "leak", 1.0, 0.5, 10.0, 1.0, {})
    hh = ChannelType("Kv", "K", "hh-k", 1.0, 1.0, 0.0, 1.0, {"v_shift_mV": 0.0})
    table = gm.build_table([leak, hh], {n: int(Species[n]) for n in NAMES}, N_SPECIES, 6.3, 1.0, DT)
    pores = _pores(6)._replace(kind=np.array([0, 1, 0, 1, 0, 1]), p_close=np.full(6, 0.3), p_open=np.full(6, 0.4))
    for s in range(50):
        before = pores.is_open.copy()
        gate_channels(pores, table, -40.0, 3, s)
        key = np.uint64(step_key(3, s, STREAM_GATING))
        for j in (0, 2, 4):
            u = unit(np.uint64(draw(key, j)))
            want = (0 if u < 0.3 else 1) if before[j] else (1 if u < 0.4 else 0)
            assert pores.is_open[j] == want


@pytest.mark.physics
def test_a_closed_gated_channel_keeps_detailed_balance_as_a_closed_leak_pore_does():
    """K⁺-only membranes of Kir or Hodgkin–Huxley K⁺ channels, clamped at E_K (so the gates see a
    fixed V): whatever their gates do, no net current flows."""
    from simulation.checks import validate
    checks = validate.check_gated(seed=6, steps=60_000, free=False)
    assert len(checks) == 2 and all(c.passed for c in checks), "\n" + validate.format_table(checks)
