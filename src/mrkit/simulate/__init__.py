"""Synthetic studies with a known truth: an LD reference panel and GWAS that carry its LD.

:mod:`~mrkit.simulate.spec` describes traits and causal effects (and their TOML
form), :mod:`~mrkit.simulate.panel` simulates a PLINK reference panel with
msprime, :mod:`~mrkit.simulate.gwas` draws summary statistics through the
panel's LD, and :mod:`~mrkit.simulate.run` writes whole studies (``mrkit
simulate``). Used for the demo, tests and power calculations. Nothing is
re-exported, so that reading a config does not import msprime or SciPy.
"""
