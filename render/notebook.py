"""The live view inside a Jupyter notebook (JupyterLab, VS Code, Colab): the window's picture,
drawn offscreen and streamed to an image widget, with buttons for the session's controls.

Why the renderer offscreen rather than a native widget: the picture language (ions as dots in one
Numba pass, lanes for channels, the scope with its theory lines and labels, the readouts) is
render/'s, tested at every size; drawn onto a plain Surface it needs no display, no X server and
no browser code, so it looks the same in the window, in a notebook and in Colab, where only core
ipywidgets (Image, Button, HTML) are available without enabling custom widget managers. Measured
on this machine (benchmarks/bench_notebook.py): see the README's speed section.

`NotebookView(session).show()` displays the widget and runs the view in a background thread, so
the notebook stays usable and the buttons work; ▶/⏸ pauses it, ■ stops it (the last picture
stays). `play(seconds)` runs it in the cell instead, until the time is up or the kernel is
interrupted (the stop button), and ends cleanly either way. A `Lab.run()` in another cell waits
for the view's frame to finish (they share the session's lock) and the view for the run.
"""
from __future__ import annotations

import io
import os
import threading
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")     # no window: the picture goes to the notebook
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from render.offscreen import Offscreen, OffscreenDemo  # noqa: E402
from simulation.session.session import CONTROL, Session  # noqa: E402

# the controls offered as buttons, in rows (the rest are in `Lab.control`)
BUTTON_ROWS = (("pause", "step", "slower", "faster", "slow", "fast", "reset", "follow", "history"),
               ("ouabain", "K_out/2", "K_out*2", "P_K/2", "P_K*2", "P_Na/2", "P_Na*2", "P_Cl/2", "P_Cl*2"),
               ("clamp", "command-", "command+", "pulse", "field", "selectivity", "anions", "cell/2", "cell*2", "donnan"))


class NotebookView:
    """The live view of a session (or, with `player`, a lecture scenario under way) in a notebook.
    `size`: the picture in pixels; `fps`: updates per second at most (each a JPEG of ~150 kB at
    960x540, so 15 per second is ~2 MB/s to the browser); `steps_per_frame`: the pace it starts at
    (default 40: a default cell settles in about ten seconds)."""

    def __init__(self, session: Session | None = None, *, player=None, size: tuple[int, int] = (960, 540),
                 theme: str = "dark", fps: float = 15.0, steps_per_frame: int = 40):
        import ipywidgets as w
        self.player = player
        self.session = session = player.session if player is not None else session
        self.fps = fps
        if player is not None:
            self.app = OffscreenDemo(player.scenario, size=size, theme=theme, player=player)
        else:
            self.app = Offscreen(session.base_config, size=size, theme=theme, session=session)
        self.app.buttons_shown = False            # the notebook's own buttons replace the drawn ones
        self.app._layout()
        session.steps_per_frame = steps_per_frame
        self.frames = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.image = w.Image(format="jpeg", layout=w.Layout(width="100%", max_width=f"{size[0]}px"))
        self.status = w.HTML()
        self._buttons = {}
        rows = []
        for names in BUTTON_ROWS:
            row = []
            for name in names:
                c = CONTROL[name]
                b = w.Button(description=c.label or name, tooltip=c.help,
                             layout=w.Layout(width="auto", min_width="76px"))
                b.on_click(lambda _b, name=name: self.act(name))
                self._buttons[name] = b
                row.append(b)
            rows.append(w.HBox(row, layout=w.Layout(flex_flow="row wrap")))
        view_buttons = []
        for label, tip, do in (("Help", "help: what the picture shows, then the keys", self.app.toggle_help),
                               ("Tint", "tint each side by its net charge", self.app.toggle_tint),
                               ("Charges", "show the unpaired charges on the faces", self.app.toggle_charges)):
            b = w.Button(description=label, tooltip=tip, layout=w.Layout(width="auto", min_width="76px"))
            b.on_click(lambda _b, do=do: self._view_action(do))
            view_buttons.append(b)
        rows[0].children = tuple(rows[0].children) + tuple(view_buttons)
        if player is not None:            # the presenter's two keys
            back = w.Button(description="◀ back", tooltip="back to where the previous step began")
            nxt = w.Button(description="next ▶", tooltip="the next step", button_style="primary")
            back.on_click(lambda _b: self._view_action(self.app.previous_step))
            nxt.on_click(lambda _b: self._view_action(self.app.next_step))
            most = max((len(st.choices) for st in player.steps), default=0)
            votes = []
            for k in range(most):          # the number keys: a vote for a choice of the open question
                b = w.Button(description=f"vote {k + 1}", tooltip=f"a vote for choice {k + 1} of the open question",
                             layout=w.Layout(width="auto", min_width="64px"))
                b.on_click(lambda _b, k=k: self._view_action(lambda: self.app.vote(k)))
                votes.append(b)
            rows.insert(0, w.HBox([back, nxt, *votes], layout=w.Layout(flex_flow="row wrap")))
        self.run_button = w.Button(description="⏸ pause view", tooltip="pause / run the view")
        self.run_button.on_click(lambda _b: self.toggle())
        self.stop_button = w.Button(description="■ stop", tooltip="stop the view (the last picture stays)")
        self.stop_button.on_click(lambda _b: self.stop())
        rows.append(w.HBox([self.run_button, self.stop_button, self.status]))
        self.widget = w.VBox([self.image, *rows])
        self._draw(advance=False)

    # ---- what the buttons do -------------------------------------------------------------------

    def act(self, name: str) -> None:
        """A control, as its key does in the window: done under the session's lock, said in the
        picture and under it."""
        with self.session.lock:
            self.app.act(name)
            said = self.app.toast[0] if self.app.toast else ""
            if not self.running:
                self._draw(advance=False)
        self.status.value = f"<span>{_html(said)}</span>"

    def _view_action(self, do) -> None:
        with self.session.lock:
            do()
            said = self.app.toast[0] if self.app.toast and time.perf_counter() < self.app.toast[1] else ""
            if not self.running:
                self._draw(advance=False)
        self.status.value = f"<span>{_html(said)}</span>"

    def toggle(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    # ---- the loop ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def show(self) -> "NotebookView":
        """Display the view and start it in the background."""
        from IPython.display import display
        display(self.widget)
        self.start()
        return self

    def picture(self):
        """The picture now, as a PNG a notebook keeps in its outputs (readable on the web, where
        the live widget is not)."""
        from IPython.display import Image
        with self.session.lock:
            buf = io.BytesIO()
            pygame.image.save(self.app.screen, buf, "frame.png")
        return Image(data=buf.getvalue(), format="png")

    def _ipython_display_(self):       # a view as the last line of a cell shows itself
        from IPython.display import display
        display(self.widget)

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="notebook-view", daemon=True)
        self._thread.start()
        self.run_button.description = "⏸ pause view"

    def stop(self) -> None:
        """Stop the view (the last picture stays; `start()` goes on)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.run_button.description = "▶ run view"

    def _loop(self) -> None:
        period = 1.0 / self.fps
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                self._draw(advance=True)
            except Exception as e:        # shown, not lost in a thread
                self.status.value = f"<b>the view stopped: {_html(type(e).__name__)}: {_html(str(e))}</b>"
                break
            rest = period - (time.perf_counter() - t0)
            if rest > 0:
                self._stop.wait(rest)

    def play(self, seconds: float | None = None, frames: int | None = None) -> float:
        """Run the view in this cell for `seconds` (or `frames`, or until interrupted: the
        kernel's stop button ends it cleanly, the last picture kept); returns frames per second."""
        self.stop()
        period = 1.0 / self.fps
        t0 = time.perf_counter()
        n = 0
        try:
            while (seconds is None or time.perf_counter() - t0 < seconds) and (frames is None or n < frames):
                t1 = time.perf_counter()
                self._draw(advance=True)
                n += 1
                rest = period - (time.perf_counter() - t1)
                if rest > 0:
                    time.sleep(rest)
        except KeyboardInterrupt:
            self.status.value = f"stopped at {self.session.sim.time_ns:.0f} ns (interrupted)"
        elapsed = time.perf_counter() - t0
        return n / elapsed if elapsed > 0 else 0.0

    def _draw(self, advance: bool) -> None:
        with self.session.lock:
            surf = self.app.frame(advance)
            data = encode_jpeg(surf)
            for name, b in self._buttons.items():
                c = CONTROL[name]
                on = bool(c.is_on(self.session)) if c.is_on else False
                style = "info" if on else ""
                if b.button_style != style:
                    b.button_style = style
        self.image.value = data
        self.frames += 1


def encode_jpeg(surf: pygame.Surface) -> bytes:
    """The surface as JPEG bytes (pygame's own encoder: no Pillow needed)."""
    buf = io.BytesIO()
    pygame.image.save(surf, buf, "frame.jpg")
    return buf.getvalue()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
