"""Where Numba keeps the compiled kernels (every kernel here is `cache=True`).

Numba writes its cache beside the source, in `__pycache__`. An install the user cannot write to
(a system or shared site-packages, a read-only image) has no such place, and Numba then tries
its own user-wide directory; where that fails too, it stops at import ("cannot cache function:
no locator available"). So before the first kernel is defined (`particles` is imported before
any of them), this picks a directory that can be written: `NUMBA_CACHE_DIR` when it is set (Numba
reads it itself; a cluster job points it at the node's own disk), else the package's own
`__pycache__` when writable, else a per-user cache directory (`$XDG_CACHE_HOME`, ~/.cache,
~/Library/Caches or %LOCALAPPDATA%), else one in the system's temporary directory.

A cache that can be made but not filled (a full disk, a quota) made Numba's compile fail with the
OSError of its save, and a run then said "cannot write to --out": `keep_going_when_full` makes a
failed save a one-line note; the kernel, compiled, runs this once without being kept.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

APP = "resting-potential-lab"


def user_cache_root() -> Path:
    """The per-user cache directory of this platform."""
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def writable(directory: Path) -> bool:
    """Whether a file can be made in `directory` (made if missing), as Numba itself tests it:
    os.access would say yes to root on a read-only mount."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return True
    except OSError:
        return False


def temp_cache_dir(root: str | os.PathLike | None = None) -> Path:
    """This user's cache directory under a temporary directory (`root`, else the system's)."""
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(root or tempfile.gettempdir()) / f"{APP}-numba-{uid}"


def choose() -> Path | None:
    """The directory Numba should cache in when its default is not writable, or None to leave it."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    if writable(Path(__file__).resolve().parent / "__pycache__"):
        return None
    for where in (user_cache_root() / APP / "numba", temp_cache_dir()):
        if writable(where):
            return where
    return None


def configure() -> Path | None:
    """Point Numba's cache at `choose()`'s directory (before any kernel is compiled); return it."""
    where = choose()
    if where is not None:
        from numba.core import config
        config.CACHE_DIR = str(where)
    keep_going_when_full()
    return where


_said_full: list[str] = []


def keep_going_when_full() -> None:
    """A cache save that fails (ENOSPC, EDQUOT, EROFS, ...) is said once on stderr, not raised."""
    from numba.core import caching
    save = caching.Cache.save_overload
    if getattr(save, "_keeps_going", False):
        return

    def save_overload(self, sig, data):
        try:
            save(self, sig, data)
        except OSError as e:
            if not _said_full:
                _said_full.append(e.filename or "")
                where = getattr(self, "_cache_path", None) or os.path.dirname(e.filename or "") or "?"
                print(f"note: cannot keep compiled kernels in the Numba cache ({where}: {e.strerror or e}); "
                      f"they are compiled afresh at each start: give NUMBA_CACHE_DIR a directory with room",
                      file=sys.stderr)
    save_overload._keeps_going = True
    caching.Cache.save_overload = save_overload
