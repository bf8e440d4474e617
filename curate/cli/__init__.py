"""The `curate` command line. Commands are thin: they parse flags and call one library function.

Nothing heavy is imported here (no polars, pyarrow, vllm, torch or datasets): `curate --help`
stays fast. Each command module imports the library inside its function.
"""

from __future__ import annotations

import typer

from curate import __version__

app = typer.Typer(
    name="curate",
    help="Turn raw training data into curriculum-ordered datasets: score → synthesize → order.",
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


def _register() -> None:
    import importlib
    import pkgutil

    import curate.cli as pkg

    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")):
        module = importlib.import_module(f"curate.cli.{mod}")
        register = getattr(module, "register", None)
        if register:
            register(app)


_register()


def main() -> None:
    from curate.cli._errors import run_app

    run_app(app)
