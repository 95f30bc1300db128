"""Linkage disequilibrium from a local PLINK 1 reference panel.

:mod:`~mrkit.ld.panel` opens the panel (:class:`~mrkit.ld.panel.ReferencePanel`:
variant lookup, genotypes of the variants asked for, r matrices) through
:mod:`mrkit.io.plink`; :mod:`~mrkit.ld.greedy` clumps columns with PLINK 1.9's
semantics (numpy only, what ``mrkit clump`` runs) and :mod:`~mrkit.ld.clump`
clumps pandas tables with it; :mod:`~mrkit.ld.proxies` finds LD proxies with
their alleles mapped through the sign of r. Nothing needs the internet.
"""
