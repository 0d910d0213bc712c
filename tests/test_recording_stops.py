"""A recording is finished and playable whenever the program is stopped (issue 27: SIGHUP left an
MP4 with no moov atom, two Ctrl-C 50 ms apart the same, SIGTERM ended with exit 0): the demo ends
with the file whole, 128 + the signal, and one line saying so; the file is written under another
name and renamed, so there is never a broken file under its name."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def _recording(tmp_path, name):
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "demo", "emerges", "--size", "640x400", "--cell",
                          "0.25", "--frames", "1000000", "--record", name, "--no-notes"], cwd=tmp_path, env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:            # frames are being encoded: the part file grows
        parts = [f for f in tmp_path.glob(".*") if f.stat().st_size > 20_000]
        if parts:
            return p
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGKILL)
    raise AssertionError("the recording did not start")


@pytest.mark.parametrize("signals, code", [([signal.SIGHUP], 129), ([signal.SIGTERM], 143),
                                           ([signal.SIGINT, signal.SIGINT], 130)],
                         ids=["SIGHUP", "SIGTERM", "two SIGINT 50 ms apart"])
def test_a_stopped_recording_is_finished_and_says_so(tmp_path, signals, code):
    import imageio_ffmpeg
    p = _recording(tmp_path, "talk.mp4")
    try:
        for k, s in enumerate(signals):
            if k:
                time.sleep(0.05)
            p.send_signal(s)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == code, err
    name = signal.Signals(signals[0]).name
    assert err.strip().splitlines() == [next(ln for ln in err.splitlines() if ln.startswith(f"{name}: the demo stopped"))]
    assert "the recording talk.mp4 is finished" in err and "Traceback" not in err
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "talk.mp4"))   # it has its index
    assert frames > 10 and seconds > 0
    assert [f.name for f in tmp_path.iterdir()] == ["talk.mp4"]       # no part file left


def test_a_recording_onto_a_link_replaces_the_link(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "talk.gif").symlink_to(target)
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "demo", "emerges", "--size", "640x400", "--cell", "0.25",
                        "--frames", "3", "--record", "talk.gif", "--no-notes"], cwd=tmp_path, env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert target.read_text() == "keep me"
    gif = tmp_path / "talk.gif"
    assert not gif.is_symlink() and gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert (gif.stat().st_mode & 0o777) == 0o644


def test_a_stopped_handout_writes_the_steps_it_finished(tmp_path, sig=signal.SIGINT, code=130):
    """A handout went on to its end through Ctrl-C (the signal was swallowed): it now stops, writes
    its page with the stills of the steps it finished and the step it stopped in, and exits 128 + the
    signal with one line."""
    p = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "handout", "emerges", "--out", "h.md", "--cell",
                          "0.25", "--size", "800x450"], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not list((tmp_path / "h-stills").glob("*.png")):
            time.sleep(0.2)                  # the first step's still is kept: stop in the second
        os.kill(p.pid, sig)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    said = [line for line in err.replace("\r", "\n").splitlines() if line and not line.startswith("handout ")]
    assert len(said) == 1 and "the handout stopped" in said[0] and "Traceback" not in err, err
    page = (tmp_path / "h.md").read_text()
    stills = sorted(f.name for f in (tmp_path / "h-stills").glob("*.png"))
    assert stills and all(f"h-stills/{s}" in page for s in stills)
    assert "*Stopped (" + signal.Signals(sig).name + ") during step" in page
