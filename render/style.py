"""Style as data: themes (colours, text sizes, what is shown), in one place.

The palette itself (Okabe & Ito's colour-blind-safe set for the species, a colour for every
theory line) is `simulation/palette.py`, which the figures read too. Text and lines in a
species' colour are made legible on their background: lightened on dark themes, darkened on the
light one, until the WCAG contrast ratio is at least 4.5 : 1 (`legible`). Sizes are fractions of the window height, so the layout reflows when the
window is resized.

Four themes: `dark` (the desk: compact, with the debug figures), `projector` (a classroom:
every piece of text at least 2.5 % of the window height, the V digits much larger, no debug
figures, the button bar folded away), `light` (a lit room: dark text on white, the same sizes as
`projector`) and `hall` (the back rows of a large hall: every piece of text at least 4 % of the
height, a demo's caption on three lines of it, the V digits a ninth of the height, the panel
reduced to what a scenario step needs).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

# the palette (species, theory lines) is data shared with the figures
from membrane.transporters import TABLE as _TRANSPORTER_TABLE
from particles.species import FILLER, FIXED, TABLE as _SPECIES_TABLE
from simulation.palette import (BLUE, BLUISH_GREEN, GREY, LIGHT_GREY, ORANGE, REDDISH_PURPLE,  # noqa: F401
                                RGB, SKY_BLUE, SPECIES_COLOUR, THEORY_LINES, VERMILION, YELLOW, theory_line,
                                transporter_colour)

TRANSPORTERS = tuple(t.name for t in _TRANSPORTER_TABLE)   # the first is the pump

SCOPE_RANGE_mV = (-100.0, 70.0)
MIN_CONTRAST = 4.5          # WCAG AA for text
PROJECTOR_MIN_TEXT = 0.025  # every piece of text at least this share of the window height
HALL_MIN_TEXT = 0.04        # ... in the hall theme (about 14 cm on a 3.4 m screen: read at 25 m)
PANEL_PARTS = ("concentrations", "crossings", "permeability", "channels", "pump", "transporters", "notes")


def luminance(c: RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""
    def lin(v):
        v /= 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(float(x)) for x in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


SPECIES_ROLE = {s.name: s.role for s in _SPECIES_TABLE}
QUIET = 0.55   # how much of its colour a fixed anion or filler keeps against the background


def mix(a: RGB, b: RGB, f: float) -> RGB:
    return tuple(int(round(a[i] * (1 - f) + b[i] * f)) for i in range(3))


def legible(colour: RGB, background: RGB, ratio: float = MIN_CONTRAST) -> RGB:
    """`colour`, lightened (on a dark background) or darkened (on a light one) just enough to
    reach `ratio` against `background`."""
    target = (255, 255, 255) if luminance(background) < 0.18 else (0, 0, 0)
    for k in range(21):
        c = mix(colour, target, k / 20)
        if contrast_ratio(c, background) >= ratio:
            return c
    return target


@dataclass(frozen=True)
class Theme:
    name: str
    background: RGB
    panel: RGB
    panel_edge: RGB
    text: RGB
    text_dim: RGB
    inside_tint: RGB
    outside_tint: RGB
    membrane: RGB
    membrane_edge: RGB
    pore_closed: RGB
    pump: RGB
    pump_text: RGB
    positive_tint: RGB
    negative_tint: RGB
    trace: RGB
    trace_raw: RGB
    grid: RGB
    marker: RGB
    followed: RGB              # the followed ion's ring and trail: a colour no species uses
    button: RGB
    button_on: RGB
    button_hover: RGB
    toast_bg: RGB
    toast_text: RGB
    # text heights (rendered line height) as a share of the window height, per role
    text_share: dict = field(default_factory=dict)
    show_debug: bool = True     # FPS, steps per second, particle count
    buttons_shown: bool = True  # the button bar at start (B folds it)
    particle_scale: float = 1.0
    caption_lines: int = 2      # a demo's caption band holds this many lines of the title font
    panel_parts: tuple = PANEL_PARTS   # what the readout panel shows (a demo step may ask for fewer)
    min_text: float = 0.0       # every piece of text at least this share of the window height
    view_share: float = 0.46    # the box's share of the window's width
    scope_share: float = 0.64   # the scope's share of the right column's height (the panel has the rest)

    def species(self, name: str) -> RGB:
        """A species' colour for particles and bars."""
        return SPECIES_COLOUR[name]

    def particle(self, name: str) -> RGB:
        """A species' colour for its particles (and legend swatch): the ions that only keep a side
        neutral (fixed anions, fillers) quieter, toward the background, so the mobile ions stand out."""
        if SPECIES_ROLE[name] in (FIXED, FILLER):
            return mix(self.background, SPECIES_COLOUR[name], QUIET)
        return SPECIES_COLOUR[name]

    def species_text(self, name: str, on: RGB | None = None) -> RGB:
        """A species' colour for text and lines, legible on `on` (default: the panel)."""
        return legible(SPECIES_COLOUR[name], on or self.panel)

    def line(self, key: str, on: RGB | None = None) -> RGB:
        """A theory line's colour, legible on `on` (default: the plot's background)."""
        return legible(theory_line(key)[0], on or self.background)

    def transporter(self, name: str) -> RGB:
        """A transporter's body: the pump in the theme's pump colour, others in their palette colour
        blended toward it (light on a dark theme, dark on a light one)."""
        if name == TRANSPORTERS[0]:
            return self.pump
        return mix(transporter_colour(name), self.pump, 0.35)

    def legible(self, colour: RGB, on: RGB | None = None) -> RGB:
        return legible(colour, on or self.panel)


_DESK = {"title": 0.024, "big": 0.052, "body": 0.017, "small": 0.0135, "tiny": 0.0115}
_ROOM = {"title": 0.036, "big": 0.085, "body": 0.028, "small": 0.026, "tiny": 0.026}
_HALL = {"title": 0.048, "big": 0.11, "body": 0.043, "small": 0.041, "tiny": 0.041}

DARK = Theme(
    name="dark", background=(16, 18, 24), panel=(28, 31, 40), panel_edge=(60, 64, 78), text=(235, 235, 240),
    text_dim=(170, 174, 186), inside_tint=(36, 30, 44), outside_tint=(22, 34, 44), membrane=(120, 106, 80),
    membrane_edge=(170, 150, 110), pore_closed=(70, 62, 50), pump=(200, 200, 210), pump_text=(16, 18, 24),
    positive_tint=(200, 60, 60), negative_tint=(60, 110, 220), trace=(255, 255, 255), trace_raw=(120, 124, 136),
    grid=(60, 64, 78), marker=YELLOW, followed=(190, 255, 0), button=(48, 52, 66), button_on=(80, 96, 140),
    button_hover=(66, 72, 92), toast_bg=YELLOW, toast_text=(16, 18, 24), text_share=_DESK)

PROJECTOR = replace(DARK, name="projector", background=(6, 6, 10), panel=(20, 22, 30), text=(255, 255, 255),
                    text_dim=(200, 204, 214), trace_raw=(110, 114, 126), text_share=_ROOM, show_debug=False,
                    buttons_shown=False, particle_scale=1.25, min_text=PROJECTOR_MIN_TEXT)

LIGHT = Theme(
    name="light", background=(252, 252, 250), panel=(238, 239, 236), panel_edge=(170, 172, 168), text=(15, 15, 20),
    text_dim=(70, 72, 78), inside_tint=(240, 232, 244), outside_tint=(226, 238, 246), membrane=(205, 185, 140),
    membrane_edge=(140, 120, 80), pore_closed=(150, 135, 105), pump=(60, 60, 70), pump_text=(252, 252, 250),
    positive_tint=(220, 80, 80), negative_tint=(70, 120, 230), trace=(0, 0, 0), trace_raw=(150, 150, 155),
    grid=(205, 206, 202), marker=(150, 110, 0), followed=(0, 0, 0), button=(225, 226, 222),
    button_on=(170, 190, 230), button_hover=(210, 212, 206), toast_bg=(30, 30, 35), toast_text=(255, 255, 255),
    text_share=_ROOM, show_debug=False, buttons_shown=False, particle_scale=1.25, min_text=PROJECTOR_MIN_TEXT)

HALL = replace(PROJECTOR, name="hall", text_share=_HALL, caption_lines=3, view_share=0.4, scope_share=0.62,
               panel_parts=("concentrations", "crossings", "pump"), min_text=HALL_MIN_TEXT)

THEMES = {t.name: t for t in (DARK, PROJECTOR, LIGHT, HALL)}
