"""Key and widget bindings, and the minimal button widget that shows them.

An `Action` binds keys (and a button, or none: key-only) to a callable taking the `App`; the one
table of actions is `render.app.ACTIONS`, next to the App whose methods it binds, so a misspelt
method fails at import rather than when the key is pressed. The README's key table is generated
from it (`key_table_markdown`; a test keeps them equal). The buttons are drawn by us rather than
by a widget library so that their font grows with the window, like all other text (pygame_gui
themes fix font sizes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pygame

from render import style
from render.text import TextLayer


@dataclass(frozen=True)
class Action:
    keys: tuple[int, ...]
    key_label: str
    button: str | None
    help: str
    do: Callable[[Any], None]                   # called with the App
    is_on: Callable[[Any], bool] | None = None  # True when the button shows "on"
    available: Callable[[Any], bool] | None = None  # False: it could only be refused in this cell (not offered)


MOUSE_HELP = ("click an ion: follow it (right click: stop)", "wheel: zoom    drag: pan")


def keymap(actions: tuple[Action, ...]) -> dict[int, Action]:
    return {k: a for a in actions for k in a.keys}


def key_table_markdown(actions: tuple[Action, ...]) -> str:
    """The README's table of keys and buttons."""
    lines = ["| key | button | what it does |", "|---|---|---|"]
    lines += [f"| `{a.key_label}` | {a.button or ''} | {a.help} |" for a in actions]
    return "\n".join(lines)


@dataclass
class Button:
    rect: pygame.Rect
    action: Action

    def draw(self, surf, font, text: TextLayer, th: style.Theme, on: bool, hover: bool) -> None:
        colour = th.button_on if on else (th.button_hover if hover else th.button)
        pygame.draw.rect(surf, colour, self.rect, border_radius=5)
        pygame.draw.rect(surf, th.panel_edge, self.rect, 1, border_radius=5)
        text.draw(surf, font, button_label(self.action), th.text, region=self.rect, center=self.rect.center)


def button_label(a: Action) -> str:
    return f"{a.button} [{a.key_label}]"


def plan_buttons(width: int, all_actions: tuple[Action, ...], font) -> tuple[int, int]:
    """(rows, row height) for one-line buttons ("Pause [Space]") across `width`: the fewest rows
    in which every label fits its button."""
    actions = [a for a in all_actions if a.button]
    gap = max(2, width // 300)
    need = max(font.size(button_label(a))[0] for a in actions) + 8
    for rows in range(1, len(actions) + 1):
        per_row = -(-len(actions) // rows)
        if (width - gap * (per_row + 1)) / per_row >= need:
            return rows, font.get_linesize() + 6
    return len(actions), font.get_linesize() + 6


def layout_buttons(area: pygame.Rect, all_actions: tuple[Action, ...], rows: int) -> list[Button]:
    actions = [a for a in all_actions if a.button]
    gap = max(2, area.width // 300)
    per_row = -(-len(actions) // rows)
    w = (area.width - gap * (per_row + 1)) / per_row
    h = (area.height - gap * (rows + 1)) / rows
    out = []
    for i, a in enumerate(actions):
        r, c = divmod(i, per_row)
        out.append(Button(pygame.Rect(area.x + gap + c * (w + gap), area.y + gap + r * (h + gap), w, h), a))
    return out
