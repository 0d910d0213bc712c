"""The species table: name, charge and default diffusion coefficient of every ion kind.

A particle's species is a small integer index into these arrays (a particle is an index, not an
object). Colours live in `render/`, never here.
"""
from __future__ import annotations

from enum import IntEnum

import numpy as np


class Species(IntEnum):
    K = 0
    Na = 1
    Cl = 2
    A = 3  # fixed anion, inside only, never crosses
    X = 4  # impermeant anion, outside only, where needed for neutrality


NAMES: tuple[str, ...] = tuple(s.name for s in Species)
N_SPECIES = len(NAMES)
PERMEANT: tuple[Species, ...] = (Species.K, Species.Na, Species.Cl)
PERMEANT_NAMES: tuple[str, ...] = tuple(s.name for s in PERMEANT)

# Charge in elementary charges; A's comes from the config (default -1).
DEFAULT_CHARGE = {"K": 1, "Na": 1, "Cl": -1, "A": -1, "X": -1}

# Diffusion coefficients in water at 25 °C, nm²/ns (= 1e-5 cm²/s); Hille, Ion Channels, table 14.1.
DEFAULT_D_nm2_per_ns = {"K": 1.96, "Na": 1.33, "Cl": 2.03, "A": 0.0, "X": 0.5}


def charges_array(a_charge: int) -> np.ndarray:
    """z per species index, with the fixed anion's charge from the config."""
    z = np.array([DEFAULT_CHARGE[n] for n in NAMES], dtype=np.int64)
    z[Species.A] = a_charge
    return z
