"""What every room shares, importing nothing of mrkit above :mod:`mrkit.errors`.

:mod:`~mrkit._core.arrays` (array types, input checks, p-values and intervals),
:mod:`~mrkit._core.columns` (table schemas, column aliases, drop reasons, genome
builds, chromosome names), :mod:`~mrkit._core.fmt` (numbers for humans, values
for JSON), :mod:`~mrkit._core.roptim` (R's ``optimize`` and ``sum``, step for step)
and :mod:`~mrkit._core.version`. Nothing is re-exported: ``import
mrkit`` reads only the version from here, to start fast.
"""
