"""Shared fixtures: small configs that run in seconds, and a headless SDL for any Pygame import."""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest

from simulation.core.config import load
from tests.cells import TINY


@pytest.fixture
def tiny_config():
    """The mammalian cell shrunk to 4000 particles (pumps on)."""
    return load("mammalian", None, TINY)


@pytest.fixture
def read_only():
    """Make a directory read-only for this process and its children: chmod 555, or, for root (CI),
    whom permissions do not stop, a read-only bind mount of it on itself. Undone after the test."""
    import contextlib
    import shutil
    import subprocess
    made = []

    def lock(path):
        if os.geteuid() != 0:
            path.chmod(0o555)
            made.append(lambda: path.chmod(0o755))
            return
        if shutil.which("mount") is None:
            pytest.skip("root: a read-only directory needs a bind mount")
        ok = subprocess.run(["mount", "--bind", str(path), str(path)]).returncode == 0
        if ok:
            made.append(lambda: subprocess.run(["umount", str(path)]))
            ok = subprocess.run(["mount", "-o", "remount,ro,bind", str(path)]).returncode == 0
        if not ok:
            pytest.skip("root: this container may not bind-mount read-only")
    yield lock
    for undo in reversed(made):
        with contextlib.suppress(OSError):
            undo()
