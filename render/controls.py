"""Key and widget bindings as one table, and the minimal button widget that shows them.

Every action has a key, a button label (or none: key-only), a line for the help overlay and the
name of the `App` method it calls. The buttons are drawn by us rather than by a widget library so
that their font grows with the window, like all other text (pygame_gui themes fix font sizes).
"""
from __future__ import annotations

from dataclasses import dataclass

import pygame

from render import style


@dataclass(frozen=True)
class Action:
    keys: tuple[int, ...]
    key_label: str
    button: str | None
    help: str
    method: str
    toggle: str | None = None   # App attribute (or property) that is True when the button shows "on"


ACTIONS: tuple[Action, ...] = (
    Action((pygame.K_SPACE,), "Space", "Pause", "pause / run", "toggle_pause", "paused"),
    Action((pygame.K_n,), "N", "Step", "one step (pauses)", "single_step"),
    Action((pygame.K_MINUS, pygame.K_KP_MINUS), "-", "Slower", "half the steps per frame", "slower"),
    Action((pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS), "+", "Faster", "double the steps per frame", "faster"),
    Action((pygame.K_m,), "M", "Slow-mo", "slow motion: one step every few frames", "toggle_slow", "slow"),
    Action((pygame.K_r,), "R", "Reset", "start the cell again from V = 0", "reset"),
    Action((pygame.K_TAB,), "Tab", "Preset", "next preset (restarts)", "next_preset"),
    Action((pygame.K_o,), "O", "Ouabain", "block / unblock the Na/K pumps", "toggle_pumps", "pumps_blocked"),
    Action((pygame.K_j,), "J", "[K]o ÷2", "halve outside K+", "k_out_down"),
    Action((pygame.K_k,), "K", "[K]o ×2", "double outside K+ (hyperkalemia)", "k_out_up"),
    Action((pygame.K_1,), "1", "P_K ÷2", "half the K+ channels", "pk_down"),
    Action((pygame.K_2,), "2", "P_K ×2", "twice the K+ channels", "pk_up"),
    Action((pygame.K_3,), "3", "P_Na ÷2", "half the Na+ channels", "pna_down"),
    Action((pygame.K_4,), "4", "P_Na ×2", "twice the Na+ channels", "pna_up"),
    Action((pygame.K_5,), "5", "P_Cl ÷2", "half the Cl- channels", "pcl_down"),
    Action((pygame.K_6,), "6", "P_Cl ×2", "twice the Cl- channels", "pcl_up"),
    Action((pygame.K_f,), "F", "Field off", "pores ignore V: nothing pushes back", "toggle_field", "field_off"),
    Action((pygame.K_l,), "L", "Select. off", "every pore passes every ion", "toggle_selectivity", "selectivity_off"),
    Action((pygame.K_a,), "A", "No A-", "remove / restore the fixed anions (restarts)", "toggle_anions", "anions_removed"),
    Action((pygame.K_LEFTBRACKET,), "[", "Cell ÷2", "halve the cell (restarts): noisier V", "cell_down"),
    Action((pygame.K_RIGHTBRACKET,), "]", "Cell ×2", "double the cell (restarts): steadier V", "cell_up"),
    Action((pygame.K_t,), "T", "Tint", "tint each side by its net charge", "toggle_tint", "tint"),
    Action((pygame.K_c,), "C", "Charges", "show the unpaired charges on the faces", "toggle_charges", "charges"),
    Action((pygame.K_h, pygame.K_F1), "H", "Help", "this help", "toggle_help", "help"),
    Action((pygame.K_F11,), "F11", None, "full screen on / off", "toggle_fullscreen"),
    Action((pygame.K_UP, pygame.K_PAGEUP), "Up", None, "scroll up the membrane", "scroll_up"),
    Action((pygame.K_DOWN, pygame.K_PAGEDOWN), "Down", None, "scroll down the membrane", "scroll_down"),
    Action((pygame.K_ESCAPE,), "Esc", None, "quit", "quit"),
)

MOUSE_HELP = ("click an ion: follow it (right click: stop)", "wheel: zoom    drag: pan")

KEYMAP = {k: a for a in ACTIONS for k in a.keys}


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


def layout_buttons(area: pygame.Rect, rows: int = 2) -> list[Button]:
    actions = [a for a in ACTIONS if a.button]
    per_row = -(-len(actions) // rows)
    gap = max(2, area.width // 300)
    w = (area.width - gap * (per_row + 1)) / per_row
    h = (area.height - gap * (rows + 1)) / rows
    out = []
    for i, a in enumerate(actions):
        r, c = divmod(i, per_row)
        out.append(Button(pygame.Rect(area.x + gap + c * (w + gap), area.y + gap + r * (h + gap), w, h), a))
    return out
