"""Ions as particles: the species table, the particle state as arrays, placement and diffusion.

Nothing here knows about the membrane or Pygame; `membrane/` and `simulation/` build on it.
"""

from particles import cache as _cache

_cache.configure()      # before any kernel is defined: a read-only install caches elsewhere
