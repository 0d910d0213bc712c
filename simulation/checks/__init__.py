"""The physics checks (`python main.py validate`): emergent V and fluxes against theory on small
cells, with tolerances from the runs' own statistics. Imports the core and the headless drivers."""
