"""The `mtsum` command: a thin shell that parses options, calls the library, writes the result.

The layers, each importing only those above it (``tests/test_imports.py`` checks it):

    options      every option alias and its choices (`mtsum.cli.options`)
    _app         the Typer app, global options, error mapping, progress, output helpers
    translate    translate, summarize, check
    batch        batch, score
    models       the ``models`` group: pull, convert, list, export, import
    __init__     registers the commands on the app; `main` is the console script

Exit codes and what reaches stderr are documented in `mtsum.cli._app`.
"""

from __future__ import annotations

import os

from mtsum.cli import batch, models, translate
from mtsum.cli._app import app
from mtsum.heap import one_arena

__all__ = ["app", "main"]

app.command("translate")(translate.translate_command)
app.command("summarize")(translate.summarize_command)
app.command("check")(translate.check_command)
app.command("batch")(batch.batch_command)
app.command("score")(batch.score_command)

models.models_app.command("pull")(models.pull_command)
models.models_app.command("convert")(models.convert_command)
models.models_app.command("list")(models.list_command)
models.models_app.command("export")(models.export_command)
models.models_app.command("import")(models.import_command)
app.add_typer(models.models_app, name="models")


def main() -> None:
    """Console-script entry point: the command is the whole process, so it sets the process's
    C heap to one arena (`mtsum.heap.one_arena`: lower peak memory with CTranslate2's workers)
    before any thread starts, then runs the app."""
    one_arena()
    _standard_descriptors()
    app()


def _standard_descriptors() -> None:
    """Open the null device on descriptors 0-2 where they were closed at start (``>&-``).

    Python then has no ``sys.stdout`` (so the commands still refuse to write there), but the next
    file opened would otherwise get descriptor 1 or 2, and anything that writes to "stdout" from
    native code (CTranslate2's logger) would write into it: the resume state, say.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:  # a lower one was free after all: never keep a stray descriptor
                os.close(null)
