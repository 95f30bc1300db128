"""PLINK 1.9's ``--clump`` on columns: the greedy algorithm, with numpy and Arrow only.

Variants sorted by p (ties by panel order); each unclumped variant with
``p <= p1`` becomes an index and absorbs every unclumped variant on its
chromosome within ``kb`` kilobases with ``p <= p2`` and haplotype ``r² >= r2``
(:func:`mrkit.ld._haplotype.haplotype_r2`, PLINK's maximum-likelihood estimate).
Genotypes come straight from the ``.bed`` as bit planes, so that a 3 x 3 count
table is nine popcounts. Verified against plink1.9 b6.26 in ``tests/ld``.

:func:`clump_variants` is what ``mrkit clump`` runs (no pandas to import);
:func:`mrkit.ld.clump.clump_table` wraps it for pandas tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from mrkit.errors import InputError
from mrkit.io.plink import arrow_take, take_strings
from mrkit.ld._haplotype import haplotype_r2

if TYPE_CHECKING:
    from mrkit.ld.panel import ReferencePanel

__all__ = ["Clumping", "clump_rows", "clump_variants"]


@dataclass(frozen=True)
class Clumping:
    """What :func:`clump_variants` returns: one entry per input variant, then the clumps.

    Attributes
    ----------
    rows
        Panel row of each variant (-1: not in the panel).
    index_of
        Input position of the index variant of its clump (itself for an index;
        -1: in no clump).
    is_index, keep
        Whether the variant is an index variant; whether it is kept (the
        indexes, except a second listing of the same variant).
    r2_index
        Haplotype r² with its index (NaN for indexes and unclumped variants).
    reason
        Why a variant is not kept: ``clumped``, ``not in LD panel``, ``p > p1``,
        ``missing p-value``, ``duplicate variant`` or empty.
    order
        Input positions of the index variants, most significant first (ties by
        panel order).
    members
        For each index of ``order``, the input positions of the variants it clumped.
    """

    rows: np.ndarray
    index_of: np.ndarray
    is_index: np.ndarray
    r2_index: np.ndarray
    keep: np.ndarray
    reason: np.ndarray
    order: np.ndarray
    members: list[list[int]]

    @property
    def in_panel(self) -> np.ndarray:
        return self.rows >= 0


def _bed_planes(panel: ReferencePanel, rows: np.ndarray) -> np.ndarray:
    """``(len(rows), 3, words)`` uint64 bit planes of panel ``rows``, straight from the .bed.

    ``planes[v, g]`` has one bit per sample, set where variant ``v`` has ``g``
    copies of its A1 (as :meth:`ReferencePanel.genotypes` counts); missing
    genotypes and padding set no bit. Reads only the rows asked for.
    """
    n = panel.n_samples
    bpv = panel.bytes_per_variant
    width = -(-bpv // 16) * 16  # 2 bed bytes -> 1 plane byte; planes in whole uint64s
    raw = np.full((rows.size, width), 0x55, dtype=np.uint8)  # 0x55: four missing samples
    raw[:, :bpv] = panel.raw(rows)
    tail = n % 4
    if tail:  # unused slots of the last byte read as missing
        used = (1 << (2 * tail)) - 1
        raw[:, bpv - 1] = (raw[:, bpv - 1] & used) | (0x55 & ~used)
    # a sample's two bits: 00 = two copies of A1, 10 = het, 11 = none, 01 = missing;
    # the mask keeps one bit per sample (the low one), and the two halves of a
    # row interleave (low bits | high bits shifted) so no bit is wasted
    half = width // 2
    x = raw.view(np.uint64).reshape(rows.size, 2, half // 8)
    y = x >> np.uint64(1)
    low = np.uint64(0x5555555555555555)
    planes = np.empty((rows.size, 3, half // 8), dtype=np.uint64)
    for g, bits in enumerate((x & y, y & ~x, ~(x | y))):  # g = 0, 1, 2 copies of A1
        bits &= low
        planes[:, g] = bits[:, 0] | (bits[:, 1] << np.uint64(1))
    return planes


class _Block:
    """One chromosome's genotypes as packed bit planes for fast 3 x 3 count tables.

    ``planes[v, g]`` holds one bit per sample, set where variant ``v`` has
    genotype ``g`` (0, 1, 2); a missing genotype sets no bit, so it drops out
    of every cell. A count table is nine popcounts of ANDed planes.
    """

    def __init__(self, planes: np.ndarray) -> None:
        self.planes = planes  # (m, 3, words) uint64

    def r2(self, index: np.ndarray, cand: np.ndarray, chunk: int = 1 << 15) -> np.ndarray:
        """PLINK's haplotype r² of rows ``index[j]`` with ``cand[j]``.

        In chunks of pairs, so that the many temporaries of the estimate stay small
        (in cache, and reused by the allocator instead of fresh pages each time).
        """
        out = np.empty(index.size, dtype=np.float64)
        for s in range(0, index.size, chunk):
            out[s : s + chunk] = haplotype_r2(
                self.counts(index[s : s + chunk], cand[s : s + chunk])
            )
        return out * out

    def counts(self, index: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """``(k, 3, 3)`` genotype-count tables of rows ``index[j]`` against ``cand[j]``."""
        out = np.empty((index.size, 3, 3), dtype=np.float64)
        words = self.planes.shape[2]
        step = max(1, (1 << 16) // (9 * words))  # small temporaries stay in cache
        ones = np.ones(words, dtype=np.float32)
        for s in range(0, index.size, step):
            a = self.planes[index[s : s + step]][:, :, None, :]
            b = self.planes[cand[s : s + step]][:, None, :, :]
            pc = np.bitwise_count(a & b).astype(np.float32)  # (k, 3, 3, words)
            out[s : s + step] = pc @ ones  # exact: small integers
        return out


def _ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(starts[k], stops[k])`` and the owner ``k`` of each entry."""
    lens = stops - starts
    owner = np.repeat(np.arange(starts.size), lens)
    offs = np.cumsum(lens) - lens
    return starts[owner] + np.arange(owner.size) - offs[owner], owner


def clump_variants(
    panel: ReferencePanel,
    snp: Sequence[str],
    p: Sequence[float] | np.ndarray,
    *,
    chr: Sequence[str] | None = None,
    pos: Sequence[float] | np.ndarray | None = None,
    effect_allele: Sequence[str] | None = None,
    other_allele: Sequence[str] | None = None,
    p1: float = 5e-8,
    p2: float = 5e-8,
    r2: float = 0.001,
    kb: float = 10000,
    missing: str = "keep",
    all_rows: bool = True,
) -> Clumping:
    """LD-clump variants given as columns, with PLINK 1.9 ``--clump`` semantics.

    ``snp`` and ``p`` (NaN: missing) are required; ``chr``/``pos`` and the two
    alleles, when given, match variants by position and check alleles
    (:meth:`~mrkit.ld.panel.ReferencePanel.find`); each column may be a list, a
    numpy array or (``snp``, ``chr``) an Arrow string array. The thresholds and
    ``missing`` are those of :func:`mrkit.ld.clump.clump_table`.

    With ``all_rows=False`` only the variants with ``p <= max(p1, p2)`` (the only
    ones clumping uses, as plink) are looked up in the panel: the clumps are the
    same, but the others count as not in the panel (``rows`` -1) and keep their
    reason ``p > p1`` or ``missing p-value``.
    """
    if missing not in ("keep", "drop"):
        raise InputError(f"missing must be 'keep' or 'drop', got {missing!r}")
    if not (0 <= r2 <= 1):
        raise InputError(f"r2 must be in [0, 1], got {r2}")
    p = np.asarray(p, dtype=np.float64)
    k = len(p)
    cols = (chr, pos, effect_allele, other_allele)  # find()'s optional columns, in order
    if all_rows:
        looked = np.ones(k, dtype=bool)
        rows = panel.find(snp, *cols)
    else:
        looked = np.isfinite(p) & (p <= max(p1, p2))
        want = np.flatnonzero(looked)
        rows = np.full(k, -1, dtype=np.int64)
        sub = [None if c is None else _subset(c, want) for c in cols]
        rows[want] = panel.find(_subset(snp, want), *sub)
    in_panel = rows >= 0
    # a variant listed twice: the first row takes part, later ones follow it
    first = np.ones(k, dtype=bool)
    if in_panel.any():
        _, _, first_pos = _codes(rows[in_panel])
        dup = np.ones(in_panel.sum(), dtype=bool)
        dup[first_pos] = False
        first[np.flatnonzero(in_panel)[dup]] = False

    index_of = np.full(k, -1, dtype=np.int64)  # input position of the index variant
    r2_index = np.full(k, np.nan)
    is_index = np.zeros(k, dtype=bool)
    use = in_panel & first & np.isfinite(p) & (p <= max(p1, p2))
    sel_all = np.flatnonzero(use)
    for sel, key, window in _groups(panel, rows, sel_all, kb * 1000.0):
        _greedy(
            _Block(_bed_planes(panel, rows[sel])),
            key,
            p[sel],
            rows[sel],
            p1=p1,
            p2=p2,
            r2=r2,
            window=window,
            on_index=lambda i, sel=sel: _mark_index(sel[i], is_index, index_of),
            on_clumped=lambda i, hit, r, sel=sel: _mark_clumped(
                sel[i], sel[hit], r, index_of, r2_index
            ),
        )
    # duplicates follow their first row
    if (~first).any():
        lookup = dict(zip(rows[in_panel & first], np.flatnonzero(in_panel & first), strict=True))
        for d in np.flatnonzero(~first):
            f = lookup[rows[d]]
            index_of[d] = index_of[f]
            r2_index[d] = r2_index[f]
    outside = ~in_panel & np.isfinite(p) & (p <= p1)
    if missing == "keep":
        is_index |= outside
        index_of[outside] = np.flatnonzero(outside)

    reason = np.full(k, "", dtype=object)
    keep = is_index.copy()
    reason[(index_of >= 0) & ~is_index] = "clumped"
    reason[~np.isfinite(p)] = "missing p-value"
    reason[np.isfinite(p) & (p > p1) & (index_of < 0)] = "p > p1"
    reason[looked & ~in_panel & (index_of < 0)] = "not in LD panel"
    reason[~first & in_panel] = "duplicate variant"
    keep[~first] = False

    idx = np.flatnonzero(is_index)
    idx = idx[np.lexsort((np.where(rows[idx] >= 0, rows[idx], np.iinfo(np.int64).max), p[idx]))]
    members: dict[int, list[int]] = {int(i): [] for i in idx}
    for j in np.flatnonzero((index_of >= 0) & ~is_index & first):
        members[int(index_of[j])].append(int(j))
    return Clumping(
        rows=rows,
        index_of=index_of,
        is_index=is_index,
        r2_index=r2_index,
        keep=keep,
        reason=reason,
        order=idx,
        members=[members[int(i)] for i in idx],
    )


#: Bit planes of at most this many bytes are held at once (chromosomes are grouped).
_BLOCK_BYTES = 1 << 28


def _groups(panel, rows: np.ndarray, sel: np.ndarray, window: float):
    """Candidates ``sel`` in groups of whole chromosomes, each with one sorted position key.

    Yields ``(sel, key, window)``: the group's candidates sorted by chromosome and
    position (then panel row), and a key that is the position plus an offset per
    chromosome larger than any window, so that one greedy pass runs over several
    chromosomes at once (fewer, larger vectorised batches) and a window never
    crosses chromosomes. Groups hold at most :data:`_BLOCK_BYTES` of bit planes.
    """
    if sel.size == 0:
        return
    names, code, _ = _codes(panel.bim.chr[rows[sel]])
    pos = panel.bim.pos[rows[sel]].astype(np.float64)
    per_variant = 40 * -(-panel.bytes_per_variant // 16)  # planes (24) and raw rows (16)
    sizes = np.bincount(code, minlength=names.size)
    group: list[np.intp] = []
    used = 0
    bounds = []
    for c in np.argsort(sizes, kind="stable")[::-1]:  # largest first, then fill up
        if group and (used + sizes[c]) * per_variant > _BLOCK_BYTES:
            bounds.append(group)
            group, used = [], 0
        group.append(c)
        used += sizes[c]
    bounds.append(group)
    for group in bounds:
        rank = np.full(names.size, -1)
        rank[group] = np.arange(len(group))
        mine = rank[code] >= 0
        g_sel, g_pos, g_rank = sel[mine], pos[mine], rank[code[mine]]
        top = float(g_pos.max()) + 1.0
        win = min(window, top)  # a window wider than the chromosome is the chromosome
        key = g_rank * (top + win + 1.0) + g_pos
        order = np.lexsort((rows[g_sel], key))
        yield g_sel[order], key[order], win


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values (sorted), the code of each value, and where each first occurs.

    What ``np.unique(values, return_inverse=True, return_index=True)`` gives, without
    its import of ``numpy.ma`` (~15 ms of ``mrkit clump``'s start).
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.ones(values.size, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    codes = np.empty(values.size, dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return ordered[new], codes, order[new]


def _subset(col, idx: np.ndarray):
    """Entries ``idx`` of a list, numpy array or Arrow array (an array of the same kind)."""
    if isinstance(col, pa.Array | pa.ChunkedArray):
        return arrow_take(col, idx)
    if isinstance(col, np.ndarray):
        return col[idx]
    return [col[i] for i in idx.tolist()]


def _mark_index(ti: int, is_index: np.ndarray, index_of: np.ndarray) -> None:
    is_index[ti] = True
    index_of[ti] = ti


def _mark_clumped(ti, hit, r, index_of: np.ndarray, r2_index: np.ndarray) -> None:
    index_of[hit] = ti
    r2_index[hit] = r


def _greedy(block, pos, ps, rows, *, p1, p2, r2, window, on_index, on_clumped) -> None:
    """PLINK's greedy clumping of one chromosome's candidates (in panel order).

    Calls ``on_index(i)`` for each index variant, in p order, then
    ``on_clumped(i, hit, r2)`` with the candidates ``hit`` it absorbs.
    """
    alive = ps <= p2
    done = np.zeros(ps.size, dtype=bool)
    order = np.lexsort((rows, ps))
    order = order[ps[order] <= p1]
    lo_all = np.searchsorted(pos, pos - window, "left")
    hi_all = np.searchsorted(pos, pos + window, "right")
    # Greedy in p order, in batches: the next ``batch`` unclumped index variants
    # are first checked against each other (a later one that an earlier survivor
    # clumps is no index), then the r² of the survivors against their candidates
    # come from one vectorised pass and the batch is replayed in p order, skipping
    # candidates clumped meanwhile. Identical to the one-at-a-time greedy, and no
    # r² is computed for an index that is not one.
    batch, at = 1, 0
    while at < order.size:
        members: list[int] = []
        while at < order.size and len(members) < batch:
            if not done[order[at]]:
                members.append(order[at])
            at += 1
        if not members:
            break
        mem = _survivors(block, np.asarray(members), pos, alive, r2, window)
        live = np.flatnonzero(alive)
        starts = np.searchsorted(live, lo_all[mem], "left")
        stops = np.searchsorted(live, hi_all[mem], "left")
        flat, owner = _ranges(starts, stops)
        cand = live[flat]
        keep_pair = cand != mem[owner]
        cand, owner = cand[keep_pair], owner[keep_pair]
        rr = block.r2(mem[owner], cand)
        bounds = np.searchsorted(owner, np.arange(mem.size + 1), "left")
        for j, i in enumerate(mem.tolist()):
            if done[i]:  # (cannot happen: _survivors left out the clumped ones)
                continue
            done[i] = True
            alive[i] = False
            on_index(i)
            c = cand[bounds[j] : bounds[j + 1]]
            r = rr[bounds[j] : bounds[j + 1]]
            take = (r >= r2) & alive[c]
            hit = c[take]
            if hit.size:
                done[hit] = True
                alive[hit] = False
                on_clumped(i, hit, r[take])
        batch = min(batch * 2, 512)


def _survivors(block, mem: np.ndarray, pos, alive, r2: float, window: float) -> np.ndarray:
    """The members of a batch (in p order) that no earlier member of it clumps.

    Member ``j`` is clumped by an earlier member ``i`` when ``i`` is itself an index
    (not clumped), ``j`` is a live candidate (``p <= p2``) within ``i``'s window and
    their r² reaches ``r2``: the same rule the replay applies.
    """
    if mem.size < 2:
        return mem
    n = mem.size  # all pairs i < j, sorted by i: i's fate is known before i acts
    jj, ii = _ranges(np.arange(1, n + 1), np.full(n, n))
    near = (np.abs(pos[mem[jj]] - pos[mem[ii]]) <= window) & alive[mem[jj]]
    ii, jj = ii[near], jj[near]
    if ii.size == 0:
        return mem
    rr = block.r2(mem[ii], mem[jj])
    ii, jj = ii[rr >= r2], jj[rr >= r2]
    dead = np.zeros(mem.size, dtype=bool)
    bounds = np.searchsorted(ii, np.arange(mem.size + 1), "left")
    for i in np.flatnonzero(np.diff(bounds)).tolist():  # members that clump another
        if not dead[i]:
            dead[jj[bounds[i] : bounds[i + 1]]] = True
    return mem[~dead]


def clump_rows(panel, snp, res: Clumping, chr=None, pos=None, p=None) -> dict[str, list]:
    """The clumps of ``res`` as columns ``snp, chr, pos, p, n_clumped, clumped_snps, in_panel``.

    ``snp``, ``chr``, ``pos``, ``p`` are the input columns (lists, numpy or Arrow
    arrays): the position of an index variant comes from the panel, or from the
    input when the panel lacks it (NaN if not given).
    """
    idx = res.order
    rows = res.rows[idx]
    inp = rows >= 0
    chrom = panel.bim.chr[np.maximum(rows, 0)].astype(object)
    ppos = panel.bim.pos[np.maximum(rows, 0)].astype(np.float64)
    if chr is not None and pos is not None:
        chrom = np.where(inp, chrom, np.asarray(take_strings(chr, idx), dtype=object))
        ppos = np.where(inp, ppos, np.asarray(pos, dtype=np.float64)[idx])
    else:
        chrom = np.where(inp, chrom, None)
        ppos = np.where(inp, ppos, np.nan)
    sizes = [len(m) for m in res.members]
    names = take_strings(snp, np.concatenate([idx, *res.members]).astype(np.int64))
    ends = np.cumsum([idx.size, *sizes]).tolist()
    return {
        "snp": names[: idx.size],
        "chr": chrom.tolist(),
        "pos": ppos if (~np.isfinite(ppos)).any() else ppos.astype(np.int64),
        "p": np.asarray(p, dtype=np.float64)[idx],
        "n_clumped": sizes,
        "clumped_snps": [",".join(names[a:b]) for a, b in pairwise(ends)],
        "in_panel": inp,
    }
