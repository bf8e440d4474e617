"""`curate models list|prepare`: the bundled default model and prepared model folders."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle

models_app = typer.Typer(
    help="The bundled default model (SmolLM2-135M-Instruct) and prepared model folders.\n\nExample: curate models prepare && curate models list",
    no_args_is_help=True,
)

CacheDirOpt = Annotated[Optional[str], typer.Option("--cache-dir", help="curate's cache folder (default: $CURATE_CACHE_DIR or ~/.cache/curate).")]


@models_app.command("list")
@handle
def list_cmd(cache_dir: CacheDirOpt = None) -> None:
    """List models curate can load without a hub: the bundled one and prepared folders.

    Prints one tab-separated line per model on stdout: name, prepared (yes/no), size MB, path or source.

    Example: curate models list
    """
    from curate.models import list_models

    for m in list_models(cache_dir):
        size = f"{m.size_mb:.0f}" if m.size_mb is not None else "-"
        typer.echo(f"{m.name}\t{'yes' if m.prepared else 'no'}\t{size}\t{m.path or m.source}")


@models_app.command("prepare")
@handle
def prepare_cmd(
    cache_dir: CacheDirOpt = None,
    dtype: Annotated[
        str, typer.Option("--dtype", help="bfloat16 (default; half the size) or float32 (greedy output matches transformers exactly).")
    ] = "bfloat16",
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder exists.")] = False,
) -> None:
    """Convert the bundled GGUF model once into a Hugging Face folder vLLM loads (offline, ~25 s).

    Prints the folder's path on stdout. Runs automatically on first use; this command does it ahead of time.

    Example: curate models prepare --dtype float32
    """
    import time

    from curate.cli._output import info
    from curate.models import prepare

    t0 = time.perf_counter()
    path = prepare(cache_dir, dtype=dtype, force=force)
    info(f"Model ready in {time.perf_counter() - t0:.1f} s")
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
