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
