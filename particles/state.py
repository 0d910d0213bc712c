"""The particle state as a structure of arrays, and its placement from concentrations.

`ParticleState` bundles `x`, `y` (nm), `species` (row of `particles.species.TABLE`), `flags`
(bits below) and `held_by` (the pump holding the particle, or -1); `SpeciesArrays` bundles what the
kernels need per species (step half-width, charge, permeant). Both are NamedTuples, so Numba
kernels take them whole. Placement turns the requested mM on each side into counts in proportion
to concentration × area, scaled so the box holds about `particles` particles, and makes each
compartment exactly electroneutral with the fixed anion (inside) and the fillers (X⁻, Y⁺).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from particles.rng import STREAM_PLACE, uniform_array
from particles.species import (ANION_FILLER, CATION_FILLER, CHARGE, FILLERS, FIXED_ANION, FIXED_ANION_SUBSTITUTE,
                               NAMES, N_SPECIES, SOLUTES, Species)

# flags bits
HELD = np.uint8(1)       # held by a pump: does not diffuse
FAR_IN = np.uint8(2)     # last reservoir visited: the inside bulk, beyond the transit margin
FAR_OUT = np.uint8(4)    # last reservoir visited: the outside bulk, beyond the transit margin


class ParticleState(NamedTuple):
    x: np.ndarray        # float64, nm
    y: np.ndarray        # float64, nm
    species: np.ndarray  # int8, species id
    flags: np.ndarray    # uint8, bits above
    held_by: np.ndarray  # int32, pump index or -1

    @property
    def n(self) -> int:
        return int(self.x.size)


class SpeciesArrays(NamedTuple):
    """Per-species parameters of the kernels, indexed by species id."""
    step_a_nm: np.ndarray   # float64: half-width of the uniform Brownian step
    charge: np.ndarray      # int64: z
    permeant: np.ndarray    # bool: may enter a pore at all


@dataclass(frozen=True)
class Counts:
    """Particle counts per species and side, and the mM each particle per nm² stands for."""
    inside: np.ndarray    # int64[N_SPECIES]
    outside: np.ndarray   # int64[N_SPECIES]
    mM_per_density: float  # mM represented by one particle per nm²


def _charge(c: np.ndarray, names=SOLUTES):
    """Σ z·c over the named species (default: the solutes), in table order."""
    q = 0
    for name in names:
        q = q + CHARGE[name] * c[Species[name]]
    return q


def _counter_ion(inside: bool, excess_positive: bool, fixed_anions: bool) -> Species:
    """The species that makes up a compartment's excess charge: inside, the fixed anion (or Cl⁻
    without it); outside, X⁻; on either side Y⁺ for an excess of anions."""
    if not excess_positive:
        return CATION_FILLER
    if not inside:
        return ANION_FILLER
    return FIXED_ANION if fixed_anions else FIXED_ANION_SUBSTITUTE


def _settle(n: np.ndarray, wanted: int, inside: bool, fixed_anions: bool, a_charge: int) -> None:
    """Make one compartment's counts exactly neutral (in place).

    `wanted` is the sign of the excess charge the requested concentrations have (0: neutral as
    asked, within half a particle). A wanted excess gets its counter-ion; whole-particle rounding
    (an excess of the other sign, or of a neutral request) comes off the most abundant monovalent
    solute of the excess sign, so no filler appears that the saline does not need."""
    q = int(_charge(n))
    if q != 0 and np.sign(q) == wanted:
        ion = _counter_ion(inside, q > 0, fixed_anions)
        if ion == FIXED_ANION:
            n[FIXED_ANION_SUBSTITUTE] += q % abs(a_charge)   # make the excess divisible by |z_A|
            q -= q % abs(a_charge)
        n[ion] += abs(q) // abs(CHARGE[ion.name] if ion != FIXED_ANION else a_charge)
        return
    sign = 1 if q > 0 else -1
    pool = [Species[m] for m in SOLUTES if CHARGE[m] == sign]
    while q != 0:
        ion = max(pool, key=lambda s: n[s]) if pool else None
        if ion is None or n[ion] == 0:
            n[_counter_ion(inside, q > 0, False)] += abs(q)   # no monovalent solute to take it from
            return
        n[ion] -= 1
        q -= sign


def compartment_counts(conc_in: dict, conc_out: dict, a_charge: int, fixed_anions: bool,
                       area_in_nm2: float, area_out_nm2: float, particles: int) -> Counts:
    """Counts per species on each side, electroneutral to the elementary charge.

    `conc_in`/`conc_out` give every solute in mM. Inside, the fixed anion (charge `a_charge`)
    makes up the missing negative charge when `fixed_anions` is on; otherwise the substitute
    solute (Cl⁻) does. Outside, the filler X⁻ does. On either side the filler Y⁺ makes up
    missing positive charge (a saline whose anions outweigh its cations). Only what the requested
    concentrations need is placed (`_settle`).
    """
    c_in = np.zeros(N_SPECIES)
    c_out = np.zeros(N_SPECIES)
    for name in SOLUTES:
        c_in[Species[name]] = conc_in.get(name, 0.0)
        c_out[Species[name]] = conc_out.get(name, 0.0)
    for c, inside in ((c_in, True), (c_out, False)):
        q = _charge(c)
        if q != 0:
            ion = _counter_ion(inside, q > 0, fixed_anions)
            z = a_charge if ion == FIXED_ANION else CHARGE[ion.name]
            c[ion] += abs(q) / abs(z)

    total_mM_area = float((c_in * area_in_nm2).sum() + (c_out * area_out_nm2).sum())
    density_per_mM = particles / total_mM_area          # particles per nm² per mM
    n_in = np.zeros(N_SPECIES, dtype=np.int64)
    n_out = np.zeros(N_SPECIES, dtype=np.int64)
    for n, conc, area, inside in ((n_in, conc_in, area_in_nm2, True), (n_out, conc_out, area_out_nm2, False)):
        per_mM = area * density_per_mM
        for name in SOLUTES:
            n[Species[name]] = int(np.rint(conc.get(name, 0.0) * per_mM))
        q_asked = sum(CHARGE[m] * conc.get(m, 0.0) for m in SOLUTES) * per_mM   # in particles' charges
        _settle(n, int(np.sign(q_asked)) if abs(q_asked) > 0.5 else 0, inside, fixed_anions, a_charge)
    if (n_in < 0).any() or (n_out < 0).any():
        raise ValueError("too few particles to place every species; raise physics.particles")
    return Counts(n_in, n_out, 1.0 / density_per_mM)


def filler_counts(counts: Counts) -> dict[str, dict[str, int]]:
    """The fillers placed for neutrality, per side: {"inside": {"Y": 12}, "outside": {"X": 0, ...}}."""
    return {side: {f.name: int(n[f]) for f in FILLERS} for side, n in (("inside", counts.inside),
                                                                        ("outside", counts.outside))}


def place(counts: Counts, seed: int, height_nm: float, in_x: tuple[float, float],
          out_x: tuple[float, float]) -> ParticleState:
    """Uniform random positions in each compartment's bulk, from the counter-based generator."""
    n = int(counts.inside.sum() + counts.outside.sum())
    species = np.empty(n, dtype=np.int8)
    lo = np.empty(n)
    hi = np.empty(n)
    i = 0
    for side, (x0, x1) in ((counts.inside, in_x), (counts.outside, out_x)):
        for s in range(N_SPECIES):
            m = int(side[s])
            species[i:i + m] = s
            lo[i:i + m] = x0
            hi[i:i + m] = x1
            i += m
    u = uniform_array(seed, STREAM_PLACE, 0, 2 * n)
    x = lo + (hi - lo) * u[:n]
    y = height_nm * u[n:]
    return ParticleState(x=x, y=y, species=species, flags=np.zeros(n, dtype=np.uint8),
                         held_by=np.full(n, -1, dtype=np.int32))


def species_totals(state: ParticleState) -> dict[str, int]:
    """Particles per species name (conserved exactly by every step)."""
    counts = np.bincount(state.species, minlength=N_SPECIES)
    return {name: int(c) for name, c in zip(NAMES, counts)}
