"""The thread governor picks the faster thread count by measuring, and switching never changes a
result (the generator and the blocks make a run bit-identical whatever the thread count)."""
import numpy as np

from simulation.core.model import Simulation
from simulation.core.threads import ThreadGovernor


class FakeMachine:
    """A clock and a stepper whose cost per step depends on the thread count."""

    def __init__(self, cost):
        self.cost, self.t, self.threads, self.steps = cost, 0.0, None, 0

    def set_threads(self, n):
        self.threads = n

    def clock(self):
        return self.t

    def advance(self, k):
        self.t += k * self.cost[self.threads]
        self.steps += k


def _run(cost, calls=400, k=100):
    m = FakeMachine(cost)
    g = ThreadGovernor(2, set_threads=m.set_threads, clock=m.clock)
    for _ in range(calls):
        g.advance(m.advance, k)
    return g, m


def test_on_a_quiet_machine_it_uses_every_thread():
    g, m = _run({1: 200e-6, 2: 110e-6})
    assert g.threads == 2 and m.steps == 40000
    assert m.t < 1.05 * 40000 * 110e-6       # trials of one thread cost under 5 %


def test_with_a_busy_neighbour_it_falls_back_to_one_thread():
    g, m = _run({1: 220e-6, 2: 600e-6})
    assert g.threads == 1
    assert m.t < 1.1 * 40000 * 220e-6         # never much slower than one thread alone


def test_a_run_is_the_same_whichever_thread_count_stepped_it(tiny_config):
    import numba
    a, b = Simulation(tiny_config, 5), Simulation(tiny_config, 5)
    a.threads = ThreadGovernor(1)
    for k in (30, 50, 20):
        a.step(k)
        b.threads.threads = 1 if b.threads.threads == numba.get_num_threads() else numba.get_num_threads()
        b.step(k)
    assert np.array_equal(a.state.x, b.state.x) and a.q_in == b.q_in
