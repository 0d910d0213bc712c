"""Style as data: colours, sizes and fonts of the live view, in one place.

The particle palette is Okabe & Ito's colour-blind-safe set (2008): K⁺ blue, Na⁺ vermilion,
Cl⁻ bluish green, Ca²⁺ orange, Mg²⁺ sky blue, fixed anions reddish purple, the fillers X⁻ grey
and Y⁺ light grey. Sizes are fractions of the window height,
so text stays readable from the back of a lecture hall at 1920×1080 and the layout reflows when
the window is resized.
"""
from __future__ import annotations

from dataclasses import dataclass

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

SPECIES_COLOUR = {"K": BLUE, "Na": VERMILION, "Cl": BLUISH_GREEN, "Ca": ORANGE, "Mg": SKY_BLUE,
                  "A": REDDISH_PURPLE, "X": GREY, "Y": LIGHT_GREY}

BACKGROUND = (16, 18, 24)
PANEL = (28, 31, 40)
PANEL_EDGE = (60, 64, 78)
TEXT = (235, 235, 240)
TEXT_DIM = (160, 164, 176)
INSIDE_TINT = (36, 30, 44)       # cytoplasm background
OUTSIDE_TINT = (22, 34, 44)      # bath background
MEMBRANE = (120, 106, 80)
MEMBRANE_EDGE = (170, 150, 110)
PORE_CLOSED = (70, 62, 50)
PUMP = (200, 200, 210)
POSITIVE_TINT = (200, 60, 60)    # net-charge view
NEGATIVE_TINT = (60, 110, 220)
TRACE = (255, 255, 255)
MARKER = YELLOW
BUTTON = (48, 52, 66)
BUTTON_ON = (80, 96, 140)
BUTTON_HOVER = (66, 72, 92)

THEORY_LINES = {  # oscilloscope reference lines: colour, label
    "E_K_mV": (BLUE, "E_K"),
    "E_Na_mV": (VERMILION, "E_Na"),
    "E_Cl_mV": (BLUISH_GREEN, "E_Cl"),
    "V_GHK_mV": (SKY_BLUE, "GHK"),
    "V_MN_mV": (ORANGE, "GHK+pump"),
}

SCOPE_RANGE_mV = (-100.0, 70.0)


@dataclass(frozen=True)
class Metrics:
    """Sizes in pixels for a window of a given size."""
    width: int
    height: int

    @property
    def unit(self) -> float:
        return self.height / 100.0

    def font_px(self, role: str) -> int:
        return max(10, int(self.unit * {"title": 3.4, "big": 7.5, "body": 2.3, "small": 1.8}[role]))
