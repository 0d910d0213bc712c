"""The species table: the one place the kinds of particle are listed.

Each row gives a species' name (in files and config keys), its label (for the screen, ASCII), its
symbol (for figures, with Unicode superscripts), the words for it (help text), its charge z, its
default diffusion coefficient, whether it can cross the membrane (through channels that pass it,
when the config gives them) and its role in placement: a SOLUTE is given in mM on each side,
the FIXED anion fills the inside's missing negative charge, a FILLER is placed only where a
compartment needs it for neutrality (X⁻ for an excess of cations outside, Y⁺ for an excess of
anions on either side).
A particle's species is its row number (a particle is an index, not an object). Everything else —
config keys, columns, channel types, theory lines and charges, the view's legend and help, the
figures' labels — is derived from here. Colours live in `simulation/palette.py` (a species it does
not list gets a distinct colour of its own). To add a species, add its row (docs/ARCHITECTURE.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

SOLUTE = "solute"    # given in mM inside and outside
FIXED = "fixed"      # the cytoplasm's impermeant anions: make up the inside's missing charge
FILLER = "filler"    # impermeant ion placed only where a compartment needs it for neutrality


@dataclass(frozen=True)
class SpeciesInfo:
    name: str
    label: str            # on screen (ASCII: the view's fonts)
    symbol: str           # in figures (Unicode superscripts, which matplotlib draws)
    words: str            # what it is, for the help page
    z: int                # charge in e (the fixed anion's comes from the config)
    d_nm2_per_ns: float   # default diffusion coefficient
    permeant: bool        # can cross the membrane through its own channels
    role: str


# Diffusion coefficients in water at 25 °C, nm²/ns (= 1e-5 cm²/s); Hille, Ion Channels, table 14.1.
# Ca²⁺ crosses only through Ca²⁺ channels, which a config may give (the default membrane has none).
TABLE: tuple[SpeciesInfo, ...] = (
    SpeciesInfo("K", "K+", "K⁺", "potassium", +1, 1.96, True, SOLUTE),
    SpeciesInfo("Na", "Na+", "Na⁺", "sodium", +1, 1.33, True, SOLUTE),
    SpeciesInfo("Cl", "Cl-", "Cl⁻", "chloride", -1, 2.03, True, SOLUTE),
    SpeciesInfo("Ca", "Ca2+", "Ca²⁺", "calcium", +2, 0.79, True, SOLUTE),
    SpeciesInfo("Mg", "Mg2+", "Mg²⁺", "magnesium", +2, 0.71, False, SOLUTE),
    # inside only, never crosses
    SpeciesInfo("A", "A- fixed", "A⁻", "fixed anions (proteins): cannot cross", -1, 0.0, False, FIXED),
    # an excess of cations (outside)
    SpeciesInfo("X", "X-", "X⁻", "impermeant anions (neutrality)", -1, 0.5, False, FILLER),
    # an excess of anions (either side)
    SpeciesInfo("Y", "Y+", "Y⁺", "impermeant cations (neutrality)", +1, 0.5, False, FILLER),
)

Species = IntEnum("Species", [(s.name, i) for i, s in enumerate(TABLE)], module=__name__)
Species.__doc__ = "Species ids: a particle's `species` value is its row in TABLE."

NAMES: tuple[str, ...] = tuple(s.name for s in TABLE)
N_SPECIES = len(TABLE)
INFO: dict[str, SpeciesInfo] = {s.name: s for s in TABLE}
LABEL: dict[str, str] = {s.name: s.label for s in TABLE}
SYMBOL: dict[str, str] = {s.name: s.symbol for s in TABLE}
CHARGE: dict[str, int] = {s.name: s.z for s in TABLE}
PERMEANT: tuple[Species, ...] = tuple(Species[s.name] for s in TABLE if s.permeant)
PERMEANT_NAMES: tuple[str, ...] = tuple(s.name for s in PERMEANT)
SOLUTES: tuple[str, ...] = tuple(s.name for s in TABLE if s.role == SOLUTE)
FIXED_ANION = Species[next(s.name for s in TABLE if s.role == FIXED)]
ANION_FILLER = Species[next(s.name for s in TABLE if s.role == FILLER and s.z < 0)]    # X⁻
CATION_FILLER = Species[next(s.name for s in TABLE if s.role == FILLER and s.z > 0)]   # Y⁺
FILLERS: tuple[Species, ...] = (ANION_FILLER, CATION_FILLER)
# Without fixed anions the cytoplasm's missing negative charge is made up by this solute.
FIXED_ANION_SUBSTITUTE = Species.Cl
# Species whose diffusion coefficient the config's [diffusion] table sets (the fixed anion's D is
# set with the fixed anions, in [fixed_anions]).
DIFFUSING_NAMES: tuple[str, ...] = tuple(s.name for s in TABLE if s.role != FIXED)


def charges_array(a_charge: int) -> np.ndarray:
    """z per species id, with the fixed anion's charge from the config."""
    z = np.array([s.z for s in TABLE], dtype=np.int64)
    z[FIXED_ANION] = a_charge
    return z
