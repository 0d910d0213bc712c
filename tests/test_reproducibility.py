"""A seed reproduces a run bit for bit, whatever the number of threads."""
import numba
import numpy as np

from simulation.core.model import Simulation


def _final_state(cfg, seed, threads):
    """1500 steps on exactly `threads` threads (past the thread governor, which would choose)."""
    numba.set_num_threads(threads)
    try:
        sim = Simulation(cfg, seed)
        sim._advance(1500)
        return sim
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def test_same_seed_same_run_on_one_and_many_threads(tiny_config):
    a = _final_state(tiny_config, 5, 1)
    b = _final_state(tiny_config, 5, numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(a.state.x, b.state.x) and np.array_equal(a.state.y, b.state.y)
    assert np.array_equal(a.state.flags, b.state.flags)
    assert a.q_in == b.q_in
    assert np.array_equal(a.crossings, b.crossings) and np.array_equal(a.pump_totals, b.pump_totals)
    assert np.array_equal(a.channels.pores.is_open, b.channels.pores.is_open)


def test_other_seed_other_run(tiny_config):
    a = _final_state(tiny_config, 5, 1)
    c = _final_state(tiny_config, 6, 1)
    assert not np.array_equal(a.state.x, c.state.x)


def test_stepping_in_chunks_equals_stepping_at_once(tiny_config):
    a = Simulation(tiny_config, 8)
    a.step(900)
    b = Simulation(tiny_config, 8)
    for _ in range(9):
        b.step(100)
    assert np.array_equal(a.state.x, b.state.x) and a.q_in == b.q_in
