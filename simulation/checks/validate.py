"""The physics checks: emergent V (and fluxes) against theory, with tolerances from statistics.

Each check runs the model headless on a small cell and compares a measured quantity with its
theoretical value. The tolerance is three combined standard errors: for V against a theory
column, the standard error of the mean of the difference series V(t) − theory(t) (it removes the
slow common wander of the concentrations, and counts the correlation of the samples); for flux
ratios, Poisson errors of the counts. `python main.py validate` prints the table; the tests call
the same functions.

Two cells, both scaled-down versions of the default geometry:
- SMALL: narrow compartments that equilibrate fast (Nernst, GHK, Ussing, permeabilities).
- MEDIUM: the default's compartment widths and channel density, so the gradients run down slowly
  and the pump can be compared with its blocked self at the same gradients.
"""
from __future__ import annotations

import math
import sys
import tempfile
import time

import numpy as np

from membrane import theory
from simulation.core.statistics import MIN_EFFECTIVE_SAMPLES, drift, mean_and_sem
from simulation.core.config import load
from simulation.checks.table import Z_TOL, Check
from simulation.headless.run import run

SMALL = ["box.width_nm=36", "box.membrane_x_nm=18", "box.height_nm=160", "membrane.site_spacing_nm=4",
         "pump.capture_radius_nm=1.5", "membrane.channels_per_unit_permeability=20",
         "physics.particles=12000", "physics.capacitance_e_per_mV=0.5"]
MEDIUM = ["box.width_nm=85", "box.membrane_x_nm=35", "box.height_nm=160",
          "membrane.channels_per_unit_permeability=10", "pump.count=3", "physics.particles=32000"]


def run_case(preset: str, overrides: list[str], steps: int, seed: int, out_dir: str | None = None):
    """Run one case headless; returns (summary, timeseries as a structured array)."""
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="rpl-validate-")
        out_dir = tmp.name
    cfg = load(preset, None, overrides)
    summary = run(cfg, steps, out_dir, seed=seed, sample_every=max(1, steps // 10000), progress=False)
    series = np.genfromtxt(f"{out_dir}/timeseries.csv", delimiter=",", names=True)
    if tmp is not None:
        tmp.cleanup()
    return summary, series


def v_against(series, column: str, start_step: int) -> tuple[float, float, float]:
    """Mean V, mean theory column, and the SEM of their difference, from start_step on."""
    w = series["step"] >= start_step
    diff_mean, diff_sem, _ = mean_and_sem(series["V_mV"][w] - series[column][w])
    theory_mean = float(np.mean(series[column][w]))
    return theory_mean + diff_mean, theory_mean, diff_sem


def too_short(series, column: str, start_step: int) -> str:
    """Why the window from start_step is too short to judge V against `column`, or "": V − theory
    still moves between the window's halves by more than three standard errors (the cell has not
    reached the state the theory describes: a Donnan equilibrium waits for Cl⁻ to redistribute),
    or the window holds fewer than MIN_EFFECTIVE_SAMPLES independent samples of it."""
    w = series["step"] >= start_step
    d = series["V_mV"][w] - series[column][w]
    _, _, n_eff = mean_and_sem(d)
    moved, moved_sem = drift(d)
    if math.isfinite(moved) and moved_sem > 0 and abs(moved) > 3 * moved_sem:
        return f"V - {column[:-3]} moves by {moved:+.2f} ± {moved_sem:.2f} mV between the window's halves"
    if n_eff < MIN_EFFECTIVE_SAMPLES:
        return f"only {n_eff:.0f} independent samples of V - {column[:-3]}"
    return ""


def thermal_noise(series, start_step: int, temperature_C: float, capacitance: float) -> Check:
    """σ_V against √(V_T / C): a membrane at equilibrium fluctuates by the capacitor's thermal noise
    alone (V from the induced charge: no jumps of 1/C when an ion passes the mid-line). The ions'
    own entropy lowers it by well under 1 % in these cells. Error of a standard deviation from
    n_eff independent samples: σ / √(2 n_eff)."""
    w = series["step"] >= start_step
    v = series["V_mV"][w]
    _, _, n_eff = mean_and_sem(v)
    sd = float(v.std(ddof=1))
    return Check("  sigma_V = sqrt(V_T / C) (thermal noise)", sd,
                 math.sqrt(theory.thermal_voltage_mV(temperature_C) / capacitance), sd / math.sqrt(2 * n_eff))


def check_nernst(seed: int = 1, steps: int = 200_000) -> list[Check]:
    """K⁺ only: V at E_K with the capacitor's thermal noise; the same with pores 4× slower than the
    bulk (a lazy walk in the pore must keep detailed balance)."""
    summary, ts = run_case("k-only", SMALL, steps, seed)
    v, e_k, sem = v_against(ts, "E_K_mV", steps // 2)
    cfg = summary["config"]
    checks = [Check("K+ only membrane: V = E_K", v, e_k, sem, short=too_short(ts, "E_K_mV", steps // 2)),
              thermal_noise(ts, steps // 2, cfg["physics"]["temperature_C"], cfg["physics"]["capacitance_e_per_mV"])]
    _, ts = run_case("k-only", SMALL + ["channels.K.pore_D_factor=0.25"],
                     steps, seed + 100)
    v, e_k, sem = v_against(ts, "E_K_mV", steps // 2)
    checks.append(Check("K+ only, pores at D/4: V = E_K", v, e_k, sem, short=too_short(ts, "E_K_mV", steps // 2)))
    return checks


def check_calcium(seed: int = 1, steps: int = 200_000) -> list[Check]:
    """A divalent ion: Ca²⁺ channels only, 10 mM in, 40 mM out: V at E_Ca = (V_T / 2) ln 4."""
    _, ts = run_case("k-only", SMALL + ["channels.K.relative_permeability=0", "channels.Ca.relative_permeability=1",
                                        "inside.Ca=10", "outside.Ca=40"], steps, seed)
    v, e_ca, sem = v_against(ts, "E_Ca_mV", steps // 2)
    return [Check("Ca2+ only membrane (z = 2): V = E_Ca", v, e_ca, sem, short=too_short(ts, "E_Ca_mV", steps // 2))]


def check_salines(seed: int = 1, steps: int = 150_000) -> list[Check]:
    """Salines a physiologist would try, pumps blocked: sea water with Ca²⁺ and Mg²⁺ (squid),
    hypokalemia (2.5 mM [K⁺]o, Y⁺ fills the outside), and a Donnan equilibrium (K⁺ and Cl⁻ cross,
    Na⁺ and the fixed anions cannot)."""
    checks = []
    for label, preset, extra in (("squid axon in sea water (Ca, Mg), pump off", "squid", ["pump.enabled=false"]),
                                 ("hypokalemia 2.5 mM [K]o, pump off", "hypokalemia", ["pump.enabled=false"])):
        _, ts = run_case(preset, SMALL + extra, steps, seed)
        v, ghk, sem = v_against(ts, "V_GHK_mV", steps // 2)
        checks.append(Check(f"{label}: V = V_GHK", v, ghk, sem, short=too_short(ts, "V_GHK_mV", steps // 2)))
    summary, ts = run_case("ghk-no-pump", SMALL + ["channels.Na.relative_permeability=0"], steps, seed)
    w = ts["step"] >= steps // 2
    # reached only when E_K = E_Cl: in this small box Cl⁻ takes microseconds to redistribute (a
    # 75 000-step window still had them 1.8 ± 0.5 mV apart; 150 000 steps: 0.1 ± 0.3)
    gap, gap_sem, _ = mean_and_sem(ts["E_K_mV"][w] - ts["E_Cl_mV"][w])
    unreached = (f"E_K and E_Cl still differ by {gap:+.2f} ± {gap_sem:.2f} mV: Cl- has not finished redistributing"
                 if abs(gap) > 3 * gap_sem else "")
    for ion in ("K", "Cl"):   # at the Donnan equilibrium both permeant ions are at equilibrium
        v, e, sem = v_against(ts, f"E_{ion}_mV", steps // 2)
        checks.append(Check(f"K+/Cl- leaks, Na+ and A- impermeant: V = E_{ion}", v, e, sem,
                            short=unreached or too_short(ts, f"E_{ion}_mV", steps // 2)))
    v, sem, _ = mean_and_sem(ts["V_mV"][w])
    checks.append(Check("  ... and V = V_Donnan predicted from the box's contents", v,
                        summary["theory"]["V_Donnan_mV"], sem,
                        short=unreached or too_short(ts, "E_Cl_mV", steps // 2) or too_short(ts, "E_K_mV", steps // 2)))
    return checks


def check_ghk(seed: int = 1, steps: int = 200_000) -> list[Check]:
    """GHK potential, Ussing's flux ratio for each ion, and the calibrated permeabilities."""
    summary, ts = run_case("ghk-no-pump", SMALL, steps, seed)
    v, ghk, sem = v_against(ts, "V_GHK_mV", steps // 2)
    checks = [Check("K+/Na+/Cl- leaks, no pump: V = V_GHK", v, ghk, sem, short=too_short(ts, "V_GHK_mV", steps // 2))]
    for ion, u in summary["ussing"].items():
        n_in, n_out = u["influx"], u["efflux"]
        if n_in < 20 or n_out < 20:
            continue  # too few transits for a ratio
        r = u["measured_ratio"]
        checks.append(Check(f"Ussing flux ratio {ion}: influx/efflux", r, u["expected_ratio"],
                            r * math.sqrt(1 / n_in + 1 / n_out), unit=""))
    return checks + permeability_checks(summary)


def check_pump(seed: int = 1, steps: int = 60_000) -> list[Check]:
    """Pump on vs the same seed blocked; pump-on V against the zero-current potential with the
    pump's measured current and the measured permeabilities."""
    on, ts_on = run_case("mammalian", MEDIUM, steps, seed)
    off, ts_off = run_case("ouabain", MEDIUM, steps, seed)
    dv = off["V_mean_mV"] - on["V_mean_mV"]
    sigma_dv = math.hypot(on["V_sem_mV"], off["V_sem_mV"])
    zc_sigma = math.hypot(on["V_sem_mV"], on["zero_current_sem_mV"] or 0.0)
    return [
        Check("pump hyperpolarises: V(blocked) - V(pump on)", dv, 7.5, sigma_dv, lo=3.0, hi=12.0,
              note="must lie in 3..12 mV"),
        Check("pump on: V = zero-current V incl. pump current", on["V_mean_mV"], on["zero_current_mV"], zc_sigma,
              extra={"pump_cycles_per_us": on["pump_cycles_per_us"], "V_MN_mV": on["theory"]["V_MN_mV"],
                     "V_pump_mV": on["theory"]["V_pump_mV"]}),
    ]


def check_default(seed: int = 1, steps: int = 30_000) -> list[Check]:
    """The default preset at full size: V against the zero-current potential with its pump, and
    the permeabilities measured from its fluxes against the placed ones."""
    s, _ = run_case("mammalian", [], steps, seed)
    checks = [Check("default preset: V = zero-current V incl. pump", s["V_mean_mV"], s["zero_current_mV"],
                    math.hypot(s["V_sem_mV"], s["zero_current_sem_mV"] or 0.0),
                    extra={"V_MN_mV": s["theory"]["V_MN_mV"], "V_pump_mV": s["theory"]["V_pump_mV"]})]
    return checks + permeability_checks(s, "default preset: ")


# The clamp's cell: the default geometry 320 nm tall (the default's compartments, so a clamp
# far from rest moves only a few per cent of the outside K⁺ while it is measured).
CLAMP = ["box.height_nm=320", "physics.particles=64000", "physics.capacitance_e_per_mV=0.8"]


def _clamp_points(preset: str, commands: list[float], steps: int, seed: int, workers: int, out_dir: str) -> dict:
    """Clamped runs at `commands` through the `iv` pipeline (a sweep, read by simulation.headless.iv)."""
    from simulation.headless import iv
    from simulation.headless.sweep import sweep
    from simulation.installation import missing
    base = iv.clamped_base(load(preset, None, CLAMP))
    info = sweep(base, [("clamp.command_mV", commands)], 1, steps, out_dir, workers=workers, progress=False,
                 first_seed=seed, report=iv.report(steps),
                 in_process=bool(missing("sweep", ("dask", "distributed"))))   # the core install: one by one
    return info["report"]


def _pooled_permeability_error(result: dict, ion: str) -> float:
    """Relative error of the pooled permeability: Poisson on the transits, times the points'
    own over-dispersion (transits come in bunches) when it is larger."""
    pts, p = result["points"], result["P_abs_nm2_per_ns"][ion]
    counts = np.array([q[f"{ion}_transits"] for q in pts], dtype=float)
    if counts.sum() <= 0 or not math.isfinite(p) or p <= 0:
        return math.nan
    expected = np.array([q[f"{ion}_transits"] / q[f"P_{ion}_abs_nm2_per_ns"] * p
                         if q.get(f"P_{ion}_abs_nm2_per_ns") else 0.0 for q in pts])
    ok = expected > 0
    dispersion = float(np.sum((counts[ok] - expected[ok]) ** 2 / expected[ok]) / max(ok.sum() - 1, 1))
    return math.sqrt(max(1.0, dispersion) / counts.sum())


def check_clamp(seed: int = 1, steps: int = 30_000, workers: int = 2) -> list[Check]:
    """Voltage clamp against the GHK current equation. K⁺ only, clamped at E_K and 20 and 40 mV
    either side: no net current at E_K, the GHK current at the others (one permeability from all
    points' tracer fluxes), the reversal at E_K, and the rectification of 140 : 5 mM as GHK has it
    (judged on I(E_K+40) + I(E_K-40), 0 for an ohmic membrane; the chord-conductance ratio is
    shown only). Three leaks, no pump: the channels' current reverses at V_GHK."""
    cfg = load("k-only", None, CLAMP)
    t = cfg["physics.temperature_C"]
    e_k = round(theory.nernst_mV(1, cfg["inside.K"], cfg["outside.K"], t), 1)
    with tempfile.TemporaryDirectory(prefix="rpl-clamp-") as tmp:
        r = _clamp_points("k-only", [e_k - 40, e_k - 20, e_k, e_k + 20, e_k + 40], steps, seed, workers, f"{tmp}/k")
        g = load("ghk-no-pump", None, CLAMP)
        perm = {ion: g[f"channels.{ion}.relative_permeability"] for ion in g.permeant}
        v_ghk = round(theory.ghk_voltage_mV(perm, g["inside"], g["outside"], t), 1)
        # two points, so both workers run them at once; the reversal lies between them
        r3 = _clamp_points("ghk-no-pump", [v_ghk - 10, v_ghk + 10], steps, seed, workers, f"{tmp}/three")
    pts = r["points"]
    rel = _pooled_permeability_error(r, "K")
    checks = []
    for q in pts:
        dv = q["command_mV"] - e_k
        i, sem, ghk = q["I_K_pA"], q["I_K_pA_sem"], q["I_K_GHK_pA"]
        name = "K+ clamped at E_K: I_K = 0" if dv == 0 else f"K+ clamped at E_K {dv:+.0f} mV: I_K = GHK"
        expected = 0.0 if dv == 0 else ghk
        checks.append(Check(name, i, expected, math.hypot(sem, abs(expected) * rel), unit="pA"))
    rev = r["reversal"]
    checks.append(Check("K+ clamped: reversal = E_K", rev["ion_mV"]["K"], rev["nernst_mV"]["K"],
                        rev["ion_sem_mV"]["K"]))
    # rectification: an ohmic membrane carries equal and opposite currents 40 mV either side of
    # E_K; GHK with 140 : 5 mM carries more out than in. Judged on the sum I(+40) + I(-40), whose
    # error is that of two points (a ratio of chord conductances would divide by a noisy one).
    lo, mid, hi = pts[0], pts[2], pts[4]
    total = hi["I_K_pA"] + lo["I_K_pA"]
    sigma = math.hypot(hi["I_K_pA_sem"], lo["I_K_pA_sem"])
    ghk_total = hi["I_K_GHK_pA"] + lo["I_K_GHK_pA"]
    checks.append(Check("K+ clamped: I(E_K+40) + I(E_K-40) = GHK", total, ghk_total,
                        math.hypot(sigma, abs(hi["I_K_GHK_pA"] - lo["I_K_GHK_pA"]) * rel), unit="pA"))
    checks.append(Check("K+ clamped: outward limb steeper (sum > 0)", total, ghk_total, sigma, unit="pA",
                        lo=Z_TOL * sigma, hi=math.inf, note="rectification: the sum above 0 by 3 standard errors"))
    g_out, g_in = (hi["I_K_pA"] - mid["I_K_pA"]) / 40.0, (mid["I_K_pA"] - lo["I_K_pA"]) / 40.0
    ghk_ratio = (hi["I_K_GHK_pA"] - mid["I_K_GHK_pA"]) / (mid["I_K_GHK_pA"] - lo["I_K_GHK_pA"])
    checks.append(Check("K+ clamped: chord conductances g(+40)/g(-40)", g_out / g_in, ghk_ratio, math.nan,
                        unit="", informative=True))
    rev3 = r3["reversal"]
    v3 = np.array([q["command_mV"] for q in r3["points"]])
    ghk_at = float(np.interp(rev3["channels_mV"], v3, [q["V_GHK_mV"] for q in r3["points"]]))
    checks.append(Check("K+/Na+/Cl- clamped: channels reverse at V_GHK", rev3["channels_mV"], ghk_at,
                        rev3["channels_sem_mV"]))
    checks.append(Check("  the same, GHK with the permeabilities measured", rev3["channels_mV"], rev3["GHK_mV"],
                        rev3["channels_sem_mV"], informative=True))
    return checks


GATED_K = {
    # open at 0 mV too (slope 30 mV), so the cell leaves its start
    "Kir": ["channels.K.relative_permeability=0", "channels.Kir.ion=K", "channels.Kir.gating=kir",
            "channels.Kir.relative_permeability=1", "channels.Kir.v_shift_mV=30", "channels.Kir.slope_mV=30"],
    # shifted 40 mV so a tenth are open at E_K
    "hh-k": ["channels.K.relative_permeability=0", "channels.Kv.ion=K", "channels.Kv.gating=hh-k",
             "channels.Kv.relative_permeability=4", "channels.Kv.v_shift_mV=-40"],
}


def check_gated(seed: int = 1, steps: int = 150_000, free: bool = True) -> list[Check]:
    """Gated channels keep detailed balance in every gate state: K⁺-only membranes whose channels
    are inward rectifiers (Kir) or Hodgkin–Huxley K⁺ channels (hh-k), clamped at E_K, carry no
    net current. Free, V of such a cell is shown against E_K: gates that follow V without moving
    charge of their own turn V's thermal noise into a small net drive (a ratchet), noticeable in
    a cell as small as this one (README: "Voltage-gated channels")."""
    checks = []
    for label, extra in GATED_K.items():
        cfg = load("k-only", None, SMALL + extra)
        e_k = round(theory.nernst_mV(1, cfg["inside.K"], cfg["outside.K"], cfg["physics.temperature_C"]), 1)
        summary, _ = run_case("k-only", SMALL + extra + ["clamp.enabled=true", f"clamp.command_mV={e_k}"], steps, seed)
        cur = summary["currents"]["K"]
        checks.append(Check(f"K+ only through {label} channels, clamped at E_K: I_K = 0", cur["pA"], 0.0,
                            cur["pA_sem"], unit="pA"))
        if not free:
            continue
        _, ts = run_case("k-only", SMALL + extra, steps, seed)
        v, e, sem = v_against(ts, "E_K_mV", steps // 2)
        checks.append(Check("  ... free: V against E_K", v, e, sem, informative=True))
    return checks


# An exchanger-only membrane: the SMALL cell 480 nm tall with 100 exchangers, no channels, no pump.
EXCHANGER = ["channels.K.relative_permeability=0", "pump.count=0", "box.height_nm=480", "physics.particles=36000",
             "physics.capacitance_e_per_mV=1.5", "ncx.count=100", "ncx.capture_radius_nm=1.5",
             "ncx.max_turnover_per_us=200"]
EXCHANGER_SALINES = (("Na 60/100, Ca 5/50 mM", ["inside.Na=60", "outside.Na=100", "inside.Ca=5", "outside.Ca=50"]),
                     ("Na 40/100, Ca 5/20 mM", ["inside.Na=40", "outside.Na=100", "inside.Ca=5", "outside.Ca=20"]))


def check_exchanger(seed: int = 1, steps: int = 150_000, salines=EXCHANGER_SALINES) -> list[Check]:
    """A membrane whose only mechanism is the Na⁺/Ca²⁺ exchanger settles at E_NCX = 3 E_Na − 2 E_Ca
    at its window's concentrations, in two salines whose E_NCX differ by some 25 mV."""
    checks = []
    for label, saline in salines:
        summary, ts = run_case("k-only", SMALL + EXCHANGER + saline, steps, seed)
        v, e, sem = v_against(ts, "E_NCX_mV", steps // 2)
        checks.append(Check(f"Na/Ca exchanger only ({label}): V = E_NCX", v, e, sem,
                            short=too_short(ts, "E_NCX_mV", steps // 2)))
    return checks


# Miura, Hoffman & Rosen 1977: resting potential of canine Purkinje fibres against [K+]o (mM)
PURKINJE_DATA = {2.0: -86.0, 4.0: -84.4, 16.0: -53.8}
PURKINJE_HOLD_STEPS = 6000    # each run starts clamped at the measured potential, then is let go


def purkinje_run(k_out_mM: float, steps: int, seed: int, overrides: list[str] = ()):
    """The purkinje preset at one [K+]o: held at the measured potential for PURKINJE_HOLD_STEPS (the
    cell starts at 0 mV, where Kir is shut, and would take a µs to repolarise), then free for
    `steps`. Returns (summary, samples)."""
    from simulation.core.model import Simulation
    from simulation.headless.recorders import TimeseriesRecorder, summarise
    sim = Simulation(load("purkinje", None, [f"outside.K={k_out_mM}", *overrides]), seed)
    sim.set_clamp(True, PURKINJE_DATA.get(k_out_mM, -80.0))
    sim.step(PURKINJE_HOLD_STEPS)
    sim.set_clamp(False)
    every = max(1, steps // 5000)
    rec = TimeseriesRecorder(sim, None, every)
    rec.sample()
    while sim.step_count < PURKINJE_HOLD_STEPS + steps:
        sim.step(every)
        rec.sample()
    samples = rec.array()
    return summarise(sim, samples), samples


def check_purkinje(seed: int = 1, steps: int = 60_000) -> list[Check]:
    """Kir against real data (Miura et al. 1977): at each [K+]o the model's resting potential (the
    zero-current potential with Kir at its steady-state open probability, at the preset's
    concentrations) lies within 3 mV of the measured one, and the emergent V lands on it within
    its standard error (at the run's own concentrations: the bath gains K+ slowly without a pump).
    The emergent V against the data is shown beside them."""
    from simulation.core.model import Simulation
    checks = []
    for k_out, measured in PURKINJE_DATA.items():
        cfg = load("purkinje", None, [f"outside.K={k_out}"])
        predicted = Simulation(cfg, seed).theory(dict(cfg["inside"]), dict(cfg["outside"]), donnan=False)["V_GHK_mV"]
        checks.append(Check(f"purkinje [K]o {k_out:g}: Kir model within 3 mV of Miura 1977", predicted, measured,
                            math.nan, lo=measured - 3.0, hi=measured + 3.0, note="Kir theory at the preset's mM"))
        summary, samples = purkinje_run(k_out, steps, seed)
        w = samples["step"] >= samples["step"][0] + steps // 2
        d, d_sem, _ = mean_and_sem(samples["V_mV"][w] - samples["V_GHK_mV"][w])
        th = float(np.mean(samples["V_GHK_mV"][w]))
        checks.append(Check("  ... emergent V = the Kir zero-current potential", th + d, th, d_sem,
                            short=too_short(samples, "V_GHK_mV", samples["step"][0] + steps // 2)))
        checks.append(Check("  ... emergent V against Miura 1977", summary["V_mean_mV"], measured,
                            summary["V_sem_mV"], informative=True))
    return checks


# The spiking cell at three sizes with everything per length of membrane kept: height, capacitance
# and channels per unit of permeability in proportion, so each size has the same equations and
# N times the channels (the jitter row). 1: the preset itself.
SPIKING_SIZES = {0.5: ["box.height_nm=400", "physics.capacitance_e_per_mV=0.5", "physics.particles=80000",
                       "membrane.channels_per_unit_permeability=4"],
                 1.0: [],
                 2.0: ["box.height_nm=1600", "physics.capacitance_e_per_mV=2", "physics.particles=320000",
                       "membrane.channels_per_unit_permeability=16"]}
SPIKE_PULSE = (1250.0, 5.0)      # pA, ns per unit of size: ~2.4 times the equations' threshold (530 pA for 5 ns)
SPIKE_REST_NS, SPIKE_UNIT_NS, SPIKE_AFTER_NS = 900.0, 300.0, 400.0
AHP_WINDOW_NS = (250.0, 550.0)   # after the peak: the after-hyperpolarisation (check_spike)


def spike_trials(size: float, seeds: range, extra: tuple[str, ...] = (),
                 after_ns: float = SPIKE_AFTER_NS) -> tuple[list, object]:
    """Each seed's cell rested, the unit of permeability measured over its last `SPIKE_UNIT_NS` of
    rest (pooled over the seeds), then a pulse and the trial against the deterministic cell."""
    from simulation.core.model import Simulation
    from simulation.core.spike_theory import permeability_unit, trial
    cells, unit = [], None
    for seed in seeds:
        sim = Simulation(load("spiking", None, SPIKING_SIZES[size] + list(extra)), seed=seed)
        sim.step(int(SPIKE_REST_NS / sim.dt_ns))
        u = permeability_unit(sim, SPIKE_UNIT_NS)
        unit = u if unit is None else unit + u
        cells.append(sim)
    trials = []
    for sim in cells:
        pump = sim.pump_totals[0] / sim.time_ns     # the pumps' mean rate over the rest, cycles/ns
        trials.append(trial(sim, [(SPIKE_PULSE[0] * size, SPIKE_PULSE[1]), (0.0, after_ns)], unit.nm2_per_ns,
                            pump_cycles_per_ns=pump))
    return trials, unit


def _paired(trials, key) -> tuple[float, float, float, float]:
    """Mean over trials that fired in both of (stochastic, deterministic) `key(spike)`, the
    mean difference's standard error, and how many fired in both."""
    pairs = [(key(t.spikes[0]), key(t.spikes_theory[0])) for t in trials if t.spikes and t.spikes_theory]
    pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if len(pairs) < 2:
        return math.nan, math.nan, math.nan, len(pairs)
    a, b = np.array(pairs).T
    d = a - b
    return float(a.mean()), float(b.mean()), float(d.std(ddof=1) / math.sqrt(d.size)), len(pairs)


def check_spike(seeds: int = 10) -> list[Check]:
    """The spikes of `seeds` cells against the deterministic cell's from each one's own state (its
    V, gates, ions and the charge in its channels' pores when the pulse came): peak, latency (the
    pulse to the −20 mV crossing) and width at half height, as paired differences; the tolerance
    is three standard errors of the mean difference. Then the charge the ions in the gated
    channels' pores induce at each one's peak, above what they held when the pulse came: the
    part of V that ions on their way make (the equations' pores: `theory.open_pore_charge_e`)."""
    trials, unit = spike_trials(1.0, range(1, seeds + 1), after_ns=AHP_WINDOW_NS[1] + 250.0)
    checks = []
    fired = sum(bool(t.spikes) for t in trials)
    checks.append(Check(f"spiking: a pulse of {SPIKE_PULSE[0]:g} pA for {SPIKE_PULSE[1]:g} ns fires (cells of {seeds})",
                        fired, seeds, 0.0, unit="cells", lo=seeds - 1, hi=seeds))
    note = f"unit {unit.nm2_per_ns:.2f} ± {unit.sem:.2f} nm²/ns from {unit.transits} resting transits"
    for label, key, unit_label in (("peak", lambda s: s.peak_mV, "mV"), ("latency to -20 mV", lambda s: s.time_ns, "ns"),
                                   ("width at half height", lambda s: s.width_ns, "ns")):
        sto, det, sem, n = _paired(trials, key)
        checks.append(Check(f"  ... {label}: mean of {n} against the deterministic cell", sto, det, sem, unit=unit_label,
                            note=note))
    lo, hi = AHP_WINDOW_NS
    after = [(float(np.mean(t.v_mV[(t.t_ns >= t.spikes[0].peak_ns + lo) & (t.t_ns < t.spikes[0].peak_ns + hi)])),
              float(np.mean(t.v_theory_mV[(t.t_ns >= t.spikes_theory[0].peak_ns + lo)
                                          & (t.t_ns < t.spikes_theory[0].peak_ns + hi)])))
             for t in trials if t.spikes and t.spikes_theory and t.spikes[0].peak_ns + hi <= t.t_ns[-1]]
    if len(after) >= 2:
        a, b = np.array(after).T
        rest = float(np.mean([t.rest_mV for t in trials]))
        checks.append(Check(f"  ... after-hyperpolarisation: V {lo:g}-{hi:g} ns after the peak, mean of {a.size}", float(a.mean()),
                            float(b.mean()), float((a - b).std(ddof=1) / math.sqrt(a.size)),
                            note=f"V was {rest:.1f} mV on average when the pulses came"))
    pairs = [(float(np.interp(t.spikes[0].peak_ns, t.t_ns, t.pore_e) - t.pore_e[0]),
              float(np.interp(t.spikes_theory[0].peak_ns, t.t_ns, t.pore_theory_e) - t.pore_theory_e[0]))
             for t in trials if t.spikes and t.spikes_theory]
    if len(pairs) >= 2:
        a, b = np.array(pairs).T
        c = spike_capacitance()
        checks.append(Check("  ... charge in the gated pores at the peak, above rest (mV of V)", float(a.mean()) / c,
                            float(b.mean()) / c, float((a - b).std(ddof=1) / math.sqrt(a.size)) / c,
                            note="ions on their way through the pores: in V, and in the equations"))
    return checks


def spike_capacitance() -> float:
    return float(load("spiking")["physics.capacitance_e_per_mV"])


JITTER_PULSE = (2000.0, 5.0)     # pA per unit of size, ns: ~4x the equations' threshold (jitter row)
JITTER_HOLD_NS = 400.0           # each trial starts from this long at the cells' mean resting V
JITTER_LEVEL_mV = 0.0            # a spike's time: its upward crossing of 0 mV (the overshoot)


def jitter_times(size: float, seeds: range, hold_mV: float | None = None) -> tuple[list[float], float]:
    """Repeated trials of one stimulus, as in a recording of spike-time reliability: each seed's
    cell (no pump) rested, then held by the clamp for `JITTER_HOLD_NS` at `hold_mV` (None: these
    cells' mean V over the last `SPIKE_UNIT_NS` of rest) — every trial from the same V, its gates
    at their equilibrium there — and released with the `JITTER_PULSE`; the time of each spike's
    upward crossing of `JITTER_LEVEL_mV` (NaN: no spike in 150 ns). Returns (the times, the held mV)."""
    from simulation.core.model import Simulation
    from simulation.core.spikes import find_spikes
    cells, v_rest = [], []
    for seed in seeds:
        sim = Simulation(load("spiking", None, SPIKING_SIZES[size] + ["pump.count=0"]), seed=seed)
        sim.step(int((SPIKE_REST_NS - SPIKE_UNIT_NS) / sim.dt_ns))
        k = max(1, int(round(1.0 / sim.dt_ns)))
        for _ in range(int(SPIKE_UNIT_NS)):
            sim.step(k)
            v_rest.append(sim.v_mV)
        cells.append(sim)
    hold = round(float(np.mean(v_rest)), 1) if hold_mV is None else hold_mV
    times = []
    for sim in cells:
        sim.set_clamp(True, hold)
        sim.step(int(JITTER_HOLD_NS / sim.dt_ns))
        sim.set_clamp(False)
        t0, k = sim.time_ns, max(1, int(round(0.5 / sim.dt_ns)))
        sim.inject(JITTER_PULSE[0] * size, JITTER_PULSE[1])
        t, v = [0.0], [sim.v_mV]
        while t[-1] < 150.0:
            sim.step(k)
            t.append(sim.time_ns - t0)
            v.append(sim.v_mV)
        spikes = find_spikes(np.array(t), np.array(v), detect_mV=JITTER_LEVEL_mV)
        times.append(spikes[0].time_ns if spikes else math.nan)
    return times, hold


def check_jitter(seeds: int = 10) -> list[Check]:
    """Channel noise no formula shows: the spread (SD) of spike times over repeated trials of one
    stimulus falls as the channel count N grows, as 1/√N: cells of 0.5, 1 and 2 times the preset's
    membrane (the same equations per length; no pump: one pump cannot be halved), each trial from
    the same held V (`jitter_times`), the full-size cells' mean resting V for every size (the
    smaller cell's own mean rests lower, the larger's higher: −82.4, −76.7 and −73.6 mV for seeds
    1–10, a different distance to threshold). The slope of log SD against log N, its standard
    error from the SDs' own (var(log SD) ≈ 1/(2(n−1)) for a normal spread), against −1/2. The
    pulse is strong (~4 times threshold): 1/√N is the small-noise law, where a spike's time moves
    in proportion to the noise; nearer threshold a small cell's noise is a large part of the
    distance to it, its latency grows without bound as it nears it, and the spread falls faster
    than 1/√N (the README gives those figures)."""
    xs, ys, ws = [], [], []
    detail = {}
    hold = None
    for size in sorted(SPIKING_SIZES, key=lambda k: k != 1.0):     # the full size first: its rest
        times, hold = jitter_times(size, range(1, seeds + 1), hold)
        fired = [x for x in times if math.isfinite(x)]
        if len(fired) < 3:
            return [Check("spike-time jitter against channel count", math.nan, -0.5, math.nan, unit="slope",
                          note=f"N×{size:g}: {len(fired)} of {len(times)} fired")]
        sd = float(np.std(fired, ddof=1))
        detail[size] = (sd, len(fired), len(times))
        xs.append(math.log(size))
        ys.append(math.log(sd))
        ws.append(2.0 * (len(fired) - 1))          # 1 / var(log SD)
    x, y, w = np.array(xs), np.array(ys), np.array(ws)
    xm = (w * x).sum() / w.sum()
    slope = float((w * (x - xm) * (y - (w * y).sum() / w.sum())).sum() / (w * (x - xm) ** 2).sum())
    sem = float(1.0 / math.sqrt((w * (x - xm) ** 2).sum()))
    note = (", ".join(f"N×{k:g}: SD {detail[k][0]:.1f} ns ({detail[k][1]}/{detail[k][2]} fired)"
                      for k in sorted(detail)) + f"; held at {hold:.1f} mV")
    return [Check("spike-time jitter ∝ N^slope (channel noise)", slope, -0.5, sem, unit="slope", note=note)]


def _finite(x) -> float:
    return float(x) if x is not None and math.isfinite(x) else 0.0


def permeability_checks(summary: dict, prefix: str = "") -> list[Check]:
    """Measured P_ion/P_K (from both unidirectional fluxes) against the placed ratio. Its error is
    the block jackknife's (transits come in bunches), never less than the Poisson error."""
    u = summary["ussing"]
    n = {ion: u[ion]["influx"] + u[ion]["efflux"] for ion in u}
    checks = []
    for ion in [i for i in summary["measured_permeability"] if i != "K"]:
        p = summary["measured_permeability"].get(ion)
        if p is None or n.get(ion, 0) < 20:
            continue
        checks.append(Check(f"{prefix}P_{ion}/P_K from fluxes = placed", p, summary["effective_permeability"][ion],
                            max(p * math.sqrt(1 / n[ion] + 1 / n["K"]),
                                _finite(summary.get("measured_permeability_sem", {}).get(ion))), unit=""))
    return checks


def format_table(checks: list[Check], quick: bool = False) -> str:
    head = f"{'case':<52} {'emergent':>17} {'theory':>10} {'diff':>8} {'tol':>7}  result"
    lines = [head, "-" * len(head)]
    for c in checks:
        u = c.unit
        emergent = f"{c.measured:8.3f} ± {c.sigma:.3f}" if u == "" else f"{c.measured:7.2f} ± {c.sigma:.2f}"
        if not math.isfinite(c.sigma):     # shown without an error (informative rows)
            emergent = f"{c.measured:8.3f}" if u == "" else f"{c.measured:7.2f}"
        theory = f"{c.lo:.3g}..{c.hi:.3g}" if c.lo is not None else (f"{c.expected:10.3f}" if u == "" else f"{c.expected:10.2f}")
        tol = "range" if c.lo is not None else (f"{Z_TOL * c.sigma:7.2f}" if math.isfinite(c.sigma) else "")
        diff = f"{c.diff:8.2f}" if c.lo is None else f"{'':8}"
        result = "info" if c.informative else ("short" if quick and c.short else ("pass" if c.passed else "FAIL"))
        lines.append(f"{c.name:<52} {emergent:>17} {theory:>10} {diff} {tol:>7}  {result}")
    return "\n".join(lines)


def main(quick: bool = False) -> int:
    t0 = time.time()
    scale = 0.5 if quick else 1.0
    checks = []
    for fn, steps in ((check_nernst, 200_000), (check_calcium, 200_000), (check_ghk, 200_000),
                      (check_salines, 150_000), (check_pump, 60_000), (check_clamp, 30_000),
                      (check_gated, 150_000), (check_exchanger, 150_000), (check_purkinje, 60_000)):
        checks += fn(steps=int(steps * scale))
        sys.stderr.write(f"  {fn.__name__} done ({time.time() - t0:.0f} s)\n")
    if not quick:
        checks += check_default()
        from simulation.checks.classic import check_flux_ratio, check_horowicz
        checks += check_horowicz()
        checks += check_flux_ratio()
        sys.stderr.write(f"  classic experiments done ({time.time() - t0:.0f} s)\n")
        checks += check_spike()
        sys.stderr.write(f"  check_spike done ({time.time() - t0:.0f} s)\n")
        checks += check_jitter()
        sys.stderr.write(f"  check_jitter done ({time.time() - t0:.0f} s)\n")
    text, code = report(checks, quick, time.time() - t0)
    print(text)
    return code


def report(checks: list[Check], quick: bool, seconds: float) -> tuple[str, int]:
    """The table, the rows left out, the count line; and the exit code (1 if a judged row failed).
    --quick runs half the steps: a row whose run had not reached the state its theory describes
    (or holds too few independent samples of V against it) is left out and said so, not failed."""
    lines = [format_table(checks, quick)]
    short = [c for c in checks if quick and c.short and not c.informative]
    lines += [f"short: {c.name.strip()}: {c.short} (half the steps in --quick; run validate without it to judge "
              f"this row)" for c in short]
    judged = [c for c in checks if not c.informative and all(c is not s for s in short)]
    failed = sum(not c.passed for c in judged)
    left = f", {len(short)} left out as too short for --quick" if short else ""
    lines.append(f"{len(judged) - failed} passed, {failed} failed{left} ({seconds:.0f} s; tolerance {Z_TOL:g} "
                 f"standard errors)")
    return "\n".join(lines), (0 if failed == 0 else 1)
