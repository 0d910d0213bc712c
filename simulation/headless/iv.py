"""Voltage-clamp I–V curves: one clamped run per command potential, the currents against V.

`iv` is a sweep of `clamp.command_mV` with the clamp on (so it runs on Dask and resumes exactly
as a sweep does: DIR/runs/, DIR/sweep.json, DIR/sweep.csv), reported as an I–V curve instead of a
resting potential: DIR/iv.csv and DIR/iv.png/.svg.

Each point's currents are the window means of its clamped run (outward positive; standard errors
from the currents between samples, `recorders.currents`), averaged over seeds. The GHK current
of each ion is drawn over its points at the points' own concentrations (interpolated along V: a
clamp far from rest moves the small box's ions) with one permeability per ion, measured from the
unidirectional (tracer) fluxes of all the points pooled:
P = Σ transits / Σ span · (c_in ⟨f_out⟩ + c_out ⟨f_in⟩) (as `statistics.measured_permeability`, over
every point). The net currents are not fitted: their shape against V — the rectification of
unequal concentrations — and where they cross zero are what the comparison tests.

The reversal potential is read from the data: a straight line through the two points that
bracket zero current and their neighbours within NEAR_mV, weighted by their errors; V_rev = −a/b
with its error from the line's covariance. The channels' current (every ion, no pump) is compared with the GHK
potential, the total (with the pump) with the zero-current potential of the GHK currents plus the
pump's measured current, and a single-ion membrane's with that ion's Nernst potential.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from membrane import theory
from particles.species import CHARGE, PERMEANT_NAMES
from simulation.core.config import MAX_COMMAND_mV, Config, ConfigError
from simulation.core.observe import PA_PER_E_PER_US
from simulation.system import replacing

MAX_POINTS = 201
CURRENT_NAMES = PERMEANT_NAMES + ("pump",)


def commands(v_from: float, v_to: float, v_step: float) -> list[float]:
    """The command potentials from `v_from` to `v_to` (included when the steps land on it)."""
    if not (math.isfinite(v_from) and math.isfinite(v_to) and math.isfinite(v_step)):
        raise ConfigError("iv: --from, --to and --step must be numbers")
    for option, v in (("--from", v_from), ("--to", v_to)):
        if abs(v) > MAX_COMMAND_mV:        # before the count: a span of 2e308 mV overflows it
            raise ConfigError(f"iv {option} {v:g}: a command potential from {-MAX_COMMAND_mV:g} to "
                              f"{MAX_COMMAND_mV:g} mV (clamp.command_mV's range)")
    if v_step <= 0:
        raise ConfigError(f"iv --step {v_step:g}: must be > 0 mV")
    if v_to < v_from:
        raise ConfigError(f"iv --from {v_from:g} --to {v_to:g}: --to must be >= --from")
    n = int(math.floor((v_to - v_from) / v_step + 1e-9)) + 1
    if n > MAX_POINTS:
        raise ConfigError(f"iv: --from {v_from:g} --to {v_to:g} --step {v_step:g} makes {n} points; "
                          f"allowed: at most {MAX_POINTS}")
    return [round(v_from + k * v_step, 9) for k in range(n)]


def clamped_base(base: Config) -> Config:
    """The base config with the clamp on (each point sets its command) and no protocol."""
    return base.replace({"clamp.enabled": True, "clamp.protocol": []}, "iv")


def _mean_sem(values: list[float], sems: list[float]) -> tuple[float, float]:
    """Mean over seeds; its error from the runs' own errors (and their scatter, when larger)."""
    v = np.array([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    s = np.array([x for x in sems if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return math.nan, math.nan
    own = math.sqrt(float((s ** 2).sum())) / v.size if s.size == v.size else math.nan
    scatter = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 2 else math.nan
    return float(v.mean()), max(x for x in (own, scatter, 0.0) if math.isfinite(x))


def points(rows: list[dict]) -> list[dict]:
    """One entry per command potential: currents (pA and e/µs, mean ± SEM over seeds), the
    channels' sum, concentrations and transit counts, sorted by V."""
    groups: dict[float, list[dict]] = {}
    for r in rows:
        groups.setdefault(float(r["clamp.command_mV"]), []).append(r)
    out = []
    for v, rs in sorted(groups.items()):
        p = {"command_mV": v, "n": len(rs)}
        for name in CURRENT_NAMES + ("total",):
            p[f"I_{name}_pA"], p[f"I_{name}_pA_sem"] = _mean_sem([r.get(f"I_{name}_pA") for r in rs],
                                                                [r.get(f"I_{name}_pA_sem") for r in rs])
        # the channels alone: every ion, no pump (the difference of two correlated means is exact
        # only with the runs' own numbers: total − pump)
        chan = [(r["I_total_pA"] or 0.0) - (r.get("I_pump_pA") or 0.0) for r in rs]
        chan_sem = [math.hypot(r.get("I_total_pA_sem") or 0.0, r.get("I_pump_pA_sem") or 0.0) for r in rs]
        p["I_channels_pA"], p["I_channels_pA_sem"] = _mean_sem(chan, chan_sem)
        for key in [k for k in rs[0] if k.endswith("_mM") or k.endswith("_transits")]:
            vals = [r[key] for r in rs if r.get(key) is not None]
            p[key] = float(np.mean(vals)) if vals else math.nan
        for key in [k for k in rs[0] if k.startswith("P_") and k.endswith("_abs_nm2_per_ns")]:
            vals = [r[key] for r in rs if r.get(key) is not None and math.isfinite(r[key])]
            p[key] = float(np.mean(vals)) if vals else math.nan
        p["V_GHK_mV"] = float(np.nanmean([r["V_GHK_mV"] if r.get("V_GHK_mV") is not None else math.nan for r in rs]))
        p["span_ns"] = float(np.mean([r["window_span_ns"] for r in rs]))
        out.append(p)
    return out


def pooled_permeability(pts: list[dict], ions: list[str], temperature_C: float) -> dict[str, float]:
    """One absolute permeability per ion (nm²/ns) from every point's tracer fluxes: Σ transits over
    Σ span · (c_in f_out + c_out f_in), each point at its own command potential."""
    vt = theory.thermal_voltage_mV(temperature_C)
    out = {}
    for ion in ions:
        z = CHARGE[ion]
        n = d = 0.0
        for p in pts:
            u = p["command_mV"] / vt
            c_in, c_out = p[f"{ion}_in_density"], p[f"{ion}_out_density"]
            n += p[f"{ion}_transits"]
            d += p["span_ns"] * (c_in * theory.ghk_efflux_factor(z, u) + c_out * theory.ghk_influx_factor(z, u))
        out[ion] = n / d if d > 0 else math.nan
    return out


def ghk_current_pA(v_mV, ion: str, p_abs: float, dens_in: float, dens_out: float, temperature_C: float):
    """The GHK current of one ion (pA, outward positive) at v_mV (a number or an array)."""
    f = np.vectorize(lambda v: theory.net_outward_current(v, {ion: p_abs}, {ion: dens_in}, {ion: dens_out},
                                                          temperature_C))
    return f(v_mV) * 1e3 * PA_PER_E_PER_US      # particles/ns → e/µs → pA


def reversal(v: np.ndarray, i: np.ndarray, sem: np.ndarray) -> tuple[float, float, list[int]]:
    """(V where the current crosses zero, its standard error, the points used): a line weighted
    by the errors through the two points that bracket the first change of sign, and their
    neighbours within NEAR_mV of it (a wider span would bend the line with the curve's
    rectification). NaN without a crossing."""
    ok = np.flatnonzero(np.isfinite(i) & np.isfinite(v))
    k = next((a for a, b in zip(ok[:-1], ok[1:]) if (i[a] < 0) != (i[b] < 0)), None)
    if k is None:
        return math.nan, math.nan, []
    k2 = ok[np.searchsorted(ok, k) + 1]
    guess = v[k] - i[k] * (v[k2] - v[k]) / (i[k2] - i[k])
    idx = [j for j in ok if j in (k, k2) or abs(v[j] - guess) <= NEAR_mV]
    x, y = v[idx], i[idx]
    s = sem[idx]
    s = np.where(np.isfinite(s) & (s > 0), s, np.nanmax(np.r_[s[np.isfinite(s)], 1e-9]))
    w = 1.0 / s ** 2
    a_mat = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(a_mat.T @ (w[:, None] * a_mat))
    a, b = cov @ (a_mat.T @ (w * y))
    if b == 0:
        return math.nan, math.nan, idx
    v0 = -a / b
    g = np.array([-1.0 / b, a / b ** 2])   # delta method: ∂v0/∂a, ∂v0/∂b
    var = float(g @ cov @ g)
    if len(idx) > 2:   # the line's own misfit, if the errors understate it
        var *= max(1.0, float(np.sum(w * (y - a - b * x) ** 2)) / (len(idx) - 2))
    return float(v0), math.sqrt(max(var, 0.0)), [int(j) for j in idx]


NEAR_mV = 15.0


def ghk_currents(result: dict, v_mV: np.ndarray) -> dict[str, np.ndarray]:
    """Each ion's GHK current (pA) at the potentials `v_mV`, with the concentrations the points
    had, interpolated between them (a clamp far from rest moves ions, and a small box's
    concentrations move with them), and the pooled permeabilities."""
    pts = result["points"]
    vp = np.array([p["command_mV"] for p in pts])
    out = {}
    for ion in result["ions"]:
        c_in = np.interp(v_mV, vp, [p[f"{ion}_in_density"] for p in pts])
        c_out = np.interp(v_mV, vp, [p[f"{ion}_out_density"] for p in pts])
        out[ion] = np.array([ghk_current_pA(v, ion, result["P_abs_nm2_per_ns"][ion], a, b, result["temperature_C"])
                             for v, a, b in zip(np.atleast_1d(v_mV), np.atleast_1d(c_in), np.atleast_1d(c_out))])
    return out


def _zero(v: np.ndarray, i: np.ndarray) -> float:
    if not np.all(np.isfinite(i)):
        return math.nan
    k = np.flatnonzero(np.diff(np.sign(i)) != 0)
    if k.size == 0:
        return math.nan
    j = k[0]
    return float(v[j] - i[j] * (v[j + 1] - v[j]) / (i[j + 1] - i[j]))


def analyse(rows: list[dict], base: Config) -> dict:
    """Everything iv.csv and the figure need: the points, pooled permeabilities, the GHK
    currents, the measured reversal potentials and theory's (where the GHK curve, at the
    points' concentrations, crosses zero)."""
    temperature = base["physics.temperature_C"]
    pts = points(rows)
    ions = list(base.permeant)            # the ions with channels
    mM_per_density = rows[0]["mM_per_density"]
    for p in pts:
        for ion in ions:
            p[f"{ion}_in_density"] = p[f"{ion}_in_mM"] / mM_per_density
            p[f"{ion}_out_density"] = p[f"{ion}_out_mM"] / mM_per_density
    p_abs = pooled_permeability(pts, ions, temperature)
    for p in pts:
        for ion in ions:
            p[f"I_{ion}_GHK_pA"] = float(ghk_current_pA(p["command_mV"], ion, p_abs[ion], p[f"{ion}_in_density"],
                                                        p[f"{ion}_out_density"], temperature))
    v = np.array([p["command_mV"] for p in pts])
    result = {"points": pts, "ions": ions, "P_abs_nm2_per_ns": p_abs, "temperature_C": temperature,
              "transits": {ion: int(sum(p[f"{ion}_transits"] for p in pts)) for ion in ions}}
    grid = np.linspace(v.min(), v.max(), 2001)
    curves = ghk_currents(result, grid) if ions and v.size > 1 else {}
    chan_theory = sum(curves.values()) if curves else np.zeros_like(grid)
    pump_pA = float(np.nanmean([p["I_pump_pA"] for p in pts]))
    pumping = any(abs(p["I_pump_pA"]) > 0 for p in pts if math.isfinite(p["I_pump_pA"]))
    rev = {"GHK_mV": _zero(grid, chan_theory) if curves else math.nan,
           "zero_current_with_pump_mV": _zero(grid, chan_theory + pump_pA) if curves and pumping else math.nan,
           "pump_mean_pA": pump_pA if pumping else 0.0}
    for name, key in (("channels", "I_channels_pA"), ("total", "I_total_pA")):
        rev[f"{name}_mV"], rev[f"{name}_sem_mV"], used = reversal(v, np.array([p[key] for p in pts]),
                                                                 np.array([p[f"{key}_sem"] for p in pts]))
        rev[f"{name}_points_mV"] = [float(v[j]) for j in used]
    rev["nernst_mV"], rev["ion_mV"], rev["ion_sem_mV"] = {}, {}, {}
    for ion in ions:
        r, rs, used = reversal(v, np.array([p[f"I_{ion}_pA"] for p in pts]),
                               np.array([p[f"I_{ion}_pA_sem"] for p in pts]))
        rev["ion_mV"][ion], rev["ion_sem_mV"][ion] = r, rs
        # E_ion at the concentrations interpolated to where its current reversed (or the middle)
        at = r if math.isfinite(r) else float(np.mean(v))
        c_in = float(np.interp(at, v, [p[f"{ion}_in_density"] for p in pts]))
        c_out = float(np.interp(at, v, [p[f"{ion}_out_density"] for p in pts]))
        rev["nernst_mV"][ion] = theory.nernst_mV(CHARGE[ion], c_in, c_out, temperature)
    result["reversal"] = rev
    # the GHK curves the figure draws over the points
    drawn = np.linspace(v.min(), v.max(), 200) if v.size > 1 else v
    result["curves"] = {"command_mV": drawn, **ghk_currents(result, drawn)}
    return result


def write_csv(result: dict, path: Path) -> Path:
    """iv.csv: one row per command potential; currents in pA and e/µs, outward positive."""
    ions = result["ions"]
    cols = ["command_mV", "n_seeds"]
    for name in ("total", "channels") + tuple(ions) + ("pump",):
        cols += [f"I_{name}_pA", f"I_{name}_pA_sem", f"I_{name}_e_per_us", f"I_{name}_e_per_us_sem"]
    cols += [f"I_{ion}_GHK_pA" for ion in ions]
    cols += [f"{ion}_{side}_mM" for ion in ions for side in ("in", "out")]
    with replacing(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for p in result["points"]:
            row = [p["command_mV"], p["n"]]
            for name in ("total", "channels") + tuple(ions) + ("pump",):
                i, s = p[f"I_{name}_pA"], p[f"I_{name}_pA_sem"]
                row += [_fmt(i), _fmt(s), _fmt(i / PA_PER_E_PER_US), _fmt(s / PA_PER_E_PER_US)]
            row += [_fmt(p[f"I_{ion}_GHK_pA"]) for ion in ions]
            row += [_fmt(p[f"{ion}_{side}_mM"]) for ion in ions for side in ("in", "out")]
            w.writerow(row)
    return path


def _fmt(x) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:.6g}"


MIN_TRANSITS = 10       # crossings of an ion (all points) below which its permeability is not measured
WIDE_mV = 2 * NEAR_mV   # a reversal between points further apart is a straight line across a curve


def caveats(result: dict) -> list[str]:
    """Why the printed figures cannot mean what they say here: too few crossings of an ion for its
    permeability (GHK would leave it out and be another ion's Nernst potential), or a reversal read
    between points too far apart. Empty when none."""
    out = []
    few = {ion: n for ion, n in result.get("transits", {}).items() if n < MIN_TRANSITS}
    if few:
        said = ", ".join(f"{ion} {n}" for ion, n in few.items())
        out.append(f"GHK not given: too few crossings to measure the permeabilities (all points: {said}; at least "
                   f"{MIN_TRANSITS} needed): longer --steps-per-point or a larger cell")
    used = sorted(result["reversal"].get("channels_points_mV") or [])
    gap = min((b - a for a, b in zip(used[:-1], used[1:])), default=0.0)
    if math.isfinite(result["reversal"]["channels_mV"]) and gap > WIDE_mV:
        out.append(f"the reversal is read on a straight line between points {gap:g} mV apart: "
                   f"a rough figure; a smaller --step near it measures it")
    return out


def lines(result: dict) -> list[str]:
    """The reversal potentials measured against theory, in words (printed by `iv`)."""
    r = result["reversal"]
    out = []
    notes = caveats(result)
    ghk = (f"GHK {r['GHK_mV']:.1f} mV (measured permeabilities, the points' concentrations)"
           if not any(n.startswith("GHK not given") for n in notes) else "GHK not given (below)")
    if math.isfinite(r["channels_mV"]):
        out.append(f"channels reverse at {r['channels_mV']:.1f} ± {r['channels_sem_mV']:.1f} mV; {ghk}")
    else:
        out.append("channels' current does not cross zero in this range of V")
    if math.isfinite(r["zero_current_with_pump_mV"]) and math.isfinite(r["total_mV"]):
        out.append(f"total current (pump included) reverses at {r['total_mV']:.1f} ± {r['total_sem_mV']:.1f} mV; "
                   f"GHK with the pump's current {r['zero_current_with_pump_mV']:.1f} mV")
    if len(result["ions"]) == 1:
        ion = result["ions"][0]
        where = "where the current reversed" if math.isfinite(r["ion_mV"][ion]) else "mid-range"
        out.append(f"E_{ion} (Nernst) {r['nernst_mV'][ion]:.1f} mV (at the concentrations {where})")
    return out + [f"note: {n}" for n in notes]


def report(steps: int):
    """The sweep's report for an I–V run: iv.csv, iv.json (reversal potentials, permeabilities)
    and iv.png/.svg; returns the analysis."""
    def write(rows: list[dict], summary_rows: list[dict], keys: list[str], base: Config, out: Path) -> dict:
        from simulation.headless.figures import iv_figure
        from simulation.headless.recorders import write_json
        result = analyse(rows, base)
        write_csv(result, out / "iv.csv")
        write_json(out / "iv.json", {k: v for k, v in result.items() if k not in ("points", "curves")}
                   | {"steps_per_point": steps, "caveats": caveats(result)})
        iv_figure(result, base, steps, out)
        return result
    return write
