"""The model never imports the view: importing it must not import Pygame."""
import subprocess
import sys


def test_model_does_not_import_pygame():
    code = ("import sys; import simulation.model, simulation.run, simulation.validate, membrane.theory; "
            "sys.exit(1 if 'pygame' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
