"""A physics check's row: what was measured, against what, with which tolerance (validate's table,
and the classic experiments' rows)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

Z_TOL = 3.0  # checks pass within three standard errors


@dataclass
class Check:
    name: str
    measured: float
    expected: float
    sigma: float
    unit: str = "mV"
    lo: float | None = None   # for range checks: measured must lie in [lo, hi] (sigma shown only)
    hi: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)
    informative: bool = False  # shown, not judged
    short: str = ""            # why its run is too short to judge it (`too_short`): --quick leaves it out

    @property
    def diff(self) -> float:
        return self.measured - self.expected

    @property
    def passed(self) -> bool:
        if self.informative:
            return True
        if not (math.isfinite(self.measured) and math.isfinite(self.expected)):
            return False
        if self.lo is not None:
            return self.lo <= self.measured <= self.hi
        return abs(self.diff) <= Z_TOL * self.sigma
