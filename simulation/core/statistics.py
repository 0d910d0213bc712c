"""Statistics of a recorded run: honest standard errors, where the transient ends, the window.

Samples of V are correlated in time, so the standard error of their mean is
sqrt(var · 2 τ_int / n), with τ_int the integrated autocorrelation time in samples, estimated with
Sokal's self-consistent window (M ≥ 5 τ_int) on autocorrelations corrected for the sample mean,
and never less than the error of 8 batch means. A window shorter than ~50 τ_int gives a SEM that
is itself uncertain; `effective_samples` says how many independent samples there were.

The averaging window starts where the transient ends, found from the data by MSER-5, the
marginal standard error rule on batch means of 5 samples (White 1997; Hoad, Robinson & Davies,
J. Oper. Res. Soc. 61, 2010, found it the most reliable of the warm-up detection methods for
simulation output): drop the first d batches for the d that minimises Σ (x − mean)² / (n − d)² of
the rest, searching the first half. A minimum in the last part of that half means the run is too
short to have settled. (Chodera's maximum-effective-samples rule, used in molecular dynamics, was
tried and kept the transient here: V's correlation time is the membrane's RC time, as long as the
transient itself, so its estimates of g are too noisy to see it.)
"""
from __future__ import annotations

import math

import numpy as np

from membrane import theory


def integrated_autocorrelation_time(x: np.ndarray, c: float = 5.0) -> float:
    """τ_int = 1/2 + Σ_{t=1}^{M} ρ(t), in samples (1/2 for uncorrelated samples), Sokal's window
    M ≥ c·τ_int, on autocorrelations corrected for the series' own mean.

    Subtracting the sample mean, whose variance is σ²·2τ_int/n, lowers every autocovariance by
    about that much: ρ̂(t) ≈ (ρ(t) − b)/(1 + b), b = 2τ_int/n. Uncorrected, a series only ten or
    thirty times its slowest correlation time gets τ_int, and so its error bar, too small (V's
    ~90-ns wander at rest: 750-ns windows gave 4.4 mV where the truth was 6–7; issue 25). The
    correction is applied self-consistently (b from τ_int, a few rounds)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 4:
        return 0.5
    y = x - x.mean()
    var = float(y @ y) / n
    if var == 0.0:
        return 0.5
    f = np.fft.rfft(y, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (var * n)
    tau = 0.5
    for _ in range(MEAN_CORRECTION_ROUNDS):
        b = min(2.0 * tau / n, 1.0)
        rho = (acf + b) / (1.0 + b)
        t = 0.5
        for m in range(1, n):
            t += rho[m]
            if m >= c * t:
                break
        if abs(t - tau) < 1e-3 * tau:
            tau = t
            break
        tau = max(0.5, t)
    return max(0.5, float(tau))


MEAN_CORRECTION_ROUNDS = 6


BATCHES = 8   # batch means: the second estimate of the standard error


def batch_means(x: np.ndarray, batches: int) -> np.ndarray:
    """The means of `batches` equal consecutive batches of x (the remainder at the end left out)."""
    x = np.asarray(x, dtype=np.float64)
    m = x.size // batches
    return x[:m * batches].reshape(batches, m).mean(axis=1)


def mean_and_sem(x: np.ndarray) -> tuple[float, float, float]:
    """(mean, standard error, effective number of independent samples).

    The standard error is the larger of two estimates: Sokal's (from τ_int, which sees the
    correlations within its window of ~5 τ_int) and that of 8 batch means, which sees any
    correlation shorter than an eighth of the series. V has components slower than Sokal's
    window sees (a K⁺-only membrane: the lateral spread of K⁺ along the outside and the pores'
    contents, ~70 ns and longer): there the batches give the larger, honest error (issue 25: a
    750-ns run missed E_K by 2.5 mV with a Sokal error of 0.77 mV). The effective count is then
    var / SEM². What neither sees (correlations as long as a batch) `slow_wander` flags."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n == 0:
        return math.nan, math.nan, 0.0
    if n == 1:
        return float(x[0]), math.nan, 1.0
    tau = integrated_autocorrelation_time(x)
    n_eff = n / (2.0 * tau)
    sd = float(x.std(ddof=0)) * math.sqrt(1.0 + min(2.0 * tau / n, 1.0))   # the variance about the true mean
    sem = sd / math.sqrt(max(n_eff, 1.0))
    if n >= 4 * BATCHES:
        sem_b = float(batch_means(x, BATCHES).std(ddof=1)) / math.sqrt(BATCHES)
        if sem_b > sem:
            sem = sem_b
            n_eff = (sd / sem) ** 2 if sem > 0 else n_eff
    return float(x.mean()), sem, float(min(n_eff, n))


WANDER_BATCHES = 16
WANDER_LIMIT = 0.5     # lag-1 correlation of 16 batch means above this: ~2 of its standard errors (1/√16)


def slow_wander(x: np.ndarray) -> float:
    """The lag-1 correlation of 16 consecutive batch means: near 0 when the series forgets
    within a sixteenth of its length, near 1 when it wanders on a time scale as long as the batches
    (then no estimate from this series alone is a firm standard error). NaN when too short."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 4 * WANDER_BATCHES:
        return math.nan
    b = batch_means(x, WANDER_BATCHES)
    b = b - b.mean()
    den = float(b @ b)
    return float(b[:-1] @ b[1:]) / den if den > 0 else math.nan


def flux_factors(z: int, v_samples_mV: np.ndarray, temperature_C: float) -> tuple[np.ndarray, np.ndarray]:
    """z u/(1 − e^(−z u)) and z u e^(−z u)/(1 − e^(−z u)) at each V sample: the GHK
    unidirectional efflux per (P · c_in) and influx per (P · c_out)."""
    vt = theory.thermal_voltage_mV(temperature_C)
    f_out = np.array([theory.ghk_efflux_factor(z, v / vt) for v in v_samples_mV], dtype=np.float64)
    f_in = np.array([theory.ghk_influx_factor(z, v / vt) for v in v_samples_mV], dtype=np.float64)
    return f_out, f_in


def measured_permeability(efflux: dict, influx: dict, span_ns: float, c_in: dict, c_out: dict,
                          factors: dict) -> dict:
    """Absolute permeability per ion from both unidirectional fluxes over a window.

    GHK: J_out = P c_in z u/(1 − e^(−z u)), J_in = P c_out z u e^(−z u)/(1 − e^(−z u)); so
    P = (N_out + N_in) / (span · (c_in ⟨f_out⟩ + c_out ⟨f_in⟩)), with `factors[ion]` the
    (f_out, f_in) of `flux_factors` averaged over the window. Concentrations in particles/nm², P in
    nm²/ns (2D: transits/ns per particle/nm²).
    """
    out = {}
    for ion in efflux:
        f_out, f_in = factors[ion]
        denom = span_ns * (c_in[ion] * f_out + c_out[ion] * f_in)
        out[ion] = (efflux[ion] + influx[ion]) / denom if denom > 0 else math.nan
    return out


def permeability_ratio_sem(counts: dict, denominators: dict, reference: str = "K") -> dict:
    """Standard error of each measured P_ion/P_ref by the delete-one-block jackknife.

    `counts[ion]` and `denominators[ion]` are arrays over consecutive blocks of the window: the
    transits (both ways) in each block and the block's span · (c_in ⟨f_out⟩ + c_out ⟨f_in⟩), so
    P = Σ counts / Σ denominators. Transits are not independent (a channel's open bout lets
    several through, V's swings move every flux together), so Poisson errors understate the
    scatter; blocks longer than those correlations capture it.
    """
    out = {}
    n_ref, d_ref = np.asarray(counts[reference], float), np.asarray(denominators[reference], float)
    b = n_ref.size
    for ion in counts:
        if ion == reference:
            continue
        n, d = np.asarray(counts[ion], float), np.asarray(denominators[ion], float)
        if b < 4 or n.sum() <= 0 or n_ref.sum() <= 0:
            out[ion] = math.nan
            continue
        loo_ion = (n.sum() - n) / (d.sum() - d)
        loo_ref = (n_ref.sum() - n_ref) / (d_ref.sum() - d_ref)
        if np.any(loo_ref <= 0):     # every reference transit in one block: too few to judge
            out[ion] = math.nan
            continue
        theta = loo_ion / loo_ref
        out[ion] = float(math.sqrt((b - 1) / b * np.sum((theta - theta.mean()) ** 2)))
    return out


MIN_EFFECTIVE_SAMPLES = 30     # fewer independent samples than this: the mean is not worth much
MAX_TRANSIENT_SHARE = 0.4      # MSER's cut this late in the half it searches: the run may not have settled


def detect_equilibration(x: np.ndarray, batch: int = 5) -> int:
    """MSER-5: the index where the transient ends (0 if none is seen), searched in the first half."""
    x = np.asarray(x, dtype=np.float64)
    m = x.size // batch
    if m < 4:
        return 0
    b = x[:m * batch].reshape(m, batch).mean(axis=1)
    # Σ (b − mean)² of every suffix b[d:], from suffix sums
    rev = b[::-1]
    n = np.arange(1, m + 1, dtype=np.float64)
    s1 = np.cumsum(rev)[::-1]
    s2 = np.cumsum(rev * rev)[::-1]
    count = n[::-1]
    sse = s2 - s1 * s1 / count
    mser = sse / (count * count)
    d = int(np.argmin(mser[: m // 2 + 1]))
    return d * batch


def drift(x: np.ndarray) -> tuple[float, float]:
    """(mean of the second half − mean of the first half, its standard error): V still moving?"""
    x = np.asarray(x, dtype=np.float64)
    h = x.size // 2
    if h < 4:
        return math.nan, math.nan
    m1, s1, _ = mean_and_sem(x[:h])
    m2, s2, _ = mean_and_sem(x[h:])
    return m2 - m1, math.hypot(s1, s2)
