"""Recorders: strided, read-only observers of a `Simulation` that write SPEC §4's files.

`TimeseriesRecorder` appends one row per sample to timeseries.csv (flushed as it goes, so an
interrupted run keeps what it recorded) and keeps the samples in memory for the summary.
`summarise` turns the samples of the averaging window into summary.json's numbers.
"""
from __future__ import annotations

import csv
import json
import math
import os

import numpy as np

from membrane import theory
from membrane.transporters import TABLE as TRANSPORTERS
from particles.species import CHARGE, DIFFUSING_NAMES, NAMES, PERMEANT_NAMES, Species
from simulation.core.config import ConfigError
from simulation.core.observe import PA_PER_E_PER_US, column_names, timeseries_columns
from simulation.core.statistics import (MAX_TRANSIENT_SHARE, MIN_EFFECTIVE_SAMPLES, WANDER_BATCHES, WANDER_LIMIT,
                                        detect_equilibration, drift, flux_factors, mean_and_sem, measured_permeability,
                                        permeability_ratio_sem, slow_wander)
from simulation.system import replacing


# the samples a run keeps in memory for its summary, at most (8 bytes a value): 2 GiB, ~4 million
# rows of a cell's ~67 columns. Kept as Python lists they took ~2.1 kB a row.
MAX_SAMPLE_BYTES = 2 << 30
BLOCK_ROWS = 1 << 16         # the samples are kept in blocks of this many rows
MAX_MEMBRANE_mV = 500.0      # |V| beyond this: dielectric breakdown of a real membrane is near 300 mV


def check_samples(config, steps: int, every: int, where: str = "run") -> None:
    """ConfigError (one line) when `steps` sampled every `every` would keep more than
    MAX_SAMPLE_BYTES of samples in memory; says the stride that fits."""
    from simulation.core.model import THEORY_KEYS
    n_cols = len(timeseries_columns(tuple(t.name for t in config.channel_types()), TRANSPORTERS, THEORY_KEYS))
    rows = steps // every + 2                      # the first sample, one every `every` steps, the last
    if rows * n_cols * 8 > MAX_SAMPLE_BYTES:
        fits = max(1, (MAX_SAMPLE_BYTES // (n_cols * 8)) - 2)
        raise ConfigError(f"{where}: {steps} steps sampled every {every} keep {rows} samples of {n_cols} columns "
                          f"({rows * n_cols * 8 / 2**30:.3g} GiB) in memory for the summary; at most "
                          f"{MAX_SAMPLE_BYTES >> 30} GiB: sample every {-(-steps // fits)} steps or more "
                          f"(--sample-every), or run at most {fits * every} steps at this stride")


class TimeseriesRecorder:
    """Reads the simulation every `every` steps; writes a CSV row and keeps it (as float64: a
    value 8 bytes; whole numbers are exact below 2**53, NaN where the file is empty). Its columns
    are the cell's declared ones (`Simulation.timeseries_columns`, `simulation.core.observe`)."""

    def __init__(self, sim, path: str | os.PathLike | None, every: int):
        self.sim = sim
        self.every = max(1, int(every))
        self.columns = sim.timeseries_columns()
        self.names = column_names(self.columns)
        self._blocks: list[np.ndarray] = []      # BLOCK_ROWS rows each: no copy as it grows
        self.n_rows = 0
        self._last = None    # the last sample's observation (for the currents)
        # "x": a new file; never written through a link or over a file already there
        self.path = path
        self._file = open(path, "x", newline="") if path else None
        self._writer = csv.writer(self._file) if self._file else None
        self._whole = self._whole_rows = 0      # bytes of the file known written whole, and its rows
        if self._writer:
            self._writer.writerow(self.names)

    def sample(self) -> None:
        o = self.sim.observe()
        row = [c.value(o, self._last) for c in self.columns]
        self._last = o
        k = self.n_rows % BLOCK_ROWS
        if k == 0:
            self._blocks.append(np.empty((BLOCK_ROWS if self._blocks else 64, len(self.names))))
        elif k == len(self._blocks[-1]):      # the first block starts small (most runs are 2000 rows)
            self._blocks[-1] = np.concatenate([self._blocks[-1], np.empty((min(k, BLOCK_ROWS - k), len(self.names)))])
        self._blocks[-1][k] = [np.nan if v == "" else v for v in row]
        self.n_rows += 1
        if self._writer:
            self._writer.writerow(row)

    def rows(self):
        """The rows kept, as the file holds them (whole numbers as int, "" where none)."""
        whole = [c.digits is None for c in self.columns]
        for r in self._data().tolist():
            yield ["" if v != v else int(v) if w else v for v, w in zip(r, whole)]

    def _data(self) -> np.ndarray:
        """The rows kept, as one float64 array (a copy)."""
        if not self._blocks:
            return np.zeros((0, len(self.names)))
        return np.concatenate(self._blocks)[:self.n_rows]

    def flush(self) -> None:
        if self._file:
            self._file.flush()
            self._whole, self._whole_rows = self._file.tell(), self.n_rows

    def close(self) -> None:
        """Close the file (its last rows written); if that fails, `abandon` still cuts it back."""
        if self._file:
            self._file.close()
            self._file = None

    def abandon(self) -> None:
        """After a failed write (a full disk): close the file without what was not flushed and cut
        it back to its last whole row, so it holds whole rows only; the samples after that row
        are dropped from memory too, so the summary is of the rows the file holds."""
        if self._file:
            f, self._file = self._file, None
            try:
                f.close()           # its flush fails again; the descriptor is closed all the same
            except OSError:
                pass
            os.truncate(self.path, self._whole)
            self.n_rows = self._whole_rows

    def write_csv(self, path: str | os.PathLike) -> None:
        """The rows kept so far as timeseries.csv, byte for byte what a recorder writing as it
        goes writes (atomically; never through a link already there)."""
        with replacing(path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.names)
            w.writerows(self.rows())

    def array(self) -> dict[str, np.ndarray]:
        data = self._data()
        return {c: data[:, k] for k, c in enumerate(self.names)}


def clamped_throughout(samples: dict[str, np.ndarray]) -> bool:
    """Whether every sample was taken with V clamped (then V is the command, and the clamp's
    current, not V, is what settles)."""
    c = samples.get("clamp_mV")
    return c is not None and c.size > 0 and bool(np.all(np.isfinite(c)))


def choose_window(samples: dict[str, np.ndarray], window: tuple[int, int] | None) -> tuple[np.ndarray, dict]:
    """The samples to average over, and how they were chosen (summary.json's `settling`): the
    given `--window`, or from the detected end of the transient (`statistics.detect_equilibration`)
    to the end; with flags when the run is too short to have settled. The transient is V's, or
    the total current's in a run clamped throughout."""
    steps = samples["step"]
    if clamped_throughout(samples) and steps.size > 1:
        what, unit, x = "the clamp current", "pA", samples["I_total_pA"].copy()
        x[0] = x[1]                # no current before the first interval
    else:
        what, unit, x = "V", "mV", samples["V_mV"]
    if window is not None:
        sel = (steps >= window[0]) & (steps <= window[1])
        how = {"method": "--window", "requested": [int(window[0]), int(window[1])]}
        if sel.sum() < 2:
            sel = np.ones_like(steps, dtype=bool)
            how["note"] = "fewer than 2 samples in --window: the whole run was averaged"
    elif what != "V":
        # clamped: the ions in the pores take a pore's diffusion time (~100 ns) to follow a new V,
        # and carry charge while they do (-20 e at a step to E_K in the K⁺-only cell: +6 pA over
        # 500 ns), a transient too small for MSER to see in the current's noise: the second half
        t0 = steps.size // 2
        sel = np.arange(steps.size) >= t0
        how = {"method": "second half (clamped throughout)", "of": what,
               "transient_end_step": int(steps[t0]), "transient_share": float(t0 / max(steps.size, 1))}
    else:
        t0 = detect_equilibration(x)
        sel = np.arange(steps.size) >= t0
        how = {"method": "detected end of the transient (MSER-5)", "of": what,
               "transient_end_step": int(steps[t0]), "transient_share": float(t0 / max(steps.size, 1))}
    _, _, n_eff = mean_and_sem(x[sel])
    d, d_sem = drift(x[sel])
    warnings = []
    if window is None and what == "V" and how["transient_share"] > MAX_TRANSIENT_SHARE:
        warnings.append(f"{what} was still settling for {100 * how['transient_share']:.0f} % of the run "
                        f"(until step {how['transient_end_step']}): run longer for a steady mean")
    if n_eff < MIN_EFFECTIVE_SAMPLES:
        warnings.append(f"only {n_eff:.0f} independent samples of {what} in the window (fewer than "
                        f"{MIN_EFFECTIVE_SAMPLES}): its standard error is itself uncertain; run longer")
    wander = slow_wander(x[sel])
    if math.isfinite(wander) and wander > WANDER_LIMIT:
        span = (steps[sel][-1] - steps[sel][0]) / WANDER_BATCHES
        warnings.append(f"{what} wanders on a time scale of a sixteenth of the window or more ({span:.0f} steps; "
                        f"successive sixteenths correlate {wander:+.2f}): its standard error is a lower bound; "
                        f"run longer")
    if math.isfinite(d) and d_sem > 0 and abs(d) > 3 * d_sem:
        warnings.append(f"{what} drifts by {d:+.2f} ± {d_sem:.2f} {unit} between the halves of the window: "
                        f"not yet steady (gradients running down, or still settling)")
    if what == "V" and x.size and np.nanmax(np.abs(x)) > MAX_MEMBRANE_mV:
        worst = float(x[np.nanargmax(np.abs(x))])
        warnings.append(f"V reached {worst:+.0f} mV, past ±{MAX_MEMBRANE_mV:.0f} mV, where no membrane holds (a real "
                        f"one breaks down near 300 mV): nothing in this run held V back (a current larger than "
                        f"the channels carry, or the pores' field off), and its numbers describe no cell")
    how.update({"effective_samples": float(n_eff), f"drift_{unit}": d, f"drift_sem_{unit}": d_sem,
                "settled": not warnings, "warnings": warnings})
    return sel, how


def current_names(samples) -> list[str]:
    """The currents a time series holds, from its I_<name>_pA columns: each ion's, each
    transporter's, the total, each channel type's (ch_<type>)."""
    return [c[2:-3] for c in samples if c.startswith("I_") and c.endswith("_pA")]


def currents(samples: dict[str, np.ndarray], sel: np.ndarray) -> dict:
    """Mean current of each ion's channels, of the pumps and in total over the window, outward
    positive, with standard errors from the currents between consecutive samples (correlated
    samples: `statistics.mean_and_sem`); in pA and e/µs. The window's first sample only opens it."""
    inner = sel.copy()
    inner[np.argmax(sel)] = False
    out = {}
    for name in current_names(samples):
        x = samples[f"I_{name}_pA"][inner]
        x = x[np.isfinite(x)]
        m, se, _ = mean_and_sem(x)
        out[name] = {"pA": m, "pA_sem": se, "e_per_us": m / PA_PER_E_PER_US, "e_per_us_sem": se / PA_PER_E_PER_US}
    return out


def clamp_summary(samples: dict[str, np.ndarray], sel: np.ndarray) -> dict:
    """What the clamp did over the window: its command if it held one throughout, the share of
    samples clamped, and the charge its electrode put in."""
    c = samples["clamp_mV"][sel]
    held = np.isfinite(c)
    one = bool(held.all() and c.size and np.all(c == c[0]))
    e = samples["electrode_e"][sel]
    return {"command_mV": float(c[0]) if one else None, "clamped_share": float(held.mean()) if c.size else 0.0,
            "electrode_e_in_window": float(e[-1] - e[0]) if e.size else 0.0,
            "electrode_e_total": float(samples["electrode_e"][-1]) if samples["electrode_e"].size else 0.0}


PERMEABILITY_BLOCKS = 12   # jackknife blocks of the window for the measured permeabilities' errors


def _permeability_sem(samples: dict, sel: np.ndarray, per_sample: dict, dens_in: dict, dens_out: dict,
                      dt_ns: float) -> dict:
    """Block-jackknife standard errors of the measured P_ion/P_K (see `permeability_ratio_sem`);
    `per_sample[ion]` is `flux_factors` at each V sample of the window."""
    if "K" not in per_sample:
        return {}
    idx = np.nonzero(sel)[0]
    edges = np.linspace(0, idx.size - 1, PERMEABILITY_BLOCKS + 1).astype(int)
    if idx.size < 2 * PERMEABILITY_BLOCKS or np.any(np.diff(edges) < 1):
        return {ion: math.nan for ion in per_sample if ion != "K"}
    start, end = idx[edges[:-1]], idx[edges[1:]]
    span_ns = (samples["step"][end] - samples["step"][start]) * dt_ns
    counts, denominators = {}, {}
    for ion, (f_out, f_in) in per_sample.items():
        cum = samples[f"{ion}_efflux"] + samples[f"{ion}_influx"]
        counts[ion] = cum[end] - cum[start]
        # the V samples during each block: positions edges[j]+1 .. edges[j+1] of the window
        blk_out = np.array([f_out[a + 1:b + 1].mean() for a, b in zip(edges[:-1], edges[1:])])
        blk_in = np.array([f_in[a + 1:b + 1].mean() for a, b in zip(edges[:-1], edges[1:])])
        denominators[ion] = span_ns * (dens_in[ion] * blk_out + dens_out[ion] * blk_in)
    return permeability_ratio_sem(counts, denominators)


def _window_permeability(sim, samples: dict, sel: np.ndarray) -> dict[str, float]:
    """Per ion, relative to K⁺: its leak types as placed, and each voltage-gated type's
    permeability all open times the share of its channels open on average over the window."""
    out = sim.channels.leak_permeability()
    counts = sim.channel_counts()
    for t, p in sim.channels.gated():
        out[t.ion] += p * float(np.mean(samples[f"ch_{t.name}_open"][sel])) / counts[t.name]
    return out


def summarise(sim, samples: dict[str, np.ndarray], window: tuple[int, int] | None = None) -> dict:
    """Window means, honest SEM, theory at the window's mean concentrations, measured fluxes."""
    steps = samples["step"]
    if steps.size == 0:
        return {"window": None, "V_mean_mV": None, "V_sem_mV": None}
    sel, settling = choose_window(samples, window)
    w_steps = steps[sel]
    v = samples["V_mV"][sel]
    v_mean, v_sem, n_eff = mean_and_sem(v)
    k_in, k_out = sim.mM_per_particle
    c_in = {n: float(samples[f"{n}_in"][sel].mean() * k_in) for n in NAMES}
    c_out = {n: float(samples[f"{n}_out"][sel].mean() * k_out) for n in NAMES}
    th = sim.theory(c_in, c_out)
    span_steps = float(w_steps[-1] - w_steps[0])
    span_ns = span_steps * sim.dt_ns
    cycles = samples["pump_cycles"][sel]
    pump_rate = float((cycles[-1] - cycles[0]) / span_ns * 1e3) if span_ns > 0 else math.nan

    # fluxes over the window: measured permeabilities and Ussing's ratio
    eff = {ion: float(samples[f"{ion}_efflux"][sel][-1] - samples[f"{ion}_efflux"][sel][0]) for ion in PERMEANT_NAMES}
    inf = {ion: float(samples[f"{ion}_influx"][sel][-1] - samples[f"{ion}_influx"][sel][0]) for ion in PERMEANT_NAMES}
    dens_in = {ion: c_in[ion] / sim.mM_per_density for ion in PERMEANT_NAMES}
    dens_out = {ion: c_out[ion] / sim.mM_per_density for ion in PERMEANT_NAMES}
    crossing = sim.channels.crossing()
    per_sample = {ion: flux_factors(CHARGE[ion], v, sim.temperature_C) for ion in crossing}
    factors = {ion: (float(f_out.mean()), float(f_in.mean())) for ion, (f_out, f_in) in per_sample.items()}
    p_meas = measured_permeability({i: eff[i] for i in crossing}, {i: inf[i] for i in crossing}, span_ns,
                                   dens_in, dens_out, factors) if span_ns > 0 else {}
    p_sem = _permeability_sem(samples, sel, per_sample, dens_in, dens_out, sim.dt_ns) if span_ns > 0 else {}
    ussing = {}
    for ion in crossing:
        # expected influx/efflux over the window for independent ions in the constant field
        f_out, f_in = factors[ion]
        e_out, e_in = f_out * c_in[ion], f_in * c_out[ion]
        ratio = inf[ion] / eff[ion] if eff[ion] > 0 else math.nan
        ussing[ion] = {"influx": inf[ion], "efflux": eff[ion], "measured_ratio": ratio,
                       "expected_ratio": float(e_in / e_out) if e_out > 0 else math.nan}
    ref = p_meas.get("K")
    p_rel = {ion: (p / ref if ref and ref > 0 and math.isfinite(p) else math.nan) for ion, p in p_meas.items()}
    # zero-current potential with the pump's measured current, from the measured permeabilities
    pump_current_per_ns = pump_rate * 1e-3
    p_abs = {ion: p for ion, p in p_meas.items() if math.isfinite(p) and p > 0}
    pump_i = pump_current_per_ns if sim.pumps_on else 0.0
    # the other transporters' outward current over the window (e/ns), from the charge they carried
    for t in TRANSPORTERS[1:]:
        q = samples[f"{t.name}_charge_in_e"][sel]
        if span_ns > 0 and q.size:
            pump_i += -(float(q[-1]) - float(q[0])) / span_ns
    v_zero = theory.zero_current_mV(p_abs, dens_in, dens_out, sim.temperature_C, pump_i) if p_abs else math.nan
    # its uncertainty: the transit and cycle counts are Poisson; resample them and recompute
    zero_sem = math.nan
    if p_abs and span_ns > 0:
        rng = np.random.default_rng(sim.seed)
        n_cycles = max(float(cycles[-1] - cycles[0]), 0.0)
        draws = []
        for _ in range(200):
            scale = {i: rng.poisson(eff[i] + inf[i]) / (eff[i] + inf[i]) if eff[i] + inf[i] > 0 else 1.0
                     for i in p_abs}
            ip = pump_i * (rng.poisson(n_cycles) / n_cycles if n_cycles > 0 else 1.0)
            draws.append(theory.zero_current_mV({i: p_abs[i] * scale[i] for i in p_abs}, dens_in, dens_out,
                                                sim.temperature_C, ip))
        zero_sem = float(np.nanstd(draws))
    return {
        "window": [int(w_steps[0]), int(w_steps[-1])],
        "settling": settling,
        "samples_in_window": int(sel.sum()),
        "V_mean_mV": v_mean,
        "V_sem_mV": v_sem,
        "V_std_mV": float(v.std(ddof=1)) if v.size > 1 else math.nan,
        "effective_samples": n_eff,
        "concentrations_mM": {"in": c_in, "out": c_out},
        "theory": th,
        "effective_permeability": _window_permeability(sim, samples, sel),
        "measured_permeability": p_rel,
        "measured_permeability_sem": p_sem,
        "measured_permeability_abs_nm2_per_ns": p_abs,
        "zero_current_mV": v_zero,
        "zero_current_sem_mV": zero_sem,
        "ussing": ussing,
        "pump_cycles_per_us": pump_rate,
        "currents": currents(samples, sel),
        "clamp": clamp_summary(samples, sel),
        "channels": sim.channel_counts(),
        "channels_placed": sim.channels.placed(),
        "channels_open_mean": {name: float(np.mean(samples[f"ch_{name}_open"][sel]))
                               for name, n in sim.channel_counts().items() if n > 0},
        "fillers_placed": {side: {ion: {"particles": n, "mM": n * (k_in if side == "inside" else k_out)}
                                  for ion, n in counts.items() if n > 0}
                           for side, counts in sim.fillers.items()},
        "perfusion_exchanged": ({name: int(sim.perfusion_exchanged[Species[name]]) for name in DIFFUSING_NAMES
                                 if sim.perfusion_exchanged[Species[name]]} if sim.config["perfusion.enabled"] else None),
        "channels_per_unit_permeability_used": sim.channels_per_unit,
        "pumps": sim.pump_count,
        "mM_per_particle": {"in": k_in, "out": k_out},  # converts the file's counts to mM
        "mM_per_density": sim.mM_per_density,           # mM per particle/nm² (2D concentrations)
        "window_span_ns": span_ns,
    }


def write_json(path: str | os.PathLike, data: dict) -> None:
    """Write JSON atomically (temporary name, then rename); NaN becomes null."""
    def clean(o):
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if isinstance(o, (np.floating, float)):
            return float(o) if math.isfinite(o) else None
        if isinstance(o, np.integer):
            return int(o)
        return o
    write_text(path, json.dumps(clean(data), indent=2) + "\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically (see `replacing`)."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
