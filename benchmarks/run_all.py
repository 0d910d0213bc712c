"""Every benchmark in one run, one after another (each in its own process, so none warms another's
caches or threads):

    .venv/bin/python benchmarks/run_all.py

bench_model (full model against bare NumPy and bare Numba diffusion, by size), bench_threads
(thread scaling, quiet and with a busy rival, and whole runs on every thread against one with the
rival), bench_phases (time per phase of a step, and the ratio to a bare kernel with a porous
membrane), bench_fps (live view frames per second at 10⁴, 10⁵, 10⁶ particles and for the quiet
cell), bench_notebook (the notebook view's updates per second), bench_iv (the README's 17-point
I–V curve, start to finish), bench_ouabain (the ouabain run-down to within 5 mV of Donnan).
"""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ("bench_model.py", "bench_threads.py", "bench_phases.py", "bench_fps.py", "bench_notebook.py", "bench_iv.py",
           "bench_ouabain.py")


def main() -> int:
    env = dict(os.environ)
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    for name in SCRIPTS:
        print(f"\n$ {os.path.basename(sys.executable)} benchmarks/{name}", flush=True)
        r = subprocess.run([sys.executable, os.path.join(HERE, name)], env=env)
        if r.returncode != 0:
            return r.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
