"""A write that fails mid-run (a full disk, a quota) stops the run as a signal does (issue 27: it
left a last row of 44 of 55 fields, no summary, the in-progress marker, and `plot` said the run
was "killed"): timeseries.csv is cut back to whole rows, summary.json says why (written in the
room the directory's marker kept), one line, exit 2, and `plot` draws what was kept. Made with a
file-size limit (any user) and with a small tmpfs (root)."""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETS = ["--preset", "k-only", "--set", "box.height_nm=120", "--set", "physics.particles=8000",
        "--set", "physics.capacitance_e_per_mV=0.4", "--no-progress"]


def _main(*args, limit: int | None = None):
    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)        # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=300, preexec_fn=small_files if limit else None)


def _errors(r) -> list[str]:
    return [line for line in r.stderr.splitlines() if not line.startswith("note:")]


def _whole_rows(csv: Path) -> int:
    lines = csv.read_text().splitlines()
    assert len({line.count(",") for line in lines}) == 1 and csv.read_bytes().endswith(b"\n")
    return len(lines) - 1


def test_a_file_that_cannot_grow_stops_the_run_with_its_whole_rows_and_a_summary(tmp_path):
    out = tmp_path / "r"
    r = _main("run", "--steps", "100000", "--sample-every", "10", "--out", str(out), *SETS, limit=300_000)
    assert r.returncode == 2 and len(_errors(r)) == 1 and "Traceback" not in r.stderr, r.stderr
    said = _errors(r)[0]
    assert "cannot write timeseries.csv: File too large; stopped at step" in said
    rows = _whole_rows(out / "timeseries.csv")
    s = json.loads((out / "summary.json").read_text())
    assert s["interrupted"] is True and s["error"] == "cannot write timeseries.csv: File too large"
    assert 0 < s["steps"] < 100000 and rows > 100 and s["V_mean_mV"] is not None
    assert not (out / ".in-progress").exists()
    p = _main("plot", str(out))
    assert p.returncode == 0 and (out / "run.png").stat().st_size > 10_000


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root only: CI runs as root)."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(where)]).returncode != 0:
        pytest.skip("this container may not mount a tmpfs")
    yield where
    subprocess.run(["umount", str(where)])


def _fill(disk: Path, leave_kb: int) -> None:
    free = shutil.disk_usage(disk).free
    (disk / "fill").write_bytes(bytes(max(0, free - leave_kb * 1024)))


def test_a_full_disk_keeps_the_room_for_the_summary(small_disk):
    out = small_disk / "r"
    _fill(small_disk, 600)
    r = _main("run", "--steps", "200000", "--sample-every", "10", "--out", str(out), *SETS)
    assert r.returncode == 2 and len(_errors(r)) == 1, r.stderr
    assert "cannot write timeseries.csv: No space left on device; stopped at step" in _errors(r)[0]
    _whole_rows(out / "timeseries.csv")
    s = json.loads((out / "summary.json").read_text())
    assert s["error"] == "cannot write timeseries.csv: No space left on device" and s["interrupted"]
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "summary.json", "timeseries.csv"]


def test_no_room_even_for_the_summary_leaves_the_reason_for_plot(small_disk):
    out = small_disk / "r"
    _fill(small_disk, 24)                    # not even the marker's reserve fits
    r = _main("run", "--steps", "200000", "--sample-every", "10", "--out", str(out), *SETS)
    assert r.returncode == 2 and len(_errors(r)) == 1, r.stderr
    assert "summary.json could not be written either" in _errors(r)[0]
    _whole_rows(out / "timeseries.csv")
    p = _main("plot", str(out))
    assert p.returncode == 2 and "its run stopped: cannot write timeseries.csv: No space left on device" in p.stderr


KERNEL = """
import particles                         # installs the lab's cache handling before any kernel
from numba import njit


@njit(cache=True)
def twice(x):
    return 2 * x


print(twice(21))
"""


def test_a_full_numba_cache_is_a_note_not_a_failed_compile(small_disk, tmp_path):
    """A cache that cannot be filled made the compile fail with the save's OSError (a run said
    "cannot write to --out"): the kernel runs, uncached, and one note says where and why."""
    cache = small_disk / "numba"
    cache.mkdir()
    _fill(small_disk, 0)
    (tmp_path / "kernel.py").write_text(KERNEL)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, str(tmp_path / "kernel.py")], capture_output=True, text=True, timeout=300,
                       env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "42", r.stderr
    assert r.stderr.count("note: cannot keep compiled kernels in the Numba cache (") == 1, r.stderr
    assert "No space left on device" in r.stderr and "Traceback" not in r.stderr


ENV = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")


@pytest.mark.parametrize("args", [["demo", "emerges", "--frames", "150", "--record", "talk.mp4"],
                                  ["demo", "emerges", "--frames", "150", "--record", "talk.gif"],
                                  ["live", "--frames", "2", "--screenshot", "still.png"]],
                         ids=["mp4", "gif", "screenshot"])
def test_a_recording_or_still_that_fills_the_disk_is_one_line_and_leaves_no_broken_file(small_disk, args):
    """An MP4 whose encoder hit a full disk was renamed into place unplayable (ffmpeg's errors
    printed over the message), a GIF ended in a traceback (and two more from imageio's __del__),
    and a still was left empty with exit 0 (SDL's writer said nothing)."""
    _fill(small_disk, 150)
    size = ["--size", "3840x2160"] if args[0] == "live" else ["--size", "800x450", "--no-notes"]
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), *args, *size, "--cell", "0.25"], cwd=small_disk,
                       env=ENV, capture_output=True, text=True, timeout=300)
    said = [line for line in r.stderr.splitlines() if not line.startswith("note:")]
    assert r.returncode == 2 and len(said) == 1 and "No space left on device" in said[0], r.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["fill"]      # nothing broken, no temporary file


def test_a_save_from_python_that_fills_the_disk_raises_and_the_directory_says_why(small_disk):
    import warnings

    from simulation.lab import Lab
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab = Lab("k-only", set=SETS[3:8:2], sample_every=1).run(2000, progress=False)
    _fill(small_disk, 200)                         # timeseries.csv is ~540 kB
    with pytest.raises(OSError):
        lab.save(small_disk / "s")
    p = _main("plot", str(small_disk / "s"))
    assert p.returncode == 2 and "its run stopped: cannot write timeseries.csv: No space left on device" in p.stderr
