"""Headless drivers and their files: runs, recorders, the statistics of a recorded run, sweeps on
Dask and the figures of runs and sweeps. Imports the core, never the checks or the view."""
