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


@dataclass(frozen=True)
class Action:
    keys: tuple[int, ...]
    key_label: str
    button: str | None
    help: str
    do: Callable[[Any], None]                   # called with the App
    is_on: Callable[[Any], bool] | None = None  # True when the button shows "on"


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

    def draw(self, surf, font, on: bool, hover: bool) -> None:
        colour = style.BUTTON_ON if on else (style.BUTTON_HOVER if hover else style.BUTTON)
        pygame.draw.rect(surf, colour, self.rect, border_radius=5)
        pygame.draw.rect(surf, style.PANEL_EDGE, self.rect, 1, border_radius=5)
        label = font.render(self.action.button, True, style.TEXT)
        key = font.render(self.action.key_label, True, style.TEXT_DIM)
        surf.blit(label, (self.rect.centerx - label.get_width() / 2, self.rect.y + 2))
        surf.blit(key, (self.rect.centerx - key.get_width() / 2, self.rect.bottom - key.get_height() - 1))


def layout_buttons(area: pygame.Rect, all_actions: tuple[Action, ...], rows: int = 2) -> list[Button]:
    actions = [a for a in all_actions if a.button]
    per_row = -(-len(actions) // rows)
    gap = max(2, area.width // 300)
    w = (area.width - gap * (per_row + 1)) / per_row
    h = (area.height - gap * (rows + 1)) / rows
    out = []
    for i, a in enumerate(actions):
        r, c = divmod(i, per_row)
        out.append(Button(pygame.Rect(area.x + gap + c * (w + gap), area.y + gap + r * (h + gap), w, h), a))
    return out
