"""Is the lab that was imported the lab that was installed? Its four top-level packages
(`particles`, `membrane`, `render`, `simulation`: the design card's names) are also names other
projects use on PyPI (`particles` is a sequential Monte Carlo library). Installed into one shared
environment, two such packages either shadow each other (the other one comes first on sys.path)
or are mixed in one directory (the second install wrote over the first's files). Either way the
lab would die at some later import with a message that names neither; `problems()` says it at
start-up, cheaply (no scan of every installed distribution: the four directories, and the lab's
own RECORD when it was installed from a wheel).
"""
from __future__ import annotations

import base64
import hashlib
import importlib.util
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "resting-potential-lab"
PACKAGES = ("particles", "membrane", "render", "simulation")
ISOLATED = "install the lab in an environment of its own: `pipx install <the lab's directory or URL>` or " \
           "`uv tool install <the same>` (README: Install)"


def _here() -> Path:
    """The directory that holds this lab's four packages (site-packages, or a checkout's top)."""
    return Path(__file__).resolve().parent.parent


def _location(name: str) -> Path | None:
    """Where `import name` finds the package (without importing it)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve()
    return Path(spec.origin).resolve() if spec.origin else None


def _record() -> dict[str, str] | None:
    """The lab's installed files and their hashes (path relative to the site directory -> the
    RECORD's "sha256=..."), when it was installed from a wheel into the directory it runs from."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    if dist.read_text("RECORD") is None:
        return None        # an egg-info's SOURCES.txt (a checkout's, stale as soon as a module is added)
    files = dist.files or []
    if not any(Path(dist.locate_file(f)).resolve() == Path(__file__).resolve() for f in files
               if f.name == "installation.py"):
        return None        # a checkout, an editable install, or a copy installed somewhere else
    return {f.as_posix(): (f.hash.mode + "=" + f.hash.value) if f.hash else "" for f in files}


def _hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def problems() -> list[str]:
    """One line for each of the four packages that is not this lab's; empty when all are."""
    here = _here()
    lines = []
    for name in PACKAGES:
        found = _location(name)
        if found != here / name:
            where = f"from {found}" if found else "nowhere"
            lines.append(f"the module '{name}' is imported {where}, not from this lab ({here / name}): another "
                         f"package of that name comes first on the path; {ISOLATED}")
    record = _record()
    if record is None or lines:
        return lines
    for name in PACKAGES:
        directory = here / name
        foreign = sorted(f"{name}/{p.name}" for p in directory.glob("*.py") if f"{name}/{p.name}" not in record)
        init = directory / "__init__.py"
        changed = init.is_file() and record.get(f"{name}/__init__.py") not in ("", _hash(init))
        if foreign or changed:
            said = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            what = (f"holds files the lab did not install ({said})" if foreign else
                    "has an __init__.py the lab did not install")
            lines.append(f"the module '{name}' in {directory} {what}: another package named '{name}' was "
                         f"installed into the same environment; {ISOLATED}")
    return lines


# what each optional part needs: extra -> (the modules it brings, what it is for)
EXTRAS = {
    "sweep": (("dask", "distributed", "dask_jobqueue", "pyarrow"), "sweeps and I-V curves on Dask"),
    "video": (("imageio_ffmpeg",), "MP4 recordings"),
    "notebook": (("ipywidgets", "IPython"), "the live view in Jupyter"),
}


class MissingExtra(ImportError):
    """An optional part of the lab is used without the extra that installs it."""


def missing(extra: str, modules: tuple[str, ...] | None = None) -> list[str]:
    """The modules of `extra` (or just `modules` of it) that cannot be imported here."""
    return [m for m in (modules or EXTRAS[extra][0]) if importlib.util.find_spec(m) is None]


def require(extra: str, for_what: str | None = None, modules: tuple[str, ...] | None = None) -> None:
    """Raise MissingExtra, with one line saying which extra to install, unless it is installed."""
    absent = missing(extra, modules)
    if absent:
        raise MissingExtra(f"{for_what or EXTRAS[extra][1]} need{'s' if for_what else ''} "
                           f"{', '.join(absent)}, from the lab's `{extra}` extra: install "
                           f"resting-potential-lab[{extra}] (in a checkout: `.venv/bin/pip install -e '.[{extra}]'`; "
                           f"an application install: `pipx install --force '<the lab>[{extra}]'` or "
                           f"`uv tool install --force '<the lab>[{extra}]'`)")
