"""Runs the signal matrix inside one process (tests/test_signals.py starts it): for each phase of a
run and each pattern of signals, `main.main` runs a tiny cell while the signal is sent to this
process at exactly that phase, and what was left on disk is reported as JSON on stdout.

Phases: building the cell, compiling (the compiler is made to swallow the interrupt, as Numba's
did), mid-run, and writing the last files. Patterns: one SIGINT, SIGTERM or SIGHUP, and two SIGINTs
(the second during the final write, or both inside the compiler).
"""
import contextlib
import io
import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import main  # noqa: E402
from simulation.core import model  # noqa: E402
from simulation.headless import run as runmod  # noqa: E402
from tests.cells import TINY  # noqa: E402

PHASES = ("building", "compiling", "mid-run", "writing")
PATTERNS = {"SIGINT": ["SIGINT"], "SIGTERM": ["SIGTERM"], "SIGHUP": ["SIGHUP"], "SIGINT twice": ["SIGINT", "SIGINT"]}
STEPS = 3000


def send(name: str) -> None:
    os.kill(os.getpid(), getattr(signal, name))


@contextlib.contextmanager
def patched(obj, attr, make):
    old = getattr(obj, attr)
    setattr(obj, attr, make(old))
    try:
        yield
    finally:
        setattr(obj, attr, old)


def probe(phase: str, signals: list[str], out: Path) -> dict:
    pending = list(signals)

    def fire(n=1):
        for _ in range(n):
            if pending:
                send(pending.pop(0))

    def building(orig):
        def init(self, *a, **k):
            fire()
            return orig(self, *a, **k)
        return init

    def compiling(orig):
        def compile_(self):
            try:                    # a compiler that swallows what is raised inside it
                fire(len(pending))
                orig(self)
            except BaseException:   # noqa: BLE001
                orig(self)
        return compile_

    calls = {"n": 0}

    def stepping(orig):
        def step(self, k=1):
            calls["n"] += 1
            if calls["n"] == 3:
                fire()
            return orig(self, k)
        return step

    def writing(orig):
        def write_json(path, data):
            fire(len(pending))
            return orig(path, data)
        return write_json

    hooks = {"building": [(model.Simulation, "__init__", building)],
             "compiling": [(model.Simulation, "compile", compiling)],
             "mid-run": [(model.Simulation, "step", stepping)],
             "writing": []}[phase] + [(runmod, "write_json", writing)]   # a second signal: while writing
    err = io.StringIO()
    with contextlib.ExitStack() as stack:
        for obj, attr, make in hooks:
            stack.enter_context(patched(obj, attr, make))
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        args = ["run", "--steps", str(STEPS), "--sample-every", "100", "--out", str(out), "--no-progress"]
        for s in TINY:
            args += ["--set", s]
        code = main.main(args)
    result = {"phase": phase, "signals": signals, "code": code, "stderr": err.getvalue(),
              "files": sorted(p.name for p in out.iterdir()) if out.exists() else None}
    summary = out / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        result["summary"] = {k: s.get(k) for k in ("interrupted", "signal", "steps", "steps_requested", "V_mean_mV")}
        result["summary"]["has_config"] = isinstance(s.get("config"), dict)
    ts = out / "timeseries.csv"
    if ts.exists():
        lines = ts.read_text().splitlines()
        width = len(lines[0].split(","))
        result["rows"] = len(lines) - 1
        result["complete_rows"] = all(len(r.split(",")) == width for r in lines[1:]) and ts.read_text().endswith("\n")
        result["last_step"] = int(lines[-1].split(",")[0]) if len(lines) > 1 else None
    return result


if __name__ == "__main__":
    base = Path(sys.argv[1])
    results = []
    for phase in PHASES:
        for label, signals in PATTERNS.items():
            results.append(probe(phase, signals, base / f"{phase}-{label.replace(' ', '-')}"))
    print(json.dumps(results))
