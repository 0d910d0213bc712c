"""The one source of randomness: a counter-based generator.

A random number is a hash of (seed, step, stream, index), so a particle's draw does not depend on
which thread handles it or in what order: a run is bit-identical for a seed whatever the number of
threads. The hash is SplitMix64's finaliser (Steele, Lea & Flood 2014), which passes BigCrush when
fed a counter. Streams keep the draws of different phases (moves, Metropolis, gating, pumps,
placement) independent.
"""
from __future__ import annotations

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV_2_32 = 1.0 / 4294967296.0
_INV_2_53 = 1.0 / 9007199254740992.0

# Streams: one per kind of draw.
STREAM_MOVE = 1
STREAM_METROPOLIS = 2
STREAM_GATING = 3
STREAM_PUMP = 4
STREAM_RELEASE = 5
STREAM_PLACE = 6
STREAM_GATES = 7        # the gates of voltage-gated channels
STREAM_BIND = 8         # reversible transporters: which event, and where an ion is let go


@njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche hash of a uint64."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def step_key(seed, step, stream):
    """Key shared by every draw of one (seed, step, stream); per-index draws hash it with the index."""
    k = mix64(np.uint64(seed) * GOLDEN + np.uint64(stream))
    return mix64(k ^ (np.uint64(step) * GOLDEN))


@njit(cache=True, inline="always")
def draw(key, index):
    """64 random bits for one index under a key."""
    return mix64(key + (np.uint64(index) + np.uint64(1)) * GOLDEN)


@njit(cache=True, inline="always")
def hi_symmetric(h):
    """Upper 32 bits as a uniform in (-1, 1), exactly symmetric about 0."""
    return ((np.float64(h >> np.uint64(32)) + 0.5) * _INV_2_32) * 2.0 - 1.0


@njit(cache=True, inline="always")
def lo_symmetric(h):
    """Lower 32 bits as a uniform in (-1, 1), exactly symmetric about 0."""
    return ((np.float64(h & np.uint64(0xFFFFFFFF)) + 0.5) * _INV_2_32) * 2.0 - 1.0


@njit(cache=True, inline="always")
def unit(h):
    """53 bits as a uniform in [0, 1)."""
    return np.float64(h >> np.uint64(11)) * _INV_2_53


@njit(cache=True)
def uniform_array(seed, stream, step, n):
    """n uniforms in [0, 1) for placement and other set-up draws (same generator as the kernels)."""
    out = np.empty(n, dtype=np.float64)
    key = step_key(seed, step, stream)
    for i in range(n):
        out[i] = unit(draw(key, i))
    return out
