"""What the help and the README say a default is, the code does: every `--help` line that states a
default states the parser's own, and the defaults the parser leaves to the code (the stride, the
averaging window, the live window's size, `--auto`'s waits) are worded from the code's constants."""
import argparse
from pathlib import Path

import pytest

from main import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices.items()


def _fmt(v) -> str:
    if isinstance(v, tuple) and len(v) == 2:     # a size: as the command line writes it
        return f"{v[0]}x{v[1]}"
    return f"{v:g}" if isinstance(v, float) else str(v)


@pytest.mark.parametrize("command, parser", _subparsers(), ids=[c for c, _ in _subparsers()])
def test_a_stated_default_is_the_parsers(command, parser):
    for a in parser._actions:
        text = a.help or ""
        if "default" not in text or a.default in (None, False, [], argparse.SUPPRESS):
            continue
        said = text.split("default", 1)[1].lstrip(" :")
        assert said.startswith(_fmt(a.default)) or f"{_fmt(a.default)} (" in text or \
            f"{_fmt(a.default)}, default" in text or f"({_fmt(a.default)})" in text.replace(", default)", ")"), \
            f"{command} {a.option_strings or a.dest}: help says {text!r}, default is {a.default!r}"


def test_the_defaults_the_code_chooses_are_worded_from_its_constants():
    from render.app import DEFAULT_SIZE
    from simulation.headless.run import default_sample_every
    from simulation.session.player import AUTO_CUT_S, AUTO_END_S, AUTO_KEY_S
    helps = {c: {tuple(a.option_strings): a.help for a in p._actions} for c, p in _subparsers()}
    assert default_sample_every(4000) == 2 and default_sample_every(1000) == 1
    assert "steps/2000, at least 1" in helps["run"][("--sample-every",)]
    assert "detected end of V's transient" in helps["run"][("--window",)]
    assert f"default {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}" in helps["live"][("--size",)]
    auto = helps["demo"][("--auto",)]
    assert f"presenter lasts {AUTO_KEY_S:g} s" in auto and f"cut after {AUTO_CUT_S:g} s" in auto
    assert f"the last {AUTO_END_S:g} s" in auto
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"presenter lasts {AUTO_KEY_S:g} s" in readme and f"cut after {AUTO_CUT_S:g} s" in readme
