"""A perfused bath: the far outside keeps the saline's composition, as a slice's bath does.

A real neuron's extracellular space is connected to a volume (or a perfusion flow) so large that
its spikes do not change [K⁺]o. This box's outside holds ~1 600 K⁺ beside the spiking cell:
one spike lets ~600 out and moves E_K by 9 mV. With `perfusion.enabled`, every `every_ns` the
outside is brought back to the composition the config asks for: among the outside's free ions of
each charge (+1: K⁺, Na⁺, Y⁺; −1: Cl⁻, X⁻; +2: Ca²⁺, Mg²⁺), the species in excess of its share
gives ions to the species short of it by changing their kind — the ions farthest from the membrane
first, and only beyond `from_nm` of it, where the bulk is mixed and no pore, pump or step reaches.
Nothing is made or lost, no charge moves and no ion jumps: the total count and the charge on each
side stay exact (tests). What changes is what each ion is, as fresh saline flowing past would
change it. The inside is left as it is: what a train does to [Na⁺]i and [K⁺]i is the cell's own.
"""
from __future__ import annotations

import numpy as np

from particles.species import CHARGE, DIFFUSING_NAMES, Species
from particles.state import HELD


def bath_shares(outside_counts: np.ndarray) -> dict[int, dict[int, float]]:
    """Per charge, each mobile species' share of the outside's ions of that charge (from the
    counts placed at the start: the saline the config asks for)."""
    shares: dict[int, dict[int, float]] = {}
    for name in DIFFUSING_NAMES:
        s = int(Species[name])
        shares.setdefault(CHARGE[name], {})[s] = float(outside_counts[s])
    for z, by in list(shares.items()):
        total = sum(by.values())
        if total <= 0:
            del shares[z]
            continue
        shares[z] = {s: n / total for s, n in by.items()}
    return shares


def targets(counts: dict[int, int], shares: dict[int, float]) -> dict[int, int]:
    """Each species' count for `counts`' total split by `shares` (largest remainders: the
    targets add up to the total exactly)."""
    total = sum(counts.values())
    raw = {s: total * f for s, f in shares.items()}
    out = {s: int(np.floor(r)) for s, r in raw.items()}
    left = total - sum(out.values())
    for s in sorted(raw, key=lambda s: (-(raw[s] - out[s]), s))[:left]:
        out[s] += 1
    return out


def perfuse(x: np.ndarray, species: np.ndarray, flags: np.ndarray, x_right: float, from_nm: float,
            shares: dict[int, dict[int, float]], exchanged: np.ndarray) -> int:
    """Bring the outside back to `shares` by changing the kind of far-outside ions in place;
    add each change to `exchanged` (per species: ions made into it minus ions made out of it);
    return how many ions changed."""
    outside = (x > x_right) & ((flags & HELD) == 0)
    far = outside & (x > x_right + from_nm)
    counts_out = np.bincount(species[outside], minlength=exchanged.size)
    changed = 0
    for by in shares.values():
        now = {s: int(counts_out[s]) for s in by}
        want = targets(now, by)
        excess = {s: now[s] - want[s] for s in by if now[s] > want[s]}
        short = [(s, want[s] - now[s]) for s in sorted(by) if want[s] > now[s]]
        if not excess or not short:
            continue
        givers = []
        for s, n in sorted(excess.items()):
            idx = np.flatnonzero(far & (species == s))
            givers.append(idx[np.argsort(-x[idx], kind="stable")][:n])   # the farthest first
        pool = np.concatenate(givers) if givers else np.zeros(0, dtype=np.int64)
        pool = pool[np.argsort(-x[pool], kind="stable")]
        at = 0
        for s, n in short:
            take = pool[at:at + n]
            at += take.size
            if take.size:
                np.subtract.at(exchanged, species[take].astype(np.int64), 1)
                exchanged[s] += take.size
                species[take] = s
                changed += take.size
    return changed
