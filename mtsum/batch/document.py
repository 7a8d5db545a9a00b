"""One document of `mtsum batch`: `document_result` makes its result, `record_document` writes it.

`document_result` is the one function that turns a document into its result, for every engine:
translate, summarize, align and score, then the record (result.json) and the files, or a failed
record that says why. It writes nothing and reads nothing but the `Document` it is given, so it
runs the same in this process (the local engine) or in a worker on another machine (the Ray
engine, `mtsum.batch.ray_engine`). A result is plain data: it pickles, and the record is JSON.

`record_document` writes a result into the document's own folder ``OUT_DIR/<id>`` (opened once
and written through that open folder, `mtsum.batch.outputs`) and its row in the resume state,
on the machine that holds OUT_DIR. In order: mark the document as in progress in the state (an
earlier record must not let a rerun skip a folder that is half rewritten, and a kill must not
leave a folder mtsum made that the state does not know); open its folder, made now or known to
the state from an earlier run, and never one that mtsum did not make; take the result; write its
files atomically, result.json last; mark it done with the sha256 of each file. Whatever goes
wrong with this document fails it alone, and its clean-up removes only files mtsum wrote there
that still hold what it wrote. `run_document` is the two in one, as the local engine runs them:
the result is computed once the folder is open.

Timings in result.json are seconds spent in the translation model, in the summarization model,
in the rest of the pipeline (``align``: segmenting, chunking, alignment) and in scoring.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mtsum.backends.base import GenerateOptions, Seq2Seq
from mtsum.backends.cache import CachingTranslator
from mtsum.batch.inputs import Document
from mtsum.batch.outputs import DocumentFolder, open_document_folder
from mtsum.batch.records import ResultRecord, failed_record, ok_record
from mtsum.batch.report import document_scores_markdown
from mtsum.batch.scoring import score_document
from mtsum.batch.settings import BatchSettings
from mtsum.batch.state import DocRecord, OutputFile, RunState
from mtsum.errors import InputError, ModelError, MtsumError
from mtsum.htmlpage import document_html
from mtsum.pipeline import summarize_texts
from mtsum.render import dumps, summary_markdown, summary_record
from mtsum.score import join_sentences
from mtsum.signature import Signature

__all__ = [
    "DocResult",
    "Models",
    "document_result",
    "failed_result",
    "record_document",
    "run_document",
    "state_key",
]

_INTERRUPTED = "the run stopped while this document was in progress"


@dataclass(frozen=True)
class Models:
    """The loaded models of a run; no translator when no Arabic document needs work."""

    translator: Seq2Seq | None
    summarizer: Seq2Seq
    cached: CachingTranslator | None = None  # the translator, when it goes through the cache


@dataclass(frozen=True, kw_only=True)
class DocResult:
    """What running a document made, before anything is written.

    ``record`` is its result.json record, "ok" or "failed"; ``files`` are the files of an ok one
    as (name, text), in the order they are written (result.json, the record itself, last); a
    failed one has none. ``seconds`` were spent making it.
    """

    record: ResultRecord
    files: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the document went through."""
        return self.record["status"] == "ok"


def state_key(signature: Signature | None) -> str:
    """The key a document is recorded under in the resume state: its settings signature as
    sorted JSON (`mtsum.signature.Signature.key`), ``-`` for none."""
    return "-" if signature is None else signature.key()


def document_result(
    doc: Document,
    signature: Signature | None,
    models: Models | None,
    settings: BatchSettings,
    *,
    note: str | None = None,
) -> DocResult:
    """Turn one document into its result, writing nothing: the one function every engine runs.

    Args:
        doc: The document, as `mtsum.batch.inputs.scan_folder` read it (a failed read fails it
            here).
        signature: Its settings signature (`mtsum.batch.run.sign`; None for a document that
            fails before any model runs), written into its record.
        models: The loaded models; None fails the document.
        settings: Options of every stage.
        note: Why it is run again, kept in its result.json and its row's warnings.

    Returns:
        Its record and files. Whatever goes wrong with this document (its input, a model, a bug)
        is a failed record that says why (with the traceback, for a bug), never an exception.

    Example:
        >>> from mtsum.backends.base import FunctionModel
        >>> from mtsum.batch.inputs import Document
        >>> doc = Document(id="d", path="d.txt", input_hash="0" * 64, text="One fact here.",
        ...                lang="en", error=None, summary_refs=(), translation_ref=None)
        >>> models = Models(translator=None, summarizer=FunctionModel(lambda xs: xs))
        >>> result = document_result(doc, None, models, BatchSettings())
        >>> result.ok, [name for name, _ in result.files]
        (True, ['translation.txt', 'summary.txt', 'report.md', 'report.html', 'result.json'])
        >>> document_result(doc, None, None, BatchSettings()).record["error"]
        'no model was loaded for this document'
    """
    start = time.perf_counter()
    if doc.error is not None or models is None:
        error = doc.error or "no model was loaded for this document"
        return failed_result(doc, signature, error, seconds=time.perf_counter() - start)
    try:
        record, files = _summarize(doc, signature, models, settings, note=note)
        return DocResult(record=record, files=tuple(files), seconds=time.perf_counter() - start)
    except MtsumError as exc:
        error, trace = str(exc), None
    except Exception as exc:  # one document must never stop the others
        error, trace = f"internal error: {type(exc).__name__}: {exc}", traceback.format_exc()
    return failed_result(doc, signature, error, seconds=time.perf_counter() - start, trace=trace)


def run_document(
    doc: Document,
    signature: Signature | None,
    models: Models | None,
    settings: BatchSettings,
    state: RunState,
    *,
    note: str | None = None,
) -> ResultRecord:
    """Run one document into ``state.out_dir/<id>`` and record it in `state`: `document_result`,
    computed once its folder is open, then `record_document`.

    Args:
        doc, signature, models, settings, note: As for `document_result`.
        state: The resume state of the output folder; the document's files go to its folder.

    Returns:
        Its result.json record, "ok" or "failed" (see `record_document`).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from mtsum.backends.base import FunctionModel
        >>> from mtsum.batch.inputs import Document
        >>> doc = Document(id="d", path="d.txt", input_hash="0" * 64, text="One fact here.",
        ...                lang="en", error=None, summary_refs=(), translation_ref=None)
        >>> models = Models(translator=None, summarizer=FunctionModel(lambda xs: xs))
        >>> with tempfile.TemporaryDirectory() as out, RunState(out) as state:
        ...     record = run_document(doc, None, models, BatchSettings(), state)
        ...     files = sorted(p.name for p in Path(out, "d").iterdir())
        ...     done = state.get("d").status
        >>> record["status"], done, files
        ('ok', 'ok', ['report.html', 'report.md', 'result.json', 'summary.txt', 'translation.txt'])
    """
    return record_document(
        doc,
        signature,
        state,
        lambda: document_result(doc, signature, models, settings, note=note),
    )


def record_document(
    doc: Document,
    signature: Signature | None,
    state: RunState,
    result: Callable[[], DocResult],
) -> ResultRecord:
    """Write a document's result into ``state.out_dir/<id>`` and record it in `state`.

    Args:
        doc: The document.
        signature: Its settings signature: `state_key` of it is the key it is recorded under.
        state: The resume state of the output folder; the document's files go to its folder.
        result: Gives the document's `DocResult`; called once the folder is open and checked,
            and not at all when the folder is refused (the local engine computes it here, the
            Ray engine hands over one a worker computed).

    Returns:
        Its result.json record as written, "ok" or "failed". A folder that is refused, or a file
        that cannot be written, fails the document alone: the record says why, and only the files
        mtsum wrote there (now or by a run of an earlier input) are removed.
    """
    start = time.perf_counter()
    earlier = state.get(doc.id)  # before this run's marks replace it
    # Marked before the folder is made: until it is marked done again, an earlier record must not
    # let a rerun skip a folder that is half rewritten, and a kill must not leave a folder mtsum
    # made that the state does not know as mtsum's.
    state.mark_failed(doc.id, doc.input_hash, state_key(signature), error=_INTERRUPTED)
    try:
        folder = open_document_folder(state.out_dir, doc.id, ours=earlier is not None)
    except InputError as exc:
        failed = failed_result(
            doc, signature, doc.error or str(exc), seconds=time.perf_counter() - start
        )
        if earlier is None:
            state.forget(doc.id)  # a folder refused is not mtsum's: the state must not say so
            return failed.record
        return _record_failed(failed, doc, signature, state, None, start=start)
    with folder:
        return _record_in(doc, signature, state, folder, earlier, result, start)


def _record_in(
    doc: Document,
    signature: Signature | None,
    state: RunState,
    folder: DocumentFolder,
    earlier: DocRecord | None,
    result: Callable[[], DocResult],
    start: float,
) -> ResultRecord:
    """`record_document` in the open folder of the document."""
    folder.remove_leftovers()
    # Outputs of an earlier input would pass for this one's: a failure removes them too.
    remove = _files_in(doc.id, earlier.outputs) if earlier is not None else {}
    here = time.perf_counter()
    made = result()
    # A result made by a worker elsewhere took its seconds there: they count too.
    start -= max(0.0, made.seconds - (time.perf_counter() - here))
    if not made.ok:
        return _record_failed(made, doc, signature, state, folder, remove=remove, start=start)
    outputs: list[OutputFile] = []
    try:
        for name, text in made.files:
            digest = folder.write(name, text)
            remove[name] = digest
            outputs.append(OutputFile(path=f"{doc.id}/{name}", sha256=digest))
    except MtsumError as exc:  # a file that cannot be written
        error, trace = str(exc), None
    except Exception as exc:  # one document must never stop the others
        error, trace = f"internal error: {type(exc).__name__}: {exc}", traceback.format_exc()
    else:
        duration = time.perf_counter() - start
        state.mark_done(
            doc.id, doc.input_hash, state_key(signature), outputs=outputs, duration_s=duration
        )
        return made.record
    failed = failed_result(doc, signature, error, seconds=time.perf_counter() - start, trace=trace)
    return _record_failed(failed, doc, signature, state, folder, remove=remove, start=start)


def _files_in(doc_id: str, outputs: Sequence[OutputFile]) -> dict[str, str]:
    """{name: sha256} of the recorded `outputs` that lie in the folder of `doc_id`."""
    paths = ((PurePosixPath(f.path), f.sha256) for f in outputs)
    return {p.name: digest for p, digest in paths if p.parent == PurePosixPath(doc_id)}


def _summarize(
    doc: Document,
    signature: Signature | None,
    models: Models,
    settings: BatchSettings,
    *,
    note: str | None,
) -> tuple[ResultRecord, list[tuple[str, str]]]:
    """One document through the pipeline: its result.json record and its files, in order."""
    mt = _Timed(models.translator) if models.translator is not None else None
    sm = _Timed(models.summarizer)
    start = time.perf_counter()
    [result] = summarize_texts(
        [doc.text or ""],
        summarizer=sm,
        translator=mt if mt is not None else _no_translator,
        source_lang=doc.lang or "auto",
        translate_options=settings.translate,
        summarize_options=settings.summarize,
        aligner=settings.aligner,
        top_k=settings.top_k,
        threshold=settings.threshold,
    )
    pipeline_s = time.perf_counter() - start
    english, sentences = list(result.source.english), list(result.summary.sentences)
    scores = score_document(doc, english, sentences)
    total = time.perf_counter() - start
    translate_s = mt.seconds if mt is not None else 0.0
    record = ok_record(
        summary_record(doc.id, doc.path, result),
        scores,
        settings=_settings_text(signature),
        input_hash=doc.input_hash,
        timings={
            "translate": translate_s,
            "summarize": sm.seconds,
            "align": pipeline_s - translate_s - sm.seconds,
            "score": total - pipeline_s,
            "total": total,
        },
        notes=[note] if note else [],
    )
    files = [
        ("translation.txt", "\n\n".join(english) + "\n"),
        ("summary.txt", join_sentences(sentences) + "\n"),
        ("report.md", f"{summary_markdown(doc.id, result)}\n{document_scores_markdown(scores)}"),
        # The page shows exactly what result.json says: it is rendered from the same record.
        ("report.html", document_html(record)),
        ("result.json", dumps(record)),
    ]
    return record, files


def failed_result(
    doc: Document,
    signature: Signature | None,
    error: str,
    *,
    seconds: float = 0.0,
    trace: str | None = None,
) -> DocResult:
    """The result of `doc` failed with `error` after `seconds` (and, for a bug, its traceback)."""
    record = failed_record(
        doc.id,
        doc.path,
        error=error,
        settings=_settings_text(signature),
        input_hash=doc.input_hash,
        seconds=seconds,
        traceback=trace,
    )
    return DocResult(record=record, seconds=seconds)


def _settings_text(signature: Signature | None) -> str:
    """A document's settings as its result.json records them: the signature, ``-`` for none."""
    return str(signature) if signature is not None else "-"


def _record_failed(
    failed: DocResult,
    doc: Document,
    signature: Signature | None,
    state: RunState,
    folder: DocumentFolder | None,
    *,
    start: float,
    remove: Mapping[str, str] | None = None,
) -> ResultRecord:
    """Record `doc` as failed: its record into its folder, when given, and into `state`.

    `remove` ({name: sha256}) are files mtsum wrote in the folder; those that still hold what it
    wrote are deleted first.
    """
    record = failed.record
    if folder is not None:
        folder.remove_unchanged(remove or {})
        with contextlib.suppress(InputError):  # the run report's row still says why it failed
            folder.write("result.json", dumps(record))
    state.mark_failed(
        doc.id,
        doc.input_hash,
        state_key(signature),
        error=str(record["error"]),
        duration_s=time.perf_counter() - start,
    )
    return record


class _Timed:
    """A `Seq2Seq` that adds the seconds spent in `model` to `seconds`; it offers the model's
    ``generate_batches`` and ``workers`` when the model has them, so timing does not cost the
    queued CTranslate2 path (`mtsum.generation`)."""

    def __init__(self, model: Seq2Seq) -> None:
        self.model = model
        self.info = model.info
        self.defaults = model.defaults
        self.seconds = 0.0
        self.workers = int(getattr(model, "workers", 1))
        if hasattr(model, "generate_batches"):
            self.generate_batches = self._generate_batches

    def _generate_batches(self, *args: Any, **kwargs: Any) -> list[str]:
        start = time.perf_counter()
        try:
            return list(self.model.generate_batches(*args, **kwargs))  # type: ignore[attr-defined]
        finally:
            self.seconds += time.perf_counter() - start

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        start = time.perf_counter()
        try:
            return self.model.count_tokens(texts)
        finally:
            self.seconds += time.perf_counter() - start

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        start = time.perf_counter()
        try:
            return self.model.generate(texts, options, max_new_tokens=max_new_tokens)
        finally:
            self.seconds += time.perf_counter() - start


def _no_translator() -> Seq2Seq:
    raise ModelError("no translation model was loaded for this run (an English document?)")
