"""The lab as a user drives it, with no front end: what the live window, the notebook view and
the Python API share.

- `trace`: the V trace a scope shows (numpy rings, the whole run thinned, smoothing, mean ± SEM);
- `interventions`: the one registry of what may change a running cell (name, config keys, check,
  apply), read by scenario steps, live keys, buttons and the API alike;
- `session`: a cell being watched: playback, the live actions (each returns what to say), rebuilds,
  following an ion, the theory now;
- `player`: a lecture scenario played on a session, with its snapshots for going back; it runs
  headless.

Nothing here imports Pygame or IPython (tests/test_layering.py): the front ends draw and bind.
"""
