"""Shared fixtures: small configs that run in seconds, and a headless SDL for any Pygame import."""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest

from simulation.config import load
from simulation.validate import SMALL

TINY = ["box.height_nm=160", "box.width_nm=36", "box.membrane_x_nm=18", "membrane.site_spacing_nm=4",
        "pump.capture_radius_nm=1.5", "membrane.channels_per_unit_permeability=20", "physics.particles=4000",
        "physics.capacitance_e_per_mV=0.5", "pump.count=6"]


@pytest.fixture
def tiny_config():
    """The mammalian cell shrunk to 4000 particles (pumps on)."""
    return load("mammalian", None, TINY)


@pytest.fixture
def small_overrides():
    return list(SMALL)
