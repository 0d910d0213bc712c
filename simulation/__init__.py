"""What ties particles and membrane together: the validated config, `Simulation` (state, clock,
voltage, counters, interventions), recorders, and headless runs.
"""

__version__ = "0.1.0"
