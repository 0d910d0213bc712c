"""Is it the membrane, not the diffusion to it, that limits the fluxes?

Measures, in a running cell, the concentration of each permeant ion at its channels' mouths and
one pore length away on the channel's axis, against the bulk of the same compartment; and, from
the same run, the permeabilities measured from the fluxes against the placed ones and Ussing's
flux ratio against theory. A well-stirred membrane has all three ratios at 1.

    python -m simulation.checks.mouths [--preset NAME] [--set KEY=VALUE ...] [--steps N] [--seeds N]
                                       [--first-seed S]
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from particles.species import NAMES, PERMEANT
from particles.state import HELD
from simulation.core.config import load
from simulation.core.model import Simulation
from simulation.headless.recorders import TimeseriesRecorder, summarise

BOX_NM = 2.0   # side of the square counting boxes


class MouthCounter:
    """Counts each permeant ion in a BOX_NM square at its channels' mouths (both faces) and one
    pore length further out on the channel's axis, sample after sample."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        g = sim.geometry
        self.length = g.thickness_nm
        self.n_samples = 0
        self.counts = {}      # (ion, side, place) -> particles counted
        self.bulk = {}        # (ion, side) -> particles per nm² summed over samples
        self.channels = {}
        self.fits = {"inside": g.x_left_nm >= self.length + BOX_NM / 2,
                     "outside": g.width_nm - g.x_right_nm >= self.length + BOX_NM / 2}
        self.open_sum = {}    # ion -> open channels summed over samples

    def open_fraction(self, ion: str) -> float:
        """The realised open fraction of `ion`'s channels over the samples, against the placed
        open probability: gating's luck in this run (a few channels, each open for bouts of
        ~10 ns, make it a few per cent either way over a microsecond)."""
        sim = self.sim
        n = self.channels.get(ion, 0)
        if n == 0 or self.n_samples == 0:
            return math.nan
        return self.open_sum[ion] / (self.n_samples * n) / sim.channels.placed()[ion]["open_probability_used"]

    def sample(self) -> None:
        sim, g = self.sim, self.sim.geometry
        s, pores = sim.state, sim.channels.pores
        free = (s.flags & HELD) == 0
        self.n_samples += 1
        for sp in PERMEANT:
            ion = NAMES[sp]
            centres = 0.5 * (pores.y0 + pores.y1)[pores.species == sp]
            if centres.size == 0:
                continue
            self.channels[ion] = centres.size
            self.open_sum[ion] = self.open_sum.get(ion, 0) + int(pores.is_open[pores.species == sp].sum())
            mine = free & (s.species == sp)
            for side, depth, area in (("inside", g.x_left_nm - s.x, g.area_in_nm2),
                                      ("outside", s.x - g.x_right_nm, g.area_out_nm2)):
                bulk = mine & (depth > 0)
                self.bulk[ion, side] = self.bulk.get((ion, side), 0.0) + bulk.sum() / area
                near = bulk & (depth <= self.length + BOX_NM / 2)
                y, d = s.y[near], depth[near]
                k = np.clip(np.searchsorted(centres, y), 1, centres.size) - 1
                k2 = np.minimum(k + 1, centres.size - 1)
                dy = np.minimum(np.abs(y - centres[k]), np.abs(y - centres[k2]))
                on_axis = dy <= BOX_NM / 2
                for place, lo, hi in (("mouth", 0.0, BOX_NM),
                                      ("one pore length", self.length - BOX_NM / 2, self.length + BOX_NM / 2)):
                    n = int((on_axis & (d > lo) & (d <= hi)).sum())
                    self.counts[ion, side, place] = self.counts.get((ion, side, place), 0) + n

    def ratios(self) -> dict:
        """{(ion, side, place): (concentration / bulk, its Poisson standard error)}."""
        out = {}
        for (ion, side, place), n in self.counts.items():
            if place != "mouth" and not self.fits[side]:
                continue
            expected = self.bulk[ion, side] * self.channels[ion] * BOX_NM * BOX_NM
            if expected > 0:
                out[ion, side, place] = (n / expected, math.sqrt(max(n, 1)) / expected)
        return out


def measure(preset: str | None, overrides: list[str], steps: int, seed: int, every: int = 20,
            window_from: float = 0.5) -> dict:
    """One run: mouth ratios, measured/placed permeabilities and Ussing ratios over the window."""
    sim = Simulation(load(preset, None, overrides), seed)
    rec = TimeseriesRecorder(sim, None, every)
    counter = MouthCounter(sim)
    start = int(steps * window_from)
    rec.sample()
    t0 = time.perf_counter()
    while sim.step_count < steps:
        sim.step(every)
        rec.sample()
        if sim.step_count >= start:
            counter.sample()
    wall = time.perf_counter() - t0
    summary = summarise(sim, rec.array(), (start, steps))
    luck = {ion: counter.open_fraction(ion) for ion in counter.channels}
    return {"mouths": counter.ratios(), "summary": summary, "wall_s": wall, "open_luck": luck}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulation.checks.mouths", description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="ghk-no-pump")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--steps", type=int, default=60_000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=1)
    a = ap.parse_args(argv)
    mouths, perm, per_open, uss, sig_v, walls = {}, {}, {}, {}, [], []
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        r = measure(a.preset, a.overrides, a.steps, seed)
        s = r["summary"]
        walls.append(r["wall_s"])
        sig_v.append(s["V_std_mV"])
        for key, (v, e) in r["mouths"].items():
            mouths.setdefault(key, []).append(v)
        for ion, p in s["measured_permeability"].items():
            placed = s["effective_permeability"][ion]
            if ion != "K" and placed > 0 and p == p:
                se = s.get("measured_permeability_sem", {}).get(ion, math.nan)
                perm.setdefault(ion, []).append((p / placed, se / placed))
                luck = r["open_luck"]
                per_open.setdefault(ion, []).append(p / placed * luck["K"] / luck[ion])
        for ion, u in s["ussing"].items():
            uss.setdefault(ion, [0.0, 0.0, 0.0])
            uss[ion][0] += u["influx"]
            uss[ion][1] += u["efflux"]
            uss[ion][2] += u["efflux"] * u["expected_ratio"]   # expected influx, pooled
    print(f"{a.preset} {' '.join(a.overrides)}: {a.seeds} seeds x {a.steps} steps, "
          f"{np.mean(walls):.1f} s each, sigma_V {np.mean(sig_v):.2f} mV")
    for (ion, side, place), vals in sorted(mouths.items()):
        print(f"  {ion:>2} {side:<7} {place:<16} c/c_bulk = {np.mean(vals):.3f} "
              f"(seeds {' '.join(f'{v:.3f}' for v in vals)})")
    for ion, vals in perm.items():
        r = np.array([v for v, _ in vals])
        se = np.array([e for _, e in vals])
        # the mean's error two ways: from each run's block jackknife, and from the scatter of seeds
        jk = math.sqrt(np.nansum(se ** 2)) / r.size
        scatter = r.std(ddof=1) / math.sqrt(r.size) if r.size > 1 else math.nan
        print(f"  P_{ion}/P_K measured/placed = {r.mean():.3f} ± {jk:.3f} (jackknife) ± {scatter:.3f} (seeds) "
              f"(seeds {' '.join(f'{v:.3f}±{e:.3f}' for v, e in vals)})")
    for ion, vals in per_open.items():
        r = np.array(vals)
        scatter = r.std(ddof=1) / math.sqrt(r.size) if r.size > 1 else math.nan
        print(f"  P_{ion}/P_K per open channel, measured/placed = {r.mean():.3f} ± {scatter:.3f} (seeds) "
              f"(gating's luck divided out; seeds {' '.join(f'{v:.3f}' for v in r)})")
    for ion, (n_in, n_out, e_in) in uss.items():
        if n_out > 0 and e_in > 0:
            r = n_in / e_in
            print(f"  Ussing {ion}: measured/expected = {r:.3f} ± {r * math.sqrt(1 / max(n_in, 1) + 1 / n_out):.3f} "
                  f"({int(n_in)} in, {int(n_out)} out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
