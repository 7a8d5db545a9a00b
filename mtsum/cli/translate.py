"""`mtsum translate`, `mtsum summarize` and `mtsum check`: one document stage each, thin.

Registered on the app by `mtsum.cli`; exit codes and stderr as in `mtsum.cli._app`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mtsum._version import __version__
from mtsum.cli._app import check_output, command_errors, model_runtime, progress_bar, warn, write
from mtsum.cli.options import (
    DEFAULT_MT_MODEL,
    DEFAULT_SUM_MODEL,
    Backend,
    BackendOpt,
    Beams,
    CacheDir,
    ComputeTypeOpt,
    Device,
    DeviceOpt,
    Encoding,
    Inputs,
    Lang,
    LengthPreset,
    MaxBytes,
    MaxWords,
    MinWords,
    MtModel,
    Output,
    Quiet,
    SourceLang,
    SumBeams,
    SummaryFormat,
    SummaryFormatOpt,
    SumModel,
    TextFormat,
    TextFormatOpt,
    Threads,
    TopK,
)
from mtsum.errors import InputError
from mtsum.sources import MAX_BYTES, display_path

if TYPE_CHECKING:
    from mtsum.pipeline import PreparedSource

__all__ = ["check_command", "summarize_command", "translate_command"]


def translate_command(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    fmt: TextFormatOpt = TextFormat.text,
    mt_model: MtModel = DEFAULT_MT_MODEL,
    device: DeviceOpt = Device.auto,
    beams: Beams = None,
    threads: Threads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeTypeOpt = None,
    cache_dir: CacheDir = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    quiet: Quiet = False,
) -> None:
    """Translate Arabic documents to English, paragraph for paragraph."""
    with command_errors(ctx):
        from mtsum import render
        from mtsum.backends import load_translator
        from mtsum.sources import input_files, read_sources
        from mtsum.translate import TranslateOptions
        from mtsum.translate import translate as run

        options = TranslateOptions(num_beams=beams)
        check_output(output, input_files(inputs))
        sources = read_sources(inputs, max_bytes=max_bytes, encoding=encoding)
        runtime = model_runtime(device, threads, backend, compute_type, cache_dir)
        with progress_bar(quiet, "translate") as progress:
            model = load_translator(mt_model, **runtime)
            docs = run([s.text for s in sources], model, options=options, progress=progress)
        for source, doc in zip(sources, docs, strict=True):
            for warning in doc.warnings:
                warn(f"{source.path}: {warning}", quiet)
        if fmt is TextFormat.json:
            write(render.translation_json(sources, docs), output)
        else:
            write(render.translation_text(sources, docs), output)


def summarize_command(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output = None,
    fmt: SummaryFormatOpt = SummaryFormat.text,
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
    threads: Threads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeTypeOpt = None,
    cache_dir: CacheDir = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    quiet: Quiet = False,
) -> None:
    """Translate (when Arabic), summarize, and show the paragraphs behind every sentence."""
    with command_errors(ctx):
        from mtsum import render
        from mtsum.backends import load_summarizer, load_translator
        from mtsum.backends.resolve import resolve_model
        from mtsum.paths import cache_dir as mtsum_cache
        from mtsum.pipeline import summarize_texts
        from mtsum.sources import input_files, read_sources
        from mtsum.summarize import SummarizeOptions
        from mtsum.translate import TranslateOptions

        # A bad combination of options (--min-words above --max-words) is a usage error, found
        # before any file is read.
        options = SummarizeOptions(
            preset=length.value if length else None,
            min_words=min_words,
            max_words=max_words,
            num_beams=sum_beams,
        )
        translate_options = TranslateOptions(num_beams=beams)
        if fmt is not SummaryFormat.html:
            check_output(output, input_files(inputs))
        sources = read_sources(inputs, max_bytes=max_bytes, encoding=encoding)
        folder = _page_folder(output, len(sources)) if fmt is SummaryFormat.html else None
        if fmt is SummaryFormat.html and folder is None:
            check_output(output, input_files(inputs))
        if folder is not None:  # refused before any model runs
            from mtsum.htmlpage import check_page_folder

            check_page_folder(folder, [source.id for source in sources])
        runtime = model_runtime(device, threads, backend, compute_type, cache_dir)
        with progress_bar(quiet, "translate") as progress:
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
                translate_options=translate_options,
                summarize_options=options,
                top_k=top_k,
                progress=progress,
            )
        for source, result in zip(sources, results, strict=True):
            for warning in (*_source_warnings(result.source), *result.summary.warnings):
                warn(f"{source.path}: {warning}", quiet)
        if fmt is SummaryFormat.json:
            records = [
                render.summary_record(s.id, s.path, r)
                for s, r in zip(sources, results, strict=True)
            ]
            write(render.dumps({"mtsum": __version__, "documents": records}), output)
        elif fmt is SummaryFormat.markdown:
            parts = [
                render.summary_markdown(s.id, r) for s, r in zip(sources, results, strict=True)
            ]
            write("\n".join(parts), output)
        elif fmt is SummaryFormat.html:
            from mtsum import htmlpage

            records = [
                render.summary_record(s.id, s.path, r)
                for s, r in zip(sources, results, strict=True)
            ]
            if folder is not None:
                htmlpage.write_pages(folder, records, title="mtsum summaries")
            else:
                write(htmlpage.document_html(records[0]), output)
        else:
            header = len(sources) > 1
            parts = [
                render.summary_text(s.id, r, header=header)
                for s, r in zip(sources, results, strict=True)
            ]
            write("\n".join(parts), output)


def check_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The article: a file, or - for stdin.")],
    summary: Annotated[Path, typer.Option("--summary", help="The summary to check (a text file).")],
    output: Output = None,
    fmt: SummaryFormatOpt = SummaryFormat.text,
    source_lang: SourceLang = Lang.auto,
    mt_model: MtModel = DEFAULT_MT_MODEL,
    top_k: TopK = 3,
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    backend: BackendOpt = Backend.auto,
    compute_type: ComputeTypeOpt = None,
    cache_dir: CacheDir = None,
    max_bytes: MaxBytes = MAX_BYTES,
    encoding: Encoding = None,
    quiet: Quiet = False,
) -> None:
    """Check a summary written elsewhere: what in it does the article support?"""
    with command_errors(ctx):
        from mtsum import render
        from mtsum.backends import load_translator
        from mtsum.pipeline import check_document, summary_sentences
        from mtsum.sources import read_document, read_sources

        if Path(source).is_dir():
            raise InputError(
                f"{source}: is a folder; mtsum check takes one article and its summary: run it "
                f"once per document (mtsum check {source.rstrip('/')}/<id>.txt --summary ...), or "
                "use mtsum batch for a folder with reference summaries"
            )
        check_output(output, [source, summary])
        [article] = read_sources([source], max_bytes=max_bytes, encoding=encoding)
        text = read_document(summary, max_bytes=max_bytes, encoding=encoding)
        sentences = summary_sentences(text)
        runtime = model_runtime(device, threads, backend, compute_type, cache_dir)
        with progress_bar(quiet, "translate") as progress:
            result = check_document(
                article.text,
                sentences,
                translator=lambda: load_translator(mt_model, **runtime),
                source_lang=source_lang.value,
                top_k=top_k,
                progress=progress,
            )
        for warning in _source_warnings(result.source):
            warn(f"{article.path}: {warning}", quiet)
        if fmt is SummaryFormat.json:
            record = render.checked_record(article.id, display_path(summary), result)
            write(render.dumps({"mtsum": __version__, **record}), output)
        elif fmt is SummaryFormat.html:
            from mtsum.htmlpage import checked_html

            page = checked_html(article.id, article.path, display_path(summary), result)
            write(page, output)
        elif fmt is SummaryFormat.markdown:
            title = f"Check of {display_path(summary.name)} against {article.id}"
            write(
                render.check_markdown(title, result.source, result.check, result.signature), output
            )
        else:
            write(render.check_text(result.check), output)


def _page_folder(output: str | None, count: int) -> Path | None:
    """Where ``--format html`` writes a folder (``<id>/report.html`` each, ``index.html``), or
    None for one page to ``-o`` or stdout: an ``-o`` that is a folder, ends in ``/``, or gets
    the pages of several documents.

    Raises:
        InputError: Several documents and no ``-o``, or an ``-o`` that is a file.
    """
    if output is None or output == "-":
        if count > 1:
            raise InputError(
                f"{count} documents make {count} HTML pages; pass -o FOLDER to write one page "
                "each and an index.html"
            )
        return None
    path = Path(output)
    if not (path.is_dir() or output.endswith(("/", os.sep)) or count > 1):
        return None
    if path.exists() and not path.is_dir():
        raise InputError(
            f"{output}: is not a folder; {count} documents make {count} HTML pages: pass -o "
            "FOLDER to write one page each and an index.html"
        )
    if not path.exists() and not path.absolute().parent.is_dir():
        raise InputError(f"{output}: its parent folder does not exist; make it first")
    return path


def _source_warnings(source: PreparedSource) -> tuple[str, ...]:
    """What a user should hear about a prepared document: its language and its translation."""
    translation = source.translation.warnings if source.translation is not None else ()
    return (*source.warnings, *translation)
