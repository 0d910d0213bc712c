"""Kernels read like the physics: no compiled function takes more than 12 parameters (bundles of
arrays and scalars instead of long chains in which two neighbours of one type can be swapped)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_PARAMETERS = 12


def _compiled_functions():
    for path in sorted(p for pkg in ("particles", "membrane", "simulation", "render") for p in (ROOT / pkg).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for d in node.decorator_list:
                    f = d.func if isinstance(d, ast.Call) else d
                    if (isinstance(f, ast.Name) and f.id == "njit") or (isinstance(f, ast.Attribute) and f.attr == "njit"):
                        yield f"{path.relative_to(ROOT)}:{node.name}", node


KERNELS = list(_compiled_functions())


def test_the_tree_has_compiled_kernels_to_check():
    assert len(KERNELS) > 20


@pytest.mark.parametrize("name,node", KERNELS, ids=[k for k, _ in KERNELS])
def test_no_kernel_takes_more_than_twelve_parameters(name, node):
    a = node.args
    n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
    assert n <= MAX_PARAMETERS, f"{name} takes {n} parameters"
