"""Per-pair tables cut from the stacked columns of many pairs, dtypes included.

A per-pair table must be exactly what one ``harmonise()`` call gives, and pandas
chooses some dtypes from the values of the pair: an object column becomes the
``str`` dtype when it holds at least one string (and stays ``object`` when every
value is missing), ``chr``/``pos`` keep what their source column gives for those
rows (``Int64`` becomes ``int64``, or ``float64`` when a value is missing), and
``log10p_*``, ``ncase_*``, ``ncontrol_*`` exist only when an input of the pair
has them. Building one DataFrame per pair costs about a millisecond, so the
pairs are sorted into classes that share all of these traits, one DataFrame is
built per class (the same operations, on the rows of all its pairs), and each
pair's table is a slice of it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mrkit.errors import InputError
from mrkit.harmonise._inputs import OPTIONAL_OUT

#: Object columns whose dtype depends on whether the pair has any value.
_TEXT = (
    "snp",
    "effect_allele",
    "other_allele",
    "effect_allele_outcome",
    "other_allele_outcome",
    "alleles",
    "proxy_snp",
)
#: Columns of ``dropped`` rows, as ``(source column, output column, empty dtype)``.
_DROPPED = (
    ("snp", "snp", object),
    ("beta", "beta_exposure", float),
    ("se", "se_exposure", float),
    ("p", "p_exposure", float),
    ("reason", "reason", object),
)


def _per_group(mask: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes[mask], minlength=n) > 0


def _source_trait(s: pd.Series | None, codes: np.ndarray, n: int) -> np.ndarray:
    """What decides the dtype of ``s.to_numpy()`` over each group's rows (an int per group)."""
    if s is None:
        return np.zeros(n, dtype=np.int64)
    dt = s.dtype
    is_object = isinstance(dt, np.dtype) and dt.kind == "O"
    if isinstance(dt, np.dtype) and not is_object:
        return np.zeros(n, dtype=np.int64)  # a numpy array keeps its dtype
    if is_object or isinstance(dt, pd.StringDtype):  # str: >= 1 string and only strings
        values = s.to_numpy(object)
        present = ~pd.isna(values)
        other = present & np.array([not isinstance(v, str) for v in values], dtype=bool)
        return (_per_group(present, codes, n) & ~_per_group(other, codes, n)).astype(np.int64)
    if pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt):  # masked arrays
        return _per_group(s.isna().to_numpy(), codes, n).astype(np.int64)
    return np.arange(2, n + 2, dtype=np.int64)  # anything else: each pair on its own


class PairFrames:
    """The stacked output columns of many pairs and the per-pair tables cut from them.

    ``group`` gives each output row's pair (non-decreasing); ``source`` is the
    exposure input (rows grouped by pair, ``source_codes``), whose ``chr`` and
    ``pos`` are passed through as ``harmonise()`` does; ``source_row`` maps each
    output row to its source row.
    """

    def __init__(
        self,
        labels: list[Hashable],
        group: np.ndarray,
        cols: dict[str, np.ndarray],
        has: dict[str, np.ndarray],
        *,
        source: pd.DataFrame,
        source_codes: np.ndarray,
        source_row: np.ndarray,
        by: str | None,
    ) -> None:
        self.labels = labels
        self.group = group
        self.cols = cols
        self.has = has
        self.source = source
        self.source_codes = source_codes
        self.source_row = source_row
        self.by = by
        n = len(labels)
        self.n_rows = len(group)
        self.bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n))])
        traits = [has[c].astype(np.int64) for c in OPTIONAL_OUT]
        # (numpy's stubs leave None out of ArrayLike; an object array compares with it)
        traits += [
            _per_group(np.not_equal(cols[c], None), group, n)  # type: ignore[call-overload]
            for c in _TEXT
        ]
        traits += [
            _source_trait(source[c] if c in source.columns else None, source_codes, n)
            for c in ("chr", "pos")
        ]
        if n:
            _, inverse = np.unique(np.column_stack(traits), axis=0, return_inverse=True)
            self.classes = inverse.reshape(-1)
        else:
            self.classes = np.zeros(0, dtype=np.intp)
        self._built: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}

    # ------------------------------------------------------------------ building

    def _columns(self, rows: np.ndarray, optional: dict[str, bool]) -> dict[str, Any]:
        """The output columns of ``rows`` (all of one class), ``chr``/``pos`` as harmonise()."""
        in_rows = np.flatnonzero(np.isin(self.source_codes, np.unique(self.group[rows])))
        local = np.full(len(self.source_codes), -1, dtype=np.intp)
        local[in_rows] = np.arange(len(in_rows))
        take = local[self.source_row[rows]]
        out: dict[str, Any] = {"snp": self.cols["snp"][rows]}
        for c in ("chr", "pos"):
            if c in self.source.columns:
                x = self.source[c].iloc[in_rows].to_numpy()
            else:
                x = np.full(len(in_rows), np.nan)
            out[c] = pd.Series(x).to_numpy()[take]  # the prepared column, as merged
        for name, values in self.cols.items():
            if name == "snp":
                continue
            base = name.rsplit("_", 1)[0]
            if base in OPTIONAL_OUT and not optional[base]:
                continue
            out[name] = values[rows]
        return out

    def _frame(self, groups: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """One DataFrame for the pairs ``groups`` (one class) and each pair's row bounds in it."""
        sizes = np.diff(self.bounds)[groups]
        rows = np.flatnonzero(np.isin(self.group, groups))  # in pair order: groups ascending
        optional = {c: bool(self.has[c][groups[0]]) for c in OPTIONAL_OUT}
        frame = pd.DataFrame(self._columns(rows, optional))
        return frame, np.concatenate([[0], np.cumsum(sizes)])

    def pair(self, i: int) -> pd.DataFrame:
        """The table of pair ``i``."""
        c = int(self.classes[i])
        members = np.flatnonzero(self.classes == c)
        if c not in self._built:
            self._built[c] = self._frame(members)
        frame, offsets = self._built[c]
        if len(members) == 1:
            return frame.copy(deep=False)  # the caller may add columns
        j = int(np.searchsorted(members, i))
        return frame.iloc[offsets[j] : offsets[j + 1]].reset_index(drop=True)

    def stacked(self) -> pd.DataFrame:
        """All rows in one table (optional columns when any pair has them)."""
        rows = np.arange(self.n_rows, dtype=np.intp)
        optional = {c: bool(self.has[c].any()) for c in OPTIONAL_OUT}
        cols = self._columns(rows, optional)
        name = self.by or "exposure"
        ids = pd.Series(self.labels, dtype=object if not self.labels else None)
        return pd.DataFrame({name: ids.to_numpy()[self.group], **cols})

    def tables(
        self, dropped: Mapping[Hashable, pd.DataFrame] | pd.DataFrame, outcome: str | None
    ) -> dict[Hashable, pd.DataFrame]:
        """Every pair's table (then its dropped rows; then the id columns), by class."""
        n = len(self.labels)
        if n == 0:
            return {}
        sources, sizes = self._dropped_by_pair(dropped)
        members: dict[Any, list[int]] = {}
        for g in range(n):
            key: tuple = ()
            if sizes[g]:
                d = sources.table if isinstance(sources, _Rows) else sources[g]
                key = tuple(str(d[c].dtype) if c in d.columns else None for c, _, _ in _DROPPED)
                if all(k is None for k in key):  # no column to show: no row (as before)
                    key = ()
            members.setdefault((int(self.classes[g]), key), []).append(g)
        ids = pd.Series(self.labels)
        result: dict[Hashable, pd.DataFrame] = {}
        for (_, pre_key), groups_list in members.items():
            groups = np.array(groups_list, dtype=np.intp)
            frame, offsets = self._frame(groups)
            rows = np.diff(offsets)
            if pre_key:
                pre = self._dropped(sources, groups)
                frame, rows = self._interleave(frame, rows, pre, sizes[groups])
            if outcome is not None:
                frame.insert(0, "outcome", outcome)
                frame.insert(0, "exposure", ids.to_numpy()[np.repeat(groups, rows)])
            frame["keep"] = frame["keep"].astype(bool)
            starts = np.concatenate([[0], np.cumsum(rows)])
            for j, g in enumerate(groups):
                part = frame.iloc[starts[j] : starts[j + 1]]
                part.index = pd.RangeIndex(len(part))
                result[self.labels[g]] = part
        return {label: result[label] for label in self.labels}

    def _dropped_by_pair(
        self, dropped: Mapping[Hashable, pd.DataFrame] | pd.DataFrame
    ) -> tuple[Mapping[int, pd.DataFrame], np.ndarray]:
        """Each pair's dropped rows (a frame per pair, or per pair index the rows of one
        stacked frame named by its ``by`` column) and their number."""
        n = len(self.labels)
        sizes = np.zeros(n, dtype=np.intp)
        if not isinstance(dropped, pd.DataFrame):
            sources = {g: dropped[k] for g, k in enumerate(self.labels) if k in dropped}
            for g, d in sources.items():
                sizes[g] = len(d)
            return sources, sizes
        if self.by is None or self.by not in dropped.columns:
            raise InputError(
                f"harmonise: the dropped rows need the exposure id column `{self.by}`; "
                "or give a mapping from exposure id to its dropped rows"
            )
        target = dropped[self.by].to_numpy(object)
        # (pandas-stubs type the target as an Index; pandas takes any array-like)
        codes = pd.Index(self.labels, dtype=object).get_indexer(target)  # type: ignore[arg-type]
        order = np.argsort(np.where(codes < 0, n, codes), kind="stable")
        sizes[:] = np.bincount(codes[codes >= 0], minlength=n)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        stacked = dropped.iloc[order[: starts[-1]]]  # pair by pair
        return _Rows(stacked, starts), sizes

    @staticmethod
    def _dropped(sources: Mapping[int, pd.DataFrame], groups: np.ndarray) -> pd.DataFrame:
        """The rows dropped before harmonisation of ``groups``, in the harmonised columns."""
        if isinstance(sources, _Rows):
            src = sources.of(groups)
        else:
            src = pd.concat(
                [sources[g][[c for c, _, _ in _DROPPED if c in sources[g]]] for g in groups],
                ignore_index=True,
            )
        cols: dict[str, Any] = {}
        for c, name, dtype in _DROPPED:
            cols[name] = src.get(c, pd.Series(dtype=dtype))
            if name == "p_exposure":
                cols["keep"] = False
        return pd.DataFrame(cols)

    @staticmethod
    def _interleave(frame, sizes, pre, pre_sizes):
        """``frame`` and ``pre`` concatenated, each pair's rows then its dropped rows."""
        full = pd.concat([frame, pre], ignore_index=True)
        t0 = np.concatenate([[0], np.cumsum(sizes)])
        p0 = len(frame) + np.concatenate([[0], np.cumsum(pre_sizes)])
        order = np.concatenate(
            [
                np.concatenate([np.arange(t0[j], t0[j + 1]), np.arange(p0[j], p0[j + 1])])
                for j in range(len(sizes))
            ]
        ).astype(np.intp)
        return full.take(order).reset_index(drop=True), sizes + pre_sizes


class _Rows(Mapping[int, pd.DataFrame]):
    """The rows of a stacked table, pair by pair (``starts``: each pair's first row)."""

    def __init__(self, table: pd.DataFrame, starts: np.ndarray) -> None:
        self.table = table.reset_index(drop=True)
        self.starts = starts

    def __getitem__(self, g: int) -> pd.DataFrame:
        return self.table.iloc[self.starts[g] : self.starts[g + 1]]

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.starts) - 1))

    def __len__(self) -> int:
        return len(self.starts) - 1

    def of(self, groups: np.ndarray) -> pd.DataFrame:
        """The rows of ``groups``, in that order, with a new index."""
        at = np.concatenate([np.arange(self.starts[g], self.starts[g + 1]) for g in groups])
        return self.table.iloc[at.astype(np.intp)].reset_index(drop=True)
