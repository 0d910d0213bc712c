"""The lab as a package: the wheel built from this tree, installed as an application (`uv tool
install`, the README's isolated install) with no extras, run from a directory of its own; the
extras named when missing; a read-only install; another package of the same name."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

import simulation
from tests.cells import TINY

pytestmark = pytest.mark.package
ROOT = Path(__file__).resolve().parent.parent
SETS = [a for s in TINY for a in ("--set", s)]
NOBODY = 65534


def _tree(dest: Path) -> Path:
    """This tree's files as a clean clone would have them (tracked, and new ones not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True)
    if listed.returncode != 0:
        pytest.skip("needs git to list the tree's files")
    for name in filter(None, listed.stdout.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _tree(tmp_path_factory.mktemp("clone"))
    dist = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return next(dist.glob("resting_potential_lab-*.whl"))


@pytest.fixture(scope="module")
def app(wheel):
    """`uv tool install` of the wheel (core only) into a directory anyone may read."""
    uv = pytest.importorskip("uv").find_uv_bin()
    home = Path(tempfile.mkdtemp(prefix="rpl-app-", dir="/tmp"))
    home.chmod(0o755)
    env = {**os.environ, "UV_TOOL_DIR": str(home / "tools"), "UV_TOOL_BIN_DIR": str(home / "bin"),
           "UV_PYTHON_DOWNLOADS": "never"}
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3")
    r = subprocess.run([uv, "tool", "install", "--python", base_python, str(wheel)], env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    venv = home / "tools" / "resting-potential-lab"
    site = next((venv / "lib").glob("python3*/site-packages"))
    yield {"home": home, "rplab": home / "bin" / "rplab", "python": venv / "bin" / "python", "site": site}
    shutil.rmtree(home, ignore_errors=True)


def _rplab(app, *args, cwd, env=None, user=None, timeout=600):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_CACHE_DIR", "PYTHONPATH"))},
           "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", **(env or {})}
    command = [str(app["rplab"]), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _one_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("note:")]
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_the_wheel_carries_the_data_the_licence_and_the_console_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    for folder in ("presets", "scenarios"):
        shipped = {p.name for p in (ROOT / folder).glob("*.toml")}
        assert shipped and {Path(n).name for n in names if n.startswith(f"simulation/{folder}/")} == shipped
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: BSD-3-Clause" in meta
    assert "rplab = simulation.cli:main" in entry
    core = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:") and "extra ==" not in ln]
    assert not any(dep in ln for ln in core for dep in ("dask", "pyarrow", "imageio-ffmpeg", "ipywidgets"))
    assert {"sweep", "video", "notebook", "all"} <= {ln.split(":", 1)[1].strip() for ln in meta.splitlines()
                                                      if ln.startswith("Provides-Extra:")}


def test_installed_as_an_application_it_runs_from_any_directory(app, tmp_path):
    r = _rplab(app, "--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"Resting Potential Lab {simulation.__version__}"
    r = _rplab(app, "presets", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert {ln.split()[0] for ln in r.stdout.splitlines()} == {p.stem for p in (ROOT / "presets").glob("*.toml")}
    r = _rplab(app, "run", "--steps", "200", "--out", "first", "--no-progress", *SETS, cwd=tmp_path)
    assert r.returncode == 0 and "V =" in r.stdout, r.stderr
    assert json.loads((tmp_path / "first" / "summary.json").read_text())["steps"] == 200
    r = _rplab(app, "plot", "first", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "first" / "run.png").exists(), r.stderr
    r = _rplab(app, "live", "--frames", "2", "--size", "640x400", "--screenshot", "live.png", *SETS, cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "live.png").exists(), r.stderr
    r = _rplab(app, "demo", "emerges", "--frames", "2", "--size", "640x400", "--cell", "0.25",
               "--screenshot", "demo.png", "--no-notes", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "demo.png").exists(), r.stderr
    r = _rplab(app, "demo", "--list", cwd=tmp_path)
    assert {ln.split()[0] for ln in r.stdout.splitlines()} == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    # validate's checks (a full validate takes minutes): everything it imports is in the core install
    r = subprocess.run([str(app["python"]), "-c", "import simulation.checks.validate, simulation.checks.classic"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert not list(tmp_path.glob("**/__pycache__"))       # nothing of the program's lands where it is run


@pytest.mark.parametrize("args, extra", [
    (["sweep", "--vary", "outside.K=5,10", "--steps", "10", "--out", "s"], "sweep"),
    (["iv", "--from", "-80", "--to", "-40", "--step", "40", "--steps-per-point", "10", "--out", "s"], "sweep"),
    (["demo", "--frames", "1", "--record", "x.mp4"], "video"),
])
def test_a_command_whose_extra_is_missing_names_the_extra_in_one_line(app, tmp_path, args, extra):
    line = _one_line(_rplab(app, *args, cwd=tmp_path))
    assert f"`{extra}` extra" in line and f"resting-potential-lab[{extra}]" in line
    assert not (tmp_path / "s").exists() and not (tmp_path / "x.mp4").exists()


def test_the_python_api_names_the_missing_extra_too(app, tmp_path):
    code = ("from simulation.installation import MissingExtra\nfrom simulation import lab\n"
            "for call in (lambda: lab.sweep('k-only', {'outside.K': [5]}), lambda: lab.Lab('k-only').show()):\n"
            "    try:\n        call()\n    except MissingExtra as e:\n        print(e)\n")
    r = subprocess.run([str(app["python"]), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    said = r.stdout.splitlines()
    assert len(said) == 2 and "`sweep` extra" in said[0] and "`notebook` extra" in said[1]


def test_a_read_only_install_caches_its_kernels_in_the_users_cache_directory(app, tmp_path):
    """The install belongs to someone else (root, the user is nobody) or its directories are made
    read-only: the kernels are cached per user, and without a writable home in the temp directory."""
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run as another user")
        user, locked = NOBODY, []
    else:
        user = None
        locked = [d for pkg in ("particles", "membrane", "render", "simulation")
                  for d in [app["site"] / pkg, *(app["site"] / pkg).rglob("*") ] if d.is_dir()]
        for d in locked:
            d.chmod(0o555)
    work = Path(tempfile.mkdtemp(prefix="rpl-user-", dir="/tmp"))
    try:
        for d in ("home", "cwd", "tmp"):
            (work / d).mkdir()
            if user is not None:
                os.chown(work / d, user, user)
        work.chmod(0o755)
        env = {"HOME": str(work / "home"), "XDG_CACHE_HOME": "", "TMPDIR": str(work / "tmp")}
        before = {p for p in app["site"].rglob("*.nbi")}
        r = _rplab(app, "run", "--steps", "100", "--out", "r", "--no-progress", *SETS, cwd=work / "cwd", env=env,
                   user=user)
        assert r.returncode == 0, r.stderr
        cache = work / "home" / ".cache" / "resting-potential-lab" / "numba"
        assert list(cache.rglob("*.nbi")), "no kernel cached in the user's cache directory"
        assert {p for p in app["site"].rglob("*.nbi")} == before          # nothing written into the install
        # no writable home either: the temporary directory (it died at import: "no locator available")
        env["HOME"] = "/nonexistent"
        r = _rplab(app, "presets", cwd=work / "cwd", env=env, user=user)
        assert r.returncode == 0 and "mammalian" in r.stdout, r.stderr
        assert list((work / "tmp").glob("resting-potential-lab-numba-*"))
    finally:
        for d in locked:
            d.chmod(0o755)
        shutil.rmtree(work, ignore_errors=True)


def test_another_package_named_particles_is_named_in_one_line(app, tmp_path):
    # first on the path (PYTHONPATH): it shadows the lab's
    (tmp_path / "shadow" / "particles").mkdir(parents=True)
    (tmp_path / "shadow" / "particles" / "__init__.py").write_text('"""Sequential Monte Carlo."""\n')
    line = _one_line(_rplab(app, "presets", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "shadow")}))
    assert "'particles'" in line and str(tmp_path / "shadow") in line and "uv tool install" in line
    # installed into the same environment: its files among the lab's
    foreign = app["site"] / "particles" / "smc_kernels.py"
    foreign.write_text("")
    try:
        line = _one_line(_rplab(app, "presets", cwd=tmp_path))
        assert "'particles'" in line and "smc_kernels.py" in line and "pipx install" in line
    finally:
        foreign.unlink()
    assert _rplab(app, "presets", cwd=tmp_path).returncode == 0
