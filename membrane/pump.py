"""Na⁺/K⁺ pump agents running the Post–Albers cycle on real particles.

Each pump is a state machine at one membrane site:

    INWARD_OPEN  --captures 3 Na⁺ within the capture radius on the inside-->  INWARD_OCCLUDED
    INWARD_OCCLUDED  --rate k, spends 1 ATP, turns outward, releases 3 Na⁺ outside-->  OUTWARD_OPEN
    OUTWARD_OPEN --captures 2 K⁺ within the capture radius on the outside-->  OUTWARD_OCCLUDED
    OUTWARD_OCCLUDED --rate k, turns inward, releases 2 K⁺ inside (cycle done)-->  INWARD_OPEN

The two conformational changes have the same rate k = 2 × max turnover, so a pump saturated with
ions completes max turnover cycles per unit time; below saturation the capture of ions limits it.
Held ions do not diffuse; they sit at the pump on the side they are on (left or right of the
mid-line), so the charge count sees them there. One cycle moves one net charge out.
The conformational changes do not depend on V here (a simplification; the real pump's forward rate
falls somewhat with hyperpolarisation).

`PumpSet` owns the pumps' arrays (`Pumps`, what the kernels read), whether they run, and the
intervention that blocks them (ouabain).
"""
from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from membrane.crossing import EFFLUX, INFLUX, INNER_FACE, N_BLOCKS, OUTER_FACE
from membrane.geometry import Band
from particles.rng import STREAM_PUMP, STREAM_RELEASE, draw, hi_symmetric, step_key, unit
from particles.species import Species
from particles.state import FAR_IN, FAR_OUT, HELD, ParticleState

NA_PER_CYCLE = 3
K_PER_CYCLE = 2
_NA = int(Species.Na)
_K = int(Species.K)


class PumpPhase(IntEnum):
    INWARD_OPEN = 0       # E1: binding Na⁺ from the cytoplasm
    INWARD_OCCLUDED = 1   # E1·3Na: waiting to phosphorylate (ATP) and turn outward
    OUTWARD_OPEN = 2      # E2-P: Na⁺ released outside, binding K⁺ from outside
    OUTWARD_OCCLUDED = 3  # E2·2K: waiting to dephosphorylate and turn inward


_IN_OPEN = int(PumpPhase.INWARD_OPEN)
_IN_OCC = int(PumpPhase.INWARD_OCCLUDED)
_OUT_OPEN = int(PumpPhase.OUTWARD_OPEN)
_OUT_OCC = int(PumpPhase.OUTWARD_OCCLUDED)


class Pumps(NamedTuple):
    """Every pump's place and cycle state (what the kernels read and change)."""
    y_nm: np.ndarray      # float64, sorted along the membrane
    phase: np.ndarray     # int8, PumpPhase
    n_held: np.ndarray    # int8, ions held now
    slots: np.ndarray     # int64[pump, NA_PER_CYCLE]: indices of the held particles, -1 for none
    p_flip: float         # per-step probability of each conformational change
    capture_r_nm: float   # reach of a binding site from the membrane face


def binding_faces(n_species: int) -> np.ndarray:
    """Which membrane face each species binds at (membrane.crossing.FaceList.faces): Na⁺ from
    the inside, K⁺ from the outside."""
    faces = np.zeros(n_species, dtype=np.uint8)
    faces[_NA] = INNER_FACE
    faces[_K] = OUTER_FACE
    return faces


def flip_probability(max_turnover_per_us: float, dt_ns: float) -> float:
    """Per-step probability of each conformational change, k = 2 × max turnover."""
    k_per_ns = 2.0 * max_turnover_per_us * 1e-3
    return float(-np.expm1(-k_per_ns * dt_ns))


@njit(cache=True, inline="always")
def _held_position(p, slot, inward, pump_y, x_left, x_right, x_mid):
    x = 0.5 * (x_left + x_mid) if inward else 0.5 * (x_mid + x_right)
    return x, pump_y[p] + 0.6 * (slot - 1.0)


@njit(cache=True, inline="always")
def _release(i, x, y, flags, held_by, to_inside, y_pump, x_left, x_right, height, h):
    """Free a held particle just off the membrane face on one side, near the pump."""
    depth = 0.3 + 0.4 * unit(h)
    x[i] = x_left - depth if to_inside else x_right + depth
    yy = y_pump + 1.0 * hi_symmetric(h)
    y[i] = min(max(yy, 0.0), height)
    flags[i] = 0
    held_by[i] = -1


@njit(cache=True, inline="always")
def _release_pump(p, to_inside, particles, charge, band, pumps, key, salt):
    """Free every ion pump p holds onto one side; returns the charge they carry (e)."""
    slots = pumps.slots
    q = 0
    for k in range(slots.shape[1]):
        i = slots[p, k]
        if i >= 0:
            _release(i, particles.x, particles.y, particles.flags, particles.held_by, to_inside, pumps.y_nm[p],
                     band.x_left_nm, band.x_right_nm, band.height_nm, draw(key, salt + p * 4 + k))
            q += charge[particles.species[i]]
            slots[p, k] = -1
    pumps.n_held[p] = 0
    return q


@njit(cache=True)
def release_all(particles, charge, band, pumps, seed, step):
    """Ouabain: every held ion goes back to the side it came from; occluded pumps reopen.

    Inward phases hold Na⁺ taken from the inside, outward phases K⁺ taken from the outside, so
    the inside charge does not change.
    """
    phase = pumps.phase
    key = step_key(seed, step, STREAM_RELEASE)
    for p in range(phase.size):
        inward = phase[p] == _IN_OPEN or phase[p] == _IN_OCC
        _release_pump(p, inward, particles, charge, band, pumps, key, 1_000_000)
        phase[p] = _IN_OPEN if inward else _OUT_OPEN


@njit(cache=True)
def advance_pumps(particles, charge, band, pumps, seed, step, transits, near):
    """Conformational changes, then captures; returns (dQ_in, cycles completed, ATP spent).

    The ions that may be captured are the ones the move pass listed within reach of their face
    (`near`, a membrane.crossing.FaceList), taken in particle order. An ion captured after
    crossing a channel, before it reached the far reservoir of this side, has completed that
    transit: it is added to `transits.counts` (row 0: this loop is serial) here."""
    x, y, species, flags, held_by = particles.x, particles.y, particles.species, particles.flags, particles.held_by
    tally = transits.counts
    pump_y, phase, n_held, slots = pumps.y_nm, pumps.phase, pumps.n_held, pumps.slots
    p_flip, capture_r = pumps.p_flip, pumps.capture_r_nm
    x_left, x_right, x_mid = band.x_left_nm, band.x_right_nm, band.x_mid_nm
    n_pumps = pump_y.size
    dq = 0
    cycles = 0
    atp = 0
    if n_pumps == 0:
        return dq, cycles, atp
    key = step_key(seed, step, STREAM_PUMP)
    rkey = step_key(seed, step, STREAM_RELEASE)
    any_open = False
    for p in range(n_pumps):
        ph = phase[p]
        if ph == _IN_OCC and unit(draw(key, p)) < p_flip:
            atp += 1  # phosphorylated: turns outward, the 3 Na⁺ leave the inside
            dq -= _release_pump(p, False, particles, charge, band, pumps, rkey, 0)
            phase[p] = _OUT_OPEN
        elif ph == _OUT_OCC and unit(draw(key, p)) < p_flip:
            cycles += 1  # dephosphorylated: turns inward, the 2 K⁺ arrive inside
            dq += _release_pump(p, True, particles, charge, band, pumps, rkey, 0)
            phase[p] = _IN_OPEN
        if phase[p] == _IN_OPEN or phase[p] == _OUT_OPEN:
            any_open = True
    if not any_open:
        return dq, cycles, atp
    r2 = capture_r * capture_r
    n = x.size
    for b in range(N_BLOCKS):        # block by block, in the order the move pass listed them
        start = b * n // N_BLOCKS
        for j in range(near.count[b]):
            i = near.index[start + j]
            xi = x[i]
            s = species[i]
            if s == _NA:
                if xi >= x_left or xi < x_left - capture_r:
                    continue
                face = x_left
                want = _IN_OPEN
                cap = NA_PER_CYCLE
            elif s == _K:
                if xi <= x_right or xi > x_right + capture_r:
                    continue
                face = x_right
                want = _OUT_OPEN
                cap = K_PER_CYCLE
            else:
                continue
            if flags[i] & HELD:
                continue
            yi = y[i]
            # pumps are sorted by y and further apart than 2 r: only the neighbours can be in reach
            lo = 0
            hi = n_pumps
            while lo < hi:
                mid = (lo + hi) >> 1
                if pump_y[mid] < yi:
                    lo = mid + 1
                else:
                    hi = mid
            for p in (lo - 1, lo):
                if p < 0 or p >= n_pumps or phase[p] != want:
                    continue
                dx = xi - face
                dy = yi - pump_y[p]
                if dx * dx + dy * dy > r2:
                    continue
                if want == _IN_OPEN and flags[i] & FAR_OUT:
                    tally[0, INFLUX, s] += 1
                elif want == _OUT_OPEN and flags[i] & FAR_IN:
                    tally[0, EFFLUX, s] += 1
                k = n_held[p]
                slots[p, k] = i
                n_held[p] = k + 1
                held_by[i] = p
                flags[i] = HELD
                x[i], y[i] = _held_position(p, k, want == _IN_OPEN, pump_y, x_left, x_right, x_mid)
                if k + 1 == cap:
                    phase[p] = _IN_OCC if want == _IN_OPEN else _OUT_OCC
                break
    return dq, cycles, atp


class PumpSet:
    """The Na⁺/K⁺ pumps on the membrane: their arrays, whether they run, and ouabain."""

    def __init__(self, y_nm: np.ndarray, max_turnover_per_us: float, capture_radius_nm: float, dt_ns: float,
                 enabled: bool):
        y = np.sort(np.asarray(y_nm, dtype=np.float64))
        n = y.size
        self.arrays = Pumps(y, np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8),
                            np.full((n, NA_PER_CYCLE), -1, dtype=np.int64),
                            flip_probability(max_turnover_per_us, dt_ns), float(capture_radius_nm))
        self.enabled = bool(enabled)

    @property
    def n(self) -> int:
        return int(self.arrays.y_nm.size)

    def set_enabled(self, enabled: bool, state: ParticleState, charge: np.ndarray, band: Band, seed: int,
                    step: int) -> bool:
        """Unblock (True) or block with ouabain (False): blocking returns held ions to their side.
        Returns whether anything changed."""
        enabled = bool(enabled)
        if enabled == self.enabled:
            return False
        if not enabled:
            release_all(state, charge, band, self.arrays, seed, step)
        self.enabled = enabled
        return True

    def renumber(self, new_index: np.ndarray) -> None:
        """Particles were removed: point the held slots at the particles' new indices."""
        held = self.arrays.slots >= 0
        self.arrays.slots[held] = new_index[self.arrays.slots[held]]

    def phase_counts(self) -> dict[str, int]:
        return {ph.name: int((self.arrays.phase == ph).sum()) for ph in PumpPhase}
