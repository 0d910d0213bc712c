"""Golden trajectories: 1200 steps of two presets at fixed seeds, with interventions.

The refactors of issue 7 must not change what a user sees, bit for bit. `record()` runs each case
and returns its timeseries by column name (each sample's value as the CSV would hold it, so a new
column leaves the old ones checked) and the SHA-256 of every final array
(cast to a canonical dtype, so a change of storage type alone does not count as a change of
physics). `python -m tests.golden_cases` rewrites tests/golden/golden.json; do that only for an
intended change of physics, and say so in the commit.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "golden" / "golden.json"
STEPS = 1200
SAMPLE_EVERY = 60


def _digest(a, dtype) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a).astype(dtype)).tobytes()).hexdigest()


def _cases():
    # (name, preset, overrides, seed, interventions at STEPS // 2)
    return [
        ("mammalian", "mammalian", ["physics.particles=20000"], 3, True),
        ("k-only", "k-only", ["physics.particles=20000"], 4, False),
    ]


def _intervene(sim) -> None:
    """Every kind of live change, so their side effects are pinned too."""
    sim.scale_permeability("Na", 2.0)
    sim.set_outside_concentration("K", 20.0)
    sim.scale_permeability("Cl", 0.5)
    sim.set_pumps(False)
    sim.set_field(False)
    sim.set_selectivity(False)


def _intervene_back(sim) -> None:
    sim.set_field(True)
    sim.set_selectivity(True)
    sim.set_pumps(True)
    sim.set_outside_concentration("K", 3.0)


def record_case(name, preset, overrides, seed, interventions) -> dict:
    from tests.golden_api import Simulation, TimeseriesRecorder, load, recorded_columns
    sim = Simulation(load(preset, None, overrides), seed)
    rec = TimeseriesRecorder(sim, None, SAMPLE_EVERY)
    rec.sample()
    for k in range(STEPS // SAMPLE_EVERY):
        sim.step(SAMPLE_EVERY)
        if interventions and sim.step_count == STEPS // 2:
            _intervene(sim)
        if interventions and sim.step_count == 3 * STEPS // 4:
            _intervene_back(sim)
        rec.sample()
    s = sim.state
    names = recorded_columns(rec)
    out = {
        "columns": {c: [str(r[k]) for r in rec.rows()] for k, c in enumerate(names)},
        "q_in": int(sim.q_in),
        "events": [e.label for e in sim.events],
        "x": _digest(s.x, np.float64), "y": _digest(s.y, np.float64),
        "species": _digest(s.species, np.int64), "flags": _digest(s.flags, np.int64),
        "held_by": _digest(s.held_by, np.int64),
    }
    out.update({f"array_{k}": v for k, v in _model_arrays(sim).items()})
    return out


def _model_arrays(sim) -> dict:
    from tests.golden_api import model_arrays
    return {k: _digest(v, np.float64 if v.dtype.kind == "f" else np.int64) for k, v in model_arrays(sim).items()}


def record() -> dict:
    return {name: record_case(name, *rest) for name, *rest in _cases()}


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(record(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
