"""What keeps headless work whole: signals that end it cleanly, and one writer per directory.

Signals. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 all end a run the same way. The first raises KeyboardInterrupt
where the program is, so the stepping loop stops at once; every later one is only noted, so a
second Ctrl-C cannot cut the final write short. Library code may swallow that exception (Numba's
compiler catches broad exceptions while it compiles), so the signal is also remembered and
`check()` raises it again at the next safe point. A signal that comes while LLVM has called back
into Python is not raised there (ctypes would drop it and leave the compiler broken) but sent again
20 ms later, until it lands outside. While `deferred()` is active (writing the last
files) no signal raises at all. The exit code is 128 + the first signal's number (the first to
arrive, even when two come together): 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, 131 for
SIGQUIT, 138 and 140 for SIGUSR1 and SIGUSR2.

Directories. A run or a sweep holds an exclusive `flock` on DIR/.in-progress for as long as it
writes there; the file names the process and is removed when the work is complete. A second
writer is refused with one line naming the first; a marker left with no lock on it means the
writer was killed before it finished (`plot` and sweeps read it so). The marker also holds
RESERVE_BYTES of disk (allocated, after its one line): a disk that fills mid-run gives them back
(`free_reserve`) so the summary saying why the run stopped can still be written.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from simulation.system import STOP_SIGNALS

MARKER = ".in-progress"
RESERVE_BYTES = 64 << 10       # room kept for summary.json (~8 kB) and its temporary copy


class OutputError(Exception):
    """An output directory that cannot be used as asked (one line for the user, exit 2)."""


class StopSignals:
    """Installs the stop handlers for the duration of a `with` block (main thread only).

    With `restore=False` (the command line) the stop signals are ignored after the block: a
    process that has written everything should not die by a late signal's default action (Python
    restores that while it shuts down) and report another exit code."""

    def __init__(self, restore: bool = True):
        self.restore = restore
        self.received: int | None = None
        self._raised = False
        self._deferring = 0
        self._old: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        global _active
        # the order signals arrive in: Python runs the handlers of signals pending together in
        # the order of their numbers (SIGINT before SIGTERM, whichever came first), but the C-level
        # handler writes each signal's number to the wake-up fd as it arrives
        self._arrivals = None
        try:
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._old_wakeup = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
            self._arrivals = (r, w)
        except (ValueError, OSError):      # not the main thread
            pass
        for s in STOP_SIGNALS:
            self._old[s] = signal.signal(s, self._handle)
        _active = self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        if self._arrivals is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            for fd in self._arrivals:
                os.close(fd)
            self._arrivals = None
        if not self.restore:
            for s in self._old:
                signal.signal(s, signal.SIG_IGN)
            return
        for s, h in self._old.items():
            signal.signal(s, h)
        _active = None

    def _first_arrived(self, signum: int) -> int:
        """The stop signal that arrived first, by the wake-up fd's record (else `signum`)."""
        if self._arrivals is None:
            return signum
        try:
            arrived = os.read(self._arrivals[0], 4096)
        except (BlockingIOError, OSError):
            return signum
        return next((n for n in arrived if n in STOP_SIGNALS), signum)

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = self._first_arrived(signum)
        if self._raised or self._deferring:
            return
        if _inside_compiler_callback(frame):
            # raised here, ctypes would print and drop it ("Exception ignored on calling ctypes
            # callback function") and leave Numba's half-saved function to fail later with an
            # error of its own (seen: "no compiled object yet"): send the signal again in a moment
            threading.Timer(REDELIVER_S, self._redeliver, (signum,)).start()
            return
        self._raised = True
        raise KeyboardInterrupt

    def _redeliver(self, signum: int) -> None:
        if _active is self and not self._raised and not self._deferring:
            os.kill(os.getpid(), signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received else "SIGINT"


_active: StopSignals | None = None
REDELIVER_S = 0.02      # how soon a signal that came inside a compiler callback is sent again


def _inside_compiler_callback(frame) -> bool:
    """Whether Python code runs here below a call into LLVM (llvmlite's callbacks from C: an
    exception raised in them never reaches the caller)."""
    marker = f"{os.sep}llvmlite{os.sep}"
    while frame is not None:
        if marker in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def exit_code() -> int:
    """128 + the first stop signal (130 when none was noted: a plain KeyboardInterrupt)."""
    return 128 + (received() or signal.SIGINT)


def received() -> int | None:
    """The first stop signal this process got (None if none, or if no handlers are installed)."""
    return _active.received if _active else None


def signal_name() -> str | None:
    return _active.name if _active and _active.received else None


def check() -> None:
    """Raise KeyboardInterrupt if a stop signal came and was swallowed on its way up (or was held:
    deferred, or re-sent from a compiler callback). Raised here, the stop counts as raised: a
    signal re-sent later only is noted, never a second KeyboardInterrupt in the final writes."""
    if _active is not None and _active.received is not None and not _active._deferring:
        _active._raised = True
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred():
    """No signal raises inside this block (they are still noted): for writing the final files."""
    if _active is None:
        yield
        return
    _active._deferring += 1
    try:
        yield
    finally:
        _active._deferring -= 1


@contextlib.contextmanager
def children_ignore_terminal_signals():
    """Processes started inside this block ignore SIGINT, SIGHUP and SIGQUIT (an ignored
    disposition is inherited, and Python leaves it alone): a Ctrl-C (or Ctrl-\\) at the terminal
    goes to every process in the group, but only this one should act on it, stopping the workers in order."""
    terminal = [getattr(signal, n) for n in ("SIGINT", "SIGHUP", "SIGQUIT") if hasattr(signal, n)]
    old = {s: signal.signal(s, signal.SIG_IGN) for s in terminal}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class DirectoryLock:
    """An exclusive, non-blocking lock on DIR/.in-progress, which records who holds it."""

    def __init__(self, directory: str | os.PathLike, what: str):
        self.dir = Path(directory)
        self.path = self.dir / MARKER
        self.what = what
        self._fd: int | None = None
        self._line = 0

    def acquire(self) -> "DirectoryLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy_error(self.dir, holder(self.dir) or "another process") from None
        os.ftruncate(fd, 0)
        line = json.dumps({"pid": os.getpid(), "what": self.what, "argv": sys.argv,
                           "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode() + b"\n"
        os.write(fd, line)
        self._fd, self._line = fd, len(line)
        try:                       # room for the last words if the disk fills (NUL bytes after the line)
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fd, len(line), RESERVE_BYTES)
            else:
                os.write(fd, bytes(RESERVE_BYTES))
        except OSError:            # no room even for that, or a file system without it: nothing kept
            os.ftruncate(fd, len(line))
        return self

    def failed(self, why: str) -> None:
        """Leave the marker saying why the work stopped (`unfinished` reads it)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):      # the reserve given back, within the block the line holds
                text = json.dumps({"what": self.what, "failed": why[:1000]}).encode() + b"\n"
                os.ftruncate(self._fd, 0)
                os.pwrite(self._fd, text, 0)

    def free_reserve(self) -> None:
        """Give back the room the marker kept (the disk is full: the summary needs it)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._line)

    def release(self, complete: bool) -> None:
        """Let go; a complete job removes the marker, an incomplete one leaves it (unlocked)."""
        if self._fd is None:
            return
        if complete:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def busy_error(directory: str | os.PathLike, who: str) -> OutputError:
    """The one-line refusal of a directory that `who` (see `holder`) is writing into."""
    return OutputError(f"--out {directory}: {who} is writing there; wait for it to finish or choose another --out")


def holder(directory: str | os.PathLike) -> str | None:
    """'a run (pid 123, since ...)' if a live process holds DIR's lock, else None."""
    path = Path(directory) / MARKER
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _marker_info(os.read(fd, 65536))
            return f"a {info.get('what', 'job')} (pid {info.get('pid', '?')}, since {info.get('started', '?')})"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def killed_before_finishing(directory: str | os.PathLike) -> bool:
    """True if DIR carries a marker that nobody holds: its writer died before completing."""
    return (Path(directory) / MARKER).exists() and holder(directory) is None


def unfinished(directory: str | os.PathLike) -> str | None:
    """Why DIR's writer did not finish, in words, if a marker nobody holds says so: what it could
    not write, or that it was killed; None when there is no such marker."""
    if not killed_before_finishing(directory):
        return None
    try:
        info = _marker_info((Path(directory) / MARKER).read_bytes())
    except OSError:
        info = {}
    why = info.get("failed")
    return f"its run stopped: {why}" if why else "its run was killed before it finished"


def _marker_info(raw: bytes) -> dict:
    """The marker's first line (what holds DIR, or why it stopped), {} if it is not one."""
    try:
        info = json.loads(raw.split(b"\n", 1)[0].decode() or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return info if isinstance(info, dict) else {}
