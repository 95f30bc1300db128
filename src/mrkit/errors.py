"""Exceptions and warnings raised by mrkit.

Every failure a user can cause has its own class, and every message says what
was found, where (file, line, column, row or argument) and what to do next.
The command line turns any :class:`MrkitError` into one message and exit
status 2; it never shows a traceback for a user's mistake.
"""

from __future__ import annotations


class MrkitError(Exception):
    """Base class of every error mrkit raises on purpose."""


class InputError(MrkitError, ValueError):
    """Values passed to an estimator or an API call are unusable (NaN, se <= 0, ...)."""


class TooFewVariantsError(InputError):
    """A method was given fewer variants than it needs.

    The message names the method and its minimum, e.g. ``egger needs at least
    3 variants, got 2``.
    """

    def __init__(self, method: str, needed: int, got: int) -> None:
        self.method = method
        self.needed = needed
        self.got = got
        super().__init__(
            f"`{method}` needs at least {needed} variant{'s' if needed != 1 else ''}, got {got}"
        )


class UnknownMethodError(InputError, KeyError):
    """A method name is not in the registry; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FileFormatError(MrkitError, ValueError):
    """A file could not be read: the message names the file, line and column.

    Parameters
    ----------
    path
        The file that was being read.
    message
        What is wrong, in a few words.
    line
        1-based line number in the file (the header is line 1), if known.
    column
        Column name, if the problem is in one column.
    """

    def __init__(
        self,
        path: object,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = self.path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column `{column}`"
        super().__init__(f"{where}: {message}")


class StoreError(MrkitError):
    """The DuckDB store is missing, locked, or does not hold the asked-for GWAS."""


class PanelError(MrkitError):
    """An LD reference panel is missing, inconsistent, or of the wrong format."""


class StudyError(MrkitError):
    """A study file is invalid; the message names the key."""


class MrkitWarning(UserWarning):
    """Base class of the warnings mrkit emits (all of them are also recorded in results)."""


class StatisticalWarning(MrkitWarning):
    """A result is valid but should be read with care (e.g. over-dispersion near zero)."""
