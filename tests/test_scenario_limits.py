"""A scenario file is checked at load for everything that could grow on screen (issue 27: a 10 MB
caption rendered at 77 s a frame, `{V:>999999999}` built a 1 GB string each frame, `demo
/dev/zero` took all memory): its size, each text's length, and each placeholder's format."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulation.core.config import ConfigError
from simulation.session.scenario import MAX_CHARS, load_scenario

ROOT = Path(__file__).resolve().parent.parent
STEP = 'preset = "k-only"\n[[step]]\n'

LIMITS = {  # the file's text -> what the one line says
    "a 10 MB caption": (STEP + 'caption = "' + "x" * 300_000 + '"\n', "more than 256 kB"),
    "a long caption": (STEP + 'caption = "' + "x" * (MAX_CHARS["caption"] + 1) + '"\n', "caption is 1001 characters"),
    "long notes": (STEP + 'notes = "' + "x" * (MAX_CHARS["notes"] + 1) + '"\n', "notes is 5001 characters"),
    "a long title": (STEP + 'title = "' + "x" * 200 + '"\n', "title is 200 characters"),
    "a long description": ('description = "' + "x" * 2000 + '"\n' + STEP, "description is 2000 characters"),
    "a long choice": (STEP + 'question = "q"\nchoices = ["a", "' + "b" * 500 + '"]\n', "choice is 500 characters"),
    "a huge width": (STEP + 'caption = "V = {V:>999999999}"\n', "width 999999999; at most 40"),
    "a huge cut": (STEP + 'caption = "V = {V:.99999}"\n', "cut 99999; at most 40"),
    "a number format on text": (STEP + 'caption = "V = {V:.1f}"\n', "may only pad or cut"),
    "a conversion": (STEP + 'caption = "V = {V!r}"\n', "may only pad or cut"),
    "a nested field": (STEP + 'caption = "V = {V:{E_K}}"\n', "may only pad or cut"),
    "an index": (STEP + 'caption = "V = {V[0]}"\n', "unknown placeholder {V[0]}"),
    "not text": (STEP + 'caption = "' + "\\u0000" * 3 + '"\n', None),
    "600 steps": ('preset = "k-only"\n' + "[[step]]\n" * 600, "600 steps; at most 100"),
    "100 hour-long steps": ('preset = "k-only"\n' + "[[step]]\nseconds = 3600\n" * 100,
                            "seconds add up to 6000 minutes; at most 240"),
}


@pytest.mark.parametrize("case", sorted(LIMITS))
def test_what_could_grow_on_screen_is_refused_at_load(case, tmp_path):
    text, said = LIMITS[case]
    f = tmp_path / "big.toml"
    f.write_text(text)
    if said is None:            # a caption of control characters is short: it loads
        load_scenario(str(f))
        return
    with pytest.raises(ConfigError) as e:
        load_scenario(str(f))
    assert said in str(e.value) and "\n" not in str(e.value)


def test_a_caption_that_pads_or_cuts_its_values_loads_and_fills():
    from simulation.session.scenario import fill_caption
    f = Path(os.environ.get("TMPDIR", "/tmp")) / f"pad-{os.getpid()}.toml"
    f.write_text(STEP + 'caption = "V = {V:>6} mV, E_K {E_K:.3}"\n')
    try:
        sc = load_scenario(str(f))
    finally:
        f.unlink()
    assert fill_caption(sc.steps[0].caption, {"V": "-70", "E_K": "-90.3"}) == "V =    -70 mV, E_K -90"


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom"])
def test_demo_of_an_endless_file_is_one_line(path):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "demo", path], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "more than 256 kB" in r.stderr and "Traceback" not in r.stderr


def test_model_time_waits_are_bounded_each_and_in_all(tmp_path):
    """`wait = 1e6` played headless by model time took ~18 h: a step's wait and a scenario's waits in
    all are at most MAX_WAIT_NS, each refused in one line naming the file (and the step)."""
    from simulation.session.scenario import MAX_WAIT_NS
    f = tmp_path / "w.toml"
    f.write_text(STEP + "[[step]]\nwait = 1e6\n")
    with pytest.raises(ConfigError, match=r"w.toml, step 2: wait must be between 0 and 100000 ns"):
        load_scenario(str(f))
    f.write_text(STEP + f"[[step]]\nwait = {MAX_WAIT_NS * 0.6}\n[[step]]\nwait = {MAX_WAIT_NS * 0.5}\n")
    with pytest.raises(ConfigError, match=r"w.toml: its steps wait 110000 ns of model time in all; at most 100000"):
        load_scenario(str(f))
    f.write_text(STEP + f"[[step]]\nwait = {MAX_WAIT_NS * 0.5}\n[[step]]\nwait = {MAX_WAIT_NS * 0.5}\n")
    assert sum(st.wait for st in load_scenario(str(f)).steps[1:]) == MAX_WAIT_NS
