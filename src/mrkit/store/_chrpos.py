"""``chr:pos[:a1:a2]`` lookup keys of :meth:`mrkit.store.queries.Queries.lookup` as a frame."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from mrkit._core.columns import normalise_chr
from mrkit.errors import InputError


def chrpos_frame(chrpos: Iterable[str] | pd.DataFrame) -> pd.DataFrame:
    """Keys ``chr, pos`` (and ``a1, a2`` when given) from strings or a frame.

    Chromosome names are spelled as the store spells them (:func:`normalise_chr`:
    ``chr23`` is ``X``); alleles are upper case.
    """
    if isinstance(chrpos, pd.DataFrame):
        out = pd.DataFrame(
            {
                "chr": chrpos["chr"].astype(str).map(normalise_chr),
                "pos": chrpos["pos"].astype("int64"),
            }
        )
        if "effect_allele" in chrpos:
            out["a1"] = chrpos["effect_allele"].astype(str).str.upper()
            out["a2"] = chrpos["other_allele"].astype(str).str.upper()
    else:
        rows = []
        for key in chrpos:
            parts = re.split(r"[:_]", str(key).strip())
            if len(parts) not in (2, 4) or not parts[1].isdigit():
                raise InputError(f"bad chr:pos key {key!r}; use '1:12345' or '1:12345:A:G'")
            a1, a2 = (parts[2].upper(), parts[3].upper()) if len(parts) == 4 else (None, None)
            rows.append((normalise_chr(parts[0]), int(parts[1]), a1, a2))
        out = pd.DataFrame(rows, columns=["chr", "pos", "a1", "a2"])
        if out["a1"].isna().all():
            out = out[["chr", "pos"]]
    return out
