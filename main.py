"""Resting Potential Lab's command line, run from a checkout: `python main.py [COMMAND] ...`.

Installed as a package, the same commands are the console command `rplab`; both run
`simulation.cli.main` (the parser and the commands live there, so an installed wheel has them).
"""
import sys

from simulation.cli import build_parser, main  # noqa: F401 (the parser, for tests and docs)

if __name__ == "__main__":
    sys.exit(main())
