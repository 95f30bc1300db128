"""The ``mrkit`` command: thin wrappers that parse, call the API and print.

Each sub-command lives in a module of this package (``cli/mr.py``,
``cli/store.py``, ...) that decorates its function with ``@app.command(...)``;
the modules are imported automatically. Any :class:`~mrkit.errors.MrkitError`
becomes one line on stderr and exit status 2 (never a traceback).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.console import Console

from mrkit.errors import MrkitError

app = typer.Typer(
    name="mrkit",
    help="Two-sample Mendelian randomization from GWAS summary statistics, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for method names when output is piped to a file (no terminal width).
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Two-sample Mendelian randomization from GWAS summary statistics, offline."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _load_commands() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mrkit`` console script."""
    _load_commands()
    try:
        app(args=argv, standalone_mode=False)
    except MrkitError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # click usage errors
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except Exception as exc:  # usage errors of click (or typer's bundled copy of it)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            return 2
        if type(exc).__name__ == "Abort":
            return 130
        raise
    return 0
