"""Where the shipped data lie: presets/ and scenarios/.

A checkout keeps them at its top, beside the packages; a built wheel carries them inside this
package (simulation/presets, simulation/scenarios: pyproject's package-dir), so an installed
program finds them wherever it is started from. The first of the two places that exists is used.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory of shipped `name` ("presets" or "scenarios"): inside the installed package,
    else at the top of the checkout this package sits in."""
    for where in (_PACKAGE / name, _PACKAGE.parent / name):
        if where.is_dir():
            return where
    return _PACKAGE / name      # neither: listing it finds nothing, loading by name says "no such"
