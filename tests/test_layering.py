"""The layers import only downward (docs/ARCHITECTURE.md), and the model never imports the view."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the first-party packages it may import
ALLOWED = {
    "particles": {"particles"},
    "simulation": {"simulation"},   # the package itself: its version only
    "membrane": {"particles", "membrane"},
    "simulation.core": {"particles", "membrane", "simulation", "simulation.core"},
    "simulation.headless": {"particles", "membrane", "simulation", "simulation.core", "simulation.headless",
                            "render.style"},   # the figures read the view's palette (data only, no Pygame)
    "simulation.checks": {"particles", "membrane", "simulation", "simulation.core", "simulation.headless",
                          "simulation.checks"},
    "render": {"particles", "membrane", "simulation", "simulation.core", "simulation.headless", "render"},
}
FIRST_PARTY = ("particles", "membrane", "simulation", "render")


def _layer(module: str) -> str:
    """The most specific entry of ALLOWED that a module name falls under."""
    return max((k for k in ALLOWED if module == k or module.startswith(k + ".")), key=len)


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("path", sorted(p for pkg in ("particles", "membrane", "simulation", "render")
                                        for p in (ROOT / pkg).rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_its_own_layer_and_those_below(path):
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    allowed = ALLOWED[_layer(module)]
    for name in _imports(path):
        if name.split(".")[0] not in FIRST_PARTY:
            continue
        assert any(name == a or name.startswith(a + ".") for a in allowed), f"{module} imports {name}"


def test_model_does_not_import_pygame():
    code = ("import sys; import simulation.core.model, simulation.headless.run, simulation.headless.sweep, "
            "simulation.headless.figures, simulation.checks.validate, membrane.theory; "
            "sys.exit(1 if 'pygame' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
