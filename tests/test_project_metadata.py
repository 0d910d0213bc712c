"""What a package is cited, licensed and versioned by: CITATION.cff valid against the Citation
File Format 1.2.0 schema (tests/data, from the format's authors), one version everywhere, the
licence file and the metadata's SPDX expression the same licence, a changelog entry per version."""
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import yaml

import simulation
from particles import cache

ROOT = Path(__file__).resolve().parent.parent


def test_citation_cff_is_valid_and_names_this_version_and_licence():
    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    jsonschema.validate(cff, schema, format_checker=jsonschema.FormatChecker())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["version"] == simulation.__version__
    assert cff["license"] == project["license"] == "BSD-3-Clause"
    assert cff["repository-code"] == project["urls"]["Repository"]


def test_an_invalid_citation_file_is_caught_by_the_check():
    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    del cff["authors"]
    try:
        jsonschema.validate(cff, schema)
    except jsonschema.ValidationError as e:
        assert "authors" in str(e.message)
    else:
        raise AssertionError("a citation without authors passed the schema")


def test_the_licence_file_is_the_bsd_3_clause_licence_the_metadata_declares():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Neither the name of the copyright holder" in text


def test_the_changelog_has_an_entry_for_this_version():
    log = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", log, flags=re.M)
    assert versions and versions[0] == simulation.__version__


def test_version_is_printed_by_the_command_line():
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == f"Resting Potential Lab {simulation.__version__}"


def test_numba_caches_in_the_package_when_it_can_and_per_user_when_it_cannot(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.choose() is None                          # this checkout's __pycache__ is writable
    real = cache.writable
    monkeypatch.setattr(cache, "writable", lambda d: "__pycache__" not in d.parts and real(d))
    assert cache.choose() == tmp_path / "xdg" / cache.APP / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.choose() is None                          # Numba reads the user's own choice itself


def test_only_a_wheels_record_counts_as_the_installed_files(tmp_path, monkeypatch):
    """A checkout's egg-info lists its sources when it was made: a module added since is not
    "another package's file" (the start-up check refused every command in such a checkout)."""
    from importlib import metadata

    from simulation import installation
    (tmp_path / "simulation").mkdir()
    here = tmp_path / "simulation" / "installation.py"
    here.write_text("")
    monkeypatch.setattr(installation, "__file__", str(here))
    egg = tmp_path / "resting_potential_lab.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: resting-potential-lab\nVersion: 0\n")
    (egg / "SOURCES.txt").write_text("simulation/installation.py\n")
    monkeypatch.setattr(installation.metadata, "distribution", lambda name: metadata.PathDistribution(egg))
    assert installation._record() is None
    wheel = tmp_path / "resting_potential_lab-0.dist-info"
    wheel.mkdir()
    (wheel / "METADATA").write_text("Metadata-Version: 2.1\nName: resting-potential-lab\nVersion: 0\n")
    (wheel / "RECORD").write_text("simulation/installation.py,sha256=abc,0\n")
    monkeypatch.setattr(installation.metadata, "distribution", lambda name: metadata.PathDistribution(wheel))
    assert installation._record() == {"simulation/installation.py": "sha256=abc"}
