"""`mtsum models ...`: fetch, convert and list models ahead of a run (thin; see mtsum.modelstore).

Registered on the main app with ``app.add_typer(models_app, name="models")``; errors map to the
same exit codes as every other command (4: model unavailable, 3: bad input), and the libraries
stay as quiet as in every other command (`mtsum.cli._errors`): with -q, pull and convert print
only the converted model's line, on stdout.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from mtsum.ct2 import COMPUTE_TYPES
from mtsum.modelstore import CachedModel

__all__ = ["app"]

app = typer.Typer(
    name="models",
    help="Download, convert (CTranslate2) and list the models mtsum uses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# An Enum so that --help lists the choices and a typo is a usage error (exit 2).
ComputeType = Enum("ComputeType", {name: name for name in COMPUTE_TYPES}, type=str)


class ListFormat(str, Enum):
    text = "text"
    json = "json"


Quiet = Annotated[
    bool, typer.Option("-q", "--quiet", help="Nothing on stderr but errors (no warnings).")
]
ComputeOpt = Annotated[
    ComputeType,
    typer.Option("--compute-type", help="Weight quantization of the converted copy."),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="mtsum cache folder (default: MTSUM_CACHE_DIR or the user cache)."
    ),
]


@app.command()
def pull(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Hub name, e.g. Helsinki-NLP/opus-mt-ar-en.")],
    compute_type: ComputeOpt = ComputeType.int8,
    cache_dir: CacheOpt = None,
    quiet: Quiet = False,
) -> None:
    """Download a model (unless cached) and convert it for CTranslate2."""
    from mtsum.cli import _errors, _library_output

    with _errors(ctx):
        from mtsum.modelstore import pull as run

        with _library_output(quiet):
            model = run(name, compute_type=compute_type.value, cache=cache_dir)
        typer.echo(_line(model))


@app.command()
def convert(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Checkpoint directory saved with save_pretrained.")],
    compute_type: ComputeOpt = ComputeType.int8,
    cache_dir: CacheOpt = None,
    quiet: Quiet = False,
) -> None:
    """Convert a local checkpoint for CTranslate2."""
    from mtsum.cli import _errors, _library_output

    with _errors(ctx):
        from mtsum.modelstore import convert_local

        with _library_output(quiet):
            model = convert_local(path, compute_type=compute_type.value, cache=cache_dir)
        typer.echo(_line(model))


@app.command("list")
def list_(
    ctx: typer.Context,
    cache_dir: CacheOpt = None,
    fmt: Annotated[ListFormat, typer.Option("--format", help="text or json.")] = ListFormat.text,
) -> None:
    """List converted models and cached Hugging Face checkpoints."""
    from mtsum.cli import _errors

    with _errors(ctx):
        from mtsum.modelstore import list_models

        models = list_models(cache_dir)
        if fmt is ListFormat.json:
            typer.echo(json.dumps([asdict(m) for m in models], indent=2, ensure_ascii=False))
        elif not models:
            typer.echo("no models cached")
        else:
            typer.echo("\n".join(_line(m) for m in models))


def _line(model: CachedModel) -> str:
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
