"""The live view inside Jupyter: shown by a real JupyterLab in headless Chromium (Debian's chromium
and chromium-driver), its picture is there and changes, and its buttons act on the cell; and in a
kernel without a browser it streams at its frame rate, pauses, stops, and shares the cell with
Lab.run. Executing a notebook does not prove a widget shows; a browser does."""
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SMALL = ("['box.height_nm=200', 'physics.particles=40000', 'physics.capacitance_e_per_mV=0.5', 'pump.count=20']")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _execute(cells: list[str], tmp_path: Path) -> list:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream") for c in nb.cells]


def test_in_a_kernel_the_view_streams_pauses_stops_and_waits_for_a_run(tmp_path):
    out = _execute([
        f"from simulation.lab import Lab\nlab = Lab('mammalian', set={SMALL})\nview = lab.show()\n"
        "import sys; print('pygame' in sys.modules)",
        "import time; time.sleep(2); n0, v0 = view.frames, view.image.value; time.sleep(2)\n"
        "print(view.frames - n0, v0 != view.image.value, view.image.format)",
        "view.act('ouabain'); print(view.status.value, lab.sim.pumps_on)",
        "view.stop(); t = lab.sim.time_ns; time.sleep(0.5); print(view.running, lab.sim.time_ns == t)",
        "view.start(); lab.run(1000, progress=False); view.stop(); print(lab.timeseries()['step'].iloc[-1] > 0)",
    ], tmp_path)
    assert out[0].strip() == "True"
    frames, changed, fmt = out[1].split()
    assert 2 * 10 <= int(frames) <= 2 * 16 and changed == "True" and fmt == "jpeg"   # 15 per second, capped
    assert "ouabain" in out[2] and out[2].strip().endswith("False")
    assert out[3].split() == ["False", "True"]
    assert out[4].strip() == "True"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _picture(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver "
                    "(.ci/run installs them: sudo apt install chromium chromium-driver)")
def test_jupyterlab_in_headless_chromium_shows_the_view_and_it_changes(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"from simulation.lab import Lab\nlab = Lab('mammalian', set={SMALL})\n"
                                          "view = lab.show()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, tmp_path / "nb" / "view.ipynb")
    port, token = _free_port(), "rpl-test"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    server = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path / 'nb'}",
                               "--LabApp.expose_app_in_browser=True", "--ServerApp.ip=127.0.0.1", "--allow-root"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    driver = None
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1100"):
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.get(f"http://127.0.0.1:{port}/lab/tree/view.ipynb?token={token}")
        deadline = time.time() + 90
        while time.time() < deadline:     # the app, then the notebook's kernel, ready
            ready = driver.execute_script(
                "const a = window.jupyterapp; if (!a) return false;"
                "const w = a.shell.currentWidget; return !!(w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.connectionStatus"
                " === 'connected');")
            if ready:
                break
            time.sleep(0.5)
        driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        img = None
        deadline = time.time() + 120
        while time.time() < deadline:
            found = driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea img")
            if found and (found[0].get_attribute("src") or "").startswith("blob:") and found[0].size["width"] > 300:
                img = found[0]
                break
            time.sleep(0.5)
        if img is None:
            driver.save_screenshot(str(tmp_path / "page.png"))
        assert img is not None, f"no picture in the notebook's output (the page: {tmp_path / 'page.png'})"
        time.sleep(1.0)
        first = _picture(img.screenshot_as_png)
        time.sleep(2.0)
        second = _picture(img.screenshot_as_png)
        shots = tmp_path / "shots"
        shots.mkdir()
        (shots / "first.png").write_bytes(img.screenshot_as_png)
        # the picture is there: the ions' colours, not a blank or a broken-image icon
        assert first.shape[1] >= 300 and first.std() > 30
        colours = {tuple(c) for c in (first[::7, ::7] // 32).reshape(-1, 3).astype(int)}
        assert len(colours) > 40
        # and it changes: the ions move and the scope's trace grows
        assert np.abs(second - first).mean() > 2.0
        buttons = [b.text for b in driver.find_elements(By.CSS_SELECTOR, ".jupyter-widgets button")]
        assert {"Pause", "Ouabain", "[K]o ×2", "Clamp", "■ stop"} <= set(buttons)
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_playing_in_the_cell_ends_cleanly_when_interrupted(monkeypatch):
    """`play()` runs the view in the cell; the kernel's stop button (KeyboardInterrupt) ends it
    with the last picture kept and a word under it, and the view can go on."""
    from render.notebook import NotebookView
    from simulation.core.config import load
    from simulation.session.session import Session
    from tests.cells import TINY
    view = NotebookView(Session(load("mammalian", None, TINY)), size=(640, 400), fps=1000)
    draw = view._draw
    calls = []

    def interrupted_on_the_fifth(advance):
        calls.append(advance)
        if len(calls) == 5:
            raise KeyboardInterrupt
        draw(advance)
    monkeypatch.setattr(view, "_draw", interrupted_on_the_fifth)
    view.play(seconds=60)
    assert len(calls) == 5 and "interrupted" in view.status.value and view.image.value[:2] == b"\xff\xd8"
    t = view.session.sim.time_ns
    monkeypatch.setattr(view, "_draw", draw)
    assert view.play(frames=3) > 0 and view.session.sim.time_ns > t
