"""`mtsum models pull|convert|list`: fetch, convert and list models ahead of a run (thin; see
`mtsum.backends.store`).

`app` is the ``models`` command group; `mtsum.cli` registers these commands on it and adds it to
the main app. Errors map to the same exit codes as every other command (4: model unavailable,
3: bad input), and the libraries stay as quiet as in every other command
(`mtsum.cli._app.command_errors`): with -q, pull and convert print only the converted model's
line, on stdout.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mtsum.cli._app import command_errors, library_output
from mtsum.cli.options import (
    CacheDir,
    ComputeType,
    ConvertComputeType,
    ModelsQuiet,
    TextFormat,
    TextFormatOpt,
)

if TYPE_CHECKING:
    from mtsum.backends.store import StoredModel

__all__ = ["app", "convert", "list_", "pull"]

app = typer.Typer(
    name="models",
    help="Download, convert (CTranslate2) and list the models mtsum uses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def pull(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Hub name, e.g. Helsinki-NLP/opus-mt-ar-en.")],
    compute_type: ConvertComputeType = ComputeType.int8,
    cache_dir: CacheDir = None,
    quiet: ModelsQuiet = False,
) -> None:
    """Download a model (unless cached) and convert it for CTranslate2."""
    with command_errors(ctx):
        from mtsum.backends.store import pull as run

        with library_output(quiet):
            model = run(name, compute_type=compute_type.value, cache=cache_dir)
        typer.echo(_line(model))


def convert(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Checkpoint directory saved with save_pretrained.")],
    compute_type: ConvertComputeType = ComputeType.int8,
    cache_dir: CacheDir = None,
    quiet: ModelsQuiet = False,
) -> None:
    """Convert a local checkpoint for CTranslate2."""
    with command_errors(ctx):
        from mtsum.backends.store import convert_local

        with library_output(quiet):
            model = convert_local(path, compute_type=compute_type.value, cache=cache_dir)
        typer.echo(_line(model))


def list_(
    ctx: typer.Context,
    cache_dir: CacheDir = None,
    fmt: TextFormatOpt = TextFormat.text,
) -> None:
    """List converted models and cached Hugging Face checkpoints."""
    with command_errors(ctx):
        from mtsum.backends.store import list_models

        models = list_models(cache_dir)
        if fmt is TextFormat.json:
            typer.echo(json.dumps([asdict(m) for m in models], indent=2, ensure_ascii=False))
        elif not models:
            typer.echo("no models cached")
        else:
            typer.echo("\n".join(_line(m) for m in models))


def _line(model: StoredModel) -> str:
    kind = model.compute_type or "checkpoint"
    return (
        f"{model.name}@{model.revision}\t{model.kind}\t{kind}\t"
        f"{_size(model.size_bytes)}\t{model.path}"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
