"""The crossing rule: propose Brownian moves, resolve walls and pores, Metropolis on the field.

The potential is φ = V·w(x), with w = 1 for x < x_left, 0 for x > x_right, linear across the band
(Goldman's constant field). w is also the share of a charge at x induced on the inside
(Ramo–Shockley): Q_in = Σ z·w, V = Q_in / C. A move changes the capacitor's energy Q²/2C by
exactly z·Δw·(V + z·Δw / 2C) (the field's work plus the move's own charging, which makes the
energy change of a move and of its reverse equal and opposite), and is accepted with probability
min(1, exp(−ΔU / V_T)); in the bulk Δw = 0, so the field acts only in a pore, and V changes
smoothly as an ion moves through a pore instead of jumping at the mid-line. The membrane is
a wall except at pores: a particle may enter the band only into an open pore of its own species,
and a closed pore holds still whatever is inside it (no ion enters, leaves or moves in it until it
reopens). So in every gate state the rule is symmetric and detailed balance holds, and a pore open
a fraction p of the time passes exactly p times the ions of an open one, however fast it flickers
compared with the time an ion takes to cross it. Inside a pore its side walls reflect. A pore may
be slower than the bulk (its type's `pore_D_factor`): every move that starts or ends in it is
accepted with that factor on top of the field's Metropolis factor, a lazy walk with D × factor
inside, symmetric between a move and its reverse, so detailed balance holds unchanged.
Nothing ever jumps the band: the step half-width is a fraction of the band's thickness.

Unidirectional fluxes are counted as tracer fluxes between the two reservoirs: an ion counts as
efflux when it reaches the outside bulk beyond `margin` nm from the membrane having last been in
the inside bulk beyond `margin` (and the reverse for influx). An ion that leaves a pore and
re-enters it at once (frequent in 2D), or crosses and at once crosses back, is not counted, so
Ussing's flux ratio applies. (Counting at the faces instead, margin 0, was tried: immediate
re-crossings then add to both directions and push the K⁺ ratio 12 % toward 1.)
A transporter that takes an ion which crossed a channel but had not yet reached the far reservoir
counts that transit (`membrane.transporters`), then clears the marks: only crossings through
channels count. The counts go into `Transits` with one row per fixed block of particles
(`N_BLOCKS`, whatever the number of threads), so threads never write the same counter and the
totals are exact. Beside the counts, `Transits.charge` adds up, per species (and `type_charge` per
channel type), the induced inside charge z·Δw of every move in a pore: the charge each ion
carries in through the channels, so the current it carries (what a voltage clamp's electrode
supplies to hold V), exact at every step, not only once an ion arrives.

The move pass also lists, per block, the free ions whose move may end within reach of the
membrane face their species binds at (`FaceList`: those that start within reach plus the longest
step): the transporters then look only at those, instead of scanning every particle each step.
The list is in particle order, as a scan would be, so the captures are the same.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from membrane.channels import pore_at
from particles.diffusion import propose_step, stirred_accepts, stirred_scale, stirred_weights
from particles.rng import STREAM_METROPOLIS, STREAM_MOVE, draw, step_key, unit
from particles.state import FAR_IN, FAR_OUT, HELD

N_BLOCKS = 64            # blocks of particles with a row of counters each (fixed: results do not depend on threads)
# The block each slot of the parallel loop takes: slot k's 6 bits reversed. A thread takes a
# contiguous run of slots, so it gets blocks from all over the particle array, which is stored by
# compartment and species (whole blocks of fixed anions, that need no work): the threads' shares
# of work are even.
BLOCK_ORDER = np.array([int(format(k, "06b")[::-1], 2) for k in range(N_BLOCKS)], dtype=np.int64)
LIST_ONLY, WHOLE_RULE = 1, 2   # marks the first pass leaves in `hard` for the second
CHUNK = 256              # particles the first pass takes at a time (of one species, nearly always)
EFFLUX, INFLUX = 0, 1    # first index of a row of Transits.counts and of the crossing counters


class Field(NamedTuple):
    """How the pores treat ions: the thermal voltage, the charging voltage 1/C, and the live switches."""
    vt_mV: float
    mV_per_e: float   # 1 / C: how much one elementary charge moved across the band changes V
    on: bool          # off: every move in a pore is accepted as if Δφ = 0
    selective: bool   # off: every pore admits every permeant species


INNER_FACE, OUTER_FACE = 1, 2   # bits of FaceList.faces


class FaceList(NamedTuple):
    """The free ions the move pass lists for the pumps: those of a species marked for a face that
    may end the move at most `reach_nm` from it (they start within reach plus the longest step,
    on either side of the face); the pumps check where they did end. Block b's indices start at
    index[b·n // N_BLOCKS]."""
    reach_nm: float          # < 0: list nothing (the pumps are off)
    faces: np.ndarray        # uint8[species]: INNER_FACE | OUTER_FACE
    index: np.ndarray        # int64[n]: the listed particles
    count: np.ndarray        # int64[N_BLOCKS]: how many block b listed


def new_face_list(reach_nm: float, faces: np.ndarray, n_particles: int) -> FaceList:
    return FaceList(float(reach_nm), faces, np.zeros(n_particles, dtype=np.int64), np.zeros(N_BLOCKS, dtype=np.int64))


class Transits(NamedTuple):
    """What the channels carried, cumulative, one row per block; sum over blocks for the totals."""
    counts: np.ndarray   # int64[block, EFFLUX/INFLUX, species]: reservoir-to-reservoir transits
    charge: np.ndarray   # float64[block, species]: induced inside charge carried in, Σ z·Δw (e)
    type_charge: np.ndarray   # float64[block, channel type]: the same, by the type of the pore it moved in


def new_transits(n_species: int, n_types: int) -> Transits:
    return Transits(np.zeros((N_BLOCKS, 2, n_species), dtype=np.int64), np.zeros((N_BLOCKS, n_species)),
                    np.zeros((N_BLOCKS, n_types)))


@njit(cache=True, inline="always")
def inside_share(x, x_left, x_right):
    """w(x): the share of a charge at x induced on the inside, and φ / V (constant field):
    1 in the inside bulk, 0 in the outside bulk, linear across the band."""
    if x < x_left:
        return 1.0
    if x > x_right:
        return 0.0
    return (x_right - x) / (x_right - x_left)


@njit(cache=True, parallel=True)
def move_particles(particles, kinds, band, pores, field, stirring, v_mV, seed, step, transits, near, hard):
    """One Brownian step of every free particle, resolved against the membrane.

    Moves `particles` in place, adds the reservoir-to-reservoir transits completed this step and
    the charge each species carried in to `transits`, lists the ions that may end within reach of
    their face in `near` (a FaceList), and returns dQ_in: the change of the induced inside charge
    Σ z·w (e).
    (Inside the prange only `hard`, an argument of its own, is written directly: Numba's parfor
    drops writes there to an array taken from a tuple, as if they were dead. The list's counts are
    copied in after the loop.)

    Each block is done in two passes over its particles. The first, without branches (so the
    compiler vectorises it), makes every plain move (`_plain_move`), a chunk of particles at a
    time: a free particle moving bulk to bulk on one side (with the stirred bulk's
    Metropolis–Hastings factor, unless a wall is within reach) and crossing no transit margin for
    the first time, or trying to enter the band where no site has a pore (rejected). It marks in
    `hard` (uint8[≥ n], scratch) the plain moves that ended within a pump's reach of the face their
    species binds at (LIST_ONLY) and every other particle (WHOLE_RULE: 0.3 % in the default cell).
    The second lists the first for the pumps and applies the whole rule to the others
    (`_whole_rule`). Both draw the same random numbers for a particle (the step, and the
    Metropolis test where the first pass needs it), so the result is exactly what the whole rule
    alone gives. A chunk of fixed anions only has its marks cleared.
    """
    species = particles.species
    step_a = kinds.step_a_nm
    a_reach = step_a.max() * (1.0 + stirring.extra_scale)   # the longest step anywhere
    # what a plain move reads of the band: its faces, the box, the transit margins, how far from
    # a wall a change of step length may be taken as uniform squares, the pumps' reach; 1 / the
    # sites' pitch and (a hair wider, so rounding never hides a pore) the share of it a pore spans.
    # `thin`: a move whose step changes (from the membrane's faces to the ramp's end and a step
    # beyond) can come within `clear` of the box's side walls, so the first pass takes the walls'
    # reflections into the Metropolis–Hastings factor too
    clear = 2.0 * a_reach
    changing_nm = stirring.from_nm + (1.0 / stirring.per_ramp_nm if stirring.per_ramp_nm > 0.0 else 0.0) + a_reach
    thin = (stirring.extra_scale != 0.0) & ((band.x_left_nm - changing_nm <= clear)
                                            | (band.width_nm - band.x_right_nm - changing_nm <= clear))
    geo = (band.x_left_nm, band.x_right_nm, band.width_nm, band.height_nm, band.x_left_nm - band.margin_nm,
           band.x_right_nm + band.margin_nm, clear, near.reach_nm,
           1.0 / band.site_pitch_nm, (band.pore_half_nm + 1e-6) / band.site_pitch_nm)
    keys = (step_key(seed, step, STREAM_MOVE), step_key(seed, step, STREAM_METROPOLIS))
    faces = near.faces if near.reach_nm >= 0.0 else np.zeros_like(near.faces)   # the pumps are off: no face
    n = species.size
    dq_block = np.zeros(N_BLOCKS)
    listed_block = np.zeros(N_BLOCKS, dtype=np.int64)
    for slot in prange(N_BLOCKS):
        b = BLOCK_ORDER[slot]
        start = b * n // N_BLOCKS
        end = (b + 1) * n // N_BLOCKS
        # 1. the plain moves, a chunk at a time: in a chunk of one species (nearly all: particles are
        # stored by species) its step and faces are constants of the loop, which then needs no gathers
        c = start
        while c < end:
            ce = min(c + CHUNK, end)
            s = species[c]
            if _one_species(species, c, ce, s):
                _plain_chunk(c, ce, particles, hard, step_a[s], faces[s], keys, geo, stirring, thin)
            else:
                _plain_mixed(c, ce, particles, hard, step_a, faces, keys, geo, stirring)
            c = ce
        # 2. the whole rule for the rest, in a function of its own: written here, in the prange
        # body, its code kept the first pass from vectorising (1250 µs a step instead of 290)
        dq_b, listed = _whole_rule(b, hard, particles, kinds, band, pores, field, stirring, v_mV, keys, transits, near)
        dq_block[b] = dq_b
        listed_block[b] = listed
    dq = 0.0
    for b in range(N_BLOCKS):   # in block order (an array .sum() here would be a parallel reduction)
        dq += dq_block[b]
        near.count[b] = listed_block[b]
    return dq


@njit(cache=True, inline="always")
def _plain_move(keys, i, xo, yo, f, a, fs, geo, stirring, walls):
    """Particle i's move if it is plain, without branches (so the loops around it vectorise):
    returns its position after the step and its mark (0: done; LIST_ONLY: done, but it ended
    within a pump's reach of the face its species binds at, `fs`; WHOLE_RULE: not done, the
    position is unchanged). Plain: a free particle moving bulk to bulk on one side, with the
    stirred bulk's Metropolis–Hastings factor (unless a wall is within reach and not `walls`),
    crossing no transit margin for the first time; or one that would enter the band where it has
    no pore (rejected). It draws what the whole rule draws, so the result is the same."""
    x_left, x_right, width, height, far_in, far_out, clear, reach, per_pitch, pore_share = geo
    key, mkey = keys
    depth_o = max(x_left - xo, xo - x_right)      # from the nearer face; < 0 in the band
    half = a * stirred_scale(stirring, depth_o)
    xn, yn, _ = propose_step(key, i, xo, yo, half, width, height)
    depth_n = max(x_left - xn, xn - x_right)
    half_n = a * stirred_scale(stirring, depth_n)
    one_side = min(depth_o, depth_n) > 0.0        # both in the bulk: one side (no step spans the band)
    # from the bulk into the band where no site has a pore: the band is a wall there, the move is rejected
    site = yn * per_pitch   # (a product: a division would check for 0 and keep the loop from vectorising)
    into_wall = (depth_o > 0.0) & (depth_n <= 0.0) & (abs(site - np.floor(site) - 0.5) > pore_share)
    # where the stirring changes, Metropolis–Hastings: away from the walls its factor is that of
    # two uniform squares, (half / half_n)²; near them, the ratio of the reflected proposals' densities
    # (`walls`, a constant where it is called: near the walls too, where the box is thin; or only
    # away from them, the rest to the whole rule, which saves the paths' arithmetic in a wide box)
    same_scale = half_n == half
    clear_of_walls = min(xo, width - xo, yo, height - yo) > clear
    if walls:
        num, den = stirred_weights(xo, yo, xn, yn, half, half_n, width, height, clear_of_walls)
        simple_mh = True
    else:
        num, den = stirred_weights(xo, yo, xn, yn, half, half_n, width, height, True)
        simple_mh = same_scale | clear_of_walls
    accepted = one_side & (same_scale | stirred_accepts(num, den, unit(draw(mkey, i))))
    xf = xn if accepted else xo
    depth_f = depth_n if accepted else depth_o
    marks_kept = (not accepted) | (((xn >= far_in) | ((f & FAR_IN) != 0)) & ((xn <= far_out) | ((f & FAR_OUT) != 0)))
    # on a side whose face its species is not bound at, or farther from the face than reach
    unreachable = ((fs == 0) | (depth_f > reach) | (((fs & OUTER_FACE) == 0) & (xf > x_right))
                   | (((fs & INNER_FACE) == 0) & (xf < x_left)))
    simple = ((f & HELD) == 0) & ((one_side & simple_mh & marks_kept) | into_wall)
    moved = simple & accepted
    mark = 0 if (simple & unreachable) | (a == 0.0) else (LIST_ONLY if simple else WHOLE_RULE)
    return (xn if moved else xo), (yn if moved else yo), mark


@njit(cache=True, error_model="numpy")   # no zero checks on divisions: they would stop vectorisation
def _plain_chunk(start, end, particles, hard, a, fs, keys, geo, stirring, thin):
    """The first pass over particles [start, end) of one species (step half-width `a`, faces `fs`),
    in a `thin` box with the side walls' reflections (two loops: `walls` a constant in each)."""
    x, y, flags = particles.x, particles.y, particles.flags
    if a == 0.0:   # fixed anions: nothing moves
        hard[start:end] = 0
        return
    # unsigned indices: Numba then skips the negative-index wraparound on every array access
    if thin:
        for i in range(np.uint64(start), np.uint64(end)):
            x[i], y[i], hard[i] = _plain_move(keys, i, x[i], y[i], flags[i], a, fs, geo, stirring, True)
    else:
        for i in range(np.uint64(start), np.uint64(end)):
            x[i], y[i], hard[i] = _plain_move(keys, i, x[i], y[i], flags[i], a, fs, geo, stirring, False)


@njit(cache=True, error_model="numpy")
def _plain_mixed(start, end, particles, hard, step_a, faces, keys, geo, stirring):
    """The first pass over particles [start, end) of several species."""
    x, y, species, flags = particles.x, particles.y, particles.species, particles.flags
    for i in range(np.uint64(start), np.uint64(end)):
        s = species[i]
        x[i], y[i], hard[i] = _plain_move(keys, i, x[i], y[i], flags[i], step_a[s], faces[s], geo, stirring, True)


@njit(cache=True)
def _one_species(species, start, end, s):
    """Whether every particle in [start, end) is of species s."""
    other = 0
    for i in range(start, end):
        other += species[i] != s
    return other == 0


@njit(cache=True)
def _whole_rule(b, hard, particles, kinds, band, pores, field, stirring, v_mV, keys, transits, near):
    """Block b's second pass: lists the LIST_ONLY marks for the pumps and applies the whole
    crossing rule to the WHOLE_RULE marks (`keys`: the step's move and Metropolis keys); returns
    (dQ_in, ions listed for the pumps in near.index), in particle order."""
    key, mkey = keys
    x, y, species, flags = particles.x, particles.y, particles.species, particles.flags
    tally, carried, type_carried = transits.counts, transits.charge, transits.type_charge
    n = x.size
    start = b * n // N_BLOCKS
    end = (b + 1) * n // N_BLOCKS
    near_index = near.index
    a_reach = kinds.step_a_nm.max() * (1.0 + stirring.extra_scale)   # the longest step anywhere
    step_a, charge, permeant = kinds.step_a_nm, kinds.charge, kinds.permeant
    width, height = band.width_nm, band.height_nm
    x_left, x_right = band.x_left_nm, band.x_right_nm
    pore_y0, pore_y1, pore_species, pore_open, pore_p_move = pores.y0, pores.y1, pores.species, pores.is_open, pores.p_move
    pore_kind, at_site = pores.kind, pores.at_site
    per_pitch = 1.0 / band.site_pitch_nm
    vt_mV, mv_per_e, field_on, selective = field.vt_mV, field.mV_per_e, field.on, field.selective
    far_in = x_left - band.margin_nm
    far_out = x_right + band.margin_nm
    reach, faces = near.reach_nm, near.faces
    dq_b = 0.0
    listed = 0
    words = hard[:hard.size // 8 * 8].view(np.uint64)   # eight marks at a time: most are 0
    k = start
    while k < end:
        if (k & 7) == 0 and (k >> 3) < words.size and k + 8 <= end and words[k >> 3] == 0:
            k += 8
            continue
        i = np.uint64(k)
        k += 1
        mark = hard[i]
        if mark == 0:
            continue
        if mark == LIST_ONLY:   # moved by the first pass to within a pump's reach
            near_index[start + listed] = i
            listed += 1
            continue
        f = flags[i]
        if f & HELD:
            continue
        s = species[i]
        fs = faces[s]
        if fs != 0 and reach >= 0.0:
            # list it for the pumps if this move can end within their reach (|Δx| ≤ a_reach,
            # also out of a pore); they check where it did end. (A plain move cannot.)
            xo = x[i]
            if ((fs & INNER_FACE and x_left - reach - a_reach <= xo < x_left + a_reach)
                    or (fs & OUTER_FACE and x_right - a_reach < xo <= x_right + reach + a_reach)):
                near_index[start + listed] = i
                listed += 1
        a = step_a[s]
        if a == 0.0:
            continue
        xo = x[i]
        yo = y[i]
        # the step's scale from the depth in the bulk (0 in the band), without branches
        depth_o = max(x_left - xo, xo - x_right, 0.0)
        half = a * stirred_scale(stirring, depth_o)
        xn, yn, _ = propose_step(key, i, xo, yo, half, width, height)
        if (xn < x_left and xo < x_left) or (xn > x_right and xo > x_right):
            # bulk to bulk: Brownian motion; Metropolis–Hastings where the stirring changes
            depth_n = max(x_left - xn, xn - x_right)
            half_n = a * stirred_scale(stirring, depth_n)
            if half_n != half:
                num, den = stirred_weights(xo, yo, xn, yn, half, half_n, width, height,
                                           min(xo, width - xo, yo, height - yo) > 2.0 * a_reach)
                if not stirred_accepts(num, den, unit(draw(mkey, i))):
                    continue
            x[i] = xn
            y[i] = yn
            if xn < far_in:
                if not (f & FAR_IN):
                    flags[i] = FAR_IN
                    if f & FAR_OUT:
                        tally[b, INFLUX, s] += 1
            elif xn > far_out:
                if not (f & FAR_OUT):
                    flags[i] = FAR_OUT
                    if f & FAR_IN:
                        tally[b, EFFLUX, s] += 1
            continue
        old_in = xo >= x_left and xo <= x_right
        new_in = xn >= x_left and xn <= x_right
        if not old_in and not new_in:
            continue  # a jump over the band: rejected (unreachable while a < thickness)
        if old_in:
            jo = pore_at(yo, per_pitch, at_site, pore_y0, pore_y1)
            if jo < 0 or pore_open[jo] == 0:
                continue  # a closed pore holds its ions still
            j = jo
            if new_in:
                if yn < pore_y0[jo]:
                    yn = 2.0 * pore_y0[jo] - yn
                elif yn > pore_y1[jo]:
                    yn = 2.0 * pore_y1[jo] - yn
        else:
            j = pore_at(yn, per_pitch, at_site, pore_y0, pore_y1)
            if j < 0 or pore_open[j] == 0 or not permeant[s]:
                continue
            if selective and pore_species[j] != s:
                continue
        dq = charge[s] * (inside_share(xn, x_left, x_right) - inside_share(xo, x_left, x_right))
        # accept with p_move (the pore's D / the bulk's: the same for a move and its reverse)
        # times the Metropolis factor of the field
        accept = pore_p_move[j]
        if field_on:
            de = dq * (v_mV + 0.5 * dq * mv_per_e)
            if de > 0.0:
                accept *= np.exp(-de / vt_mV)
        if accept < 1.0 and unit(draw(mkey, i)) >= accept:
            continue
        x[i] = xn
        y[i] = yn
        dq_b += dq
        carried[b, s] += dq
        type_carried[b, pore_kind[j]] += dq
    return dq_b, listed


# ---- single-file pores -------------------------------------------------------------------------
#
# In a single-file pore (its type's `single_file`) the ions keep their order along the pore: none
# passes another. For identical point ions in a row this changes no position: two ions that would
# pass instead meet and turn back, which leaves the same set of places as if they had passed, only
# with their identities swapped. So the rule is applied to the identities alone: after each move,
# the ions in or just through each single-file pore take back, in order along x, the tracer marks
# (FAR_IN / FAR_OUT: the reservoir each came from) that they had in order before it. V, the
# currents and the permeability are exactly those of the same pores without the rule; what changes
# is which ion is which, and so the unidirectional (tracer) fluxes: Hodgkin & Keynes's (1955) long
# pore, whose flux-ratio exponent n' exceeds 1 when the pores hold several ions at a time.
# An ion entering a pore is placed before or behind those in it by the mouth it came in at (a move
# never jumps the band); one leaving is ordered by where it lands. Two ions that both enter from
# one side were both in the bulk, where passing is free: they keep their marks.

TRACER = FAR_IN | FAR_OUT


@njit(cache=True)
def single_file_scan(particles, band, pores, out_i, out_j, out_x):
    """Every ion now in an open or closed single-file pore of its own species: its index, pore and
    x into out_*; returns how many."""
    x, y, species = particles.x, particles.y, particles.species
    x_left, x_right = band.x_left_nm, band.x_right_nm
    per_pitch = 1.0 / band.site_pitch_nm
    m = 0
    for i in range(x.size):
        xi = x[i]
        if xi < x_left or xi > x_right:
            continue
        j = pore_at(y[i], per_pitch, pores.at_site, pores.y0, pores.y1)
        if j < 0 or pores.single_file[j] == 0 or pores.species[j] != species[i] or m >= out_i.size:
            continue
        out_i[m] = i
        out_j[m] = j
        out_x[m] = xi
        m += 1
    return m


@njit(cache=True)
def single_file_relabel(particles, band, pores, hard, m_before, b_i, b_j, b_x, a_i, a_j, a_x):
    """After a move: restore each single-file pore's order of tracer marks. `b_*` (m_before
    entries): the ions in such pores before the move, with their x then; the ions in them now are
    written to `a_*` (the next step's `b_*`); returns how many. Entrants are found among the moves
    the whole crossing rule made (`hard` == WHOLE_RULE)."""
    x, y, species, flags = particles.x, particles.y, particles.species, particles.flags
    x_left, x_right = band.x_left_nm, band.x_right_nm
    per_pitch = 1.0 / band.site_pitch_nm
    n_pores = pores.y0.size
    # who takes part, pore by pore: those that were in (still in, or just out) and those now in
    cap = m_before + 64
    c_i = np.empty(cap, dtype=np.int64)
    c_j = np.empty(cap, dtype=np.int64)
    c_old = np.empty(cap)
    m = 0
    m_after = 0
    for k in range(m_before):
        i = b_i[k]
        c_i[m] = i
        c_j[m] = b_j[k]
        c_old[m] = b_x[k]
        m += 1
        if x_left <= x[i] <= x_right and m_after < a_i.size:
            a_i[m_after] = i
            a_j[m_after] = b_j[k]
            a_x[m_after] = x[i]
            m_after += 1
    n = x.size
    words = hard[:hard.size // 8 * 8].view(np.uint64)
    k = 0
    while k < n:
        if (k & 7) == 0 and (k >> 3) < words.size and k + 8 <= n and words[k >> 3] == 0:
            k += 8
            continue
        i = k
        k += 1
        if hard[i] != WHOLE_RULE or x[i] < x_left or x[i] > x_right:
            continue
        j = pore_at(y[i], per_pitch, pores.at_site, pores.y0, pores.y1)
        if j < 0 or pores.single_file[j] == 0 or pores.species[j] != species[i]:
            continue
        known = False
        for q in range(m_before):
            if b_i[q] == i:
                known = True
                break
        if known:
            continue
        # an entrant: before those in the pore if it came in at the inner mouth, behind them if at
        # the outer (the nearer mouth: no move jumps the band); entrants of one side in their new order
        if m >= c_i.size:       # more entrants than room: grow the scratch
            c_i = np.concatenate((c_i, np.empty(c_i.size, dtype=np.int64)))
            c_j = np.concatenate((c_j, np.empty(c_j.size, dtype=np.int64)))
            c_old = np.concatenate((c_old, np.empty(c_old.size)))
        c_i[m] = i
        c_j[m] = j
        if x[i] - x_left <= x_right - x[i]:
            c_old[m] = x_left - 1.0 + 1e-3 * (x[i] - x_left)
        else:
            c_old[m] = x_right + 1.0 - 1e-3 * (x_right - x[i])
        m += 1
        if m_after < a_i.size:
            a_i[m_after] = i
            a_j[m_after] = j
            a_x[m_after] = x[i]
            m_after += 1
    if m < 2:
        return m_after
    # pore by pore: the marks in the old order go to the ions in the new order
    order = np.argsort(c_j[:m], kind="mergesort")
    start = 0
    while start < m:
        j = c_j[order[start]]
        end = start
        while end < m and c_j[order[end]] == j:
            end += 1
        count = end - start
        if count >= 2:
            members = order[start:end]
            idx = c_i[members]
            old_x = c_old[members]
            new_x = np.empty(count)
            for q in range(count):
                new_x[q] = x[idx[q]]
            by_old = np.argsort(old_x, kind="mergesort")
            by_new = np.argsort(new_x, kind="mergesort")
            moved = False
            for q in range(count):
                if by_old[q] != by_new[q]:
                    moved = True
                    break
            if moved:
                marks = np.empty(count, dtype=np.uint8)
                for q in range(count):
                    marks[q] = flags[idx[by_old[q]]] & TRACER
                for q in range(count):
                    i = idx[by_new[q]]
                    flags[i] = (flags[i] & ~TRACER) | marks[q]
        start = end
    return m_after
