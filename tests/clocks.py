"""A clock for tests of anything paced by the wall clock (fast-forward): it moves a fixed step each
time it is read, so what a frame does does not depend on how busy the machine is."""
import itertools


def ticking(per_read_s: float = 1 / 64):
    """A clock (seconds) that moves `per_read_s` each time it is read (a power of 2: sums stay exact)."""
    reads = itertools.count()
    return lambda: next(reads) * per_read_s
