"""Linkage disequilibrium from a local PLINK 1 reference panel.

:mod:`~mrkit.ld.panel` opens the panel (:class:`~mrkit.ld.panel.ReferencePanel`:
genotypes of the variants asked for, r matrices), :mod:`~mrkit.ld.clump` clumps
with PLINK 1.9's semantics and :mod:`~mrkit.ld.proxies` finds LD proxies with
their alleles mapped through the sign of r. Nothing needs the internet.
"""
