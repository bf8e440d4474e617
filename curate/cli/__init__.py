"""The `curate` command line. Commands are thin: they parse flags and call one library function.

Nothing heavy is imported here (no polars, pyarrow, vllm, torch or datasets): `curate --help`
stays fast. Each command module imports the library inside its function, and is itself imported
only when its command is looked up: `curate score` loads curate/cli/score.py and nothing of the
other commands; `curate --help` loads them all, to list them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.core

from curate import __version__

# Command name → the module of curate/cli whose `register(app)` adds it, in the order
# `curate --help` lists them (tests/cli/test_lazy_commands.py checks both against the modules).
COMMANDS: dict[str, str] = {
    "compare": "compare",
    "feedback": "feedback",
    "fit": "fit",
    "order": "order",
    "schedules": "order",
    "verify": "order",
    "report": "report",
    "run": "run",
    "score": "score",
    "signals": "score",
    "synthesize": "synthesize",
    "trial": "trial",
    "models": "models",
}


def module_commands(module: str) -> dict[str, Any]:
    """The commands one curate/cli module registers, built as `app` itself would build them."""
    sub = typer.Typer(
        rich_markup_mode=app.rich_markup_mode, pretty_exceptions_short=app.pretty_exceptions_short, suggest_commands=app.suggest_commands
    )
    importlib.import_module(f"curate.cli.{module}").register(sub)
    return dict(typer.main.get_group(sub).commands)


class _LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name: every name in COMMANDS is listed, its module imported on first lookup."""

    def __init__(self, commands: MutableMapping[str, Any]):
        self._built: dict[str, Any] = dict(commands)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built and name in COMMANDS:
            for key, cmd in module_commands(COMMANDS[name]).items():
                self._built.setdefault(key, cmd)
        return self._built[name]

    def __setitem__(self, name: str, cmd: Any) -> None:
        self._built[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


class _LazyGroup(typer.core.TyperGroup):
    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.commands = _LazyCommands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)


app = typer.Typer(
    name="curate",
    help="Turn raw training data into curriculum-ordered datasets: score → synthesize → order.",
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"curate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """curate: difficulty signals, verified synthesis and paced, sharded Parquet for LM training."""


def main() -> None:
    # pydantic looks for plugins of its own by scanning every installed package's entry points
    # (~0.1 s in a large environment) before the first options model is built; the command line
    # skips that unless PYDANTIC_DISABLE_PLUGINS is already set (set it empty to load them).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from curate.cli._errors import run_app

    run_app(app)
