"""What the live changes say is true of the cell on screen (issue 27, the live view's false things):
a clamp to a theory line the cell does not have says so (it said "got nan"), a concentration too
small for the cell's whole particles says what was asked and placed (one that crosses is refused), and a cell scaled to the size
it has says the noise is the same (it said "less")."""
import warnings

import pytest

from simulation.core.config import ConfigError
from simulation.lab import Lab

SMALL = ["box.height_nm=120", "physics.particles=8000", "physics.capacitance_e_per_mV=0.4"]


@pytest.fixture
def lab():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Lab("mammalian", set=SMALL)


def test_a_clamp_to_a_line_the_cell_has_not_got_says_which(lab):
    with pytest.raises(ConfigError) as e:
        lab.set("clamp", "E_Ca+10")               # no Ca2+ in this cell: E_Ca has no value
    assert "E_Ca has no value in this cell now" in str(e.value) and "nan" not in str(e.value)
    assert not lab.sim.clamped
    assert "clamped at" in lab.set("clamp", "E_K")


def test_a_trace_that_rounds_to_no_particle_says_what_was_asked(lab):
    said = lab.set("inside.Ca", 0.001)             # Ca2+ does not cross here: a trace is allowed
    assert said.startswith("[Ca]i = 0 mM (0.001 asked: this cell holds whole particles, ")
    assert lab.sim.concentrations_mM()[0]["Ca"] == 0
    each = lab.sim.mM_per_particle[1]
    said = lab.set("outside.Ca", 4 * each)           # whole particles: said as asked
    assert "asked" not in said


def test_scaling_to_the_size_it_has_says_the_same_noise(lab):
    assert lab.set("cell", 0.5).endswith("more noise")
    assert lab.set("cell", 0.5).endswith("the same noise")
    assert lab.set("cell", 1).endswith("less noise")


def test_following_an_ion_the_cell_has_no_channels_for_says_so(lab):
    assert lab.session.follow_next("Ca") == "no Ca2+ channels in this cell: none to follow"
    assert lab.session.follow_next("K") != "no K+ channels in this cell: none to follow"
