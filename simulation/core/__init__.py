"""The core model: the validated config, `Simulation` (state, clock, voltage, counters,
interventions) and the compiled step. Imports `particles` and `membrane`, nothing above it."""
