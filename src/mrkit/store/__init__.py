"""The local GWAS store: a DuckDB catalog plus one Parquet file per imported GWAS.

:mod:`~mrkit.store.catalog` holds :class:`~mrkit.store.catalog.Store` (the
catalog, atomic imports and their recovery after a crash) and
:func:`~mrkit.store.catalog.load_gwas`; :mod:`~mrkit.store.queries` the queries
by p-value, rsID and chromosome position, which refuse to match positions across
genome builds; :mod:`~mrkit.store._files` the on-disk file handling.
"""

from __future__ import annotations

from mrkit.store.catalog import Store, load_gwas

__all__ = ["Store", "load_gwas"]
