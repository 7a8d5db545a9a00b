"""`mtsum models pull|convert|list|export|import`: fetch, convert, list and carry models ahead
of a run (thin; see `mtsum.backends.store` and `mtsum.backends.archive`).

`models_app` is the ``models`` command group; `mtsum.cli` registers these commands on it and
adds it to the main app. Errors map to the same exit codes as every other command (4: model
unavailable, 3: bad input), and the libraries stay as quiet as in every other command
(`mtsum.cli._app.command_errors`): with -q, pull and convert print only the converted model's
line, on stdout, and export and import one line per model.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mtsum.cli._app import check_output, command_errors, library_output, write
from mtsum.cli.options import (
    CacheDir,
    ComputeType,
    ConvertComputeType,
    ModelsQuiet,
    TextFormat,
    TextFormatOpt,
)

if TYPE_CHECKING:
    from mtsum.backends.archive import ArchivedModel, ImportedModel
    from mtsum.backends.store import StoredModel

__all__ = [
    "convert_command",
    "export_command",
    "import_command",
    "list_command",
    "models_app",
    "pull_command",
]

models_app = typer.Typer(
    name="models",
    help="Download, convert (CTranslate2) and list the models mtsum uses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def pull_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Hub name, e.g. Helsinki-NLP/opus-mt-ar-en.")],
    compute_type: ConvertComputeType = ComputeType.int8,
    cache_dir: CacheDir = None,
    quiet: ModelsQuiet = False,
) -> None:
    """Download a model (unless cached) and convert it for CTranslate2."""
    with command_errors(ctx):
        check_output(None)  # stdout closed: refused before the caches change
        from mtsum.backends.store import pull as run

        with library_output(quiet):
            model = run(name, compute_type=compute_type.value, cache=cache_dir)
        write(_line(model) + "\n", None)


def convert_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Checkpoint directory saved with save_pretrained.")],
    compute_type: ConvertComputeType = ComputeType.int8,
    cache_dir: CacheDir = None,
    quiet: ModelsQuiet = False,
) -> None:
    """Convert a local checkpoint for CTranslate2."""
    with command_errors(ctx):
        check_output(None)  # stdout closed: refused before the caches change
        from mtsum.backends.store import convert_local

        with library_output(quiet):
            model = convert_local(path, compute_type=compute_type.value, cache=cache_dir)
        write(_line(model) + "\n", None)


def list_command(
    ctx: typer.Context,
    cache_dir: CacheDir = None,
    fmt: TextFormatOpt = TextFormat.text,
) -> None:
    """List converted models and cached Hugging Face checkpoints."""
    with command_errors(ctx):
        from mtsum.backends.store import list_models

        models = list_models(cache_dir)
        if fmt is TextFormat.json:
            write(
                json.dumps([asdict(m) for m in models], indent=2, ensure_ascii=False) + "\n", None
            )
        elif not models:
            write("no models cached\n", None)
        else:
            write("\n".join(_line(m) for m in models) + "\n", None)


def export_command(
    ctx: typer.Context,
    names: Annotated[
        list[str],
        typer.Argument(help="Hub names or checkpoint directories.", show_default=False),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The archive to write (.tar, or .tar.gz).")
    ],
    compute_types: Annotated[
        list[ComputeType] | None,
        typer.Option(
            "--compute-type",
            help="Converted copies to include (repeatable; default: all in the cache).",
            show_default=False,
        ),
    ] = None,
    cache_dir: CacheDir = None,
    quiet: ModelsQuiet = False,
) -> None:
    """Write checkpoints and their converted copies, with checksums, to one archive."""
    with command_errors(ctx):
        check_output(None)  # stdout closed: refused before the caches change
        from mtsum.backends.archive import export_models

        types = [c.value for c in compute_types] if compute_types else None
        with library_output(quiet):
            models = export_models(names, output, compute_types=types, cache=cache_dir)
        for model in models:
            write(_row(model, str(output)) + "\n", None)


def import_command(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="An archive written by `mtsum models export`.")],
    cache_dir: CacheDir = None,
    quiet: ModelsQuiet = False,
) -> None:
    """Check an archive's checksums, then put its models into the caches."""
    with command_errors(ctx):
        check_output(None)  # stdout closed: refused before the caches change
        from mtsum.backends.archive import import_models

        with library_output(quiet):
            models = import_models(archive, cache=cache_dir)
        for model in models:
            write(_imported(model) + "\n", None)


def _line(model: StoredModel) -> str:
    return _row(model, model.path)


def _imported(model: ImportedModel) -> str:
    return f"{_row(model, model.path)}\t{model.status}"


def _row(model: StoredModel | ImportedModel | ArchivedModel, where: str) -> str:
    kind = model.compute_type or "checkpoint"
    return (
        f"{model.name}@{model.revision}\t{model.kind}\t{kind}\t{_size(model.size_bytes)}\t{where}"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
