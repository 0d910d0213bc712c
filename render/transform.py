"""The world↔screen transform of the box view.

The view shows the model as it is laid out (cytoplasm left, membrane band vertical, bath right),
scaled so the whole box width fits the view, and a window of the membrane's length that can be
scrolled along (and zoomed). World: nm, y up the membrane. Screen: pixels, y down.
"""
from __future__ import annotations

from dataclasses import dataclass

import pygame


@dataclass
class ViewTransform:
    left_px: int          # screen rectangle of the view
    top_px: int
    width_px: int
    height_px: int
    box_width_nm: float
    box_height_nm: float
    zoom: float = 1.0     # 1 = the box width fills the view width
    y0_nm: float = 0.0    # world y at the top edge of the view
    x0_nm: float = 0.0    # world x at the left edge (non-zero only when zoomed in)

    @property
    def rect(self) -> pygame.Rect:
        """The view's rectangle on screen."""
        return pygame.Rect(self.left_px, self.top_px, self.width_px, self.height_px)

    @property
    def px_per_nm(self) -> float:
        return self.zoom * self.width_px / self.box_width_nm

    @property
    def visible_height_nm(self) -> float:
        return self.height_px / self.px_per_nm

    @property
    def visible_width_nm(self) -> float:
        return self.width_px / self.px_per_nm

    def clamp(self) -> None:
        self.zoom = min(max(self.zoom, 1.0), 12.0)
        self.y0_nm = min(max(self.y0_nm, 0.0), max(0.0, self.box_height_nm - self.visible_height_nm))
        self.x0_nm = min(max(self.x0_nm, 0.0), max(0.0, self.box_width_nm - self.visible_width_nm))

    def to_screen(self, x_nm: float, y_nm: float) -> tuple[float, float]:
        s = self.px_per_nm
        return self.left_px + (x_nm - self.x0_nm) * s, self.top_px + (y_nm - self.y0_nm) * s

    def to_world(self, px: float, py: float) -> tuple[float, float]:
        s = self.px_per_nm
        return self.x0_nm + (px - self.left_px) / s, self.y0_nm + (py - self.top_px) / s

    def zoom_about(self, factor: float, px: float, py: float) -> None:
        """Zoom keeping the world point under (px, py) where it is."""
        wx, wy = self.to_world(px, py)
        self.zoom *= factor
        self.clamp()
        s = self.px_per_nm
        self.x0_nm = wx - (px - self.left_px) / s
        self.y0_nm = wy - (py - self.top_px) / s
        self.clamp()
