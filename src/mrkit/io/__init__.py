"""Files in, tables out: the readers of everything mrkit is given.

:mod:`~mrkit.io.sumstats` reads GWAS summary statistics of any common layout
(format detection, the streaming DuckDB reader and its checks, gzip inflating,
locating a bad line) into the normalised table of DESIGN.md;
:mod:`~mrkit.io.harmonised` reads harmonised exposure-outcome tables, snake_case
or TwoSampleMR-shaped. Nothing is re-exported here, so that importing one reader
does not import the others (the DuckDB reader is slow to import).
"""
