"""Colocalisation of two traits' association signals in one region (R package coloc).

:mod:`~mrkit.coloc.bf` holds Wakefield's approximate Bayes factors and their combination
into the H0..H4 posteriors; :mod:`~mrkit.coloc.abf` ``coloc.abf`` (Giambartolomei et al.
2014), ``finemap.abf`` and credible sets;
:mod:`~mrkit.coloc.sensitivity` the posterior over a grid of ``p12`` and its plot;
:mod:`~mrkit.coloc.data` reads the per-trait files and :mod:`~mrkit.coloc.ld` the
LD matrices (a square file, a long table, or a PLINK panel through :mod:`mrkit.ld`);
:mod:`~mrkit.coloc.region` takes a region of a stored GWAS. SuSiE fine-mapping and
``coloc.susie`` live in the ``susie*`` modules, ``coloc.signals`` in ``signals``.
Everything is numpy; no R is needed at run time.
"""
