"""The particle state as a structure of arrays, and its placement from concentrations.

`ParticleState` bundles `x`, `y` (nm), `species` (row of `particles.species.TABLE`), `flags`
(bits below) and `held_by` (the pump holding the particle, or -1); `SpeciesArrays` bundles what the
kernels need per species (step half-width, charge, permeant). Both are NamedTuples, so Numba
kernels take them whole. Placement turns the requested mM on each side into counts in proportion
to concentration × area, scaled so the box holds about `particles` particles, and makes each
compartment exactly electroneutral with the fixed anion (inside) and the filler (outside).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from particles.rng import STREAM_PLACE, uniform_array
from particles.species import (CHARGE, FIXED_ANION, FIXED_ANION_SUBSTITUTE, NAMES, N_SPECIES, OUTSIDE_FILLER,
                               SOLUTES, Species)

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


def _solute_charge(c: np.ndarray):
    """Σ z·c over the solutes, summed in table order (cations minus anions)."""
    q = 0
    for name in SOLUTES:
        q = q + CHARGE[name] * c[Species[name]]
    return q


def compartment_counts(conc_in: dict, conc_out: dict, a_charge: int, fixed_anions: bool,
                       area_in_nm2: float, area_out_nm2: float, particles: int) -> Counts:
    """Counts per species on each side, electroneutral to the elementary charge.

    `conc_in`/`conc_out` give every solute in mM. Inside, the fixed anion (charge `a_charge`)
    makes up the missing negative charge when `fixed_anions` is on; otherwise the substitute
    solute (Cl⁻) does. Outside, the filler (X⁻) does. Raises ValueError naming the compartment
    when its anions outweigh its cations.
    """
    c_in = np.zeros(N_SPECIES)
    c_out = np.zeros(N_SPECIES)
    for name in SOLUTES:
        c_in[Species[name]] = conc_in[name]
        c_out[Species[name]] = conc_out[name]
    for label, c in (("inside", c_in), ("outside", c_out)):
        excess = -_solute_charge(c)
        if excess > 1e-9:
            anions = " + ".join(n for n in SOLUTES if CHARGE[n] < 0)
            cations = " + ".join(n for n in SOLUTES if CHARGE[n] > 0)
            raise ValueError(f"{label}: anions outweigh cations by {excess:g} mM ({anions} > {cations})")
    missing_in = _solute_charge(c_in)
    if fixed_anions:
        c_in[FIXED_ANION] = missing_in / abs(a_charge)
    else:
        c_in[FIXED_ANION_SUBSTITUTE] += missing_in / abs(CHARGE[FIXED_ANION_SUBSTITUTE.name])
    c_out[OUTSIDE_FILLER] = _solute_charge(c_out) / abs(CHARGE[OUTSIDE_FILLER.name])

    total_mM_area = float((c_in * area_in_nm2).sum() + (c_out * area_out_nm2).sum())
    density_per_mM = particles / total_mM_area          # particles per nm² per mM
    n_in = np.rint(c_in * area_in_nm2 * density_per_mM).astype(np.int64)
    n_out = np.rint(c_out * area_out_nm2 * density_per_mM).astype(np.int64)

    # Exact neutrality in whole charges: rounding may leave the solutes' anions a charge or two
    # above their cations; take the surplus from the most abundant anion.
    for n in (n_in, n_out):
        anion = max((Species[a] for a in SOLUTES if CHARGE[a] < 0), key=lambda s: n[s])
        while _solute_charge(n) < 0 and n[anion] > 0:
            n[anion] -= 1
    q = _solute_charge(n_in)
    if fixed_anions:
        n_in[FIXED_ANION_SUBSTITUTE] += q % abs(a_charge)   # make the excess divisible by |z_A|
        n_in[FIXED_ANION] = _solute_charge(n_in) // abs(a_charge)
    else:
        n_in[FIXED_ANION_SUBSTITUTE] += q // abs(CHARGE[FIXED_ANION_SUBSTITUTE.name])
    n_out[OUTSIDE_FILLER] = _solute_charge(n_out) // abs(CHARGE[OUTSIDE_FILLER.name])
    if (n_in < 0).any() or (n_out < 0).any():
        raise ValueError("too few particles to place every species; raise physics.particles")
    return Counts(n_in, n_out, 1.0 / density_per_mM)


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
