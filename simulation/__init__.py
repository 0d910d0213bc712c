"""What ties particles and membrane together, in three layers:

- `simulation.core`: the validated config, `Simulation` and the compiled step;
- `simulation.headless`: runs, recorders, statistics, sweeps and figures (files on disk);
- `simulation.checks`: the physics checks behind `python main.py validate`.
"""

__version__ = "0.2.0"
