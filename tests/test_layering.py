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
    "simulation": {"simulation"},   # the package itself: its version, where its data lie, its installation
    # the command line: every front end and driver (main.py in a checkout, the console command installed)
    "simulation.cli": {"particles", "membrane", "simulation", "simulation.palette", "simulation.core",
                       "simulation.headless", "simulation.checks", "simulation.session", "simulation.lab", "render"},
    "simulation.palette": {"particles", "simulation"},   # colours of the species table's rows: data, no Pygame
    "membrane": {"particles", "membrane"},
    "simulation.core": {"particles", "membrane", "simulation", "simulation.core"},
    "simulation.headless": {"particles", "membrane", "simulation", "simulation.palette", "simulation.core",
                            "simulation.headless"},
    # the Python API: the session, the headless drivers (save, sweep, iv); the notebook view only when shown
    "simulation.lab": {"particles", "membrane", "simulation", "simulation.core", "simulation.headless",
                       "simulation.session", "render"},
    # what a user does with a cell, with no front end: below render/ and the notebook view
    "simulation.session": {"particles", "membrane", "simulation", "simulation.core", "simulation.session"},
    "simulation.checks": {"particles", "membrane", "simulation", "simulation.core", "simulation.headless",
                          "simulation.checks"},
    # the view is a front end of the model: it runs no headless driver (statistics, units and
    # the declared columns live in simulation.core, below both)
    "render": {"particles", "membrane", "simulation", "simulation.palette", "simulation.core", "simulation.session",
               "render"},
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
        assert _layer(name) in allowed, f"{module} imports {name} (layer {_layer(name)})"


def test_model_session_and_api_import_neither_pygame_nor_ipython():
    code = ("import sys; import simulation.core.model, simulation.headless.run, simulation.headless.sweep, "
            "simulation.headless.figures, simulation.checks.validate, membrane.theory, "
            "simulation.session.session, simulation.session.player, simulation.lab; "
            "bad = [m for m in ('pygame', 'IPython', 'ipywidgets') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_no_module_imports_one_that_imports_it_back():
    """No import cycle among our modules, counting the imports inside functions too (the figures
    once imported the I-V analysis and it imported them back)."""
    paths = sorted(p for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("*.py"))
    modules = {_module_of(p) for p in paths}
    graph = {}
    for p in paths:
        targets = set()
        for name in _imports(p):
            # an import of a name from a package counts as importing the module that defines it
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != _module_of(p):
                targets.add(name)
        graph[_module_of(p)] = targets
    # packages (their __init__) are imported on the way to their modules: not edges of interest
    packages = {m for m in modules if (ROOT / m.replace(".", "/") / "__init__.py").exists()}
    state: dict[str, int] = {}

    def visit(m, trail):
        state[m] = 1
        for t in sorted(graph.get(m, ()) - packages):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(t):] + [t]))
            if t not in state:
                visit(t, trail + [t])
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
