"""Frames per second of the live view, with the model stepping, at several particle counts.

    SDL_VIDEODRIVER=dummy .venv/bin/python benchmarks/bench_fps.py [--sizes 10000,100000,1000000]

Each line: the default preset with `physics.particles` set, a 1280×720 window on the current SDL
video driver (dummy when none is set), `--frames` frames at `--steps` model steps per frame (the
live default is 10), and the same frames with the model paused (drawing only). The last line is
the quiet cell: the default cell four times larger (`live --cell 4`: particles, channels, pumps
and capacitance ×4, so σ_V halves), in its own view.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import pygame  # noqa: E402

from render.app import App  # noqa: E402
from simulation.core.config import load  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--steps", type=int, default=10, help="model steps per frame")
    args = p.parse_args()
    print(f"# SDL video driver {os.environ['SDL_VIDEODRIVER']}, 1280x720, {args.steps} steps per frame")
    print(f"{'particles':>10} {'FPS stepping':>13} {'steps/s':>9} {'FPS drawing only':>17}")
    cases = [(int(s), 1.0) for s in args.sizes.split(",")] + [(None, 4.0)]
    for n, cell in cases:
        sets = [f"physics.particles={n}"] if n else []
        app = App(load(overrides=sets), preset="mammalian", size=(1280, 720), seed=1, cell_scale=cell)
        app.session.steps_per_frame = args.steps
        app.run(frames=20)  # warm up (compilation is cached)
        fps = app.run(frames=args.frames)
        app.session.paused = True
        fps_draw = app.run(frames=args.frames)
        note = "   the quiet cell (--cell 4)" if cell != 1.0 else ""
        print(f"{app.sim.n_particles:>10} {fps:>13.1f} {fps * args.steps:>9.0f} {fps_draw:>17.1f}{note}", flush=True)
        pygame.display.quit()


if __name__ == "__main__":
    main()
