"""Harmonisation of exposure and outcome summary statistics, as TwoSampleMR does it.

:mod:`~mrkit.harmonise.core` aligns the alleles of each variant (strand flips,
palindromes, INDELs; the rules in :mod:`~mrkit.harmonise.alleles`) and returns
the harmonised pair table, every variant kept with ``keep`` and its drop
``reason``; :mod:`~mrkit.harmonise.many` does the same for the stacked
instruments of many exposures against one outcome in one pass (``harmonise()``
is a batch of one); :mod:`~mrkit.harmonise.proxies` substitutes LD proxies for
exposure variants the outcome lacks.
"""
