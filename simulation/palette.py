"""The palette: colours of the species, the channel types, the transporters and the theory lines,
as data both the live view (`render/`) and the figures (`simulation.headless.figures`) read. No
Pygame, no matplotlib: colours are sRGB tuples 0–255.

The particle colours are Okabe & Ito's colour-blind-safe set (2008): K⁺ blue, Na⁺ vermilion,
Cl⁻ bluish green, Ca²⁺ orange, Mg²⁺ sky blue, fixed anions reddish purple, the fillers X⁻ grey
and Y⁺ light grey. A species the table gains later and this file does not name gets a colour of
Paul Tol's muted set that no other species uses, so every list derived from the species table
has a colour for every row. A theory line has its ion's colour (E_K blue, ...), the combined
potentials their own.
"""
from __future__ import annotations

from particles.species import NAMES, PERMEANT_NAMES

RGB = tuple[int, int, int]

# Okabe–Ito palette (RGB)
BLUE = (0, 114, 178)
VERMILION = (213, 94, 0)
BLUISH_GREEN = (0, 158, 115)
REDDISH_PURPLE = (204, 121, 167)
ORANGE = (230, 159, 0)
SKY_BLUE = (86, 180, 233)
YELLOW = (240, 228, 66)
GREY = (150, 150, 150)
LIGHT_GREY = (210, 210, 210)
SAND = (221, 204, 119)   # Paul Tol's muted scheme (2021), as the spares below
# for species this file does not name (none of them a line's or a named species' colour)
SPARE = ((136, 34, 85), (68, 170, 153), (51, 34, 136), (170, 68, 153), (17, 119, 51), (204, 102, 119))
OLIVE = (153, 153, 51)

NAMED = {"K": BLUE, "Na": VERMILION, "Cl": BLUISH_GREEN, "Ca": ORANGE, "Mg": SKY_BLUE, "A": REDDISH_PURPLE,
         "X": GREY, "Y": LIGHT_GREY}


def _species_colours() -> dict[str, RGB]:
    spare = iter(c for c in SPARE if c not in NAMED.values())
    return {n: NAMED[n] if n in NAMED else next(spare, GREY) for n in NAMES}


SPECIES_COLOUR: dict[str, RGB] = _species_colours()   # every species of the table
PUMP_COLOUR = REDDISH_PURPLE                           # the Na⁺/K⁺ pumps in figures
TRANSPORTER_COLOUR = {"pump": REDDISH_PURPLE, "ncx": OLIVE}


def transporter_colour(name: str) -> RGB:
    return TRANSPORTER_COLOUR.get(name, GREY)


# Theory lines on the scope and in figures: colour and label. The Nernst line of every ion that
# can cross, then the potentials of the whole membrane, in colours no ion that crosses has (sky
# blue and reddish purple are Mg²⁺'s and the fixed anions', which never cross).
COMBINED_LINES: dict[str, tuple[RGB, str]] = {
    "V_GHK_mV": (SKY_BLUE, "GHK"),
    "V_pump_mV": (SAND, "GHK+pump"),   # the 3:2 pump's zero current, every leak (theory.pump_zero_current_mV)
    "V_Donnan_mV": (REDDISH_PURPLE, "Donnan"),
    "V_HH_mV": (LIGHT_GREY, "HH equations"),   # Hodgkin and Huxley's V after a pulse: a curve, not a line
}
THEORY_LINES: dict[str, tuple[RGB, str]] = (
    {f"E_{ion}_mV": (SPECIES_COLOUR[ion], f"E_{ion}") for ion in PERMEANT_NAMES} | COMBINED_LINES)


def theory_line(key: str) -> tuple[RGB, str]:
    """(colour, label) of a theory line: the table's, or for a reversal potential of a mechanism
    (E_NCX_mV, ...) its transporter's colour and its name."""
    if key in THEORY_LINES:
        return THEORY_LINES[key]
    name = key.removesuffix("_mV")
    return transporter_colour(name.removeprefix("E_").lower()), name
