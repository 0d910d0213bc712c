"""Text: fonts sized by the height they render at, and a layer that records every text box drawn.

Every piece of text on screen goes through `TextLayer.draw`, which blits it and records its
rectangle and the region it belongs to. The tests read these records to check that no two
texts overlap and none is clipped, at every window size and theme; `spread` lays out labels
that want to sit at given heights (the theory lines' values) so that they never overlap.
"""
from __future__ import annotations

from dataclasses import dataclass

import pygame

ROLES = ("title", "big", "body", "small", "tiny")


def font_for_height(px: int) -> pygame.font.Font:
    """The default font at the smallest size whose rendered line is at least `px` tall."""
    px = max(8, int(px))
    size = max(6, int(px / 0.76))
    f = pygame.font.Font(None, size)
    while f.get_linesize() < px:
        size += 1
        f = pygame.font.Font(None, size)
    return f


def make_fonts(height_px: int, shares: dict) -> dict[str, pygame.font.Font]:
    """Fonts per role for a window `height_px` tall; `shares` gives each role's line height as a
    share of the window height (never below 10 px)."""
    return {role: font_for_height(max(10, round(shares[role] * height_px))) for role in ROLES}


@dataclass(frozen=True)
class TextBox:
    rect: pygame.Rect
    text: str
    region: pygame.Rect | None    # the panel it must stay inside (None: the window)


class TextLayer:
    """Draws text and remembers where: `boxes` holds every text of the current frame."""

    def __init__(self):
        self.boxes: list[TextBox] = []

    def clear(self) -> None:
        self.boxes.clear()

    def cover(self, rect: pygame.Rect) -> None:
        """An opaque panel was just painted over `rect`: the text under it is no longer seen."""
        self.boxes = [b for b in self.boxes if not b.rect.colliderect(rect)]

    def draw(self, surf: pygame.Surface, font: pygame.font.Font, text: str, colour, *, region=None,
             background=None, **anchor) -> pygame.Rect:
        """Render `text` and blit it with its rectangle placed by `anchor` (pygame.Rect keywords,
        e.g. topleft=(x, y), midright=(x, y)); returns the rectangle."""
        img = font.render(text, True, colour, background)
        rect = img.get_rect(**anchor)
        surf.blit(img, rect)
        self.boxes.append(TextBox(rect, text, region))
        return rect



def minus(s: str) -> str:
    """A typographic minus for numbers on screen ("-70" → "−70")."""
    return s.replace("-", "−")


def shorten(font: pygame.font.Font, text: str, width: int) -> str:
    """`text`, cut with an ellipsis ("...") to fit `width` pixels."""
    if font.size(text)[0] <= width:
        return text
    while text and font.size(text + "...")[0] > width:
        text = text[:-1]
    return text + "..." if text else ""


def wrap(font, text: str, colour, indent: int, width: int) -> list[tuple[str, tuple | None, int]]:
    """A paragraph as lines no wider than `width` pixels: (text, colour, x offset), the first line
    indented `indent` levels and the rest one level more. A word wider than a line is broken."""
    step = font.size("mm")[0]
    first, rest = indent * step, (indent + 1) * step
    lines, line, dx = [], "", first
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if font.size(trial)[0] <= width - dx:
            line = trial
            continue
        if line:
            lines.append((line, colour, dx))
            dx, line = rest, ""
        while font.size(word)[0] > width - dx and len(word) > 1:    # alone on its line and still too wide
            cut = len(word) - 1
            while cut > 1 and font.size(word[:cut])[0] > width - dx:
                cut -= 1
            lines.append((word[:cut], colour, dx))
            dx, word = rest, word[cut:]
        line = word
    if line:
        lines.append((line, colour, dx))
    return lines


def wrap_lines(font: pygame.font.Font, text: str, width: int) -> list[str]:
    """`text` as lines no wider than `width` pixels."""
    return [line for line, _, _ in wrap(font, text, None, 0, width)] or [""]


def spread(wanted: list[float], height: float, lo: float, hi: float) -> list[float]:
    """Tops for labels of `height` that want their centres at `wanted` (any order), kept within
    [lo, hi] and at least `height` apart, each moved as little as the others allow (the classic
    forward-then-backward sweep). Returns the tops in the order given."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    tops = [min(max(wanted[i] - height / 2, lo), hi - height) for i in order]
    for k in range(1, len(tops)):          # push down what overlaps the one above
        tops[k] = max(tops[k], tops[k - 1] + height)
    if tops and tops[-1] > hi - height:    # then pull back up from the bottom
        tops[-1] = hi - height
        for k in range(len(tops) - 2, -1, -1):
            tops[k] = min(tops[k], tops[k + 1] - height)
    out = [0.0] * len(wanted)
    for k, i in enumerate(order):
        out[i] = tops[k]
    return out
