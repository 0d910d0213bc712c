"""What the program asks of the operating system, shared by the headless drivers and the view:
a file written whole (`replacing`), and the signals that stop the work (`STOP_SIGNALS`).
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

# SIGINT (Ctrl-C), SIGTERM, SIGHUP (a closed terminal), SIGQUIT (Ctrl-\) and SIGUSR1/2, whose
# default would end the process with nothing written: all end the work the same way
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")
                     if hasattr(signal, name))


@contextlib.contextmanager
def replacing(path: str | os.PathLike):
    """Yield a new, uniquely named file beside `path` to write; rename it over `path` on success
    (which replaces a link there, never its target), remove it on failure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
