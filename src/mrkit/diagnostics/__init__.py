"""Diagnostics of an MR analysis, beside the estimates.

Heterogeneity (Cochran's and Rücker's Q), pleiotropy (the Egger intercept),
instrument strength (F, R², I²GX), single-variant and leave-one-out estimates
(:mod:`~mrkit.diagnostics.core`, and in closed form over many pairs at once in
:mod:`~mrkit.diagnostics.segments`), Rücker's model selection
(:mod:`~mrkit.diagnostics.rucker`) and Steiger directionality
(:mod:`~mrkit.diagnostics.steiger`). Pure functions of arrays, as the methods.
"""
