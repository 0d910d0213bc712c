"""A handout of a lecture scenario: its captions and a still of every step, as a Markdown page.

The scenario is played headless, by model time (as `Player.play` does: a step that waits for the
presenter begins after AUTO_KEY_NS), drawn offscreen; as each step ends, a picture and its
caption (with the numbers of that moment) are kept: the step's last frame whose scope still shows
the moment the step began (a pulse at a step's start, in a step longer than the scope's window,
would have scrolled away by its end: the still would show a flat trace under a caption about a
spike). The page says which run it shows: the numbers are that run's, and a live class will see
others within the noise.
"""
from __future__ import annotations

import contextlib
import datetime
import re
from pathlib import Path

import pygame

from render.app import save_png
from render.offscreen import OffscreenDemo
from simulation.session.player import Player
from simulation.session.scenario import Scenario
from simulation.system import replacing

MAX_FRAMES_PER_STEP = 20_000     # a step whose wait is never met ends the handout here, said on its page


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "step"


def _outcome(poll) -> str:
    """What the reveal measured, in words."""
    moved = f"V went from {poll.v_before:.0f} to {poll.v_after:.0f} mV".replace("-", "−")
    if poll.judge is None or poll.outcome is None:
        return moved + "."
    which = (f"choice {poll.answer + 1} ({poll.choices[poll.answer]})" if poll.answer is not None
             else "outside every choice's band")
    return f"{moved}; measured {poll.judge} = {poll.outcome:.2f}: {which}.".replace("-", "−")


def _shows_start(player: Player) -> bool:
    """Whether the scope shows the moment the current step began (always, in whole-run view)."""
    t, _ = player.session.trace.series()
    return t.size == 0 or t[0] <= player.began_ns


def write_handout(scenario: Scenario, out: Path, *, size=(1280, 720), theme: str = "light", seed: int = 0,
                  cell_scale: float = 1.0, progress=None, stops=None) -> Path:
    """Play `scenario` and write `out` (a .md file) with the stills beside it in `<stem>-stills/`.
    `progress(k, n)` is called as each step ends. Returns the page's path. On KeyboardInterrupt
    (a stop signal) the page is written with the steps finished, then it is raised again; `stops`
    (the command line's `simulation.headless.guard`) raises a signal a library swallowed at each
    frame (`check`), holds further signals while the page is written (`deferred`) and names the
    signal (`signal_name`)."""
    out = Path(out)
    stills = out.with_name(out.stem + "-stills")
    stills.mkdir(parents=True, exist_ok=True)
    player = Player(scenario, seed=seed, cell_scale=cell_scale, auto=True)
    view = OffscreenDemo(scenario, fullscreen=False, size=size, theme=theme, seed=seed, player=player)
    view.buttons_shown = False
    view._layout()
    pages = []

    def keep(k: int, picture: pygame.Surface, caption: str, t_ns: float, complete: bool) -> None:
        name = f"{k + 1:02d}-{_slug(scenario.steps[k].title)}.png"
        save_png(picture, str(stills / name))
        pages.append((k, name, caption, t_ns, complete))
        if progress is not None:
            progress(k + 1, len(scenario.steps))

    try:
        _play(player, view, keep, stops.check if stops else lambda: None)
    except KeyboardInterrupt:          # a stop signal: the page holds the steps kept so far, then it stops
        with stops.deferred() if stops else contextlib.nullcontext():
            pygame.display.quit()
            said = (stops.signal_name() if stops else None) or "SIGINT"
            _write_page(scenario, out, stills, pages, player, seed, cell_scale, stopped=(player.k, said))
        raise
    pygame.display.quit()
    return _write_page(scenario, out, stills, pages, player, seed, cell_scale)


def _play(player: Player, view: OffscreenDemo, keep, check) -> None:
    """Play to the end, keeping each step's still as it ends (`keep`); `check()` each frame."""
    whole = None          # the step's last frame whose scope shows where it began (its first frame does)
    frames = 0
    while not player.finished:
        check()                                       # a stop signal a library swallowed
        if player.session.paused:           # a step that pauses waits for the presenter: go on
            player.session.paused = False
        k = player.k
        view._flash_until = 0.0                       # no new-step flash on a still
        picture = view.frame().copy()
        caption, t_ns = player.caption(), player.session.sim.time_ns
        frames += 1
        if player.finished:                           # the last step, at its end
            if whole is None or _shows_start(player):
                whole = (picture, caption, t_ns)
            keep(k, *whole, True)
        elif player.k != k:                           # step k ended with the frame before this one
            keep(k, *(whole or (picture, caption, t_ns)), True)
            frames = 0
            whole = None
        elif frames >= MAX_FRAMES_PER_STEP:
            keep(k, picture, caption, t_ns, False)
            break
        if _shows_start(player):
            whole = (picture, caption, t_ns)


def _write_page(scenario: Scenario, out: Path, stills: Path, pages: list, player: Player, seed: int,
                cell_scale: float, stopped: tuple[int, str] | None = None) -> Path:
    """The Markdown page of the stills kept (`stopped`: the step a stop signal cut short, and the
    signal's name)."""
    lines = [f"# {scenario.name}", ""]
    if scenario.description:
        lines += [scenario.description, ""]
    lines += [f"*Stills from one run of this scenario (seed {seed}, cell x{cell_scale:g}, "
              f"{datetime.date.today().isoformat()}). Every number was counted in that run; a run in class "
              "shows others within the noise.*", ""]
    for k, name, caption, t_ns, complete in pages:
        step = scenario.steps[k]
        lines += [f"## {k + 1}. {step.title}", "", f"![{step.title}]({stills.name}/{name})", ""]
        if caption:
            lines += [caption, ""]
        poll = next((p for p in player.polls if p.step == k), None)
        if step.question and poll is not None:
            lines += [f"**Predict:** {step.question}", ""]
            lines += [f"- [ ] {j + 1}. {c}" for j, c in enumerate(step.choices)] + [""]
        if step.reveal:
            asked = [p for p in player.polls if p.step < k]
            if asked and asked[-1].revealed:
                p = asked[-1]
                lines += [f"**Revealed** ({p.question}): " + _outcome(p), ""]
        lines += [f"<sub>model time {t_ns:.0f} ns</sub>", ""]
        if not complete:
            lines += [f"*This step's wait was not met after {MAX_FRAMES_PER_STEP} frames: the handout stops here.*",
                      ""]
    if stopped is not None:
        lines += [f"*Stopped ({stopped[1]}) during step {stopped[0] + 1} of {len(scenario.steps)}: "
                  f"this page has the steps before it.*", ""]
    with replacing(out) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return out
