"""Figures (matplotlib figures made without pyplot, so importing this never changes the backend of
a notebook or a script; saved as PNG and SVG): a sweep's V against the varied key, one run's
V and concentrations over time (and its currents, when it was clamped), and an I–V curve.

When the varied key is an outside K⁺ concentration the x-axis is logarithmic and the classic
curves are drawn over the points: the Nernst E_K line, GHK and (with the pump on) Mullins–Noda,
all from the config's concentrations and the channels' effective permeabilities — the figure of
resting potential against log [K⁺]o whose slope approaches 61.5 mV per decade only at high [K⁺]o.
"""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
from matplotlib import figure

from membrane import theory
from membrane.channels import resting_potentials
from particles.species import CHARGE, NAMES, PERMEANT_NAMES, SOLUTES, SYMBOL
from simulation.core.config import Config
from simulation.palette import PUMP_COLOUR as _PUMP_RGB, SPECIES_COLOUR, theory_line, transporter_colour
from simulation.system import replacing


class Figure(figure.Figure):
    """A matplotlib figure made without pyplot that a notebook shows as a PNG (`Lab.plot`)."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return buf.getvalue()


def _colour(rgb) -> tuple[float, float, float]:
    return tuple(c / 255 for c in rgb)


ION_COLOURS = {ion: _colour(SPECIES_COLOUR[ion]) for ion in NAMES}
GHK_COLOUR = _colour(theory_line("V_GHK_mV")[0])
V_PUMP_COLOUR = _colour(theory_line("V_pump_mV")[0])   # the view's "GHK+pump" line
PUMP_COLOUR = _colour(_PUMP_RGB)   # as the pump drawn in the view
SPIKE_COLOUR = (0.0, 0.0, 0.0)     # a spike's mark, just above its peak

ION_WORDS = SYMBOL   # the species table's symbols: K⁺, Ca²⁺, ...
KEY_WORDS = {
    "physics.temperature_C": "temperature (°C)",
    "physics.capacitance_e_per_mV": "membrane capacitance (e per mV)",
    "physics.particles": "particles in the box",
    "pump.count": "number of Na⁺/K⁺ pumps",
    "pump.max_turnover_per_us": "pump turnover (cycles per µs)",
    "pump.enabled": "pumps on",
    "physics.field": "field in the pores",
    "fixed_anions.enabled": "fixed anions inside",
}


def axis_words(key: str) -> str:
    """A config key as an axis name in words: "outside.K" → "[K⁺] outside (mM)"."""
    parts = key.split(".")
    if parts[0] in ("inside", "outside") and len(parts) == 2:
        return f"[{ION_WORDS.get(parts[1], parts[1])}] {parts[0]} (mM)"
    if parts[0] == "channels" and len(parts) == 3:
        ion = ION_WORDS.get(parts[1], parts[1])
        return {"relative_permeability": f"permeability of {ion} channels (relative to K⁺)",
                "open_probability": f"open probability of {ion} channels",
                "mean_open_time_ns": f"mean open time of {ion} channels (ns)",
                "pore_D_factor": f"D in {ion} pores / D in water"}.get(parts[2], key)
    if parts[0] == "diffusion" and len(parts) == 2:
        return f"D of {ION_WORDS.get(parts[1], parts[1])} (nm²/ns)"
    return KEY_WORDS.get(key, key)


def _save(fig, out: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        final = out / f"{stem}.{ext}"
        with replacing(final) as tmp:
            fig.savefig(tmp, dpi=130, bbox_inches="tight", format=ext)
        paths.append(final)
    return paths


def sweep_figure(rows: list[dict], summary_rows: list[dict], keys: list[str], base: Config, out: Path) -> list[Path]:
    x_key = next((k for k in keys if isinstance(summary_rows[0][k], (int, float)) and
                  not isinstance(summary_rows[0][k], bool)), keys[0])
    if x_key == "stimulus.hold_pA":
        return _f_i_figure(summary_rows, keys, base, out)
    others = [k for k in keys if k != x_key]
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    groups: dict[tuple, list[dict]] = {}
    for r in summary_rows:
        groups.setdefault(tuple(r[k] for k in others), []).append(r)
    numeric_x = isinstance(summary_rows[0][x_key], (int, float)) and not isinstance(summary_rows[0][x_key], bool)
    for rest, rs in groups.items():
        label = "emergent V" + (" (" + ", ".join(f"{axis_words(k)} = {v}" for k, v in zip(others, rest)) + ")"
                                if others else "")
        xs = [r[x_key] for r in rs] if numeric_x else list(range(len(rs)))
        # error bar: the spread of seeds when there are several, else the run's own SEM
        err = [r["V_mean_mV_std"] / math.sqrt(r["n"]) if r["n"] > 1 and math.isfinite(r["V_mean_mV_std"])
               else r["V_sem_mV_mean"] for r in rs]
        # on top of the theory markers, so they never hide it; a point with a run that did not
        # settle in its window is drawn hollow, apart, and said so in the legend
        ok = [k for k, r in enumerate(rs) if r.get("settled", True)]
        bad = [k for k, r in enumerate(rs) if not r.get("settled", True)]
        drawn = ax.errorbar([xs[k] for k in ok], [rs[k]["V_mean_mV_mean"] for k in ok], yerr=[err[k] for k in ok],
                            fmt="o", ms=7, capsize=4, label=label, zorder=6, mec="k", mew=0.8)
        if bad:
            ax.errorbar([xs[k] for k in bad], [rs[k]["V_mean_mV_mean"] for k in bad], yerr=[err[k] for k in bad],
                        fmt="o", ms=7, capsize=4, mfc="none", color=drawn.lines[0].get_color(), mew=1.2,
                        ls="none", zorder=6, label=f"{label}: not settled in its window (see warnings)")
        if not numeric_x:
            ax.set_xticks(xs, [str(r[x_key]) for r in rs])
    if numeric_x:  # the theory each run had, at its own window-mean concentrations
        for key, marker, colour, label in (("V_GHK_mV", "x", GHK_COLOUR, "GHK at each run's concentrations"),
                                           ("V_pump_mV", "+", V_PUMP_COLOUR, "GHK + 3:2 pump at each run's")):
            if key == "V_pump_mV" and not any(r["pump_enabled"] for r in rows):
                continue
            ax.plot([r[x_key] for r in summary_rows], [r[f"{key}_mean"] for r in summary_rows], marker,
                    color=colour, ms=11, mew=1.5, ls="none", label=label, zorder=4)
    if x_key == "outside.K":
        values = sorted({r[x_key] for r in summary_rows})
        _k_out_theory(ax, values, base)
        ax.set_xscale("log")
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.minorticks_off()
        ax.set_xlabel("[K⁺] outside (mM, log scale)")
    else:
        ax.set_xlabel(axis_words(x_key))
    ax.set_ylabel("resting potential V (mV), mean ± SEM")
    ax.set_title(_fit_title(f"{base['name']}: resting potential against {axis_words(x_key)}"), fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out, "sweep")


def _f_i_figure(summary_rows: list[dict], keys: list[str], base: Config, out: Path) -> list[Path]:
    """A sweep of the held current: the firing rate while it is held against it (the f–I
    curve), one series per value of any other key varied. Error bars: the spread of seeds when
    there are several, else Poisson (√spikes over the time held; at least one spike's worth)."""
    others = [k for k in keys if k != "stimulus.hold_pA"]
    held_ns = max(base["physics.dt_ns"] * summary_rows[0]["steps_mean"] - base["stimulus.hold_from_ns"], 1e-9)
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    groups: dict[tuple, list[dict]] = {}
    for r in summary_rows:
        groups.setdefault(tuple(r[k] for k in others), []).append(r)
    for rest, rs in groups.items():
        rs = sorted(rs, key=lambda r: r["stimulus.hold_pA"])
        rate = [r.get("hold_rate_per_us_mean", math.nan) for r in rs]
        err = [r["hold_rate_per_us_std"] / math.sqrt(r["n"]) if r["n"] > 1 and math.isfinite(r["hold_rate_per_us_std"])
               else math.sqrt(max(r.get("hold_spikes_mean", 0.0) or 0.0, 1.0)) / held_ns * 1e3 for r in rs]
        label = "spikes counted" + (" (" + ", ".join(f"{axis_words(k)} = {v}" for k, v in zip(others, rest)) + ")"
                                    if others else "")
        ax.errorbar([r["stimulus.hold_pA"] for r in rs], rate, yerr=err, fmt="o-", ms=7, capsize=4, label=label,
                    mec="k", mew=0.8)
    ax.set_xlabel("held current (pA, into the cell)")
    ax.set_ylabel(f"firing rate while it is held (spikes per µs of model time; {held_ns / 1e3:.2g} µs)")
    ax.set_ylim(bottom=0)
    ax.set_title(_fit_title(f"{base['name']}: firing rate against held current (f–I)"), fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out, "sweep")


def _fit_title(text: str, width: int = 60) -> str:
    """Wrap a title onto two lines at a space if it is longer than `width` characters."""
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width)
    cut = cut if cut > 0 else width
    return text[:cut] + "\n" + text[cut:].lstrip()


def _k_out_theory(ax, k_values, base: Config) -> None:
    from simulation.core.config import channel_plan
    from simulation.core.model import PUMP_RATIO
    d = base.data
    perm = channel_plan(d).effective_permeability
    types = base.channel_types()
    k = np.logspace(math.log10(min(k_values) / 1.5), math.log10(max(k_values) * 1.5), 200)
    c_in = dict(d["inside"])
    T = d["physics"]["temperature_C"]
    curves = [resting_potentials(types, perm, c_in, dict(d["outside"], K=kk), T, PUMP_RATIO) for kk in k]
    ax.plot(k, [theory.nernst_mV(CHARGE["K"], c_in["K"], kk, T) for kk in k], "--", color=ION_COLOURS["K"],
            label="Nernst E_K")
    ax.plot(k, [c[0] for c in curves], "-", color=GHK_COLOUR, label="GHK")
    if d["pump"]["enabled"] and d["pump"]["count"] > 0:
        ax.plot(k, [c[2] for c in curves], "-", color=V_PUMP_COLOUR, label="GHK + 3:2 pump")
    slope = theory.thermal_voltage_mV(T) * math.log(10)
    ax.text(0.02, 0.96, f"Nernst slope {slope:.1f} mV per decade", transform=ax.transAxes, va="top", fontsize=8)


def run_figure(run_dir: str | Path) -> list[Path]:
    """V over time with the theory lines, and the concentrations over time, for one run."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    if not isinstance(summary, dict):
        raise ValueError("summary.json does not hold an object")
    ts = np.atleast_1d(np.genfromtxt(run_dir / "timeseries.csv", delimiter=",", names=True))
    return _save(run_plot(summary, ts), run_dir, "run")


def run_plot(summary: dict, ts) -> Figure:
    """The figure of `run_figure` from a summary dict and the time series (a structured array or
    record array with timeseries.csv's columns): what `Lab.plot` shows in a notebook."""
    t_us = ts["time_ns"] / 1000
    names = ts.dtype.names or ()
    clamped = "clamp_mV" in names and bool(np.any(np.isfinite(ts["clamp_mV"])))
    if clamped:     # a third panel: the currents the clamp measured
        fig = Figure(figsize=(8, 9.5))
        a1, a3, a2 = fig.subplots(3, 1, sharex=True, height_ratios=(1.2, 1, 1))
    else:
        fig = Figure(figsize=(8, 7))
        a1, a2 = fig.subplots(2, 1, sharex=True)
    cfg = summary["config"]
    ions = _ions_with_channels(summary)
    lines = [(f"E_{i}_mV", ION_COLOURS[i], f"E_{ION_WORDS[i]}") for i in PERMEANT_NAMES if i in ions]
    lines += [(key, _colour(theory_line(key)[0]), theory_line(key)[1]) for key, t in _exchangers(summary)
              if key in names]
    for col, colour, label in lines + [("V_GHK_mV", GHK_COLOUR, "GHK")]:
        if np.any(np.isfinite(ts[col])):      # (no GHK without channels)
            a1.plot(t_us, ts[col], "--", color=colour, lw=1.2, label=label, zorder=2)
    if cfg["pump"]["enabled"] and cfg["pump"]["count"] > 0 and summary.get("window"):
        v_pump = summary["theory"].get("V_pump_mV")
        if v_pump is not None and math.isfinite(v_pump):
            a1.hlines(v_pump, summary["window"][0] * cfg["physics"]["dt_ns"] / 1000,
                      summary["window"][1] * cfg["physics"]["dt_ns"] / 1000, color=V_PUMP_COLOUR, lw=1.5,
                      linestyles="-.", label="GHK + 3:2 pump, window", zorder=2)
    if summary.get("window"):
        w0, w1 = (s * cfg["physics"]["dt_ns"] / 1000 for s in summary["window"])
        a1.axvspan(w0, w1, color="0.85", alpha=0.5, lw=0, zorder=0, label="averaging window")
    a1.plot(t_us, ts["V_mV"], color="0.45", lw=0.6, label="V (emergent)", zorder=4)
    if ts.size > 20:
        k = max(1, ts.size // 100)
        c = np.cumsum(np.insert(ts["V_mV"], 0, 0.0))
        a1.plot(t_us[k - 1:], (c[k:] - c[:-k]) / k, color="k", lw=1.8, label="V, running mean", zorder=5)
    spikes = summary.get("spikes") or {}
    if spikes.get("count"):        # the spikes the run found (simulation/core/spikes.py): their peaks
        at = spikes.get("peak_times_ns", spikes["times_ns"])      # (a summary without peak times: the crossings)
        a1.plot(np.asarray(at) / 1000, np.asarray(spikes["peaks_mV"]) + 8, "v",
                color=SPIKE_COLOUR, ms=6, label=f"spikes found ({spikes['count']})", zorder=6)
    a1.set_ylabel("membrane potential (mV)")
    lo = min(-110.0, float(np.nanmin(ts["V_mV"])) - 5)
    hi = max(80.0, float(np.nanmax(ts["V_mV"])) + 5) + 50   # room for the legend above the lines
    a1.set_ylim(lo, hi)
    a1.legend(fontsize=8, ncol=3, loc="upper right")
    v, sem = summary.get("V_mean_mV"), summary.get("V_sem_mV")
    result = (f"V = {v:.1f} ± {sem:.1f} mV in the window" if v is not None and sem is not None
              else "too few samples for a mean")
    if spikes.get("count"):
        result += f", {spikes['count']} spike{'s' if spikes['count'] > 1 else ''}"
    if clamped:
        _currents_panel(a3, ts, t_us, summary)
        held = (summary.get("clamp") or {}).get("command_mV")
        total = (summary.get("currents") or {}).get("total") or {}
        if held is not None and total.get("pA") is not None:
            result = f"clamped at {held:g} mV, I = {total['pA']:+.1f} ± {total['pA_sem']:.1f} pA in the window"
    stopped = (f", stopped at step {summary['steps']} of {summary.get('steps_requested')}"
               + (f": {summary['error']}" if summary.get("error") else "") if summary.get("interrupted") else "")
    a1.set_title(_fit_title(f"{cfg['name']} (seed {summary['seed']}{stopped}): {result}"), fontsize=11)
    if "mM_per_particle" in summary:
        k_in, k_out = summary["mM_per_particle"]["in"], summary["mM_per_particle"]["out"]
    else:  # runs from before 0.1.0's summary had it: the first sample is the configured state
        cfg = summary["config"]
        k_in = cfg["inside"]["K"] / ts["K_in"][0]
        k_out = cfg["outside"]["Na"] / ts["Na_out"][0]
    for ion in SOLUTES:
        colour = ION_COLOURS[ion]
        if ts[f"{ion}_in"].max() == 0 and ts[f"{ion}_out"].max() == 0:
            continue
        a2.plot(t_us, ts[f"{ion}_in"] * k_in, color=colour, label=f"{ION_WORDS[ion]} inside")
        a2.plot(t_us, ts[f"{ion}_out"] * k_out, color=colour, ls=":", label=f"{ION_WORDS[ion]} outside")
    a2.set_yscale("log")
    a2.set_ylabel("concentration (mM)")
    a2.set_xlabel("model time (µs)")
    a2.legend(fontsize=8, ncol=3)
    for a in fig.axes:
        a.grid(alpha=0.3)
    return fig


def _ions_with_channels(summary: dict) -> set[str]:
    """The ions some channel type of the run passes (a summary from before channel types: by name)."""
    placed = summary.get("channels_placed") or {}
    return {p.get("ion", name) for name, p in placed.items() if p.get("channels", 0) > 0}


def _exchangers(summary: dict) -> list:
    """(reversal column, type) of each transporter with a reversal potential that the run had."""
    from membrane.transporters import TABLE
    cfg = summary["config"]
    return [(t.reversal_key, t) for t in TABLE if t.reversal_key and isinstance(cfg, dict)
            and isinstance(cfg.get(t.name), dict) and cfg[t.name].get("count", 0) > 0]


def _currents_panel(ax, ts, t_us, summary: dict) -> None:
    """Each ion's, the pumps' and the total current (pA, outward positive), as running means of
    the currents between samples (a 25th of the run: they are noisier than V), where the clamp
    held V."""
    k = max(1, ts.size // 25)
    held = np.isfinite(ts["clamp_mV"])
    ax.axhline(0.0, color="0.3", lw=0.8)
    ions = _ions_with_channels(summary)
    names = [(f"I_{ion}_pA", ION_COLOURS[ion], ION_WORDS[ion]) for ion in PERMEANT_NAMES if ion in ions]
    # a declared channel type's own current beside its ion's (a dotted line in the ion's colour)
    names += [(f"I_ch_{name}_pA", ION_COLOURS[p["ion"]], name)
              for name, p in (summary.get("channels_placed") or {}).items()
              if p.get("ion", name) != name and p.get("channels", 0) > 0 and f"I_ch_{name}_pA" in ts.dtype.names]
    pumps = summary.get("pumps", 0) and summary["config"]["pump"]["enabled"]
    names += [("I_pump_pA", PUMP_COLOUR, "pumps")] * bool(pumps)
    names += [(f"I_{t.name}_pA", _colour(transporter_colour(t.name)), t.symbol) for _, t in _exchangers(summary)]
    names += [("I_total_pA", (0, 0, 0), "total")]
    for col, colour, label in names:
        x = np.where(held, ts[col], np.nan)
        x = np.nan_to_num(x)                     # the first row has no current yet
        c = np.cumsum(np.insert(x, 0, 0.0))
        mean = (c[k:] - c[:-k]) / k
        mean[~held[k - 1:]] = np.nan
        ax.plot(t_us[k - 1:], mean, color=colour, lw=1.8 if label == "total" else 1.2, label=label,
                ls=":" if col.startswith("I_ch_") else "-")
    ax.set_ylabel("clamp current (pA, out +)")
    ax.legend(fontsize=8, ncol=len(names))



def iv_figure(result: dict, base: Config, steps: int, out: Path) -> list[Path]:
    """Currents against the command potential: each ion's points with its GHK current drawn
    over them, the pump's, and the total with where it crosses zero against theory. The GHK
    curves are the analysis' own (`result["curves"]`: simulation.headless.iv.analyse)."""
    pts, ions = result["points"], result["ions"]
    v = np.array([p["command_mV"] for p in pts])
    curves = result["curves"]
    grid = np.asarray(curves["command_mV"], dtype=float)
    fig = Figure(figsize=(8, 5.8))
    ax = fig.subplots()
    ax.axhline(0.0, color="0.3", lw=0.8)
    ghk_total = np.zeros_like(grid)
    for ion in ions:
        colour = ION_COLOURS[ion]
        curve = np.asarray(curves[ion], dtype=float)
        ghk_total += curve
        ax.plot(grid, curve, "-", color=colour, lw=1.6, alpha=0.8, zorder=3)
        ax.errorbar(v, [p[f"I_{ion}_pA"] for p in pts], yerr=[p[f"I_{ion}_pA_sem"] for p in pts], fmt="o",
                    color=colour, ms=5, capsize=3, zorder=5,
                    label=f"{ION_WORDS[ion]} channels (line: GHK at the points' concentrations, "
                          f"P = {result['P_abs_nm2_per_ns'][ion]:.3g} nm²/ns)")
    pump = np.array([p["I_pump_pA"] for p in pts])
    if np.any(np.abs(pump[np.isfinite(pump)]) > 0):
        ax.errorbar(v, pump, yerr=[p["I_pump_pA_sem"] for p in pts], fmt="D", color=PUMP_COLOUR, ms=4, capsize=3,
                    zorder=5, label="Na⁺/K⁺ pumps")
        ghk_total += float(np.nanmean(pump))
    if len(ions) > 1 or np.any(np.abs(pump[np.isfinite(pump)]) > 0):
        ax.plot(grid, ghk_total, "--", color="k", lw=1.2, zorder=3)
        ax.errorbar(v, [p["I_total_pA"] for p in pts], yerr=[p["I_total_pA_sem"] for p in pts], fmt="s",
                    color="k", ms=5, capsize=3, zorder=6, label="total (dashed: GHK sum" +
                    (" + the pump's mean)" if np.any(np.abs(pump[np.isfinite(pump)]) > 0) else ")"))
    r = result["reversal"]
    measured, sem = (r["total_mV"], r["total_sem_mV"]) if len(ions) > 1 or math.isfinite(r["zero_current_with_pump_mV"]) \
        else (r["channels_mV"], r["channels_sem_mV"])
    expected = r["zero_current_with_pump_mV"] if math.isfinite(r["zero_current_with_pump_mV"]) else r["GHK_mV"]
    if math.isfinite(measured):
        ax.axvspan(measured - sem, measured + sem, color="0.5", alpha=0.25, lw=0, zorder=1)
        ax.axvline(measured, color="0.3", lw=1.0, zorder=2, label=f"reversal, measured {measured:.1f} ± {sem:.1f} mV")
    if math.isfinite(expected):
        ax.axvline(expected, color=GHK_COLOUR, lw=1.6, ls=":", zorder=2,
                   label=f"{'GHK + pump' if math.isfinite(r['zero_current_with_pump_mV']) else 'GHK'} "
                         f"zero current {expected:.1f} mV")
    if len(ions) == 1:
        e = r["nernst_mV"][ions[0]]
        ax.axvline(e, color=ION_COLOURS[ions[0]], lw=1.0, ls="-.", zorder=2, label=f"E_{ions[0]} {e:.1f} mV")
    ax.set_xlabel("command potential V (mV)")
    ax.set_ylabel("current (pA, outward positive), mean ± SEM")
    n_seeds = max(p["n"] for p in pts)
    ax.set_title(_fit_title(f"{base['name']}: voltage-clamp I–V, {len(pts)} points × {steps} steps"
                            + (f" × {n_seeds} seeds" if n_seeds > 1 else ""), 70), fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left")
    return _save(fig, out, "iv")
