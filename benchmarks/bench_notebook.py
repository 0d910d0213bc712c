"""Updates per second of the notebook view (render/notebook.py) on the default cell: the model
advanced by its steps per frame, the picture drawn offscreen, encoded as JPEG, handed to the
image widget (ipywidgets, outside a kernel: the bytes are set, not sent). Prints each part's time.

    .venv/bin/python benchmarks/bench_notebook.py [--preset mammalian] [--seconds 10] [--size 960x540]
"""
import argparse
import time

from render.notebook import NotebookView, encode_jpeg
from simulation.core.config import load
from simulation.session.session import Session


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="mammalian")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--size", default="960x540")
    a = p.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    session = Session(load(a.preset), seed=0)
    view = NotebookView(session, size=(w, h))
    view.fps = 1e9
    view.play(frames=20)                      # warm up (the first frames compile the drawing kernel)
    t_step = t_draw = t_jpeg = 0.0
    n, size = 0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        t1 = time.perf_counter()
        view.app._advance()
        t2 = time.perf_counter()
        view.app._draw()
        t3 = time.perf_counter()
        data = encode_jpeg(view.app.screen)
        view.image.value = data
        t4 = time.perf_counter()
        t_step, t_draw, t_jpeg = t_step + t2 - t1, t_draw + t3 - t2, t_jpeg + t4 - t3
        n += 1
        size += len(data)
    total = time.perf_counter() - t0
    print(f"{a.preset} ({session.sim.n_particles} particles, {session.steps_per_frame} steps per update), "
          f"{w}x{h}: {n / total:.1f} updates/s; per update: model {1e3 * t_step / n:.1f} ms, "
          f"drawing {1e3 * t_draw / n:.1f} ms, JPEG {1e3 * t_jpeg / n:.1f} ms ({size / n / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
