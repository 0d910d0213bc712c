"""The Python API refuses what the command line refuses, as a ConfigError naming the argument
(issue 27's hostile pass, in Python): a seed or a stride that is not a whole number, a window
outside the steps run, a change not named by text, a sweep of no steps (a KeyError deep in the
tables), each before anything runs."""
import warnings

import pytest

from simulation import lab as L
from simulation.core.config import ConfigError

SMALL = ["box.height_nm=120", "physics.particles=8000", "physics.capacitance_e_per_mV=0.4"]


@pytest.fixture(scope="module")
def lab():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return L.Lab("k-only", set=SMALL).run(100, progress=False)


REFUSED = {  # what is called -> a word of the message
    "a negative seed": (lambda lab: L.Lab("k-only", set=SMALL, seed=-1), "seed must be a whole number >= 0"),
    "a seed in words": (lambda lab: L.Lab("k-only", set=SMALL, seed="a"), "seed must be"),
    "a stride of 0": (lambda lab: L.Lab("k-only", set=SMALL, sample_every=0), "sample_every must be"),
    "a negative stride": (lambda lab: L.Lab("k-only", set=SMALL, sample_every=-3), "sample_every must be"),
    "a change named by a number": (lambda lab: lab.set(5, 1), "a change is named by text"),
    "a reversed window": (lambda lab: lab.summary(window=(50, 10)), "0 <= first < last <= 100"),
    "a window in words": (lambda lab: lab.summary(window="a"), "window must be"),
    "a window past the run": (lambda lab: lab.summary(window=(0, 10 ** 9)), "the steps run"),
    "steps beyond memory": (lambda lab: lab.run(10 ** 30, progress=False), "in memory for the summary"),
    "a sweep of no steps": (lambda lab: L.sweep("k-only", {"outside.K": [5, 10]}, set=SMALL, steps=0),
                            "steps must be a whole number >= 1"),
    "a sweep of no seeds": (lambda lab: L.sweep("k-only", {"outside.K": [5, 10]}, set=SMALL, seeds=0),
                            "seeds must be"),
    "a sweep on no workers": (lambda lab: L.sweep("k-only", {"outside.K": [5, 10]}, set=SMALL, steps=10, workers=0),
                              "workers must be"),
    "an I-V curve of no steps": (lambda lab: L.iv("k-only", set=SMALL, steps_per_point=0), "steps must be"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_argument_is_a_config_error_naming_it(lab, case):
    call, said = REFUSED[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConfigError) as e:
            call(lab)
    assert said in str(e.value) and "\n" not in str(e.value)
    assert lab.sim.step_count == 100                 # nothing ran


def test_a_window_within_the_run_is_averaged(lab):
    assert lab.summary(window=(50, 100))["window"] == [50, 100]
