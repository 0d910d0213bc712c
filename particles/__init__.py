"""Ions as particles: the species table, the particle state as arrays, placement and diffusion.

Nothing here knows about the membrane or Pygame; `membrane/` and `simulation/` build on it.
"""
