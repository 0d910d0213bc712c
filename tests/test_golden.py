"""The model reproduces its recorded golden trajectories bit for bit (tests/golden_cases.py)."""
import json

import pytest

from tests.golden_cases import GOLDEN, _cases, record_case

EXPECTED = json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("case", _cases(), ids=[c[0] for c in _cases()])
def test_golden_trajectory_is_reproduced_bit_for_bit(case):
    got = record_case(*case)
    want = EXPECTED[case[0]]
    assert got["events"] == want["events"]
    missing = [c for c in want["columns"] if c not in got["columns"]]
    assert not missing, f"columns no longer recorded: {missing}"
    for c, values in want["columns"].items():   # by name: a new column leaves these checked
        k = next((k for k, (a, b) in enumerate(zip(got["columns"][c], values)) if a != b), None)
        assert k is None, f"column {c}: sample {k} differs ({got['columns'][c][k]} now, {values[k]} recorded)"
        assert len(got["columns"][c]) == len(values), f"column {c}: {len(got['columns'][c])} samples, not {len(values)}"
    assert got["q_in"] == want["q_in"]
    differing = [k for k in want if k not in ("columns", "events", "q_in") and got.get(k) != want[k]]
    assert not differing, f"final arrays differ: {differing}"
