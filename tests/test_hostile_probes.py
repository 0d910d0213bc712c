"""The table of hostile inputs (issue 27): commands, config files and scenario files a user may get
wrong, each ending in exit code 2 and one line on stderr naming what was wrong (the word given),
or, where None, in a correct result (exit 0). Faults and signals have their own files:
test_full_disk.py (a small tmpfs, a file-size limit, a full Numba cache), test_output_paths.py (a
read-only directory, links), test_signals.py and test_recording_stops.py (every stop signal),
test_scenario_limits.py and test_sample_memory.py (what could grow), test_output_directories.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

S = 'preset = "k-only"\n'


def sc(body):
    """A scenario file of the K+-only cell."""
    return {"s.toml": S + body}


def cf(body):
    """A config file."""
    return {"c.toml": body}


RUN = ["run", "--steps", "20", "--out", "O"]
SW = ["sweep", "--steps", "20", "--out", "O"]
IV = ["iv", "--from=-80", "--to=0", "--step=20", "--steps-per-point", "20", "--out", "O"]

PROBES = [  # (what, arguments, files made first in the working directory, a word of the one line | None: exit 0)
    # run: arguments
    ("run steps 0", ["run", "--steps", "0", "--out", "O"], {}, '--steps: must be >= 1'),
    ("run steps -1", ["run", "--steps", "-1", "--out", "O"], {}, '--steps'),
    ("run steps abc", ["run", "--steps", "abc", "--out", "O"], {}, 'whole number'),
    ("run steps 1e3", ["run", "--steps", "1e3", "--out", "O"], {}, 'whole number'),
    ("run no steps", ["run", "--out", "O"], {}, '--steps'),
    ("run no out", ["run", "--steps", "20"], {}, '--out'),
    ("run seed -1", RUN + ["--seed", "-1"], {}, '--seed'),
    ("run sample-every 0", RUN + ["--sample-every", "0"], {}, '--sample-every'),
    ("run sample-every -5", RUN + ["--sample-every", "-5"], {}, '--sample-every'),
    ("run window reversed", RUN + ["--window", "15:5"], {}, 'FIRST < LAST'),
    ("run window words", RUN + ["--window", "a:b"], {}, 'FIRST:LAST'),
    ("run window three", RUN + ["--window", "1:2:3"], {}, 'FIRST:LAST'),
    ("run unknown preset", RUN + ["--preset", "nope"], {}, "unknown preset 'nope'"),
    ("run missing config", RUN + ["--config", "missing.toml"], {}, 'not found'),
    ("run config is a dir", RUN + ["--config", "."], {}, 'is a directory'),
    ("run preset and config", RUN + ["--preset", "k-only", "--config", "c.toml"], cf('name = "x"\n'), 'not allowed with'),
    ("run set no equals", RUN + ["--set", "outside.K"], {}, 'KEY=VALUE'),
    ("run set unknown key", RUN + ["--set", "outside.Zn=1"], {}, "unknown key 'outside.Zn'"),
    ("run set unknown table", RUN + ["--set", "flux.capacitor=1"], {}, "unknown key 'flux.capacitor'"),
    ("run set negative", RUN + ["--set", "outside.K=-1"], {}, 'outside.K must be a number >= 0'),
    ("run set nan", RUN + ["--set", "outside.K=nan"], {}, 'got nan'),
    ("run set inf", RUN + ["--set", "outside.K=inf"], {}, 'got inf'),
    ("run set text", RUN + ["--set", 'outside.K="five"'], {}, "got 'five'"),
    ("run set dt 0", RUN + ["--set", "physics.dt_ns=0"], {}, 'physics.dt_ns'),
    ("run set bool for number", RUN + ["--set", "outside.K=true"], {}, 'got True'),
    ("run set table for number", RUN + ["--set", "outside.K={a=1}"], {}, 'outside.K must be'),
    ("run set number for table", RUN + ["--set", "outside=5"], {}, "unknown key 'outside'"),
    ("run set pump count -1", RUN + ["--set", "pump.count=-1"], {}, 'pump.count'),
    ("run set pump count 1e9", RUN + ["--set", "pump.count=1000000000"], {}, 'do not fit on the membrane'),
    ("run set pump count float", RUN + ["--set", "pump.count=2.5"], {}, 'whole number'),
    ("run out is a file", ["run", "--steps", "20", "--out", "afile"], {"afile": "keep"}, 'not a directory'),
    ("run unknown option", RUN + ["--frobnicate"], {}, '--frobnicate'),
    # config files
    ("config not toml", RUN + ["--config", "c.toml"], cf("this is = = not toml"), 'not valid TOML'),
    ("config duplicate key", RUN + ["--config", "c.toml"], cf("[inside]\nK = 1\nK = 2\n"), 'not valid TOML'),
    ("config unknown top key", RUN + ["--config", "c.toml"], cf("colour = 3\n"), "unknown key 'colour'"),
    ("config table as number", RUN + ["--config", "c.toml"], cf("box = 5\n"), 'box must be a table'),
    ("config array of tables", RUN + ["--config", "c.toml"], cf("[[inside]]\nK = 1\n"), 'inside must be a table'),
    ("config string conc", RUN + ["--config", "c.toml"], cf('[inside]\nK = "a lot"\n'), 'inside.K must be a number'),
    ("config latin-1", RUN + ["--config", "c.toml"], {"c.toml": b'name = "caf\xe9"\n'}, 'not a text file'),
    ("config unknown channel ion", RUN + ["--config", "c.toml"], cf('[channels.Foo]\nion = "Zn"\nrelative_permeability = 1\n'), 'channels.Foo'),
    ("config unknown gating", RUN + ["--config", "c.toml"], cf('[channels.Foo]\nion = "K"\ngating = "magic"\nrelative_permeability = 1\n'), 'channels.Foo.gating'),
    ("config temperature text", RUN + ["--config", "c.toml"], cf('[physics]\ntemperature_C = "warm"\n'), 'physics.temperature_C'),
    ("config negative box", RUN + ["--config", "c.toml"], cf("[box]\nwidth_nm = -5\n"), 'box.width_nm'),
    ("config no ions cross", RUN + ["--config", "c.toml"], cf("[channels.K]\nrelative_permeability = 0\n[channels.Na]\nrelative_permeability = 0\n[channels.Cl]\nrelative_permeability = 0\n"), None),
    ("config empty name", RUN + ["--config", "c.toml"], cf('name = ""\n'), None),
    ("config nul bytes", RUN + ["--config", "c.toml"], {"c.toml": b"\x00\x00\x00"}, 'not valid TOML'),
    # scenario files
    ("scenario no steps", ["demo", "s.toml", "--frames", "1"], sc(""), 'no [[step]]'),
    ("scenario step not a table", ["demo", "s.toml", "--frames", "1"], sc("step = [1, 2]\n"), 'step 1: must be a table'),
    ("scenario unknown step key", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\ncolour = 1\n"), "unknown key 'colour'"),
    ("scenario wait negative", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\n[[step]]\nwait = -1\n"), 'step 2: wait must be between 0 and 100000'),
    ("scenario wait word", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\n[[step]]\nwait = "soon"\n'), "got 'soon'"),
    ("scenario wait bool", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\n[[step]]\nwait = true\n"), 'got True'),
    ("scenario wait nan", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\n[[step]]\nwait = nan\n"), 'got nan'),
    ("scenario caption number", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\ncaption = 5\n"), 'caption must be text'),
    ("scenario unknown placeholder", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\ncaption = "{Vm}"\n'), 'unknown placeholder {Vm}'),
    ("scenario open brace", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\ncaption = "V = {V"\n'), 'literal brace'),
    ("scenario unknown highlight", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nhighlight = "everything"\n'), "highlight: unknown 'everything'"),
    ("scenario follow fixed anion", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nfollow = "A"\n'), "'A' is not an ion that crosses"),
    ("scenario set unknown", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\nset = { warp = 9 }\n"), "unknown change 'warp'"),
    ("scenario set unknown channel", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nset = { "channels.Nope" = 1 }\n'), "unknown channel type 'Nope'"),
    ("scenario clamp bad line", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nset = { clamp = "E_X+5" }\n'), "'E_X+5'"),
    ("scenario clamp huge", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\nset = { clamp = 1e9 }\n"), 'clamp.command_mV'),
    ("scenario pulse short", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\nset = { pulse = [1] }\n"), 'set.pulse must be'),
    ("scenario pulse text", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nset = { pulse = ["a", 1] }\n'), 'set.pulse must be'),
    ("scenario cell 3", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\nset = { cell = 3 }\n"), 'set.cell must be one of'),
    ("scenario conc negative", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nset = { "outside.K" = -1 }\n'), 'set.outside.K must be a number >= 0'),
    ("scenario reveal first", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\nreveal = true\n"), 'needs a question in an earlier step'),
    ("scenario bands mismatch", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nquestion = "q"\nchoices = ["a", "b"]\njudge = "dV"\nbands = [[0, 1]]\n'), 'bands must give one'),
    ("scenario one choice", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\nquestion = "q"\nchoices = ["a"]\n'), 'choices must be a list of 2 to'),
    ("scenario include self", ["demo", "s.toml", "--frames", "1"], {"s.toml": 'include = ["s.toml"]\n'}, 'includes itself'),
    ("scenario include missing", ["demo", "s.toml", "--frames", "1"], {"s.toml": 'include = ["nowhere.toml"]\n'}, 'not found'),
    ("scenario include and steps", ["demo", "s.toml", "--frames", "1"], {"s.toml": 'include = ["emerges"]\n[[step]]\n'}, 'either include or steps'),
    ("scenario preset and config", ["demo", "s.toml", "--frames", "1"], {"s.toml": 'preset = "k-only"\nconfig = "c.toml"\n[[step]]\n', "c.toml": ""}, 'preset or config, not both'),
    ("scenario reference no cite", ["demo", "s.toml", "--frames", "1"], sc('[[step]]\n[reference]\nK_out = [1]\nV = [-80]\n'), 'cite'),
    ("scenario minutes negative", ["demo", "s.toml", "--frames", "1"], {"s.toml": S + "minutes = -1\n[[step]]\n"}, 'minutes must be'),
    ("scenario seconds huge", ["demo", "s.toml", "--frames", "1"], sc("[[step]]\nseconds = 1e9\n"), 'seconds must be'),
    ("scenario not toml", ["demo", "s.toml", "--frames", "1"], {"s.toml": "[[step]\n"}, 'not valid TOML'),
    ("scenario unknown", ["demo", "no-such-story", "--frames", "1"], {}, "unknown scenario 'no-such-story'"),
    ("handout broken scenario", ["handout", "s.toml", "--out", "h.md"], sc("[[step]]\nwait = -1\n"), 'step 1: wait must be'),
    # sweep and iv
    ("sweep vary no equals", SW + ["--vary", "outside.K"], {}, 'KEY=v1,v2'),
    ("sweep vary unknown key", SW + ["--vary", "outside.Zn=1,2"], {}, "unknown key 'outside.Zn'"),
    ("sweep vary empty", SW + ["--vary", "outside.K="], {}, 'no values'),
    ("sweep vary words", SW + ["--vary", "outside.K=a,b"], {}, "got 'a'"),
    ("sweep vary negative", SW + ["--vary", "outside.K=5,-5"], {}, 'got -5'),
    ("sweep no vary", SW, {}, '--vary'),
    ("sweep seeds 0", SW + ["--vary", "outside.K=5,10", "--seeds", "0"], {}, '--seeds'),
    ("sweep workers 0", SW + ["--vary", "outside.K=5,10", "--workers", "0"], {}, '--workers'),
    ("sweep format xml", SW + ["--vary", "outside.K=5,10", "--format", "xml"], {}, '--format'),
    ("sweep timeout negative", SW + ["--vary", "outside.K=5,10", "--timeout", "-1"], {}, '--timeout'),
    ("sweep cluster unknown", SW + ["--vary", "outside.K=5,10", "--cluster", "lsf"], {}, "--cluster 'lsf'"),
    ("sweep cores 0", SW + ["--vary", "outside.K=5,10", "--cluster", "slurm", "--cores", "0"], {}, '--cores'),
    ("sweep memory words", SW + ["--vary", "outside.K=5,10", "--cluster", "slurm", "--memory", "lots"], {}, '--memory'),
    ("sweep walltime bad", SW + ["--vary", "outside.K=5,10", "--cluster", "slurm", "--walltime", "99"], {}, '--walltime'),
    ("sweep cores without cluster", SW + ["--vary", "outside.K=5,10", "--cores", "4"], {}, 'give --cluster'),
    ("iv step 0", ["iv", "--from=-80", "--to=0", "--step=0", "--steps-per-point", "20", "--out", "O"], {}, '--step 0'),
    ("iv step negative", ["iv", "--from=-80", "--to=0", "--step=-10", "--steps-per-point", "20", "--out", "O"], {}, '--step -10'),
    ("iv from above to", ["iv", "--from=0", "--to=-80", "--step=10", "--steps-per-point", "20", "--out", "O"], {}, '--to must be >= --from'),
    ("iv points 0", ["iv", "--from=-80", "--to=0", "--step=10", "--steps-per-point", "0", "--out", "O"], {}, '--steps-per-point'),
    ("iv seeds 0", IV + ["--seeds", "0"], {}, '--seeds'),
    ("iv nan", ["iv", "--from=nan", "--to=0", "--step=10", "--steps-per-point", "20", "--out", "O"], {}, '--from'),
    ("iv 300 mV", ["iv", "--from=-300", "--to=0", "--step=100", "--steps-per-point", "20", "--out", "O"], {}, 'from -250 to 250 mV'),
    # the views and the figures
    ("demo size zero", ["demo", "--size", "0x0", "--frames", "1"], {}, '--size'),
    ("demo size words", ["demo", "--size", "big", "--frames", "1"], {}, '--size'),
    ("demo fps 0", ["demo", "--fps", "0", "--record", "x.mp4", "--frames", "1"], {}, '--fps'),
    ("demo record avi", ["demo", "--record", "x.avi", "--frames", "1"], {}, '.mp4 or .gif'),
    ("demo record no dir", ["demo", "--record", "nodir/x.mp4", "--frames", "1"], {}, 'no such directory nodir'),
    ("demo screenshot jpg", ["demo", "--screenshot", "x.jpg", "--frames", "1"], {}, 'must end in .png'),
    ("demo screenshot empty", ["demo", "--screenshot", "", "--frames", "1"], {}, 'empty'),
    ("demo cell 3", ["demo", "--cell", "3", "--frames", "1"], {}, '--cell'),
    ("demo display -1", ["demo", "--display", "-1", "--frames", "1"], {}, '--display'),
    ("demo theme neon", ["demo", "--theme", "neon", "--frames", "1"], {}, '--theme'),
    ("demo frames -1", ["demo", "--frames", "-1"], {}, '--frames'),
    ("live frames 0", ["live", "--frames", "0"], {}, '--frames'),
    ("live unknown preset", ["live", "--preset", "nope", "--frames", "1"], {}, "unknown preset 'nope'"),
    ("handout out txt", ["handout", "emerges", "--out", "h.txt"], {}, 'must end in .md'),
    ("handout 16K stills", ["handout", "emerges", "--size", "16384x16384"], {}, "at most 3840x2160"),
    ("handout out no dir", ["handout", "emerges", "--out", "nodir/h.md"], {}, 'no such directory nodir'),
    ("plot missing", ["plot", "nowhere"], {}, 'no summary.json'),
    ("plot a file", ["plot", "afile"], {"afile": "x"}, 'no summary.json'),
    ("plot empty dir", ["plot", "d"], {"d/.keep": ""}, 'no summary.json'),
    ("plot garbage summary", ["plot", "d"], {"d/summary.json": "{not json", "d/timeseries.csv": "step\n0\n"}, 'not as `run` writes it'),
    ("plot summary a list", ["plot", "d"], {"d/summary.json": "[1, 2]", "d/timeseries.csv": "step\n0\n"}, 'does not hold an object'),
    ("unknown command", ["frobnicate"], {}, 'frobnicate'),
    ("presets extra", ["presets", "extra"], {}, 'extra'),
    ("validate unknown option", ["validate", "--bogus"], {}, '--bogus'),
    # output places, long words, more config files
    ("run out /dev/null", ["run", "--steps", "20", "--out", "/dev/null"], {}, "exists and is not a directory"),
    ("run out under /proc", ["run", "--steps", "20", "--out", "/proc/no-such/run"], {}, "No such file or directory"),
    ("run out under a file", ["run", "--steps", "20", "--out", "afile/x"], {"afile": "k"}, "Not a directory"),
    ("run steps 500 digits", ["run", "--steps", "9" * 500, "--out", "O"], {}, "…(500 characters)"),
    ("run set 1000-letter key", RUN + ["--set", "y" * 1000 + "=1"], {}, "…(1001 characters)"),
    ("run set hold from nan", RUN + ["--set", "stimulus.hold_from_ns=nan"], {}, "stimulus.hold_from_ns"),
    ("config 20000 pulses", RUN + ["--config", "c.toml"],
     cf("[stimulus]\nprotocol = [" + ", ".join("{current_pA = 10, duration_ns = 1}" for _ in range(20000)) + "]\n"),
     "at most 1000"),
    ("config channel name with a dot", RUN + ["--config", "c.toml"],
     cf('[channels."a.b"]\nion = "K"\ngating = "leak"\nrelative_permeability = 1\n'), "a channel type's name"),
    ("config channel name 300 letters", RUN + ["--config", "c.toml"],
     cf("[channels." + "x" * 300 + ']\nion = "K"\ngating = "leak"\nrelative_permeability = 1\n'), "(310 characters)"),
    ("config channel name greek", RUN + ["--config", "c.toml"],
     cf('[channels."Kα"]\nion = "K"\ngating = "leak"\nrelative_permeability = 1\n'), "a channel type's name"),
    ("config name with newline", RUN + ["--config", "c.toml"], cf('name = "a\\nb"\n'), "control character"),
    ("config name with escape codes", RUN + ["--config", "c.toml"], cf('name = "\\u001b[31mred"\n'),
     "control character"),
    ("sweep vary a new channel type", SW + ["--vary", "channels.Zz.relative_permeability=1,2"], {},
     "needs ion and gating"),
    ("sweep vary dt too long", SW + ["--vary", "physics.dt_ns=0.01,0.05"], {}, "too long for the pores"),
    ("plot a partial last row", ["plot", "d"], {"d/summary.json": "{}", "d/timeseries.csv": "step,time_ns,V_mV\n0,0,0\n1,0.1"},
     "got 2 columns instead of 3"),
]


def test_the_table_holds_at_least_a_hundred_inputs():
    assert len(PROBES) >= 100 and len({p[0] for p in PROBES}) == len(PROBES)


@pytest.mark.parametrize("name,argv,files,word", PROBES, ids=[p[0] for p in PROBES])
def test_a_hostile_input_is_one_line_and_exit_2_or_a_correct_result(name, argv, files, word, tmp_path):
    for f, text in files.items():
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "O"
    argv = [str(out) if a == "O" else a for a in argv]
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), *argv], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path, env=env)
    said = [line for line in r.stderr.splitlines() if not line.startswith("note:")]
    assert "Traceback" not in r.stderr, r.stderr
    if word is None:
        assert r.returncode == 0, r.stderr
        s = json.loads((out / "summary.json").read_text())
        assert s["V_mean_mV"] is not None and s["interrupted"] is False
        if name == "config no ions cross":     # nothing can cross: V stays at 0, where every cell starts
            assert s["V_mean_mV"] == 0.0
        return
    assert r.returncode == 2 and len(said) == 1 and word in said[0], r.stderr
    assert not out.exists() or not any(out.iterdir())              # nothing written
