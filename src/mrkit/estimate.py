"""THE engine: every MR estimate and diagnostic, of one pair or of 100,000.

``mrkit mr``, :func:`mrkit.mr`, the study pipeline and ``mrkit phewas`` all call
:func:`analyse`; one pair is a batch of one. The method registry
(:mod:`mrkit.methods`) says how each method runs:

* ``segment``: closed form over all pairs at once with segment sums (IVW in all
  variants, Egger, Wald ratio; and the diagnostics Q, Q', I²GX, F, leave-one-out
  and single-SNP), :mod:`mrkit.methods._kernels`, :mod:`mrkit.diagnostics.segments`;
* ``rows``: compiled bootstrap rows over all draws of all pairs (medians,
  modes), :mod:`mrkit.methods._rows`;
* ``pair``: the method's function per pair (PRESSO, RAPS, ConMix, Lasso,
  max-lik, ...), on threads.

A method or diagnostic that cannot run on a pair (too few variants, a grid that
misses the estimate, no convergence, ...) gives a row in ``skipped`` with the
pair, the method and the reason; it never stops the other methods or pairs.
Unknown methods and options raise :class:`~mrkit.errors.InputError`.

Random draws take ``seed`` (default :data:`DEFAULT_SEED`, recorded in the
parameters): every pair uses it, so a pair's result does not depend on the other
pairs in the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mrkit._core.arrays import FloatArray, usable_cores
from mrkit.diagnostics import segments as dseg
from mrkit.errors import InputError, MrkitError
from mrkit.io.harmonised import check_frame, pair_columns
from mrkit.methods import MethodSpec, get_method, method_options, parse_setting, resolve
from mrkit.methods import _kernels as seg_kernels
from mrkit.methods._kernels import Columns, Segments
from mrkit.methods._rows import ROWS_METHODS
from mrkit.methods._sizes import min_per_pair
from mrkit.results import CORE_FIELDS, MRAnalysis, MRResult

#: Seed of every random method when none is given (recorded in every output).
DEFAULT_SEED = 1
#: The diagnostics :func:`analyse` computes with ``diagnostics=True``.
DIAGNOSTICS = ("heterogeneity", "pleiotropy", "strength", "leave_one_out", "single_snp")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Pairs:
    """The analysable variants of P exposure-outcome pairs, stacked.

    Rows of one pair are contiguous and in input order; ``group`` holds each
    row's pair code ``0..P-1``. ``keys`` has one row per pair with its naming
    columns (``exposure``, ``outcome``, ...; no column for one unnamed pair),
    pairs without any usable variant included (they are reported as skipped).
    """

    bx: FloatArray
    sx: FloatArray
    by: FloatArray
    sy: FloatArray
    group: NDArray[np.int64]
    snp: NDArray[np.object_]
    keys: pd.DataFrame
    sample_size: FloatArray | None = None  # per pair, min samplesize_*: option n (cML)

    @property
    def npairs(self) -> int:
        return len(self.keys)

    @property
    def segments(self) -> Segments:
        return Segments(self.group, self.npairs)

    @classmethod
    def from_arrays(
        cls,
        bx: Any,
        sx: Any,
        by: Any,
        sy: Any,
        *,
        group: Any = None,
        snp: Any = None,
        keys: pd.DataFrame | None = None,
    ) -> Pairs:
        """Pairs from the four vectors (``group``: pair code per row, default one pair).

        Without ``keys``, several pairs are named by a ``pair`` column holding
        their codes (one pair has no key column).

        Values are checked: finite, standard errors > 0, equal lengths; the error
        names the argument and the first bad row.
        """
        arrs = [np.ascontiguousarray(a, dtype=np.float64) for a in (bx, sx, by, sy)]
        n = arrs[0].shape[0]
        g = np.zeros(n, dtype=np.int64) if group is None else np.asarray(group)
        if g.shape != (n,) or not np.issubdtype(g.dtype, np.integer):
            msg = "`group` must hold one integer pair code per row (use pandas.factorize)"
            raise InputError(msg)
        for name, a in zip(("bx", "sx", "by", "sy"), arrs, strict=True):
            if a.shape != (n,):
                msg = f"`{name}` has {a.shape} values but `bx` has {n}"
                raise InputError(msg)
            bad = np.flatnonzero(~np.isfinite(a))
            if bad.size:
                msg = f"`{name}` is not finite at row {int(bad[0])} ({bad.size} such rows)"
                raise InputError(msg)
        for name, a in (("sx", arrs[1]), ("sy", arrs[3])):
            bad = np.flatnonzero(a <= 0)
            if bad.size:
                msg = f"standard error `{name}` must be > 0, got {a[bad[0]]!r} at row {bad[0]}"
                raise InputError(msg)
        npairs = len(keys) if keys is not None else (int(g.max()) + 1 if n else 1)
        if n and (g.min() < 0 or g.max() >= npairs):
            msg = f"`group` codes must lie in 0..{npairs - 1}"
            raise InputError(msg)
        order = np.argsort(g, kind="stable")
        ids = np.arange(n).astype(str).astype(object) if snp is None else np.asarray(snp, object)
        bx_, sx_, by_, sy_ = (a[order] for a in arrs)
        return cls(
            bx_,
            sx_,
            by_,
            sy_,
            group=g[order].astype(np.int64),
            snp=ids[order],
            keys=keys if keys is not None else _default_keys(npairs),
        )

    @classmethod
    def from_table(cls, table: pd.DataFrame | str | Path) -> Pairs:
        """Pairs from a harmonised table (a DataFrame or a path; TwoSampleMR names accepted).

        ``id.exposure``/``id.outcome`` (or ``exposure``/``outcome``) columns split
        it into pairs, as TwoSampleMR's ``mr()``; rows with ``keep``/``mr_keep``
        false are left out.
        """
        df = check_frame(table)
        cols = pair_columns(df)
        if cols is None:
            codes = np.zeros(len(df), dtype=np.int64)
            keys = pd.DataFrame(index=range(1))
        else:
            frame = df[list(cols)].astype(str)
            codes, uniq = pd.MultiIndex.from_frame(frame).factorize()
            keys = pd.DataFrame(list(uniq), columns=["exposure", "outcome"])
            if cols[0] == "id_exposure":
                for key in ("exposure", "outcome"):
                    if key in df.columns:
                        # (pandas-stubs want one scalar per group; arrays make an object Series)
                        names = df.groupby(codes)[key].agg(lambda s: s.unique())  # type: ignore[type-var]
                        if all(len(v) == 1 for v in names):
                            keys[f"{key}_name"] = [str(v[0]) for v in names]
        used = df["keep"].to_numpy(bool)
        u = df.loc[used]
        pairs = cls.from_arrays(
            u["beta_exposure"].to_numpy(float),
            u["se_exposure"].to_numpy(float),
            u["beta_outcome"].to_numpy(float),
            u["se_outcome"].to_numpy(float),
            group=np.asarray(codes, dtype=np.int64)[used],
            snp=u["snp"].astype(str).to_numpy(object),
            keys=keys.reset_index(drop=True),
        )
        n = u[[c for c in ("n_exposure", "n_outcome") if c in u.columns]].to_numpy(float)
        return replace(pairs, sample_size=min_per_pair(n, np.asarray(codes)[used], len(keys)))

    def pair(self, p: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The four vectors of pair ``p``."""
        lo, hi = np.searchsorted(self.group, [p, p + 1])
        return self.bx[lo:hi], self.sx[lo:hi], self.by[lo:hi], self.sy[lo:hi]


def _default_keys(npairs: int) -> pd.DataFrame:
    """Key table of pairs given only by codes: a ``pair`` column when there are several."""
    if npairs == 1:
        return pd.DataFrame(index=range(1))
    return pd.DataFrame({"pair": np.arange(npairs, dtype=np.int64)})


# -- the engine -------------------------------------------------------------------------
def analyse(
    pairs: Pairs | pd.DataFrame | str | Path,
    methods: str | Iterable[str] | None = "default",
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    diagnostics: bool = True,
    alpha: float = 0.05,
    seed: int | None = DEFAULT_SEED,
    nboot: int = 1000,
    threads: int | None = None,
) -> MRAnalysis:
    """Every requested method and the diagnostics on every pair.

    Parameters
    ----------
    pairs
        :class:`Pairs`, or a harmonised table / its path (see :meth:`Pairs.from_table`).
    methods
        ``"default"`` (TwoSampleMR's ``mr()`` defaults), ``"all"``, a
        comma-separated string or a list of names; TwoSampleMR's names
        (``mr_ivw``, ``mr_egger_regression``, ...) are accepted.
    options
        Per-method options, e.g. ``{"presso": {"n_distributions": 10000}}``.
    diagnostics
        Also heterogeneity, pleiotropy, strength (I²GX, F), leave-one-out and
        single-variant estimates.
    alpha, seed, nboot
        Significance level; seed and draws of every random method (a method's own
        options override them).
    threads
        Threads for the per-pair methods (default: the usable cores).
    """
    if not isinstance(pairs, Pairs):
        pairs = Pairs.from_table(pairs)
    if nboot < 2:
        msg = f"`nboot` must be at least 2 draws (a bootstrap SE needs two), got {nboot}"
        raise InputError(msg)
    if not 0 < alpha < 1:
        msg = f"`alpha` must lie in (0, 1), got {alpha}"
        raise InputError(msg)
    names = resolve(methods)
    opts = method_options(names, options)
    run = _Run(pairs, alpha, threads)
    for p in np.flatnonzero(pairs.segments.n == 0):
        run.skip("*", int(p), "no variants with keep = TRUE; nothing to analyse")
    run_wide = {"alpha": alpha, "seed": seed, "nboot": nboot}
    for order, name in enumerate(names):
        spec = get_method(name)
        kw = {**spec.accepted(run_wide), **opts[name]}
        run.method(order, spec, kw)
    if diagnostics:
        run.diagnostics()
    params = {
        "methods": names,
        "options": {k: v for k, v in opts.items() if v},
        "alpha": alpha,
        "seed": seed,
        "nboot": nboot,
        "diagnostics": bool(diagnostics),
    }
    return run.result(params)


def mr(
    table: pd.DataFrame | str | Path,
    *,
    methods: str | Iterable[str] | None = "default",
    options: Mapping[str, Mapping[str, Any]] | None = None,
    alpha: float = 0.05,
    seed: int | None = DEFAULT_SEED,
    nboot: int = 1000,
    diagnostics: bool = True,
) -> MRAnalysis:
    """Run MR methods and diagnostics on a harmonised table (TwoSampleMR's ``mr()`` and co.).

    ``table`` is a DataFrame or a path (TwoSampleMR or snake_case names; rows with
    ``keep``/``mr_keep`` false are ignored; ``id.exposure``/``id.outcome`` or
    ``exposure``/``outcome`` columns split it into pairs). The other arguments
    are those of :func:`analyse`. A table whose pairs have no usable variant at
    all raises :class:`~mrkit.errors.InputError`; a pair without one, among
    others that have, is listed in ``skipped``.

    >>> import mrkit
    >>> res = mrkit.mr("examples/lipids-chd/ldlc_chd.csv")  # doctest: +SKIP
    >>> res.estimates[["method", "estimate", "se", "pval"]]  # doctest: +SKIP
    """
    pairs = Pairs.from_table(table)
    if len(pairs.group) == 0:
        what = "" if pairs.keys.columns.empty else " in any pair"
        msg = f"no variants with keep = TRUE{what}; nothing to analyse"
        raise InputError(msg)
    return analyse(
        pairs,
        methods,
        options=options,
        diagnostics=diagnostics,
        alpha=alpha,
        seed=seed,
        nboot=nboot,
    )


# -- one run ----------------------------------------------------------------------------
_SEGMENT: dict[str, Callable[..., Columns]] = {
    "wald_ratio": seg_kernels.wald_ratio,
    "ivw": lambda *a, **k: seg_kernels.ivw(*a, method="ivw", **k),
    "ivw_fe": lambda *a, **k: seg_kernels.ivw(*a, method="ivw_fe", model="fixed", **k),
    "ivw_mre": lambda *a, **k: seg_kernels.ivw(*a, method="ivw_mre", model="mre", **k),
    "egger": seg_kernels.egger,
}


class _Run:
    """The tables of one :func:`analyse` call, filled method by method."""

    def __init__(self, pairs: Pairs, alpha: float, threads: int | None) -> None:
        self.pairs = pairs
        self.seg = pairs.segments
        self.n = self.seg.n
        self.alpha = alpha
        self.threads = threads or usable_cores()
        self.estimates: list[pd.DataFrame] = []
        self.skipped: list[dict[str, Any]] = []
        self.tables: dict[str, pd.DataFrame] = {}

    def skip(self, method: str, pair: int, reason: str) -> None:
        self.skipped.append({"_pair": pair, "method": method, "reason": reason})

    # methods -----------------------------------------------------------------------
    def method(self, order: int, spec: MethodSpec, kw: dict[str, Any]) -> None:
        live = self.n > 0
        args = (self.pairs.bx, self.pairs.sx, self.pairs.by, self.pairs.sy, self.seg)
        if spec.kernel == "segment" and spec.name in _SEGMENT:
            cols = _SEGMENT[spec.name](*args, **kw)
        elif spec.kernel == "rows" and spec.name in ROWS_METHODS:
            fn, fixed = ROWS_METHODS[spec.name]
            cols = fn(*args, method=spec.name, **fixed, **kw)  # type: ignore[operator]
        else:
            self._per_pair(order, spec, kw)
            return
        reason = cols.pop("reason")
        ok = np.array([r is None for r in reason], dtype=bool) & live
        for p in np.flatnonzero(~ok & live):
            self.skip(spec.name, int(p), str(reason[p]))
        idx = np.flatnonzero(ok)
        frame = {"_pair": idx, "_order": order, "method": spec.name}
        for k in CORE_FIELDS[1:]:
            frame[k] = self.n[idx] if k == "nsnp" else np.asarray(cols[k])[idx]
        for k, v in cols.items():
            if k not in frame:
                frame[k] = np.asarray(v)[idx] if np.ndim(v) else v
        self.estimates.append(pd.DataFrame(frame))

    def _per_pair(self, order: int, spec: MethodSpec, kw: dict[str, Any]) -> None:
        short = seg_kernels.too_few(self.n, spec.min_snps, spec.name)
        todo = []
        for p in range(self.pairs.npairs):
            k = int(self.n[p])
            if k == 0:
                continue
            if (why := short[p]) is not None:
                self.skip(spec.name, p, why)
            elif spec.max_snps is not None and k > spec.max_snps:
                why = f"`{spec.name}` applies to at most {spec.max_snps} variant(s), got {k}"
                self.skip(spec.name, p, why)
            else:
                todo.append(p)
        size = self.pairs.sample_size if "n" in spec.options and "n" not in kw else None

        def one(p: int) -> MRResult | str:
            try:
                n = {} if size is None or np.isnan(size[p]) else {"n": float(size[p])}
                return spec.func(*self.pairs.pair(p), **kw, **n)
            except MrkitError as exc:
                return str(exc)
            except Exception as exc:  # one method failing on one pair must not stop the rest
                return f"internal error (please report it): {type(exc).__name__}: {exc}"

        if len(todo) > 1 and self.threads > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                results = list(pool.map(one, todo))
        else:
            results = [one(p) for p in todo]
        rows: list[dict[str, Any]] = []
        for p, res in zip(todo, results, strict=True):
            if isinstance(res, str):
                self.skip(spec.name, p, res)
            else:
                rows.extend(self._record(p, order, r) for r in (res, *res.companions))
        if rows:
            self.estimates.append(pd.DataFrame(rows))

    def _record(self, p: int, order: int, res: MRResult) -> dict[str, Any]:
        """One estimates row; a method's ``outlier_index`` also becomes ``outliers``, SNP ids."""
        rec = {"_pair": p, "_order": order, **res.to_record()}
        if rec.get("outlier_index") is not None:
            lo = int(np.searchsorted(self.pairs.group, p))
            idx = lo + np.asarray(rec["outlier_index"], dtype=np.int64)
            rec["outliers"] = [str(s) for s in self.pairs.snp[idx]]
        return rec

    # diagnostics -------------------------------------------------------------------
    def diagnostics(self) -> None:
        pr, seg, n, alpha = self.pairs, self.seg, self.n, self.alpha
        args = (pr.bx, pr.sx, pr.by, pr.sy, seg)
        live = n > 0
        self._need("heterogeneity", live & (n < 2), 2)
        het_ivw = np.flatnonzero(n >= 2)
        ivw = seg_kernels.ivw(*args, alpha=alpha)
        egg = seg_kernels.egger(*args, alpha=alpha)
        egg_ok = np.array([r is None for r in egg["reason"]]) & live
        for p in np.flatnonzero(~egg_ok & live):
            self.skip(
                "pleiotropy", int(p), str(egg["reason"][p]).replace("`egger`", "`pleiotropy`")
            )
        for p in np.flatnonzero(~egg_ok & (n >= 3)):  # collinear: no Q' either
            why = str(egg["reason"][p]).replace("`egger`", "Rücker's Q' (`egger`)")
            self.skip("heterogeneity", int(p), why)
        het_egg = np.flatnonzero(egg_ok)
        het = pd.concat(
            [self._pick(ivw, het_ivw, "ivw"), self._pick(egg, het_egg, "egger")],
            ignore_index=True,
        )
        het["q_df"] = het["q_df"].astype(int)
        self.tables["heterogeneity"] = het
        self.tables["pleiotropy"] = pd.DataFrame(
            {
                "_pair": het_egg,
                "egger_intercept": egg["egger_intercept"][het_egg],
                "se": egg["egger_intercept_se"][het_egg],
                "pval": egg["egger_intercept_pval"][het_egg],
            }
        )
        st = dseg.strength(pr.bx, pr.sx, seg)
        idx = np.flatnonzero(live)
        self.tables["strength"] = pd.DataFrame(
            {"_pair": idx, **{k: np.asarray(v)[idx] for k, v in st.items()}}
        )
        zero = seg.any(pr.bx == 0)
        for p in np.flatnonzero(zero):
            self.skip("single_snp", int(p), "a variant has bx = 0, so its Wald ratio is undefined")
        single = dseg.single_snp(pr.bx, pr.sy, pr.by, alpha=alpha)
        self.tables["single_snp"] = self._per_row(single, ~zero[pr.group])
        self._need("leave_one_out", live & (n < 3), 3, "leave_one_out (ivw)")
        loo = dseg.leave_one_out(*args, alpha=alpha)
        self.tables["leave_one_out"] = self._per_row(loo, n[pr.group] >= 3)

    def _need(self, name: str, short: NDArray[np.bool_], k: int, what: str = "") -> None:
        """Skip rows for the pairs in ``short`` (fewer than ``k`` variants)."""
        why = seg_kernels.too_few(self.n, k, what or name)
        for p in np.flatnonzero(short):
            self.skip(name, int(p), str(why[p]))

    @staticmethod
    def _pick(cols: Columns, idx: NDArray[np.int64], method: str) -> pd.DataFrame:
        """The Q columns of the pairs ``idx`` as heterogeneity rows of ``method``."""
        frame: dict[str, Any] = {"_pair": idx, "method": method}
        frame.update({k: np.asarray(cols[k])[idx] for k in ("q", "q_df", "q_pval")})
        return pd.DataFrame(frame)

    def _per_row(self, cols: Columns, keep: NDArray[np.bool_]) -> pd.DataFrame:
        idx = np.flatnonzero(keep)
        frame = {"_pair": self.pairs.group[idx], "snp": self.pairs.snp[idx]}
        frame.update({k: np.asarray(v)[idx] for k, v in cols.items()})
        return pd.DataFrame(frame)

    # assembling --------------------------------------------------------------------
    def _keyed(self, df: pd.DataFrame, sort: list[str]) -> pd.DataFrame:
        keys = self.pairs.keys
        df = df.sort_values(sort, kind="stable").reset_index(drop=True)
        cols = [c for c in df.columns if not c.startswith("_")]
        out = df[cols]
        if len(keys.columns):
            k = keys.iloc[df["_pair"].to_numpy()].reset_index(drop=True)
            out = pd.concat([k, out.reset_index(drop=True)], axis=1)
        return out

    def result(self, params: dict[str, Any]) -> MRAnalysis:
        est = (
            pd.concat(self.estimates, ignore_index=True)
            if self.estimates
            else pd.DataFrame(columns=["_pair", "_order", *CORE_FIELDS])
        )
        skipped = pd.DataFrame(self.skipped, columns=["_pair", "method", "reason"])
        empty = pd.DataFrame(columns=["_pair"])
        t = self.tables
        keys = self.pairs.keys.copy()
        keys["nsnp"] = self.n
        return MRAnalysis(
            keys=keys,
            estimates=self._keyed(est, ["_pair", "_order"]),
            heterogeneity=self._keyed(t.get("heterogeneity", empty), ["_pair"]),
            pleiotropy=self._keyed(t.get("pleiotropy", empty), ["_pair"]),
            strength=self._keyed(t.get("strength", empty), ["_pair"]),
            leave_one_out=self._keyed(t.get("leave_one_out", empty), ["_pair"]),
            single_snp=self._keyed(t.get("single_snp", empty), ["_pair"]),
            skipped=self._keyed(skipped, ["_pair"]),
            parameters=params,
        )


__all__ = [
    "DEFAULT_SEED",
    "DIAGNOSTICS",
    "Pairs",
    "analyse",
    "method_options",
    "mr",
    "parse_setting",
]
