"""Every notebook under docs/notebooks runs, top to bottom, on a small cell (RPL_NOTEBOOK_QUICK=1),
as Mesa runs its examples; each is committed with its outputs and begins with the one line a
Colab user needs to install the lab."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) == 4 and names[0].startswith("01-watch-v-emerge"), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_on_a_small_cell(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "%pip install" in first.source and "git+https://" in first.source
    # committed with its outputs, so it reads on the web
    assert all(c.outputs for c in nb.cells if c.cell_type == "code" and c is not first), "run it and save it"
    monkeypatch.setenv("RPL_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[0]["evalue"] if errors else ""


def test_the_colab_line_installs_from_the_repository_the_package_names():
    import tomllib
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    for path in NOTEBOOKS:
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert f"git+{url}" in first.source, path.name
    assert f"git+{url}" in (ROOT / "README.md").read_text()
