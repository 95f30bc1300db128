"""GWAS summary statistics of any common layout -> the normalised table.

:mod:`~mrkit.io.sumstats.read` is the entry point (:func:`~mrkit.io.sumstats.read.read_sumstats`,
:func:`~mrkit.io.sumstats.read.detect_format`); :mod:`~mrkit.io.sumstats.formats`
describes the supported layouts; the private modules sniff the header
(``_sniff``), build the one SQL statement (``_normsql``), stream and check the
Arrow batches (``_ingest``), inflate gzip input ahead (``_inflate``), find the
first bad line on the error path (``_locate``) and supply the alleles PLINK 1.9
files lack (``_plink_alleles``). Nothing is re-exported, so that ``formats``
can be imported without DuckDB.
"""
