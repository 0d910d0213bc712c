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
    for k, (r_got, r_want) in enumerate(zip(got["rows"], want["rows"])):
        assert r_got == r_want, f"sample {k} differs"
    assert len(got["rows"]) == len(want["rows"])
    assert got["q_in"] == want["q_in"]
    differing = [k for k in want if k not in ("rows", "events", "q_in") and got.get(k) != want[k]]
    assert not differing, f"final arrays differ: {differing}"
