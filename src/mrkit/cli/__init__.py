"""The ``mrkit`` command: a table of sub-commands, each imported only when it runs.

``mrkit --help`` lists the commands from :data:`COMMANDS` without importing any of
their modules (no numpy, pandas or DuckDB: it starts in about the time Python and
typer take). ``mrkit NAME ...`` (and ``mrkit NAME --help``) imports the one module
that defines ``NAME``, builds its typer command and runs it.

A command module registers a command in two steps:

1. ``mrkit/cli/<module>.py`` decorates its function with ``@app.command("NAME")``
   (``app``, ``console`` and ``err_console`` are imported from this package) and
   imports at its top only what its commands share; anything heavy that one
   command needs goes inside that command's function;
2. :data:`COMMANDS` gets the row ``"NAME": ("<module>", "first paragraph of the
   function's docstring")``. ``tests/cli/test_startup.py`` fails when the table and
   the modules disagree.

Any :class:`~mrkit.errors.MrkitError` becomes one line ``error: ...`` on stderr and
exit status 2 (never a traceback); usage errors also exit with 2.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from mrkit.errors import MrkitError

if TYPE_CHECKING:
    from typer._click.core import Command as _CommandBase
    from typer._coercion import RuntimeParam as _RuntimeParam
else:
    _CommandBase = object  # _PlainHelp is a mixin; its command class comes after it
    try:  # typer >= 0.2x converts every value through a pydantic TypeAdapter
        from typer._coercion import RuntimeParam as _RuntimeParam
    except ImportError:  # pragma: no cover - a typer without it converts values itself
        _RuntimeParam = None

HELP = "Two-sample Mendelian randomization from GWAS summary statistics, offline."

#: Every sub-command: name -> (module of ``mrkit.cli`` defining it, one-line help for the
#: listing of ``mrkit --help``), in the order of the data's way through the house.
COMMANDS: dict[str, tuple[str, str]] = {
    "import": ("store", "Import one GWAS summary-statistics file into the store."),
    "studies": ("store", "List the GWAS in the store."),
    "instruments": ("ld", "Select instruments; every candidate is listed with keep/reason."),
    "clump": (
        "ld",
        "LD-clump a GWAS like `plink1.9 --clump`: index SNPs with the SNPs they clumped.",
    ),
    "ld": (
        "ld",
        "Signed LD (r) matrix of the SNPs, coded by effect_allele when the file gives it.",
    ),
    "harmonise": (
        "harmonise",
        "Harmonise OUTCOME on EXPOSURE as TwoSampleMR harmonise_data() does; keep every row.",
    ),
    "mr": ("mr", "Estimate causal effects with every requested method, plus diagnostics."),
    "mvmr": (
        "mvmr",
        "Multivariable MR: direct effects of several exposures, conditional F and Q_A.",
    ),
    "run": ("run", "Import, select instruments, harmonise, estimate, correct and report."),
    "coloc": (
        "coloc",
        "Colocalise two traits in one region: coloc.abf, coloc.susie or coloc.signals.",
    ),
    "phewas": ("phewas", "Phenome-wide MR: the same pipeline and outputs as `mrkit run`."),
    "simulate": (
        "simulate",
        "Simulate an LD reference panel (msprime) and GWAS summary statistics with known "
        "causal effects between traits.",
    ),
}

#: Where the command modules register their commands (``@app.command("NAME")``).
app = typer.Typer(
    name="mrkit",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def __getattr__(name: str) -> Any:
    """``console`` and ``err_console``: rich consoles, made on first use.

    rich takes ~40 ms to import; a command that prints plain lines (``typer.echo``)
    and exits without error never pays for it.
    """
    if name in ("console", "err_console"):
        from rich.console import Console

        # Wide enough for method names when output is piped to a file (no terminal width).
        globals()["console"] = Console(width=None if sys.stdout.isatty() else 120)
        globals()["err_console"] = Console(stderr=True)
        return globals()[name]
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def _print_error(message: object) -> None:
    """``error: message`` on stderr, one line; the message printed as it is (no rich markup:
    ``[[gwas]]`` or a file named ``[bold]x[/bold].tsv`` come out literally)."""
    from rich.text import Text

    line = Text.assemble(("error:", "bold red"), " ", str(message))
    __getattr__("err_console").print(line, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise."""
    _print_error(message)
    return typer.Exit(code)


if _RuntimeParam is not None:

    @dataclass(frozen=True)
    class _PlainParam(_RuntimeParam):
        """A command-line value as ``str``, ``int``, ``float`` or ``bool``, as pydantic would.

        typer converts every value through a pydantic ``TypeAdapter``; importing
        pydantic and building the adapters costs about 0.1 s per command, more than
        some commands take (``mrkit clump`` races plink1.9). Only plain parameters
        of these four types, without bounds, choices or parsers, use this.
        """

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if type(value) is kind:
                return value
            if kind is bool:
                if str(value).lower() in _BOOLS:
                    return _BOOLS[str(value).lower()]
            else:
                try:
                    return kind(value)
                except (TypeError, ValueError):
                    pass
            msg = f"{value!r} is not a valid {kind.__name__}."
            raise typer.BadParameter(msg, ctx=ctx, param=param)


_BOOLS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False,
          "no": False, "off": False}  # fmt: skip


def _plain(param: Any) -> None:
    """Give ``param`` a :class:`_PlainParam` if it is a plain str, int, float or bool."""
    desc = getattr(param, "type_descriptor", None)
    if _RuntimeParam is None or desc is None or getattr(param, "_runtime_param", 0) is not None:
        return
    info = desc.parameter_info
    if (
        desc.annotation in (str, int, float, bool)
        and getattr(info, "parser", None) is None
        and getattr(info, "min", None) is None
        and getattr(info, "max", None) is None
        and not desc.is_choice
        and not desc.is_file
        and param.nargs == 1
        and not param.multiple
    ):
        param._runtime_param = _PlainParam(parameter_info=info, annotation=desc.annotation)


class _PlainHelp(_CommandBase):
    """Mixin: the ``--help`` option (made on first use) is a plain ``bool`` too."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain(option)
        return option


class _Command(_PlainHelp, TyperCommand):
    """A typer command whose plain parameters skip pydantic (see :class:`_PlainParam`)."""


def command(name: str) -> Any:
    """The click command of ``mrkit NAME``, importing the module that defines it.

    Raises
    ------
    KeyError
        ``name`` is not in :data:`COMMANDS`.
    RuntimeError
        The module listed for ``name`` defines no such command (the table is stale).
    """
    module = COMMANDS[name][0]
    importlib.import_module(f"{__name__}.{module}")
    for info in app.registered_commands:
        callback_name = getattr(info.callback, "__name__", "")
        if (info.name or typer.main.get_command_name(callback_name)) == name:
            if info.cls in (None, TyperCommand):  # (a command of its own class keeps it)
                info.cls = _Command
            cmd = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
            for param in cmd.params:
                _plain(param)
            return cmd
    msg = (
        f"mrkit.cli.{module} defines no command {name!r}; "
        "fix the COMMANDS table in mrkit/cli/__init__.py"
    )
    raise RuntimeError(msg)


class _LazyGroup(_PlainHelp, TyperGroup):
    """The root ``mrkit`` group: lists :data:`COMMANDS`, imports a command on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = command(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:  # click's UsageError (typer bundles its own click)
            from difflib import get_close_matches

            near = get_close_matches(args[0], COMMANDS) if args else []
            message = getattr(exc, "message", None)
            if near and isinstance(message, str) and "Did you mean" not in message:
                # (typed Exception here: the UsageError class depends on the typer version)
                setattr(exc, "message", f"{message.rstrip('.')}. Did you mean {near[0]!r}?")  # noqa: B010
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(_root_help(self, ctx))


def _root_help(group: _LazyGroup, ctx: Any) -> str:
    """``mrkit --help`` in typer's look, from the table alone (rich, without typer.rich_utils).

    typer's own renderer imports rich's markdown and traceback modules (~0.2 s); this
    one needs only a panel and a table grid.
    """
    import io
    import shutil

    from rich import box
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    width = min(shutil.get_terminal_size((80, 24)).columns, 100)
    text = io.StringIO()
    out = Console(file=text, width=width, force_terminal=sys.stdout.isatty(), highlight=False)
    usage = " ".join([ctx.command_path, *group.collect_usage_pieces(ctx)])
    out.print()
    out.print(Text.assemble(" ", ("Usage: ", "yellow"), (usage, "bold")))
    out.print()
    out.print(f" {group.help}")
    out.print()

    def panel(title: str, rows: list[tuple[str, str]], style: str) -> Panel:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style=style, no_wrap=True)
        grid.add_column()
        for name, text in rows:
            grid.add_row(name, text)
        return Panel(grid, title=title, title_align="left", border_style="dim", box=box.ROUNDED)

    options = [rec for p in group.get_params(ctx) if (rec := p.get_help_record(ctx))]
    out.print(panel("Options", options, "bold cyan"))
    out.print(panel("Commands", [(n, h) for n, (_, h) in COMMANDS.items()], "bold cyan"))
    return text.getvalue()


def _group() -> _LazyGroup:
    return _LazyGroup(
        name="mrkit",
        help=HELP,
        no_args_is_help=True,
        rich_markup_mode=app.rich_markup_mode,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mrkit`` console script; returns the exit status.

    0 on success (or the integer a command returns), 2 for a
    :class:`~mrkit.errors.MrkitError` (one ``error:`` line on stderr) or a usage
    error, 130 when interrupted.
    """
    try:
        rv = _group().main(args=argv, standalone_mode=False)
    except MrkitError as exc:
        _print_error(exc)
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
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
