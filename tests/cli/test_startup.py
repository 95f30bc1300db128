"""A fast start: ``mrkit --help`` imports no command module, a command imports only its own.

The speed itself is measured in benchmarks (never timed here); these tests check what
is imported, that the command table matches the modules, and that the lazy commands
still give their full help, exit codes and one-line errors.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys

import pytest

import mrkit.cli
from mrkit.cli import COMMANDS, app, command, main

#: Never needed to list the commands.
HEAVY = ("numpy", "pandas", "pyarrow", "duckdb", "scipy", "pydantic", "matplotlib", "numba")


def _modules_after(argv: list[str]) -> tuple[int, set[str], str]:
    """Exit status, imported modules and stdout of ``mrkit ARGV`` in a fresh interpreter."""
    script = (
        "import contextlib, io, json, sys\n"
        "from mrkit.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        f"    rc = main({argv!r})\n"
        "print(json.dumps([rc, sorted(sys.modules), buf.getvalue()]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    rc, mods, out = json.loads(proc.stdout.splitlines()[-1])
    return rc, set(mods), out


def _top(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


def test_help_lists_every_command_without_importing_them():
    rc, mods, out = _modules_after(["--help"])
    assert rc == 0
    assert not _top(mods) & set(HEAVY), sorted(_top(mods) & set(HEAVY))
    cli_modules = {m for m in mods if m.startswith("mrkit.cli.")}
    assert cli_modules == set(), cli_modules
    rooms = {m for m in mods if m.startswith("mrkit.")} - {"mrkit.cli", "mrkit.errors"}
    assert rooms == set(), rooms
    for name, (_, text) in COMMANDS.items():
        assert f" {name} " in out
        assert text.split()[0] in out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_help_imports_only_its_module(name):
    rc, mods, out = _modules_after([name, "--help"])
    assert rc == 0
    assert f" {name} " in out
    cli_modules = {m for m in mods if m.startswith("mrkit.cli.")}
    assert cli_modules == {f"mrkit.cli.{COMMANDS[name][0]}"}
    assert not _top(mods) & set(HEAVY), sorted(_top(mods) & set(HEAVY))


def _cli_modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(mrkit.cli.__path__) if not m.name.startswith("_")]


def _first_paragraph(fn) -> str:
    return " ".join(inspect.getdoc(fn).split("\n\n")[0].split())


def test_table_matches_the_modules():
    for name in _cli_modules():
        importlib.import_module(f"mrkit.cli.{name}")
    registered = {}
    for info in app.registered_commands:
        registered[info.name] = (info.callback.__module__.rpartition(".")[2], info.callback)
    assert set(registered) == set(COMMANDS), "COMMANDS and the @app.command names differ"
    for name, (module, text) in COMMANDS.items():
        assert registered[name][0] == module, f"{name} is defined in {registered[name][0]}"
        assert text == _first_paragraph(registered[name][1]), f"help of {name} differs"


def test_stale_table_row_is_reported(monkeypatch):
    monkeypatch.setitem(COMMANDS, "nonesuch", ("store", "Nothing."))
    with pytest.raises(RuntimeError, match="defines no command 'nonesuch'"):
        command("nonesuch")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_shows_its_full_help(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: " in out
    assert f" {name} " in out
    for param in command(name).params:
        for opt in param.opts:
            if opt.startswith("-"):
                assert opt in out, f"`mrkit {name} --help` does not show {opt}"


def test_unknown_command_exit_2_with_a_suggestion(capsys):
    assert main(["clumpp"]) == 2
    err = capsys.readouterr().err
    assert "No such command 'clumpp'" in err
    assert "Did you mean 'clump'?" in err


def test_usage_error_of_a_lazy_command_exit_2(capsys):
    assert main(["clump", "gwas.tsv", "--out", "x.tsv"]) == 2
    assert "--panel" in capsys.readouterr().err


def test_mrkit_error_is_one_line_exit_2(tmp_path, capsys):
    missing = tmp_path / "absent.txt"
    assert main(["ld", str(missing), "--panel", str(tmp_path / "p"), "--out", "o.tsv"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("error: ")
    assert "absent.txt" in err


def test_no_arguments_show_the_listing(capsys):
    assert main([]) == 2
    assert "Commands" in capsys.readouterr().err


def test_plain_options_are_converted_and_checked(capsys):
    assert main(["clump", "g.tsv", "--panel", "p", "--out", "o.tsv", "--p1", "abc"]) == 2
    assert "Invalid value for '--p1': 'abc' is not a valid float." in capsys.readouterr().err
    cmd = command("clump")
    ctx = cmd.make_context("clump", ["g.tsv", "--panel", "p", "--out", "o", "--kb", "250"])
    assert ctx.params["kb"] == 250.0
    assert type(ctx.params["kb"]) is float
    assert ctx.params["drop_missing"] is False
    assert ctx.params["store"] is None
