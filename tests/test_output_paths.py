"""Where the program writes what it made: a file named on the command line is checked before the
first frame (not found unwritable after all of them), a link there is replaced, not followed; a
run's figures that cannot be written are one line; a reader of stdout that went away costs
nothing that was written to files (issue 27: paths checked too late or followed; faults)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cells import TINY

ROOT = Path(__file__).resolve().parent.parent
SETS = [a for s in TINY for a in ("--set", s)]
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def _main(*args, cwd, **kw):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=300, **kw)


OUTPUTS = [  # arguments -> a word the one line must contain
    (["live", "--frames", "2", "--screenshot", "nodir/x.png"], "no such directory nodir"),
    (["live", "--frames", "2", "--screenshot", ""], "a file name is needed"),
    (["live", "--frames", "2", "--screenshot", "   "], "a file name is needed"),
    (["live", "--frames", "2", "--screenshot", "adir.png"], "is a directory"),
    (["live", "--frames", "2", "--screenshot", "x.jpg"], "must end in .png"),
    (["live", "--screenshot", ""], "needs --frames"),
    (["demo", "emerges", "--frames", "2", "--screenshot", "nodir/x.png"], "no such directory nodir"),
    (["demo", "emerges", "--frames", "2", "--screenshot", ""], "a file name is needed"),
    (["demo", "emerges", "--frames", "2", "--record", ""], "a file name is needed"),
    (["demo", "emerges", "--frames", "2", "--record", "nodir/x.gif"], "no such directory nodir"),
    (["demo", "emerges", "--frames", "2", "--record", "adir.png"], "must end in .mp4 or .gif"),
    (["demo", "emerges", "--frames", "2", "--record", "bdir.gif"], "is a directory"),
    (["demo", "emerges", "--frames", "2", "--size", "16384x16384", "--record", "x.mp4"], "at most 8192x4320"),
    (["demo", "emerges", "--frames", "2", "--size", "8192x8192", "--record", "x.mp4"], "at most 8192x4320"),
    (["demo", "emerges", "--frames", "2", "--size", "4096x4096", "--record", "x.gif"], "at most 3840x2160"),
    (["demo", "emerges", "--frames", "2", "--fps", "1000000", "--record", "x.mp4"], "--fps"),
    (["demo", "emerges", "--frames", "2", "--fps", "0", "--record", "x.mp4"], "--fps"),
]


@pytest.mark.parametrize("args, word", OUTPUTS, ids=[" ".join(a) for a, _ in OUTPUTS])
def test_an_output_file_that_cannot_be_written_is_refused_before_the_first_frame(args, word, tmp_path):
    (tmp_path / "adir.png").mkdir()
    (tmp_path / "bdir.gif").mkdir()
    extra = SETS if args[0] == "live" else []
    r = _main(*args, *extra, cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("note:")]
    assert r.returncode == 2 and len(lines) == 1 and word in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.png", "bdir.gif"]


def test_a_screenshot_onto_a_link_replaces_the_link_not_its_target(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "shot.png").symlink_to(target)
    r = _main("live", "--frames", "2", "--size", "640x400", "--screenshot", "shot.png", *SETS, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert target.read_text() == "keep me"
    shot = tmp_path / "shot.png"
    assert not shot.is_symlink() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt", "shot.png"]     # no temporary left


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    r = _main("run", "--steps", "100", "--out", str(out), "--no-progress", *SETS, cwd=out.parent)
    assert r.returncode == 0, r.stderr
    return out


def test_plot_where_a_figure_cannot_be_written_is_one_line(finished_run):
    (finished_run / "run.png").mkdir()
    try:
        r = _main("plot", str(finished_run), cwd=finished_run.parent)
    finally:
        (finished_run / "run.png").rmdir()
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "cannot write the figures" in r.stderr and "run.png" in r.stderr and "Traceback" not in r.stderr
    assert not list(finished_run.glob(".*tmp*")) and not list(finished_run.glob("*.tmp"))


def test_plot_of_a_read_only_run_directory_is_one_line(finished_run, read_only):
    read_only(finished_run)
    r = _main("plot", str(finished_run), cwd=finished_run.parent)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "cannot write the figures" in r.stderr and "Read-only file system" in r.stderr + "Permission denied"


@pytest.mark.parametrize("command", [["run", "--steps", "50", "--no-progress", *SETS],
                                     ["sweep", "--vary", "outside.K=5,10", "--steps", "50", "--no-progress", *SETS],
                                     ["handout", "emerges"]], ids=["run", "sweep", "handout"])
def test_output_into_a_read_only_directory_is_one_line(command, tmp_path, read_only):
    where = tmp_path / "ro"
    where.mkdir()
    read_only(where)
    out = where / ("h.md" if command[0] == "handout" else "out")
    r = _main(*command, "--out", str(out), cwd=tmp_path)
    said = [line for line in r.stderr.splitlines() if not line.startswith("note:")]
    assert r.returncode == 2 and len(said) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "Read-only file system" in said[0] or "Permission denied" in said[0], said
    assert not any(where.iterdir())


@pytest.mark.parametrize("command", [["presets"], ["run", "--steps", "50", "--out", "r", "--no-progress", *SETS]],
                         ids=["presets", "run"])
def test_a_reader_that_goes_away_costs_no_traceback_and_no_file(command, tmp_path):
    """`rplab run ... | true`: the run finished and wrote its files; the line nobody reads is lost,
    quietly, and the exit code is the work's (0)."""
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *command], cwd=tmp_path, env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()                    # the reader is gone before the first line
    err = p.stderr.read()
    assert p.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    if command[0] == "run":
        assert json.loads((tmp_path / "r" / "summary.json").read_text())["steps"] == 50
