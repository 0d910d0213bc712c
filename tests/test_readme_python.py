"""The README's "Python" section runs as written: its python blocks, in order, in a fresh
interpreter (in a scratch directory, so its runs/ stay there)."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_section_code() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.S))


def test_the_readmes_python_examples_run_as_written(tmp_path):
    code = python_section_code()
    assert "Lab(" in code and "sweep(" in code and "iv(" in code and "save(" in code
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"V = -\d+\.\d ± \d+\.\d+ mV, GHK -\d+\.\d mV", r.stdout), r.stdout
    assert "ouabain: the Na+/K+ pumps are blocked" in r.stdout
    assert (tmp_path / "runs" / "from-python" / "summary.json").is_file()
