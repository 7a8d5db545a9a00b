"""One document of `mtsum batch`, start to finish: `run_document`.

It reads nothing but the `Document` it is given and writes nothing but the document's own folder
``OUT_DIR/<id>`` (opened once and written through that open folder, `mtsum.batch.outputs`) and
its row in the resume state, so one call per document is all a run needs, here in
`mtsum.batch.run` or on another machine.

In order: mark the document as in progress in the state (an earlier record must not let a rerun
skip a folder that is half rewritten, and a kill must not leave a folder mtsum made that the
state does not know); open its folder, made now or known to the state from an earlier run, and
never one that mtsum did not make; translate, summarize, align and score; write its files
atomically, result.json last; mark it done with the sha256 of each file. Whatever goes wrong
with this document fails it alone, and its clean-up removes only files mtsum wrote there that
still hold what it wrote.

Timings in result.json are seconds spent in the translation model, in the summarization model,
in the rest of the pipeline (``align``: segmenting, chunking, alignment) and in scoring.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

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

__all__ = ["Models", "run_document", "state_key"]

_INTERRUPTED = "the run stopped while this document was in progress"


@dataclass(frozen=True)
class Models:
    """The loaded models of a run; no translator when no Arabic document needs work."""

    translator: Seq2Seq | None
    summarizer: Seq2Seq
    cached: CachingTranslator | None = None  # the translator, when it goes through the cache


def state_key(signature: Signature | None) -> str:
    """The key a document is recorded under in the resume state: its settings signature as
    sorted JSON (`mtsum.signature.Signature.key`), ``-`` for none."""
    return "-" if signature is None else signature.key()


def run_document(
    doc: Document,
    signature: Signature | None,
    models: Models | None,
    settings: BatchSettings,
    state: RunState,
    *,
    note: str | None = None,
) -> ResultRecord:
    """Run one document into ``state.out_dir/<id>`` and record it in `state`.

    Args:
        doc: The document, as `mtsum.batch.inputs.scan_folder` read it (a failed read fails it
            here).
        signature: Its settings signature (`mtsum.batch.run.sign`; None for a document that
            fails before any model runs): `state_key` of it is the key it is recorded under.
        models: The loaded models; None fails the document.
        settings: Options of every stage.
        state: The resume state of the output folder; the document's files go to its folder.
        note: Why it is run again, kept in its result.json and its row's warnings.

    Returns:
        Its result.json record, "ok" or "failed". Whatever goes wrong with this document (its
        input, its folder, a model, a bug) fails it alone: the record says why, and only the files
        mtsum wrote there (now or by a run of an earlier input) are removed.

    Example:
        >>> models = Models(translator=mt, summarizer=sm)  # doctest: +SKIP
        >>> with RunState("outputs") as state:  # doctest: +SKIP
        ...     record = run_document(doc, signature, models, BatchSettings(), state)
        >>> record["status"]  # doctest: +SKIP
        'ok'
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
        error = doc.error or str(exc)
        if earlier is None:
            state.forget(doc.id)  # a folder refused is not mtsum's: the state must not say so
        return _failed(doc, signature, None if earlier is None else state, None, error, start=start)
    with folder:
        return _run_in(doc, signature, models, settings, state, folder, earlier, note, start)


def _run_in(
    doc: Document,
    signature: Signature | None,
    models: Models | None,
    settings: BatchSettings,
    state: RunState,
    folder: DocumentFolder,
    earlier: DocRecord | None,
    note: str | None,
    start: float,
) -> ResultRecord:
    """`run_document` in the open folder of the document."""
    folder.remove_leftovers()
    # Outputs of an earlier input would pass for this one's: a failure removes them too.
    remove = _files_in(doc.id, earlier.outputs) if earlier is not None else {}
    if doc.error is not None or models is None:
        error = doc.error or "no model was loaded for this document"
        return _failed(doc, signature, state, folder, error, remove=remove, start=start)
    outputs: list[OutputFile] = []
    try:
        record, files = _summarize(doc, signature, models, settings, note=note)
        for name, text in files:
            digest = folder.write(name, text)
            remove[name] = digest
            outputs.append(OutputFile(path=f"{doc.id}/{name}", sha256=digest))
        duration = time.perf_counter() - start
        state.mark_done(
            doc.id, doc.input_hash, state_key(signature), outputs=outputs, duration_s=duration
        )
        return record
    except MtsumError as exc:
        error, trace = str(exc), None
    except Exception as exc:  # one document must never stop the others
        error, trace = f"internal error: {type(exc).__name__}: {exc}", traceback.format_exc()
    return _failed(doc, signature, state, folder, error, remove=remove, trace=trace, start=start)


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
        settings=str(signature) if signature is not None else "-",
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


def _failed(
    doc: Document,
    signature: Signature | None,
    state: RunState | None,
    folder: DocumentFolder | None,
    error: str,
    *,
    start: float,
    remove: Mapping[str, str] | None = None,
    trace: str | None = None,
) -> ResultRecord:
    """Record `doc` as failed with `error`: in its folder and in `state`, each when given.

    `remove` ({name: sha256}) are files mtsum wrote in the folder; those that still hold what it
    wrote are deleted first.
    """
    seconds = time.perf_counter() - start
    record = failed_record(
        doc.id,
        doc.path,
        error=error,
        settings=str(signature) if signature is not None else "-",
        input_hash=doc.input_hash,
        seconds=seconds,
        traceback=trace,
    )
    if folder is not None:
        folder.remove_unchanged(remove or {})
        with contextlib.suppress(InputError):  # the run report's row still says why it failed
            folder.write("result.json", dumps(record))
    if state is not None:
        state.mark_failed(
            doc.id, doc.input_hash, state_key(signature), error=error, duration_s=seconds
        )
    return record


class _Timed:
    """A `Seq2Seq` that adds the seconds spent in `model` to `seconds`."""

    def __init__(self, model: Seq2Seq) -> None:
        self.model = model
        self.info = model.info
        self.defaults = model.defaults
        self.seconds = 0.0

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
