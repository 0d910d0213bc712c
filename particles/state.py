"""The particle state as a structure of arrays, and its placement from concentrations.

`x`, `y` (nm), `species` (index into `particles.species`), `flags` (bits below) and `held_by`
(the pump holding the particle, or -1). Placement turns the requested mM on each side into counts
in proportion to concentration × area, scaled so the box holds about `particles` particles, and
makes each compartment exactly electroneutral with A⁻ (inside) and X⁻ (outside).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from particles.rng import STREAM_PLACE, uniform_array
from particles.species import NAMES, N_SPECIES, Species

# flags bits
HELD = np.uint8(1)       # held by a pump: does not diffuse
FAR_IN = np.uint8(2)     # last reservoir visited: the inside bulk, beyond the transit margin
FAR_OUT = np.uint8(4)    # last reservoir visited: the outside bulk, beyond the transit margin


@dataclass
class ParticleState:
    x: np.ndarray        # float64, nm
    y: np.ndarray        # float64, nm
    species: np.ndarray  # int8
    flags: np.ndarray    # uint8
    held_by: np.ndarray  # int32, pump index or -1

    @property
    def n(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class Counts:
    """Particle counts per species and side, and the mM each particle per nm² stands for."""
    inside: np.ndarray    # int64[N_SPECIES]
    outside: np.ndarray   # int64[N_SPECIES]
    mM_per_density: float  # mM represented by one particle per nm²


def compartment_counts(conc_in: dict, conc_out: dict, a_charge: int, fixed_anions: bool,
                       area_in_nm2: float, area_out_nm2: float, particles: int) -> Counts:
    """Counts per species on each side, electroneutral to the elementary charge.

    `conc_in`/`conc_out` give K, Na, Cl in mM. Inside, A⁻ (charge `a_charge`) makes up the missing
    negative charge when `fixed_anions` is on; otherwise Cl⁻ does. Outside, X⁻ does.
    Raises ValueError naming the compartment when its anions outweigh its cations.
    """
    c_in = np.zeros(N_SPECIES)
    c_out = np.zeros(N_SPECIES)
    for s in (Species.K, Species.Na, Species.Cl):
        c_in[s] = conc_in[s.name]
        c_out[s] = conc_out[s.name]
    for label, c in (("inside", c_in), ("outside", c_out)):
        excess = c[Species.Cl] - c[Species.K] - c[Species.Na]
        if excess > 1e-9:
            raise ValueError(f"{label}: anions outweigh cations by {excess:g} mM "
                             f"(Cl {c[Species.Cl]:g} > K + Na {c[Species.K] + c[Species.Na]:g})")
    missing_in = c_in[Species.K] + c_in[Species.Na] - c_in[Species.Cl]
    if fixed_anions:
        c_in[Species.A] = missing_in / abs(a_charge)
    else:
        c_in[Species.Cl] += missing_in
    c_out[Species.X] = c_out[Species.K] + c_out[Species.Na] - c_out[Species.Cl]

    total_mM_area = float((c_in * area_in_nm2).sum() + (c_out * area_out_nm2).sum())
    density_per_mM = particles / total_mM_area          # particles per nm² per mM
    n_in = np.rint(c_in * area_in_nm2 * density_per_mM).astype(np.int64)
    n_out = np.rint(c_out * area_out_nm2 * density_per_mM).astype(np.int64)

    # Exact neutrality in whole charges (rounding may leave Cl⁻ one above K⁺ + Na⁺).
    for n in (n_in, n_out):
        n[Species.Cl] = min(n[Species.Cl], n[Species.K] + n[Species.Na])
    if fixed_anions:
        q = n_in[Species.K] + n_in[Species.Na] - n_in[Species.Cl]
        n_in[Species.Cl] += q % abs(a_charge)   # make the excess divisible by |z_A| (never negative)
        n_in[Species.A] = (n_in[Species.K] + n_in[Species.Na] - n_in[Species.Cl]) // abs(a_charge)
    else:
        n_in[Species.Cl] = n_in[Species.K] + n_in[Species.Na]
    n_out[Species.X] = n_out[Species.K] + n_out[Species.Na] - n_out[Species.Cl]
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
