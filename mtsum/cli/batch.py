"""`mtsum batch` and `mtsum score`: thin commands over `mtsum.batch`, registered by `mtsum.cli`.

Exit codes as in `mtsum.cli._app`: 0 every document ok (or finished by an earlier run), 1 some
documents failed (their rows in OUT_DIR/report.md say why), 2 --engine ray without Ray installed
(or --ray-address or --workers without it), 3 INPUT_DIR missing or without documents, OUT_DIR
that cannot be written (a full disk), its resume state damaged or not mtsum's (--force moves it
aside), a run report file in OUT_DIR that mtsum did not write (or that was edited since), a Ray
cluster that cannot be joined, an unreadable --hyp/--ref file or an -o that is one, 4 a model
unavailable (nothing is written), 5 another batch holds OUT_DIR, 130/143/129 stopped by Ctrl-C,
SIGTERM or SIGHUP (the run report says what finished; a rerun resumes).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from mtsum.cli._app import (
    check_output,
    command_errors,
    interrupted_exit,
    model_runtime,
    progress_bar,
    say,
    warn,
    write,
)
from mtsum.cli.options import (
    DEFAULT_MT_MODEL,
    DEFAULT_SUM_MODEL,
    Backend,
    BackendOpt,
    BatchCacheDir,
    BatchThreads,
    Beams,
    ComputeTypeOpt,
    Device,
    DeviceOpt,
    Encoding,
    Engine,
    EngineOpt,
    Lang,
    LengthPreset,
    MaxBytes,
    MaxWords,
    MinWords,
    MtModel,
    Output,
    Quiet,
    RayAddress,
    SourceLang,
    SumBeams,
    SumModel,
    TextFormat,
    TextFormatOpt,
    TopK,
    Workers,
)
from mtsum.markup import one_line
from mtsum.sources import MAX_BYTES, display_path

__all__ = ["batch_command", "score_command"]

EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


def batch_command(
    ctx: typer.Context,
    input_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder of <id>.txt documents, with <id>.summary.ref<N>.en.txt and "
            "<id>.translation.ref.en.txt references beside them.",
            show_default=False,
        ),
    ],
    out: Annotated[
        str, typer.Option("--out", help="Output folder: one folder per document and a report.")
    ],
    source_lang: SourceLang = Lang.auto,
    mt_model: MtModel = DEFAULT_MT_MODEL,
    sum_model: SumModel = DEFAULT_SUM_MODEL,
    top_k: TopK = 3,
    length: LengthPreset = None,
    max_words: MaxWords = None,
    min_words: MinWords = None,
    device: DeviceOpt = Device.auto,
    beams: Beams = None,
    sum_beams: SumBeams = None,
    threads: BatchThreads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeTypeOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Redo every document, even those already finished; a damaged resume state is "
            "moved aside.",
        ),
    ] = False,
    cache_dir: BatchCacheDir = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not cache translations.")
    ] = False,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    engine: EngineOpt = Engine.local,
    ray_address: RayAddress = None,
    workers: Workers = None,
    quiet: Quiet = False,
) -> None:
    """Translate, summarize, check and score every document of a folder; resumable."""
    _check_engine(engine, ray_address, workers)
    with command_errors(ctx):
        from mtsum.backends.cache import open_cache
        from mtsum.batch import BatchSettings, lazy_summarizer, lazy_translator, run_batch
        from mtsum.batch.ray_engine import RayEngine
        from mtsum.summarize import SummarizeOptions
        from mtsum.translate import TranslateOptions

        settings = BatchSettings(
            source_lang=source_lang.value,
            translate=TranslateOptions(num_beams=beams),
            summarize=SummarizeOptions(
                preset=length.value if length else None,
                min_words=min_words,
                max_words=max_words,
                num_beams=sum_beams,
            ),
            top_k=top_k,
            max_bytes=max_bytes,
            encoding=encoding,
        )
        kwargs = model_runtime(device, threads, backend, compute_type, cache_dir)
        ray = None
        if engine is Engine.ray:  # each actor its --threads (default 1), its node's cache
            ray = RayEngine(
                address=ray_address,
                workers=workers,
                threads=threads or 1,
                cache=not no_cache,
                cache_dir=cache_dir,
            )
        # Optional: one that cannot be opened is a warning in the report, never a failed run.
        cache = None if no_cache or ray is not None else open_cache(cache_dir, optional=True)
        seen = [0, 0]  # documents done, documents in all: for the interrupted message
        verbose = bool(ctx.find_root().params.get("verbose"))
        native = ray is None or quiet or verbose  # -q silences them anyway
        try:
            with (
                contextlib.nullcontext() if native else _ray_lines_dropped(),
                progress_bar(quiet, "batch", unit="doc") as progress,
            ):

                def tell(done: int, total: int) -> None:
                    seen[:] = [done, total]
                    progress(done, total)

                report = run_batch(
                    input_dir,
                    out,
                    translator=lazy_translator(mt_model, **kwargs),
                    summarizer=lazy_summarizer(sum_model, **kwargs),
                    settings=settings,
                    force=force,
                    cache=cache,
                    progress=tell,
                    engine=ray,
                )
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: the report is written
            from mtsum.batch.run import interrupted_note

            say(f"mtsum: {interrupted_note(*seen)}")
            raise typer.Exit(interrupted_exit(exc)) from None
        finally:
            if cache is not None:
                cache.close()
        for warning in report.warnings:
            warn(warning, quiet)
        for row in report.documents:
            for warning in row.warnings:
                warn(f"{row.path}: {warning}", quiet)
        counts = ", ".join(f"{report.count(s)} {s}" for s in ("ok", "skipped", "failed"))
        summary = (
            f"{len(report.documents)} documents ({counts}); report in {Path(out) / 'report.md'} "
            f"and {Path(out) / 'index.html'}"
        )
        if report.failed:
            say(f"mtsum: error: {report.failed} failed of {one_line(summary)}")
            raise typer.Exit(EXIT_SOME_FAILED)
        if not quiet:
            say(f"mtsum: {one_line(summary)}")


# What Ray writes to file descriptor 2 behind Python's back: its C++ core's log lines ("[2026-01-01
# 12:00:00,000 E 17 17] core_worker.cc:2465: Actor ... has constructor arguments in the object
# store", on every run) and, through its own print, "(raylet)" notices of a worker that died (its
# document is tried again). Noise to a user, as the libraries' warnings are.
_RAY_LINE = re.compile(
    rb"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [DIWEF] \d+ \d+\] |(\x1b\[\d+m)?\(raylet\)"
)


@contextlib.contextmanager
def _ray_lines_dropped() -> Iterator[None]:
    """Ray's own lines on file descriptor 2 (`_RAY_LINE`) dropped until exit; everything else
    written there (the progress bar, mtsum's messages) passes on as it comes.

    Ray's C++ core writes to the descriptor itself, so `mtsum.cli._app`'s Python-level quieting
    cannot reach it; the processes Ray starts write to their own log files, not to this one.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a daemon): nothing reaches a terminal anyway
        yield
        return
    read, write = os.pipe()
    sys.stderr.flush()
    os.dup2(write, 2)
    os.close(write)
    thread = threading.Thread(target=_pass_on, args=(read, saved), daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last write end closes: the thread reads it to the end
        thread.join(timeout=10)
        os.close(saved)


def _pass_on(read: int, out: int) -> None:
    """Copy the pipe `read` to `out` as it comes, but for Ray's lines."""
    pending = b""
    with os.fdopen(read, "rb", buffering=0) as pipe:
        while chunk := pipe.read(1 << 16):
            pending = _write_but_ray_lines(pending + chunk, out, final=False)
        _write_but_ray_lines(pending, out, final=True)


def _write_but_ray_lines(data: bytes, out: int, *, final: bool) -> bytes:
    """Write each line of `data` (ended by \\n or \\r) to `out` unless it is Ray's; what is left,
    an unfinished line that may yet turn out to be Ray's, is returned (written when `final`)."""
    pieces = data.splitlines(keepends=True)
    rest = b""
    if pieces and not pieces[-1].endswith((b"\n", b"\r")):
        last = pieces.pop()
        if final or not last.startswith((b"[", b"(", b"\x1b")):
            pieces.append(last)
        else:
            rest = last
    kept = memoryview(b"".join(p for p in pieces if not _RAY_LINE.match(p)))
    with contextlib.suppress(OSError):
        while kept:
            kept = kept[os.write(out, kept) :]
    return rest


def _check_engine(engine: Engine, ray_address: str | None, workers: int | None) -> None:
    """Usage errors (exit 2) of the engine options, before anything runs."""
    if engine is Engine.ray:
        from mtsum.batch.ray_engine import INSTALL, ray_available

        if not ray_available():
            say(f"mtsum: error: --engine ray needs Ray: {INSTALL}")
            raise typer.Exit(EXIT_USAGE)
    elif ray_address is not None or workers is not None:
        option = "--ray-address" if ray_address is not None else "--workers"
        say(f"mtsum: error: {option} needs --engine ray")
        raise typer.Exit(EXIT_USAGE)


def score_command(
    ctx: typer.Context,
    hyp: Annotated[Path, typer.Option("--hyp", help="The summary to score (a text file).")],
    ref: Annotated[
        list[Path], typer.Option("--ref", help="A reference summary; repeat for several.")
    ],
    lang: Annotated[
        Lang, typer.Option("--lang", help="Tokenizer: ar, en, or auto (by the references).")
    ] = Lang.auto,
    fmt: TextFormatOpt = TextFormat.text,
    output: Output = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
) -> None:
    """ROUGE-1/2/L/Lsum of any summary against one or more references, with a signature."""
    with command_errors(ctx):
        from mtsum.batch.report import score_record, score_text
        from mtsum.batch.scoring import score_summary
        from mtsum.render import dumps
        from mtsum.score import language_mismatch
        from mtsum.sources import read_document

        check_output(output, [hyp, *ref])
        hypothesis = read_document(hyp, max_bytes=max_bytes, encoding=encoding)
        references = [read_document(r, max_bytes=max_bytes, encoding=encoding) for r in ref]
        result = score_summary(hypothesis, references, lang=lang.value)
        mismatch = language_mismatch(hypothesis, references)
        if mismatch is not None:
            warn(mismatch, quiet=False)
        if fmt is TextFormat.json:
            names = [display_path(r) for r in ref]
            write(dumps(score_record(display_path(hyp), names, result)), output)
        else:
            write(score_text(result), output)
