"""The `mtsum` command: a thin shell that parses options, calls the library, writes the result.

What reaches stderr: mtsum's own warnings, once per document after the work, and errors as one
line. The libraries' warnings, log records and progress bars are noise to a user (they name
library internals nobody running mtsum can act on); `_errors` keeps them off for the length of a
command, and ``mtsum --verbose`` (without -q) lets them through. With -q a successful command
prints nothing on stderr at all, native libraries included (see `_library_output`).

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

import contextlib
import ctypes
import importlib
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mtsum._version import __version__
from mtsum.errors import InputError, MtsumError
from mtsum.sources import MAX_BYTES

if TYPE_CHECKING:
    from mtsum.pipeline import Source as PreparedSource

EXIT_INTERNAL = 70

app = typer.Typer(
    name="mtsum",
    help="Translate Arabic news to English, summarize it, and show what supports every sentence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class TextFormat(str, Enum):
    text = "text"
    json = "json"


class SummaryFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Lang(str, Enum):
    auto = "auto"
    ar = "ar"
    en = "en"


class Preset(str, Enum):
    short = "short"
    medium = "medium"
    long = "long"


class Backend(str, Enum):
    auto = "auto"
    ctranslate2 = "ctranslate2"
    transformers = "transformers"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


Inputs = Annotated[
    list[str],
    typer.Argument(help="Files, directories of *.txt, or - for stdin.", show_default=False),
]
Output = Annotated[
    str | None,
    typer.Option(
        "-o", "--output", help="Write here instead of stdout (- is stdout).", show_default=False
    ),
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Input encoding, any Python codec (cp1256, utf-16-le ...); default UTF-8.",
        show_default=False,
    ),
]
MaxBytes = Annotated[
    int,
    typer.Option("--max-bytes", min=1, help="Refuse any input file larger than this many bytes."),
]
Quiet = Annotated[
    bool,
    typer.Option("-q", "--quiet", help="Nothing on stderr but errors: no progress, no warnings."),
]
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


BackendOpt = Annotated[
    Backend,
    typer.Option(
        "--backend", help="auto: CTranslate2 where it runs the model (fast), else transformers."
    ),
]
ComputeType = Annotated[
    str | None,
    typer.Option(
        "--compute-type", help="CTranslate2 weights: int8 (CPU default), int8_float16, float32..."
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="mtsum cache folder (default: MTSUM_CACHE_DIR, user cache)."),
]
SumModel = Annotated[
    str, typer.Option("--sum-model", help="Summarization model: hub name or local directory.")
]
SourceLang = Annotated[
    Lang, typer.Option("--source-lang", help="Source language (auto: by script).")
]
TopK = Annotated[int, typer.Option("--top-k", min=1, help="Supporting paragraphs per sentence.")]
MaxWords = Annotated[
    int | None, typer.Option("--max-words", min=1, help="Longest summary, in words (approx.).")
]
MinWords = Annotated[
    int | None, typer.Option("--min-words", min=0, help="Shortest summary, in words (approx.).")
]
SumBeams = Annotated[
    int | None,
    typer.Option("--sum-beams", min=1, help="Summary beam size (default: the model's own)."),
]
LengthPreset = Annotated[
    Preset | None, typer.Option("--length", help="Length preset (default: the model's own).")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mtsum {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Show the traceback when something fails, and the libraries' own warnings.",
        ),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Global options; `_errors` reads --verbose back from the root context."""


def _warn(message: str, quiet: bool) -> None:
    if not quiet:
        typer.echo(f"mtsum: warning: {message}", err=True)


@contextmanager
def _errors(ctx: typer.Context) -> Iterator[None]:
    """Map library exceptions to one-line messages and documented exit codes, and keep the
    libraries quiet meanwhile (see `_library_noise`).

    With ``mtsum --verbose`` (a parameter of the root command) the traceback is shown too, and
    the libraries' noise unless the command has ``-q`` (its ``quiet`` parameter).
    """
    verbose = bool(ctx.find_root().params.get("verbose"))
    quiet = bool(ctx.params.get("quiet"))
    try:
        with _library_noise(show=verbose and not quiet):
            yield
    except MtsumError as exc:
        if verbose:
            traceback.print_exc()
        typer.echo(f"mtsum: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        typer.echo(
            f"mtsum: internal error: {type(exc).__name__}: {exc} (rerun with --verbose)", err=True
        )
        raise typer.Exit(EXIT_INTERNAL) from None


@contextmanager
def _library_noise(*, show: bool) -> Iterator[None]:
    """Python warnings, log records and library progress bars: dropped until exit unless `show`.

    Set back on exit, so a program that runs the app in-process keeps its own warnings filters,
    logging and progress bars. A sample of what this drops on a first run: transformers'
    "Loading weights" bars and generation notices, huggingface_hub's download bars.
    """
    if show:
        yield
        return
    with _warnings_ignored(), _logging_disabled(), _library_bars_disabled():
        yield


@contextmanager
def _warnings_ignored() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _logging_disabled() -> Iterator[None]:
    # logging.disable also reaches transformers' logger, which has its own handler and does not
    # propagate to the root logger.
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


@contextmanager
def _library_bars_disabled() -> Iterator[None]:
    """huggingface_hub's and transformers' progress bars off, then back as they were.

    transformers is imported by the loaders, if at all, and takes its switch from
    huggingface_hub's when imported; one first imported meanwhile is set back to what its import
    would otherwise have made it. Importing transformers here would cost the CTranslate2 path,
    which never needs it, half a second.
    """
    hub = importlib.import_module("huggingface_hub.utils.tqdm")
    hub_states = dict(hub.progress_bar_states)
    hub_on = not hub.are_progress_bars_disabled()
    hf = sys.modules.get("transformers.utils.logging")
    hf_on = hf.is_progress_bar_enabled() if hf is not None else hub_on
    hub.disable_progress_bars()
    if hf is not None:
        hf.disable_progress_bar()
    try:
        yield
    finally:
        hf = sys.modules.get("transformers.utils.logging")
        if hf is not None:
            # Both switch huggingface_hub's bars too; its own states are restored after.
            (hf.enable_progress_bar if hf_on else hf.disable_progress_bar)()
        hub.progress_bar_states.clear()
        hub.progress_bar_states.update(hub_states)


@contextmanager
def _library_output(quiet: bool) -> Iterator[None]:
    """The span in which a command runs the library.

    Whatever the libraries print goes to stderr, never into the output on stdout (CTranslate2's
    converter prints tensor-loading progress for some models). With -q, what native code
    (CTranslate2's logger, MKL, OpenMP) writes straight to file descriptors 1 and 2 is dropped
    too, so a successful run prints nothing at all; mtsum itself writes nothing there meanwhile.
    """
    with contextlib.redirect_stdout(sys.stderr):
        if quiet:
            with _descriptors_silenced():
                yield
        else:
            yield


@contextmanager
def _descriptors_silenced() -> Iterator[None]:
    """File descriptors 1 and 2 point at the null device until exit."""
    saved: list[int] = []
    try:
        for fd in (1, 2):
            saved.append(os.dup(fd))
    except OSError:  # no such descriptor (a daemon): nothing can reach a terminal anyway
        for copy in saved:
            os.close(copy)
        yield
        return
    _flush()
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        _flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def _flush() -> None:
    """Flush Python's and C's buffered output, so it lands before descriptors are switched."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)


@contextmanager
def _progress(quiet: bool, desc: str, unit: str = "tok") -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr fed with (done, total), around the library work (see
    `_library_output`); silent with -q or when stderr is no TTY."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, disable=True if quiet else None, file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        with _library_output(quiet):
            yield update
    finally:
        bar.close()


def _runtime(
    device: Device,
    threads: int | None,
    backend: Backend,
    compute_type: str | None,
    cache_dir: Path | None,
) -> dict[str, Any]:
    """The keyword arguments every model loader takes, from the shared CLI options."""
    return {
        "device": device.value,
        "threads": threads,
        "backend": backend.value,
        "compute_type": compute_type,
        "cache_dir": cache_dir,
    }


def _source_warnings(source: PreparedSource) -> tuple[str, ...]:
    """What a user should hear about a prepared document: its language and its translation."""
    translation = source.translation.warnings if source.translation is not None else ()
    return (*source.warnings, *translation)


def _check_output(output: str | None) -> None:
    """Fail now, before any model runs, on an ``-o`` that can never be written."""
    if output is not None and output != "-":
        from mtsum.atomic import output_target

        output_target(output)


def _write(text: str, output: str | None) -> None:
    """Print `text`, or write it where ``-o`` points (see `mtsum.atomic.write_output`)."""
    if output is None or output == "-":
        typer.echo(text, nl=False)
    else:
        from mtsum.atomic import write_output

        write_output(output, text.encode("utf-8"))


@app.command()
def translate(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    fmt: Annotated[TextFormat, typer.Option("--format", help="text or json.")] = TextFormat.text,
    mt_model: MtModel = "Helsinki-NLP/opus-mt-ar-en",
    device: DeviceOpt = Device.auto,
    beams: Beams = None,
    threads: Threads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeType = None,
    cache_dir: CacheDir = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    quiet: Quiet = False,
) -> None:
    """Translate Arabic documents to English, paragraph for paragraph."""
    with _errors(ctx):
        from mtsum import render
        from mtsum.models import load_translator
        from mtsum.sources import read_sources
        from mtsum.translate import TranslateOptions
        from mtsum.translate import translate as run

        _check_output(output)
        sources = read_sources(inputs, max_bytes=max_bytes, encoding=encoding)
        runtime = _runtime(device, threads, backend, compute_type, cache_dir)
        with _progress(quiet, "translate") as progress:
            model = load_translator(mt_model, **runtime)
            options = TranslateOptions(num_beams=beams)
            docs = run([s.text for s in sources], model, options=options, progress=progress)
        for source, doc in zip(sources, docs, strict=True):
            for warning in doc.warnings:
                _warn(f"{source.path}: {warning}", quiet)
        if fmt is TextFormat.json:
            _write(render.translation_json(sources, docs), output)
        else:
            _write(render.translation_text(sources, docs), output)


@app.command()
def summarize(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", help="text, json or markdown.")
    ] = SummaryFormat.text,
    source_lang: SourceLang = Lang.auto,
    mt_model: MtModel = "Helsinki-NLP/opus-mt-ar-en",
    sum_model: SumModel = "sshleifer/distilbart-cnn-12-6",
    top_k: TopK = 3,
    length: LengthPreset = None,
    max_words: MaxWords = None,
    min_words: MinWords = None,
    device: DeviceOpt = Device.auto,
    beams: Beams = None,
    sum_beams: SumBeams = None,
    threads: Threads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeType = None,
    cache_dir: CacheDir = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    quiet: Quiet = False,
) -> None:
    """Translate (when Arabic), summarize, and show the paragraphs behind every sentence."""
    with _errors(ctx):
        from mtsum import render
        from mtsum.models import load_summarizer, load_translator, resolve_model
        from mtsum.paths import cache_dir as mtsum_cache
        from mtsum.pipeline import summarize_texts
        from mtsum.sources import read_sources
        from mtsum.summarize import SummarizeOptions
        from mtsum.translate import TranslateOptions

        _check_output(output)
        sources = read_sources(inputs, max_bytes=max_bytes, encoding=encoding)
        options = SummarizeOptions(
            preset=length.value if length else None,
            min_words=min_words,
            max_words=max_words,
            num_beams=sum_beams,
        )
        runtime = _runtime(device, threads, backend, compute_type, cache_dir)
        with _progress(quiet, "translate") as progress:
            # Found now, so a missing summarizer fails before minutes of translation; loaded
            # after translation, so the two models never share memory.
            resolve_model(
                sum_model, role="summarization", option="--sum-model", cache=mtsum_cache(cache_dir)
            )
            results = summarize_texts(
                [s.text for s in sources],
                summarizer=lambda: load_summarizer(sum_model, **runtime),
                translator=lambda: load_translator(mt_model, **runtime),
                source_lang=source_lang.value,
                translate_options=TranslateOptions(num_beams=beams),
                summarize_options=options,
                top_k=top_k,
                progress=progress,
            )
        for source, result in zip(sources, results, strict=True):
            for warning in _source_warnings(result.source):
                _warn(f"{source.path}: {warning}", quiet)
        if fmt is SummaryFormat.json:
            records = [
                render.summary_record(s.id, s.path, r)
                for s, r in zip(sources, results, strict=True)
            ]
            _write(render.dumps({"mtsum": __version__, "documents": records}), output)
        elif fmt is SummaryFormat.markdown:
            parts = [
                render.summary_markdown(s.id, r) for s, r in zip(sources, results, strict=True)
            ]
            _write("\n".join(parts), output)
        else:
            header = len(sources) > 1
            parts = [
                render.summary_text(s.id, r, header=header)
                for s, r in zip(sources, results, strict=True)
            ]
            _write("\n".join(parts), output)


@app.command()
def check(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The article: a file, or - for stdin.")],
    summary: Annotated[Path, typer.Option("--summary", help="The summary to check (a text file).")],
    output: Output = None,
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", help="text, json or markdown.")
    ] = SummaryFormat.text,
    source_lang: SourceLang = Lang.auto,
    mt_model: MtModel = "Helsinki-NLP/opus-mt-ar-en",
    top_k: TopK = 3,
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeType = None,
    cache_dir: CacheDir = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    quiet: Quiet = False,
) -> None:
    """Check a summary written elsewhere: what in it does the article support?"""
    with _errors(ctx):
        from mtsum import render
        from mtsum.models import load_translator
        from mtsum.pipeline import check_document, summary_sentences
        from mtsum.sources import read_document, read_sources

        if Path(source).is_dir():
            raise InputError(
                f"{source}: is a folder; mtsum check takes one article and its summary: run it "
                f"once per document (mtsum check {source.rstrip('/')}/<id>.txt --summary ...), or "
                "use mtsum batch for a folder with reference summaries"
            )
        _check_output(output)
        [article] = read_sources([source], max_bytes=max_bytes, encoding=encoding)
        text = read_document(summary, max_bytes=max_bytes, encoding=encoding)
        sentences = summary_sentences(text)
        runtime = _runtime(device, threads, backend, compute_type, cache_dir)
        with _progress(quiet, "translate") as progress:
            result = check_document(
                article.text,
                sentences,
                translator=lambda: load_translator(mt_model, **runtime),
                source_lang=source_lang.value,
                top_k=top_k,
                progress=progress,
            )
        for warning in _source_warnings(result.source):
            _warn(f"{article.path}: {warning}", quiet)
        if fmt is SummaryFormat.json:
            record = render.checked_record(article.id, str(summary), result)
            _write(render.dumps({"mtsum": __version__, **record}), output)
        elif fmt is SummaryFormat.markdown:
            title = f"Check of {summary.name} against {article.id}"
            _write(
                render.check_markdown(title, result.source, result.check, result.signature), output
            )
        else:
            _write(render.check_text(result.check), output)


def main() -> None:
    """Console-script entry point."""
    app()


from mtsum.cli_batch import batch as _batch  # noqa: E402
from mtsum.cli_batch import score as _score  # noqa: E402

app.command("batch")(_batch)
app.command("score")(_score)

from mtsum.cli_models import app as _models_app  # noqa: E402

app.add_typer(_models_app, name="models")
