"""Resting Potential Lab: the command line. Parses arguments, builds a config, hands off.

Installed, it is the console command `rplab`; in a checkout, `python main.py` runs the same `main`.

    rplab                      the live window on the default preset (same as `live`)
    rplab live [--preset NAME | --config FILE] [--fullscreen] [--frames N --screenshot F]
    rplab demo [SCENARIO] [--window] [--record FILE.mp4]
    rplab run --steps N --out DIR [--overwrite] [--seed S] [--sample-every K] [--no-progress]
    rplab sweep --vary KEY=v1,v2,... [--seeds N] --steps N --out DIR [--workers N | --scheduler ADDR
                | --scheduler-file FILE | --cluster slurm|pbs|sge|local ...]      (the `sweep` extra)
    rplab iv --from MV --to MV --step MV --steps-per-point N --out DIR [as sweep]  (the `sweep` extra)
    rplab plot RUN_DIR
    rplab validate [--quick]
    rplab presets
    rplab --version

Exit codes: 0 done, 2 bad input (one line on stderr), 128 + the signal when a run or sweep is
stopped (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP) after writing what it recorded.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
from pathlib import Path
import time

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message):
        sys.stderr.write(_one_line(f"{self.prog}: error: {message} (see --help)") + "\n")
        sys.exit(EXIT_BAD_INPUT)


def _non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    if v >= 2 ** 63:
        raise argparse.ArgumentTypeError(f"must be < 2^63, got {v}")
    return v


def _out_dir(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an output directory is needed, got an empty name")
    return text


def _preset_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a preset name is needed, got an empty name (see `presets`)")
    if "/" in text or "\\" in text or text.endswith(".toml"):
        raise argparse.ArgumentTypeError(f"a preset is a name (see `presets`); give a file with --config, got {text!r}")
    return text


def _positive_int(text: str) -> int:
    v = _non_negative_int(text)
    if v == 0:
        raise argparse.ArgumentTypeError("must be >= 1, got 0")
    return v


def _fps(text: str) -> int:
    v = _positive_int(text)
    if v > 120:     # render.record.MAX_FPS (not imported here: the parser loads no Pygame)
        raise argparse.ArgumentTypeError(f"from 1 to 120 frames per second, got {v}")
    return v


def _window(text: str) -> tuple[int, int]:
    try:
        a, b = (int(p) for p in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST:LAST steps, got {text!r}") from None
    if a < 0 or b <= a:
        raise argparse.ArgumentTypeError(f"need 0 <= FIRST < LAST, got {text!r}")
    return a, b


def _window_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels (e.g. 1920x1080), got {text!r}") from None
    if not (640 <= w <= 16384 and 400 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"a window from 640x400 to 16384x16384, got {text!r}")
    return w, h


def _cell_scale(text: str) -> float:
    from simulation.session.interventions import CELL_SCALES   # the sizes a scenario's `cell` may take, too
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if v not in CELL_SCALES:
        raise argparse.ArgumentTypeError(f"one of {', '.join(f'{c:g}' for c in CELL_SCALES)}, got {text!r}")
    return v


def _add_config_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", type=_preset_name, help="a shipped preset by name (see `presets`); default: mammalian")
    src.add_argument("--config", metavar="FILE", help="a TOML config file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set outside.K=20 (repeatable)")


def _add_dask_args(p: argparse.ArgumentParser) -> None:
    """The options of commands that run many runs on Dask (sweep, iv)."""
    p.add_argument("--out", required=True, type=_out_dir, metavar="DIR", help="output directory (rerun it to resume)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="local Dask workers (default: one per core)")
    where.add_argument("--scheduler", metavar="ADDR", help="an existing Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--scheduler-file", metavar="FILE",
                       help="join the Dask scheduler that wrote FILE (`dask scheduler --scheduler-file FILE`, "
                            "e.g. inside one Slurm allocation: docs/cluster/)")
    where.add_argument("--cluster", metavar="SYSTEM|FILE.toml",
                       help="submit the workers as batch jobs (dask-jobqueue): slurm, pbs, sge, or local (the same "
                            "job scripts run on this machine); or a TOML file of the keys below and more (docs/cluster/)")
    jobs = p.add_argument_group("with --cluster (each job: one worker, one run at a time on its cores' Numba threads)")
    jobs.add_argument("--cores", type=_positive_int, metavar="N", help="cores of each job (default 1)")
    jobs.add_argument("--memory", metavar="SIZE", help="memory of each job, e.g. 4GB (default 4GB)")
    jobs.add_argument("--walltime", metavar="HH:MM:SS", help="each job's time limit (default 01:00:00)")
    jobs.add_argument("--jobs", type=_positive_int, metavar="N", help="jobs to submit (default 1)")
    jobs.add_argument("--queue", metavar="NAME", help="the partition or queue")
    jobs.add_argument("--account", metavar="NAME", help="the account or project to charge")
    jobs.add_argument("--job-script", action="store_true", help="print the batch script each job would run, and exit")
    p.add_argument("--timeout", type=_positive_int, metavar="S",
                   help="seconds to wait for a scheduler to answer and for its first worker (default 30; "
                        "600 for the first job of a batch --cluster)")
    p.add_argument("--sample-every", type=_positive_int, metavar="K", help="record every K steps")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table format (default csv)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _millivolts(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a potential in mV, e.g. -120, got {text!r}")
    return v


def build_parser() -> OneLineParser:
    THEMES = ("dark", "projector", "light", "hall")     # render/style.py's, without importing Pygame
    from simulation import __version__
    parser = OneLineParser(prog=program(), description="Resting Potential Lab: the resting membrane "
                           "potential emerging from individual ions.")
    parser.add_argument("--version", action="version", version=f"Resting Potential Lab {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)

    p = sub.add_parser("live", help="the live window (the default command)")
    _add_config_args(p)
    p.add_argument("--fullscreen", action="store_true", help="open full screen (F11 toggles)")
    p.add_argument("--display", type=_non_negative_int, default=0, metavar="N",
                   help="the monitor to open on, counted from 0 (default 0)")
    p.add_argument("--frames", type=_positive_int, metavar="N", help="run N frames, then exit (no person needed)")
    p.add_argument("--screenshot", metavar="FILE.png", help="with --frames: save the last frame as PNG")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument("--theme", choices=THEMES, default="dark",
                   help="dark (the desk, default), projector (a classroom: large text), light (a lit room), "
                        "hall (the back rows of a large hall: text at least 4%% of the height)")
    p.add_argument("--size", type=_window_size, metavar="WxH", help="window size in pixels (default 1280x720)")
    p.add_argument("--cell", type=_cell_scale, default=1.0, metavar="SCALE",
                   help="cell size: 0.25, 0.5, 1, 2 or 4 times the config's (membrane, ions and capacitance "
                        "together: the same V, noise / sqrt(SCALE))")
    p.add_argument("--audio", action="store_true",
                   help="start with the audio monitor on: a click per spike, a soft tick per ion crossing (S toggles)")

    p = sub.add_parser("demo", help="a scripted lecture scenario (full screen, projector theme)")
    p.add_argument("scenario", nargs="?", default="lecture",
                   help="a shipped scenario by name (see scenarios/) or a scenario file; default: lecture")
    p.add_argument("--list", action="store_true", help="list the shipped scenarios (steps, declared length) and exit")
    p.add_argument("--window", action="store_true", help="in a window (for rehearsal), not full screen")
    p.add_argument("--display", type=_non_negative_int, default=0, metavar="N",
                   help="the monitor to go full screen on (the projector), counted from 0 (default 0)")
    p.add_argument("--size", type=_window_size, metavar="WxH", help="window size (for rehearsal, stills and videos)")
    p.add_argument("--theme", choices=THEMES, default="projector",
                   help="projector (default), hall (a large hall: captions and text at least 4%% of the height, "
                        "the panel reduced to what the step needs), light (a lit room) or dark")
    p.add_argument("--no-notes", action="store_true",
                   help="do not print each step's speaker notes (its notes, caption and what comes next) to the terminal")
    p.add_argument("--record", metavar="FILE.mp4|FILE.gif", help="record what is on screen (the suffix picks the format)")
    p.add_argument("--fps", type=_fps, default=30, help="frames per second of the recording, 1 to 120 (default 30)")
    p.add_argument("--quality", choices=("low", "medium", "high"), default="medium",
                   help="an MP4's quality: its bitrate at most 4, 8 or 16 Mbit/s at 1920x1080, scaled with the "
                        "frame's area (default medium)")
    p.add_argument("--auto", action="store_true",
                   help="play by itself, by the wall clock: each step lasts its declared length (the scenario's "
                        "minutes, a step's seconds); without one, a step waiting for the presenter lasts 8 s, one "
                        "waiting for the model until its wait is met (cut after 90 s), the last 6 s; a step behind "
                        "its length fast-forwards at half of it and is cut, with a note, at all of it")
    p.add_argument("--cell", type=_cell_scale, default=1.0, metavar="SCALE",
                   help="cell size: 0.25, 0.5, 1, 2 or 4 times the scenario's")
    p.add_argument("--frames", type=_positive_int, metavar="N", help="run N frames, then exit (no person needed)")
    p.add_argument("--screenshot", metavar="FILE.png", help="with --frames: save the last frame as PNG")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")

    p = sub.add_parser("handout", help="a scenario's captions and a still of every step, as a Markdown page")
    p.add_argument("scenario", help="a shipped scenario by name (see `demo --list`) or a scenario file")
    p.add_argument("--out", metavar="FILE.md", help="the page to write (default: <scenario>.md here); the stills go "
                   "beside it, in <FILE>-stills/")
    p.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH",
                   help="the stills' size in pixels, at most 3840x2160 (default 1280x720)")
    p.add_argument("--theme", choices=THEMES, default="light", help="the stills' theme (default light: it prints)")
    p.add_argument("--cell", type=_cell_scale, default=1.0, metavar="SCALE",
                   help="cell size: 0.25, 0.5, 1, 2 or 4 times the scenario's (smaller is quicker and noisier)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")

    p = sub.add_parser("run", help="headless run that writes timeseries.csv and summary.json")
    _add_config_args(p)
    p.add_argument("--steps", type=_positive_int, required=True, help="time steps to run")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, type=_out_dir, metavar="DIR", help="output directory (new or empty)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument("--sample-every", type=_positive_int, metavar="K",
                   help="record every K steps (default: steps/2000, at least 1 and at most 100000)")
    p.add_argument("--window", type=_window, metavar="FIRST:LAST",
                   help="steps averaged in summary.json (default: from the detected end of V's transient to the "
                        "last step; the second half for a run clamped throughout)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    p = sub.add_parser("sweep", help="many runs in parallel on Dask: one table and one plot")
    _add_config_args(p)
    p.add_argument("--vary", action="append", required=True, metavar="KEY=v1,v2,...",
                   help="a key and its values (repeatable: several keys make a grid)")
    p.add_argument("--seeds", type=_positive_int, default=1, help="replicate seeds per grid point (default 1)")
    p.add_argument("--first-seed", type=_non_negative_int, default=0, help="the first seed (default 0)")
    p.add_argument("--steps", type=_positive_int, required=True, help="time steps per run")
    _add_dask_args(p)

    p = sub.add_parser("iv", help="voltage-clamp I-V curve: one clamped run per command potential, on Dask")
    _add_config_args(p)
    p.add_argument("--from", dest="v_from", type=_millivolts, required=True, metavar="MV", help="first command (mV)")
    p.add_argument("--to", dest="v_to", type=_millivolts, required=True, metavar="MV", help="last command (mV)")
    p.add_argument("--step", dest="v_step", type=_millivolts, required=True, metavar="MV", help="between commands (mV)")
    p.add_argument("--steps-per-point", type=_positive_int, required=True, metavar="N",
                   help="time steps of each clamped run (the currents are averaged over its settled part)")
    p.add_argument("--seeds", type=_positive_int, default=1, help="replicate seeds per command (default 1)")
    p.add_argument("--first-seed", type=_non_negative_int, default=0, help="the first seed (default 0)")
    _add_dask_args(p)

    p = sub.add_parser("plot", help="the figures of one finished run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by `run` (or a sweep's runs/*)")

    p = sub.add_parser("validate", help="run the physics checks and print emergent V against theory")
    p.add_argument("--quick", action="store_true", help="shorter runs (larger errors)")

    sub.add_parser("presets", help="list the shipped presets")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv or ["live"])
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")     # whichever command imports Pygame first
    from simulation.installation import MissingExtra, problems
    for line in problems()[:1]:         # another package's particles, membrane or render: nothing else works
        say(f"{program()}: {line}")
        return EXIT_BAD_INPUT
    # headless work ends cleanly on a stop signal (SIGINT, SIGTERM, SIGHUP, ...: simulation.headless.guard):
    # the handlers go in before the heavy imports, so a signal at start-up is handled the same way
    from simulation.headless import guard
    headless = args.command in ("run", "sweep", "iv")
    # a recording demo too: a stop signal must end it with the file finished and say it stopped
    # (SDL's own SIGTERM handler would quit with exit 0; SIGHUP's default left an MP4 with no index)
    guarded = headless or (args.command == "demo" and args.record is not None) or args.command == "handout"
    stops = guard.StopSignals(restore=False) if guarded else contextlib.nullcontext()
    with stops:
        from simulation.core.config import ConfigError
        try:
            return COMMANDS[args.command](args)
        except ConfigError as e:
            say(f"config error: {e}")
            return EXIT_BAD_INPUT
        except MissingExtra as e:
            say(f"{program()} {args.command}: {e}")
            return EXIT_BAD_INPUT
        except guard.OutputError as e:
            say(str(e))
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            say("interrupted before anything was written" if guarded else "interrupted")
            return guard.exit_code() if guarded else EXIT_INTERRUPTED
        except BrokenPipeError:
            # the reader of stdout went away (`rplab run ... | true`, `rplab presets | head -1`):
            # whatever the command writes to files is complete; only lines nobody reads are lost
            _stdout_gone()
            return 0


def _stdout_gone() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


LONGEST_WORD = 160     # a value echoed in a message longer than this is cut (a 300-letter name, a pasted blob)


def _one_line(text: str) -> str:
    """`text` on one line (a library's message may hold newlines), each word at most LONGEST_WORD
    characters: "xxxx…(300 characters)"."""
    def cut(m: re.Match) -> str:
        w = m.group(0)
        return f"{w[:60]}…({len(w)} characters)"
    return re.sub(r"\S{%d,}" % (LONGEST_WORD + 1), cut, " ".join(text.split()))


def say(line: str) -> None:
    """One line on stderr; a closed terminal (after SIGHUP) must not turn it into a traceback."""
    try:
        sys.stderr.write(_one_line(line) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def cmd_validate(args) -> int:
    from simulation.checks.validate import main as validate_main
    return validate_main(quick=args.quick)


def cmd_presets(args=None) -> int:
    import tomllib
    from simulation.core.config import PRESET_DIR, preset_names
    for name in preset_names():
        with open(PRESET_DIR / f"{name}.toml", "rb") as f:
            data = tomllib.load(f)
        print(f"{name:<16} {data.get('description', data.get('name', ''))}")
    return 0


def program() -> str:
    """The name the program was started by: "main.py" in a checkout, else the console command."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "main.py" if name in ("main.py", "", "-c", "-m") or name.endswith(".py") else name


def command() -> str:
    """How to start this program again, for messages: `rplab`, or in a checkout this interpreter
    (relative to the working directory when under it, ".venv/bin/python") and main.py."""
    name = program()
    if name != "main.py":
        return name
    exe = sys.executable or "python"
    try:
        rel = os.path.relpath(exe)
    except ValueError:
        rel = exe
    return f"{rel if not rel.startswith('..') else exe} main.py"


def _no_display_reason() -> str | None:
    """Why no window can open here, or None. A set SDL_VIDEODRIVER (dummy, x11, ...) is trusted."""
    if os.environ.get("SDL_VIDEODRIVER"):
        return None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY is not set)"
    return None


def _output_file_problem(option: str, path: str | None, suffixes: tuple[str, ...]) -> str | None:
    """Why a file given to `option` cannot be written when the frames are done, or None: checked
    before the first frame (a missing directory found after them lost the work)."""
    if path is None:
        return None
    if not path.strip():
        return f"{option}: a file name is needed, got an empty one"
    if not path.lower().endswith(suffixes):
        return f"{option} {path}: the file must end in {' or '.join(suffixes)}"
    if os.path.isdir(path):
        return f"{option} {path}: is a directory"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"{option} {path}: no such directory {os.path.dirname(path) or parent}"
    return _cannot_write_in(parent, f"{option} {path}")


def _cannot_write_in(directory: str | os.PathLike, what: str) -> str | None:
    """Why no file can be made in `directory` (read-only, no permission, full), or None: tried,
    as the write will be (os.access says yes to root on a read-only mount)."""
    import tempfile
    try:
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as e:
        return f"{what}: cannot write in {directory} ({e.strerror or e})"
    return None


def cmd_live(args) -> int:
    if args.screenshot is not None and not args.frames:
        sys.stderr.write("live: --screenshot needs --frames N\n")
        return EXIT_BAD_INPUT
    problem = _output_file_problem("--screenshot", args.screenshot, (".png",))
    if problem:
        say(f"live: {problem}")
        return EXIT_BAD_INPUT
    from simulation.core import config as cfgmod
    cfg = cfgmod.load(args.preset, args.config, args.overrides)
    _say_notes(cfg)
    reason = _no_display_reason()
    no_display = ("cannot open the live window: {}; for a headless run use "
                  f"`{command()} run --steps 30000 --out runs/first`\n")
    if reason:
        sys.stderr.write(no_display.format(reason))
        return EXIT_BAD_INPUT
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from render.app import DEFAULT_SIZE, App, BadDisplay, NoDisplay
    try:
        app = App(cfg, preset=args.preset or (None if args.config else "mammalian"), overrides=args.overrides,
                  fullscreen=args.fullscreen, seed=args.seed, theme=args.theme, display=args.display,
                  size=args.size or DEFAULT_SIZE, cell_scale=args.cell)
    except BadDisplay as e:
        say(f"live: {e}")
        return EXIT_BAD_INPUT
    except NoDisplay as e:
        sys.stderr.write(no_display.format(str(e) or "no video device"))
        return EXIT_BAD_INPUT
    if args.audio:
        said = app.toggle_audio()
        if said.startswith("no audio"):
            sys.stderr.write(f"live: {said}\n")
    try:
        fps = app.run(frames=args.frames, screenshot=args.screenshot)
    except OSError as e:              # the still did not fit (a full disk)
        say(f"live: --screenshot {args.screenshot}: cannot write it ({e.strerror or e})")
        return EXIT_BAD_INPUT
    if args.frames:
        print(f"fps: {fps:.1f}")
    return 0


def cmd_demo(args) -> int:
    if args.list:
        from simulation.session.scenario import load_scenario, scenario_names
        for name in scenario_names():
            sc = load_scenario(name)
            length = sc.length_s()
            said = f"{int(length // 60)}:{int(length % 60):02d}" if length is not None else "no length"
            print(f"{name:<20} {len(sc.steps):>3} steps  {said:>9}  {sc.description or sc.name}")
        return 0
    if args.screenshot is not None and not (args.frames or args.auto):
        sys.stderr.write("demo: --screenshot needs --frames N or --auto\n")
        return EXIT_BAD_INPUT
    problem = (_output_file_problem("--screenshot", args.screenshot, (".png",))
               or _output_file_problem("--record", args.record, (".mp4", ".gif")))
    if problem:
        say(f"demo: {problem}")
        return EXIT_BAD_INPUT
    if args.record and args.record.lower().endswith(".mp4"):
        from simulation.installation import require
        require("video", "--record FILE.mp4", ("imageio_ffmpeg",))
    if args.record and args.size:
        from render.record import size_problem
        problem = size_problem(args.record, args.size)
        if problem:
            say(f"demo: {problem}")
            return EXIT_BAD_INPUT
    from simulation.session.scenario import load_scenario
    scenario = load_scenario(args.scenario)     # every error in the file, before anything opens
    reason = _no_display_reason()
    no_display = ("cannot open the demo window: {}; for a headless still or video use "
                  f"`SDL_VIDEODRIVER=dummy {command()} demo {args.scenario} --size 1920x1080 "
                  "--frames 600 --record demo.mp4`\n")
    if reason:
        sys.stderr.write(no_display.format(reason))
        return EXIT_BAD_INPUT
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from render.app import BadDisplay, NoDisplay
    from render.demo import Demo
    from render.record import Recorder, RecordingError
    recorder = Recorder(args.record, fps=args.fps, quality=args.quality) if args.record else None
    fullscreen = not (args.window or args.size)
    try:
        demo = Demo(scenario, fullscreen=fullscreen, size=args.size or (1280, 720), theme=args.theme,
                    display=args.display, seed=args.seed, auto=args.auto, recorder=recorder, cell_scale=args.cell,
                    notes=None if args.no_notes else sys.stdout)
    except BadDisplay as e:
        if recorder is not None:
            recorder.close()
        say(f"demo: {e}")
        return EXIT_BAD_INPUT
    except NoDisplay as e:
        if recorder is not None:
            recorder.close()
        sys.stderr.write(no_display.format(str(e) or "no video device"))
        return EXIT_BAD_INPUT
    t0 = time.perf_counter()
    try:
        fps = demo.run(frames=args.frames, screenshot=args.screenshot)     # it closes the recording
    except RecordingError as e:         # full screen on a display larger than the format takes, a full disk
        say(f"demo: {e}")
        return EXIT_BAD_INPUT
    except OSError as e:                # the still did not fit (a full disk)
        say(f"demo: --screenshot {args.screenshot}: cannot write it ({e.strerror or e})")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        from simulation.headless import guard
        kept = (f"; the recording {args.record} is finished ({recorder.frames} frames)"
                if recorder is not None and recorder.frames else "")
        say(f"{guard.signal_name() or 'SIGINT'}: the demo stopped at step {demo.k + 1} of {len(demo.steps)}{kept}")
        return guard.exit_code()
    if args.frames or args.auto:
        print(f"fps: {fps:.1f}")
    if args.auto:
        print(f"played {demo.k + 1} of {len(demo.steps)} steps in {time.perf_counter() - t0:.0f} s "
              f"({demo.sim.time_ns:.0f} ns of model time in the last cell)")
    if recorder is not None:
        print(f"recorded {recorder.frames} frames to {args.record}")
    for line in _predictions(demo.player):
        print(line)
    return 0


def _predictions(player) -> list[str]:
    """What the room predicted and what was measured, one line per question asked (the demo's end)."""
    lines = []
    for p in player.polls:
        votes = " / ".join(str(v) for v in p.votes)
        said = f"prediction, step {p.step + 1}: {p.question}  votes {votes}"
        if p.revealed and p.judge is not None and p.outcome is not None:
            which = f"choice {p.answer + 1}" if p.answer is not None else "no choice's band"
            said += f"; measured {p.judge} = {p.outcome:.2f}: {which}"
        lines.append(said)
    return lines


MAX_STILL = (3840, 2160)     # a handout's stills, at most (either way round, and no more pixels)


def cmd_handout(args) -> int:
    from simulation.session.scenario import load_scenario
    scenario = load_scenario(args.scenario)     # every error in the file, before anything is played
    out = Path(args.out or f"{Path(args.scenario).stem}.md")
    if out.suffix.lower() != ".md":
        say(f"handout: --out {out}: the page must end in .md")
        return EXIT_BAD_INPUT
    from render.record import larger_than
    w, h = args.size
    if larger_than(args.size, MAX_STILL):
        say(f"handout: --size {w}x{h}: a handout's stills are at most {MAX_STILL[0]}x{MAX_STILL[1]} (a page shows "
            f"less; a 16384x16384 still took 3.4 GB and minutes a frame)")
        return EXIT_BAD_INPUT
    if not out.parent.resolve().is_dir():
        say(f"handout: --out {out}: no such directory {out.parent}")
        return EXIT_BAD_INPUT
    problem = _cannot_write_in(out.parent, f"handout: --out {out}")   # known before anything is played
    if problem:
        say(problem)
        return EXIT_BAD_INPUT
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")   # drawn offscreen: no window, no display needed
    from tqdm import tqdm

    from render.handout import write_handout
    from simulation.headless import guard
    try:
        with tqdm(total=len(scenario.steps), unit="step", desc=f"handout {scenario.name}", file=sys.stderr) as bar:
            page = write_handout(scenario, out, size=args.size, theme=args.theme, seed=args.seed,
                                 cell_scale=args.cell, progress=lambda k, n: bar.update(1), stops=guard)
    except OSError as e:
        say(f"handout: cannot write {e.filename or out}: {e.strerror or e}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        say(f"{guard.signal_name() or 'SIGINT'}: the handout stopped; {out} has the steps finished before it "
            f"(and says where it stopped)")
        return guard.exit_code()
    print(f"wrote {page} and {len(scenario.steps)} stills in {page.with_name(page.stem + '-stills')}/")
    return 0


def _needs_sweep_extra(args) -> None:
    """MissingExtra unless what this sweep or I-V curve uses is installed (the `sweep` extra)."""
    from simulation.installation import require
    require("sweep", f"`{args.command}`", ("dask", "distributed"))
    if args.format == "parquet":
        require("sweep", "--format parquet", ("pyarrow",))
    if args.cluster is not None:
        require("sweep", "--cluster", ("dask_jobqueue",))


def cmd_sweep(args) -> int:
    _needs_sweep_extra(args)
    from simulation.core import config as cfgmod
    from simulation.headless.sweep import parse_vary
    base = cfgmod.load(args.preset, args.config, args.overrides)
    vary = parse_vary(args.vary)
    _say_notes(base)
    code, info = _run_sweep(args, base, vary, args.steps)
    if info is not None:
        print(f"{info['runs']} runs ({info['skipped']} already done, {info['ran']} run now, {info['wall_s']:.0f} s); "
              f"wrote {args.out}/sweep.{args.format}, summary.{args.format}, sweep.png, sweep.svg")
    return code


def cmd_iv(args) -> int:
    _needs_sweep_extra(args)
    from simulation.core import config as cfgmod
    from simulation.headless import iv
    base = iv.clamped_base(cfgmod.load(args.preset, args.config, args.overrides))
    _say_notes(base)
    vary = [("clamp.command_mV", iv.commands(args.v_from, args.v_to, args.v_step))]
    code, info = _run_sweep(args, base, vary, args.steps_per_point, report=iv.report(args.steps_per_point))
    if info is not None:
        for line in iv.lines(info["report"]):
            print(line)
        print(f"{info['runs']} clamped runs ({info['skipped']} already done, {info['ran']} run now, "
              f"{info['wall_s']:.0f} s); wrote {args.out}/iv.csv, iv.json, iv.png, iv.svg")
    return code


def _run_sweep(args, base, vary, steps: int, report=None) -> tuple[int, dict | None]:
    """Run a sweep for `sweep` or `iv`: (exit code, the sweep's info or None when it stopped)."""
    from simulation.headless import guard
    from simulation.headless.cluster import ClusterError
    from simulation.headless.sweep import SchedulerError, sweep
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        say(f"--out {args.out}: exists and is not a directory")
        return EXIT_BAD_INPUT, None
    try:
        cluster = _cluster_spec(args)
    except ClusterError as e:
        say(str(e))
        return EXIT_BAD_INPUT, None
    if args.job_script:
        if cluster is None:
            say("--job-script shows the jobs of --cluster; give --cluster slurm|pbs|sge|local too")
            return EXIT_BAD_INPUT, None
        from simulation.headless.cluster import job_script
        print(job_script(cluster))
        return 0, None
    timeout = args.timeout or (600 if cluster is not None and cluster.system != "local" else 30)
    try:
        info = sweep(base, vary, args.seeds, steps, args.out, workers=args.workers, scheduler=args.scheduler,
                     scheduler_file=args.scheduler_file, cluster=cluster,
                     sample_every=args.sample_every, fmt=args.format, progress=not args.no_progress,
                     first_seed=args.first_seed, timeout_s=timeout, report=report)
    except KeyboardInterrupt:
        say(f"{guard.signal_name() or 'SIGINT'}: {args.command} stopped; finished runs are kept in {args.out}/runs: "
            f"run the same command to resume")
        return guard.exit_code(), None
    except (SchedulerError, ClusterError) as e:
        say(str(e))
        return EXIT_BAD_INPUT, None
    except OSError as e:
        from simulation.headless.sweep import read_summary
        runs = Path(args.out) / "runs"
        kept = sum(1 for r in runs.iterdir() if read_summary(r) is not None) if runs.is_dir() else 0
        say(f"--out {args.out}: cannot write there ({e.strerror or e})"
            + (f"; {kept} finished run{'s are' if kept != 1 else ' is'} kept in {runs}: make room and run the same "
               f"command to resume" if kept else ""))
        return EXIT_BAD_INPUT, None
    for name in info["redone"]:
        say(f"note: runs/{name} had no readable summary.json; it was run again")
    for line in info["notes"]:
        say(f"note: {line}")
    unsettled = info["unsettled"]
    if unsettled:
        shown = ", ".join(unsettled[:8]) + (f" and {len(unsettled) - 8} more" if len(unsettled) > 8 else "")
        say(f"note: {len(unsettled)} of {info['runs']} runs did not settle in their window (settled = false and "
            f"their warnings in sweep.{args.format}; drawn hollow in the figure): {shown}")
    if guard.received():
        say(f"{guard.signal_name()} received while the tables were written; they are complete")
        return guard.exit_code(), info
    return 0, info


def _cluster_spec(args):
    """--cluster and its job options as a ClusterSpec (None without --cluster); ClusterError if bad."""
    job_keys = ("cores", "memory", "walltime", "jobs", "queue", "account")
    given = [f"--{k}" for k in job_keys if getattr(args, k) is not None]
    if args.cluster is None:
        if given:
            from simulation.headless.cluster import ClusterError
            raise ClusterError(f"{given[0]} describes the jobs of --cluster; give --cluster slurm|pbs|sge|local too")
        return None
    from simulation.headless.cluster import load_spec
    return load_spec(args.cluster, {k: getattr(args, k) for k in job_keys})


def cmd_plot(args) -> int:
    from simulation.headless import guard
    d = args.run_dir
    busy = guard.holder(d)
    if busy:
        say(f"plot: {d}: {busy} is still writing there; plot it when it has finished")
        return EXIT_BAD_INPUT
    for f in ("summary.json", "timeseries.csv"):
        if not os.path.isfile(os.path.join(d, f)):
            why = guard.unfinished(d)
            why = f" ({why})" if why else ""
            say(f"plot: {d} is not a finished run directory (no {f}){why}")
            return EXIT_BAD_INPUT
    from simulation.headless.figures import run_figure
    try:
        paths = run_figure(d)
    except OSError as e:            # a read-only directory, run.png a directory, a full disk
        where = e.filename2 or e.filename or d       # a rename names its target second
        say(f"plot: cannot write the figures into {d} ({os.path.basename(str(where))}: {e.strerror or e})")
        return EXIT_BAD_INPUT
    except (KeyError, ValueError, IndexError, TypeError, AttributeError, UnicodeDecodeError) as e:
        say(f"plot: {d}: summary.json or timeseries.csv is not as `run` writes it ({type(e).__name__}: {e})")
        return EXIT_BAD_INPUT
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _say_notes(cfg) -> None:
    """What the config did that its keys do not show (physics.particles' density), on stderr."""
    for line in cfg.notes:
        say(f"note: {line}")


def cmd_run(args) -> int:
    from simulation.core import config as cfgmod
    cfg = cfgmod.load(args.preset, args.config, args.overrides)
    _say_notes(cfg)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        say(f"--out {args.out}: exists and is not a directory")
        return EXIT_BAD_INPUT
    if args.window and args.window[1] > args.steps:
        say(f"--window {args.window[0]}:{args.window[1]}: ends after the run's last step ({args.steps}); "
            f"give a window within 0:{args.steps}")
        return EXIT_BAD_INPUT
    from simulation.headless import guard
    from simulation.headless.run import Interrupted, default_sample_every, notes, run
    if args.window:
        every = args.sample_every or default_sample_every(args.steps)
        a, b = args.window
        sampled = b // every - (a + every - 1) // every + 1 + (a <= args.steps <= b and args.steps % every != 0)
        if sampled < 2:
            say(f"--window {args.window[0]}:{args.window[1]}: holds fewer than 2 samples (one every {every} steps); "
                f"widen it or give --sample-every")
            return EXIT_BAD_INPUT
    try:
        summary = run(cfg, args.steps, args.out, seed=args.seed, sample_every=args.sample_every,
                      progress=not args.no_progress, window=args.window, overwrite=args.overwrite)
    except Interrupted as e:
        say(f"{guard.signal_name() or 'SIGINT'}: stopped at step {e.summary['steps']} of {args.steps}; "
            f"what was recorded is in {args.out} (summary.json says interrupted)")
        return guard.exit_code()
    except OSError as e:
        kept = getattr(e, "summary", None)
        if kept is not None:
            say(f"--out {args.out}: {kept['error']}; stopped at step {kept['steps']} of {args.steps}: the whole "
                f"rows recorded are in timeseries.csv, and summary.json says why")
        elif getattr(e, "why", None):
            say(f"--out {args.out}: {e.why}; summary.json could not be written either (.in-progress says why); "
                f"timeseries.csv keeps the whole rows recorded")
        else:
            say(f"cannot write to --out {args.out}: {e.strerror or e}")
        return EXIT_BAD_INPUT
    for line in notes(summary):
        say(line)
    v, sem = summary["V_mean_mV"], summary["V_sem_mV"]
    th = summary.get("theory") or {}
    line = f"V = {v:.2f} ± {sem:.2f} mV" if v is not None and sem is not None else "V = n/a"
    from membrane.transporters import TABLE as TRANSPORTERS
    shown = ["E_K_mV", "V_GHK_mV", "V_MN_mV"]
    shown += [t.reversal_key for t in TRANSPORTERS if t.reversal_key and summary["config"][t.name]["count"] > 0]
    extras = ", ".join(f"{k[:-3]} {th[k]:.1f}" for k in shown
                       if th.get(k) is not None and math.isfinite(th[k]))
    rate = summary["particle_steps_per_s"]
    clamp = summary.get("clamp") or {}
    if clamp.get("command_mV") is not None:
        cur = summary["currents"]
        parts = ", ".join(f"{name} {c['pA']:+.2f}" for name, c in cur.items()
                          if name != "total" and c["pA"] is not None and math.isfinite(c["pA"]) and c["pA"] != 0)
        line = (f"clamped at {clamp['command_mV']:g} mV: I = {cur['total']['pA']:+.2f} ± {cur['total']['pA_sem']:.2f} pA "
                f"outward ({parts or 'no current'})")
    print(f"{line} (window {summary['window']}); {extras} mV; "
          f"{rate / 1e6 if rate else 0:.0f} M particle-steps/s; wrote {args.out}")
    spikes = summary.get("spikes") or {}
    if spikes.get("count"):
        shown = 5
        more = " ..." if spikes["count"] > shown else ""
        print(f"{spikes['count']} spike{'s' if spikes['count'] > 1 else ''} (V above {spikes['detect_mV']:g} mV) at "
              + ", ".join(f"{t:.0f}" for t in spikes["times_ns"][:shown]) + f"{more} ns, peaks "
              + ", ".join(f"{p:+.0f}" for p in spikes["peaks_mV"][:shown]) + f"{more} mV (summary.json: spikes)")
    if guard.received():   # came while the last files were written: they are complete
        say(f"{guard.signal_name()} received after the last step; the run in {args.out} is complete")
        return guard.exit_code()
    return 0


# each subcommand's function (main turns their errors into one line and an exit code)
COMMANDS = {"presets": cmd_presets, "run": cmd_run, "sweep": cmd_sweep, "iv": cmd_iv, "plot": cmd_plot,
            "live": cmd_live, "demo": cmd_demo, "handout": cmd_handout, "validate": cmd_validate}


if __name__ == "__main__":
    sys.exit(main())
