"""Colocalisation of two traits' association signals in one region (R package coloc).

:mod:`~mrkit.coloc.abf` holds Wakefield's approximate Bayes factors, ``coloc.abf``
(Giambartolomei et al. 2014), ``finemap.abf`` and credible sets;
:mod:`~mrkit.coloc.sensitivity` the posterior over a grid of ``p12`` and its plot;
:mod:`~mrkit.coloc.data` reads the per-trait files and :mod:`~mrkit.coloc.ld` the
LD matrices (a square file, a long table, or a PLINK panel through :mod:`mrkit.ld`).
SuSiE fine-mapping and ``coloc.susie`` live in the ``susie*`` modules.
Everything is numpy; no R is needed at run time.
"""
