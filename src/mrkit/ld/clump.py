"""LD clumping with PLINK 1.9 ``--clump`` semantics.

PLINK 1.9 does *not* use the genotype (dosage) correlation for ``--clump``: it
estimates the two-locus haplotype frequencies by maximum likelihood from the
3 x 3 genotype-count table (the double heterozygotes are the only phase-unknown
cell; the likelihood equation is a cubic, solved exactly) and reports

.. math::

    r^2 = \\frac{(f_{11} - p_1 q_1)^2}{p_1 (1 - p_1) q_1 (1 - q_1)}

on the samples genotyped at both variants (Hill & Robertson 1968,
doi:10.1007/BF01245622; the cubic is Gaunt, Rodriguez & Day 2007,
doi:10.1186/1471-2105-8-428). This module reproduces that estimate,
vectorised over all candidate variants of one index variant, and the greedy
algorithm: variants sorted by p (ties by panel order), each unclumped variant
with ``p <= p1`` becomes an index and absorbs every unclumped variant on its
chromosome within ``kb`` kilobases with ``p <= p2`` and ``r² >= r2``.
Verified against plink1.9 b6.26 in ``tests/ld``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mrkit._core.columns import canonical_columns
from mrkit.errors import InputError
from mrkit.ld.panel import _file

_SMALL_EPS = 2.0**-35  # PLINK's SMALL_EPSILON: |D| or the denominator below it gives r² = 0
_SMALLISH_EPS = 2.0**-35


def _cubic_roots(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Real roots of ``x³ + a x² + b x + c`` for arrays of coefficients.

    Returns an ``(k, 3)`` array sorted ascending, NaN where a root is complex.
    """
    q = (a * a - 3.0 * b) / 9.0
    r = (2.0 * a**3 - 9.0 * a * b + 27.0 * c) / 54.0
    q3 = q**3
    out = np.full((a.size, 3), np.nan)
    three = (r * r) < q3
    if three.any():
        qs = q[three]
        sq = np.sqrt(qs)
        ratio = np.clip(r[three] / (sq**3), -1.0, 1.0)
        theta = np.arccos(ratio)
        shift = a[three] / 3.0
        out[three, 0] = -2.0 * sq * np.cos(theta / 3.0) - shift
        out[three, 1] = -2.0 * sq * np.cos((theta + 2.0 * np.pi) / 3.0) - shift
        out[three, 2] = -2.0 * sq * np.cos((theta - 2.0 * np.pi) / 3.0) - shift
    one = ~three
    if one.any():
        rr = r[one]
        big_a = -np.sign(rr) * np.cbrt(np.abs(rr) + np.sqrt(np.maximum(rr * rr - q3[one], 0.0)))
        big_b = np.divide(q[one], big_a, out=np.zeros_like(big_a), where=big_a != 0)
        out[one, 0] = big_a + big_b - a[one] / 3.0
    return np.sort(out, axis=1)  # NaN sorts last


def _lnlike(k11, k12, k21, k22, center, f11, f12, f21, f22, half, incr):
    g11 = f11 + incr
    g22 = f22 + incr
    g12 = f12 + half - incr
    g21 = f21 + half - incr
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = center * np.log(g11 * g22 + g12 * g21)
        for k, g in ((k11, g11), (k12, g12), (k21, g21), (k22, g22)):
            ll = ll + np.where(k != 0, k * np.log(np.where(k != 0, g, 1.0)), 0.0)
    return ll


def haplotype_r2(counts: np.ndarray) -> np.ndarray:
    """PLINK 1.9's maximum-likelihood haplotype r² from 3 x 3 genotype counts.

    Parameters
    ----------
    counts
        ``(k, 3, 3)`` array: ``counts[j, a, b]`` is the number of samples with
        ``a`` copies of the first variant's counted allele and ``b`` of the
        second's (samples missing either genotype left out).

    Returns
    -------
    numpy.ndarray
        ``k`` signed r values (sign of D for the counted alleles); 0 where a
        variant is monomorphic over the shared samples or D is negligible.
    """
    c = np.asarray(counts, dtype=float).reshape(-1, 3, 3)
    # haplotype "1" = counted allele (2 copies = homozygous counted)
    k11 = 2 * c[:, 2, 2] + c[:, 2, 1] + c[:, 1, 2]
    k12 = 2 * c[:, 2, 0] + c[:, 2, 1] + c[:, 1, 0]
    k21 = 2 * c[:, 0, 2] + c[:, 0, 1] + c[:, 1, 2]
    k22 = 2 * c[:, 0, 0] + c[:, 0, 1] + c[:, 1, 0]
    center = c[:, 1, 1]
    twice = k11 + k12 + k21 + k22 + 2 * center
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(twice > 0, 1.0 / twice, 0.0)
    f11, f12, f21, f22 = k11 * inv, k12 * inv, k21 * inv, k22 * inv
    half = center * inv
    p1 = f11 + f12 + half
    q1 = f11 + f21 + half
    p1122 = f11 * f22
    p1221 = f12 * f21
    incr = np.zeros_like(f11)

    has_center = center > 0
    cubic = has_center & ((p1122 != 0) | (p1221 != 0))
    if cubic.any():
        i = cubic
        h = half[i]
        roots = _cubic_roots(
            0.5 * (f11[i] + f22[i] - f12[i] - f21[i] - 3 * h),
            0.5 * (p1122[i] + p1221[i] + h * (f12[i] + f21[i] - f11[i] - f22[i] + h)),
            -0.5 * h * p1122[i],
        )
        hh = h[:, None]
        ok = (roots >= -_SMALLISH_EPS) & (roots <= hh + _SMALLISH_EPS)
        none = ~ok.any(axis=1)
        roots = np.clip(roots, 0.0, hh)
        # "lost root": check the two boundary points
        roots[none] = np.column_stack([np.zeros(none.sum()), h[none], np.full(none.sum(), np.nan)])
        ok[none] = [True, True, False]
        incr[i] = _pick(
            roots, ok, k11[i], k12[i], k21[i], k22[i], center[i], f11[i], f12[i], f21[i], f22[i], h
        )
    flat = has_center & ~cubic
    if flat.any():
        i = flat
        h = half[i]
        mid = (h + f21[i] - f22[i]) * 0.5
        three = (f22[i] + _SMALLISH_EPS < h + f21[i]) & (f21[i] + _SMALLISH_EPS < h + f22[i])
        roots = np.column_stack([np.zeros_like(h), np.where(three, mid, h), h])
        ok = np.column_stack([np.ones_like(three), np.ones_like(three), three])
        incr[i] = _pick(
            roots, ok, k11[i], k12[i], k21[i], k22[i], center[i], f11[i], f12[i], f21[i], f22[i], h
        )
    freq11 = f11 + incr
    expected = p1 * q1
    d = freq11 - expected
    denom = expected * (1.0 - p1) * (1.0 - q1)
    zero = (np.abs(d) < _SMALL_EPS) | (np.abs(denom) < _SMALL_EPS) | (twice == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(zero, 0.0, d / np.sqrt(np.where(zero, 1.0, denom)))
    return r


def _pick(roots, ok, k11, k12, k21, k22, center, f11, f12, f21, f22, h):
    """Choose among the admissible roots as PLINK 1.9 does.

    PLINK starts from the smallest admissible root and moves to any later root
    whose log-likelihood beats the *first* root's (its running best is never
    updated), so the last such root wins; reproduced here on purpose.
    """
    k = roots.shape[0]
    first = np.argmax(ok, axis=1)
    rows = np.arange(k)
    best = roots[rows, first]
    base_ll = _lnlike(k11, k12, k21, k22, center, f11, f12, f21, f22, h, best)
    for j in range(1, 3):
        cand = roots[:, j]
        valid = ok[:, j] & (j > first)
        if not valid.any():
            continue
        ll = _lnlike(k11, k12, k21, k22, center, f11, f12, f21, f22, h, np.where(valid, cand, 0))
        best = np.where(valid & (ll > base_ll), cand, best)
    return best


@dataclass(frozen=True)
class ClumpResult:
    """What :func:`clump_table` returns.

    Attributes
    ----------
    table
        Every input row, in input order, with added columns ``in_panel``,
        ``index_snp`` (the index variant of its clump; itself for an index),
        ``is_index``, ``r2_index`` (haplotype r² with its index), ``keep``
        and ``reason`` (``clumped``, ``not in LD panel``, ``p > p1`` or empty).
    clumps
        One row per clump: ``snp, chr, pos, p, n_clumped, clumped_snps``
        (comma-separated, as PLINK's ``SP2`` column), ``in_panel``.
    """

    table: pd.DataFrame
    clumps: pd.DataFrame

    @property
    def index_snps(self) -> list[str]:
        """The index variants, most significant first."""
        return self.clumps["snp"].tolist()

    @property
    def not_in_panel(self) -> list[str]:
        """Variants that had no genotypes in the LD panel (kept or dropped)."""
        snp = canonical_columns(self.table)["snp"].astype(str)
        return snp[~self.table["in_panel"].to_numpy()].tolist()


def _bed_planes(panel, rows: np.ndarray) -> np.ndarray:
    """``(len(rows), 3, words)`` uint64 bit planes of panel ``rows``, straight from the .bed.

    ``planes[v, g]`` has one bit per sample, set where variant ``v`` has ``g``
    copies of its A1 (as :meth:`ReferencePanel.genotypes` counts); missing
    genotypes and padding set no bit. Reads only the rows asked for.
    """
    n = panel.n_samples
    bpv = (n + 3) // 4  # bytes per variant in the .bed
    width = -(-bpv // 16) * 16  # 2 bed bytes -> 1 plane byte; planes in whole uint64s
    raw = np.full((rows.size, width), 0x55, dtype=np.uint8)  # 0x55: four missing samples
    fsets = panel.variants["fileset"].to_numpy()[rows]
    local = panel.variants["local"].to_numpy()[rows]
    for k in np.unique(fsets):
        fs = panel._sets[int(k)]
        sel = np.flatnonzero(fsets == k)
        bed = np.memmap(
            _file(fs.prefix, ".bed"), dtype=np.uint8, mode="r", offset=3,
            shape=(fs.n_variants, bpv),
        )  # fmt: skip
        raw[sel, :bpv] = bed[local[sel]]
        del bed
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

    @classmethod
    def from_genotypes(cls, g8: np.ndarray) -> _Block:
        """From an ``(m, n)`` int8 genotype matrix (negative = missing)."""
        m, n = g8.shape
        words = max(1, -(-n // 64))
        packed = np.zeros((m, 3, words * 8), dtype=np.uint8)
        for g in range(3):
            packed[:, g, : -(-n // 8)] = np.packbits(g8 == g, axis=1)
        return cls(packed.view(np.uint64))

    def counts(self, index: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """``(k, 3, 3)`` genotype-count tables of rows ``index[j]`` against ``cand[j]``."""
        out = np.empty((index.size, 3, 3), dtype=np.float64)
        words = self.planes.shape[2]
        step = max(1, (1 << 22) // (9 * words))
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


def clump_table(
    panel,
    table: pd.DataFrame,
    *,
    p1: float = 5e-8,
    p2: float = 5e-8,
    r2: float = 0.001,
    kb: float = 10000,
    missing: str = "keep",
) -> ClumpResult:
    """LD-clump variants with PLINK 1.9 ``--clump`` semantics.

    Parameters
    ----------
    panel
        A :class:`mrkit.ld.panel.ReferencePanel`.
    table
        Variants with ``snp`` and ``p`` (and optionally ``chr``, ``pos``,
        ``effect_allele``, ``other_allele`` for matching by position and
        checking alleles); a whole GWAS or a pre-selected instrument table.
    p1, p2
        Index variants need ``p <= p1``; clumped variants ``p <= p2``.
    r2
        Variants with haplotype ``r² >= r2`` with an index are clumped into it.
    kb
        Window half-width in kilobases (same chromosome only).
    missing
        ``"keep"`` (default): a variant absent from the panel with
        ``p <= p1`` is its own clump, flagged ``in_panel = False``;
        ``"drop"``: it is dropped with the reason ``not in LD panel``.

    Notes
    -----
    Defaults follow TwoSampleMR's ``clump_data`` (p1 = p2 = 5e-8,
    r2 = 0.001, 10,000 kb); PLINK's own defaults are p1 = 1e-4, p2 = 0.01,
    r2 = 0.5, 250 kb. Ties in p are broken by panel order.
    """
    if missing not in ("keep", "drop"):
        raise InputError(f"missing must be 'keep' or 'drop', got {missing!r}")
    if not (0 <= r2 <= 1):
        raise InputError(f"r2 must be in [0, 1], got {r2}")
    t = canonical_columns(table)
    if "p" not in t.columns:
        raise InputError("the variant table needs a `p` column to clump")
    p = pd.to_numeric(t["p"], errors="coerce").to_numpy(float)
    rows = panel.locate(t)
    k = len(t)
    in_panel = rows >= 0
    # a variant listed twice: the first row takes part, later ones follow it
    first = np.ones(k, dtype=bool)
    if in_panel.any():
        _, first_pos = np.unique(rows[in_panel], return_index=True)
        dup = np.ones(in_panel.sum(), dtype=bool)
        dup[first_pos] = False
        first[np.flatnonzero(in_panel)[dup]] = False

    index_of = np.full(k, -1, dtype=np.int64)  # table row of the index variant
    r2_index = np.full(k, np.nan)
    is_index = np.zeros(k, dtype=bool)
    pmax = max(p1, p2)
    use = in_panel & first & np.isfinite(p) & (p <= pmax)
    chrom = panel.variants["chr"].to_numpy()
    ppos = panel.variants["pos"].to_numpy()
    window = kb * 1000.0
    sel_all = np.flatnonzero(use)
    chr_of = chrom[rows[sel_all]]
    for c in pd.unique(chr_of):
        sel = sel_all[chr_of == c]
        sel = sel[np.argsort(rows[sel], kind="stable")]  # panel order = position order
        block = _Block(_bed_planes(panel, rows[sel]))
        pos = ppos[rows[sel]].astype(np.float64)
        ps = p[sel]
        alive = ps <= p2
        done = np.zeros(sel.size, dtype=bool)
        order = np.lexsort((rows[sel], ps))
        order = order[ps[order] <= p1]
        lo_all = np.searchsorted(pos, pos - window, "left")
        hi_all = np.searchsorted(pos, pos + window, "right")
        # Greedy in p order, evaluated speculatively in batches: the r² of the
        # next ``batch`` unclumped indexes against their (current) candidates
        # come from one vectorised pass, then the batch is replayed in order,
        # skipping members clumped by an earlier one and candidates no longer
        # alive. Identical to the one-at-a-time greedy; the batch grows while
        # few members are wasted and shrinks when many are.
        batch, at = 1, 0
        while at < order.size:
            members: list[int] = []
            while at < order.size and len(members) < batch:
                if not done[order[at]]:
                    members.append(order[at])
                at += 1
            if not members:
                break
            mem = np.asarray(members)
            live = np.flatnonzero(alive)
            starts = np.searchsorted(live, lo_all[mem], "left")
            stops = np.searchsorted(live, hi_all[mem], "left")
            flat, owner = _ranges(starts, stops)
            cand = live[flat]
            keep_pair = cand != mem[owner]
            cand, owner = cand[keep_pair], owner[keep_pair]
            rr = haplotype_r2(block.counts(mem[owner], cand)) ** 2 if cand.size else cand
            bounds = np.searchsorted(owner, np.arange(mem.size + 1), "left")
            used = 0
            for j, i in enumerate(members):
                if done[i]:
                    continue
                used += 1
                done[i] = True
                alive[i] = False
                ti = sel[i]
                is_index[ti] = True
                index_of[ti] = ti
                c = cand[bounds[j] : bounds[j + 1]]
                r = rr[bounds[j] : bounds[j + 1]]
                take = (r >= r2) & alive[c]
                hit = c[take]
                if hit.size:
                    done[hit] = True
                    alive[hit] = False
                    index_of[sel[hit]] = ti
                    r2_index[sel[hit]] = r[take]
            if used == len(members):
                batch = min(batch * 2, 1024)
            elif used * 2 < len(members):
                batch = max(batch // 2, 1)
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
    reason[~in_panel & (index_of < 0)] = "not in LD panel"
    reason[~first & in_panel] = "duplicate variant"
    keep[~first] = False

    out = table.copy()
    snp = t["snp"].astype(str).to_numpy()
    out["in_panel"] = in_panel
    out["index_snp"] = np.where(index_of >= 0, snp[np.maximum(index_of, 0)], None)
    out["is_index"] = is_index
    out["r2_index"] = r2_index
    out["keep"] = keep
    out["reason"] = reason

    idx = np.flatnonzero(is_index)
    idx = idx[np.lexsort((np.where(rows[idx] >= 0, rows[idx], np.iinfo(np.int64).max), p[idx]))]
    members: dict[int, list[str]] = {int(i): [] for i in idx}
    for j in np.flatnonzero((index_of >= 0) & ~is_index & first):
        members[int(index_of[j])].append(snp[j])
    has_pos = {"chr", "pos"} <= set(t.columns)
    chr_col = np.where(
        rows[idx] >= 0,
        chrom[np.maximum(rows[idx], 0)],
        t["chr"].astype(str).to_numpy()[idx] if has_pos else None,
    )
    pos_col = np.where(
        rows[idx] >= 0,
        ppos[np.maximum(rows[idx], 0)],
        pd.to_numeric(t["pos"], errors="coerce").to_numpy()[idx] if has_pos else np.nan,
    )
    clumps = pd.DataFrame(
        {
            "snp": snp[idx],
            "chr": chr_col,
            "pos": pos_col,
            "p": p[idx],
            "n_clumped": [len(members[int(i)]) for i in idx],
            "clumped_snps": [",".join(members[int(i)]) for i in idx],
            "in_panel": in_panel[idx],
        }
    )
    return ClumpResult(table=out, clumps=clumps)
