"""The `mtsum` command: a thin shell that parses options, calls the library, writes the result.

Exit codes (also in the README):
    0  success
    1  batch finished, but some documents failed (see the report)
    2  usage error (bad option or argument)
    3  bad input (unreadable, empty, invalid UTF-8, ...)
    4  model unavailable (not cached and no network, or not loadable)
    5  busy: another `mtsum batch` holds the output folder
    70 internal error (a bug: rerun with --verbose and report the traceback)
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from mtsum._version import __version__
from mtsum.errors import MtsumError

EXIT_INTERNAL = 70

app = typer.Typer(
    name="mtsum",
    help="Translate Arabic news to English, summarize it, and show what supports every sentence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict[str, bool] = {"verbose": False}


class TextFormat(str, Enum):
    text = "text"
    json = "json"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


Inputs = Annotated[
    list[str],
    typer.Argument(help="Files, directories of *.txt, or - for stdin.", show_default=False),
]
Output = Annotated[
    Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or warnings.")]
MtModel = Annotated[
    str, typer.Option("--mt-model", help="Translation model: hub name or local directory.")
]
DeviceOpt = Annotated[Device, typer.Option("--device", help="Where models run.")]
Beams = Annotated[
    int | None, typer.Option("--beams", min=1, help="Beam size (default: the model's own).")
]
Threads = Annotated[
    int | None, typer.Option("--threads", min=1, help="CPU threads (default: all cores).")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mtsum {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show the traceback when something fails.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["verbose"] = verbose


def _warn(message: str, quiet: bool) -> None:
    if not quiet:
        typer.echo(f"mtsum: warning: {message}", err=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Map library exceptions to one-line messages and documented exit codes."""
    try:
        yield
    except MtsumError as exc:
        if _state["verbose"]:
            traceback.print_exc()
        typer.echo(f"mtsum: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if _state["verbose"]:
            traceback.print_exc()
        typer.echo(
            f"mtsum: internal error: {type(exc).__name__}: {exc} (rerun with --verbose)", err=True
        )
        raise typer.Exit(EXIT_INTERNAL) from None


@contextmanager
def _progress(quiet: bool, desc: str) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr fed with (done, total); silent with -q or when stderr is no TTY."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="tok", disable=True if quiet else None, file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        from mtsum.atomic import write_text

        write_text(output, text)


@app.command()
def translate(
    inputs: Inputs,
    output: Output = None,
    fmt: Annotated[TextFormat, typer.Option("--format", help="text or json.")] = TextFormat.text,
    mt_model: MtModel = "Helsinki-NLP/opus-mt-ar-en",
    device: DeviceOpt = Device.auto,
    beams: Beams = None,
    threads: Threads = None,
    quiet: Quiet = False,
) -> None:
    """Translate Arabic documents to English, paragraph for paragraph."""
    with _errors():
        from mtsum import render
        from mtsum.models import load_translator
        from mtsum.sources import read_sources
        from mtsum.translate import TranslateOptions
        from mtsum.translate import translate as run

        sources = read_sources(inputs)
        model = load_translator(mt_model, device=device.value, threads=threads)
        with _progress(quiet, "translate") as progress:
            options = TranslateOptions(num_beams=beams)
            docs = run([s.text for s in sources], model, options=options, progress=progress)
        for source, doc in zip(sources, docs, strict=True):
            for warning in doc.warnings:
                _warn(f"{source.path}: {warning}", quiet)
        if fmt is TextFormat.json:
            _write(render.translation_json(sources, docs), output)
        else:
            _write(render.translation_text(sources, docs), output)


def main() -> None:
    """Console-script entry point."""
    app()
