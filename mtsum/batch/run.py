"""The engine of `mtsum batch`: `run_batch`, as the steps it takes, in order.

1. Read the folder (`mtsum.batch.inputs.scan_folder`): every document with its references,
   hashed, decoded, its language detected. A bad document becomes a failed row, not an error.
2. `sign`: each document's settings signature, with the models by name and revision (resolved
   on disk, not loaded). An unavailable model stops the run here, before anything is written.
3. Lock OUT_DIR (`BusyError` while another batch holds it). An OUT_DIR used before is locked
   first, so that a busy one is refused at once and its state is read under the lock; a new one
   is created only after step 5, so that a model that cannot load leaves nothing behind.
4. `plan`: against the resume state, which documents an earlier run finished (skipped, their
   result.json read back) and which to run, with why a finished one is redone. With ``force``, a
   state file that cannot be used is moved aside (`RunState`'s ``move_aside``), and a document
   folder the state does not know but that holds only mtsum's files is taken as mtsum's
   (`adopt`).
5. `load_models`: once, and only if some document needs work.
6. `run_tasks`: `mtsum.batch.document.run_document` for each document to run (translate,
   summarize, align, score; write its files atomically; record it in the state), the recorded
   outcome for each skipped one. A kill loses at most the document in progress.
7. `write_report`: report.json, report.csv, report.md and index.html. A run whose every
   document failed says in its report (and so on stderr) when it replaces the report of an
   earlier run that had finished documents. A run interrupted (KeyboardInterrupt) writes it
   too, of the documents finished, before passing it on.

With the Ray engine (`mtsum.batch.ray_engine`), steps 1 to 4 and 7 are the same; 5 and 6 become
`remote_results`, the documents that need the models run by a pool of Ray actors (each loads the
models once and runs the same `mtsum.batch.document.document_result`), and `record_remote`, which
writes and records each result here as it arrives. A new OUT_DIR is created once the first result
is back, so that models the actors cannot load leave nothing behind. A kill loses at most the
documents the actors are running.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mtsum.backends.base import Seq2Seq
from mtsum.backends.cache import CachingTranslator, TranslationCache
from mtsum.batch.document import DocResult, Models, record_document, run_document, state_key
from mtsum.batch.inputs import Document, scan_folder
from mtsum.batch.lock import RunLock
from mtsum.batch.outputs import (
    OUTPUT_FILES,
    REPORT_FILES,
    holds_only_outputs,
    read_below,
    unusable_folder,
)
from mtsum.batch.ray_engine import RayEngine, WorkerResult, died_result, ray_results
from mtsum.batch.records import (
    BatchReport,
    DocRow,
    ResultRecord,
    english_from_record,
    row_from_record,
)
from mtsum.batch.report import report_csv, report_html, report_json, report_markdown
from mtsum.batch.scoring import corpus_scores
from mtsum.batch.settings import BatchSettings, LazyModel, identity, load, settings_signature
from mtsum.batch.state import STATE_FILE, OutputFile, RunState
from mtsum.errors import InputError
from mtsum.signature import Signature
from mtsum.sources import display_path
from mtsum.written import check_replaceable, write_recorded

__all__ = [
    "CacheUse",
    "Outcome",
    "Task",
    "adopt",
    "interrupted_note",
    "load_models",
    "plan",
    "record_remote",
    "remote_results",
    "run_batch",
    "run_tasks",
    "sign",
    "write_report",
]


def interrupted_note(finished: int, total: int) -> str:
    """What an interrupted run says, in its report and on stderr."""
    return (
        f"interrupted: {finished} of {total} documents finished; rerun the same command to resume"
    )


@dataclass(frozen=True)
class Outcome:
    """What the run report needs of a finished document."""

    row: DocRow
    english: list[str]  # its English paragraphs, for the corpus BLEU/chrF


@dataclass(frozen=True)
class CacheUse:
    """What the translation cache did in a run: texts found and not found, and its warnings."""

    hits: int = 0
    misses: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """One document as planned: skipped (``earlier`` holds its outcome) or run (with ``note``
    saying why, when an earlier run had finished it)."""

    doc: Document
    signature: Signature | None
    earlier: Outcome | None = None
    note: str | None = None

    @property
    def needs_models(self) -> bool:
        """Whether running this document needs the models."""
        return self.earlier is None and self.doc.text is not None


# --- 2. signatures ------------------------------------------------------------------------------


def sign(
    docs: Sequence[Document],
    settings: BatchSettings,
    *,
    translator: Seq2Seq | LazyModel,
    summarizer: Seq2Seq | LazyModel,
) -> dict[str, Signature | None]:
    """Each document's settings signature, by id; an English one's leaves out the translator;
    None for a document that could not be read.

    Raises:
        ModelError: A model that some document needs is unavailable.
    """
    readable = [d for d in docs if d.text is not None]
    mt = identity(translator) if any(d.lang == "ar" for d in readable) else None
    sm = identity(summarizer) if readable else ""
    return {
        d.id: None
        if d.text is None
        else settings_signature(settings, summarizer=sm, translator=mt if d.lang == "ar" else None)
        for d in docs
    }


# --- 4. the plan --------------------------------------------------------------------------------


def plan(
    docs: Sequence[Document],
    signatures: dict[str, Signature | None],
    state: RunState | None,
    *,
    force: bool,
) -> list[Task]:
    """What to do with each document, given what `state` records as finished.

    A document is skipped when its last run finished with the same input hash and settings, every
    output it wrote is unchanged, and its result.json reads back. One whose outputs were edited
    or deleted since is redone with the note ``redone: summary.txt changed or deleted since the
    last run``, and one finished by an older mtsum that wrote fewer files with ``redone:
    report.html not written by the last run``. Without a state, or with `force`, every document
    runs.
    """
    return [_task(d, signatures[d.id], state, force=force) for d in docs]


def _task(
    doc: Document, signature: Signature | None, state: RunState | None, *, force: bool
) -> Task:
    if state is None or force or doc.text is None:
        return Task(doc, signature)
    record = state.get(doc.id)
    if state.is_done(doc.id, doc.input_hash, state_key(signature)):
        # A run of an older mtsum wrote fewer files (no report.html): make the new ones too.
        missing = _missing_outputs(doc.id, record.outputs) if record is not None else []
        if not missing:
            return Task(doc, signature, earlier=_finished(state.out_dir, doc.id))
        names = ", ".join(missing)
        return Task(doc, signature, note=f"redone: {names} not written by the last run")
    changed = state.changed_outputs(record) if record is not None and record.status == "ok" else []
    if not changed:
        return Task(doc, signature)
    names = ", ".join(Path(f.path).name for f in changed)
    return Task(doc, signature, note=f"redone: {names} changed or deleted since the last run")


def adopt(tasks: Sequence[Task], state: RunState) -> None:
    """Record as mtsum's (failed, to be redone) each document folder that `state` does not know
    but that holds nothing but mtsum's output files (`holds_only_outputs`): a run whose state was
    lost or moved aside left it. For ``--force`` only, which redoes every document anyway."""
    for task in tasks:
        doc = task.doc
        if state.get(doc.id) is None and holds_only_outputs(state.out_dir, doc.id):
            key = state_key(task.signature)
            state.mark_failed(doc.id, doc.input_hash, key, error=_ADOPTED)


_ADOPTED = "its folder held mtsum's files that the resume state did not know; redone by --force"


def _missing_outputs(doc_id: str, outputs: Sequence[OutputFile]) -> list[str]:
    """The names of `OUTPUT_FILES` that the recorded `outputs` of `doc_id` lack."""
    written = {Path(f.path).name for f in outputs if Path(f.path).parent == Path(doc_id)}
    return [name for name in OUTPUT_FILES if name not in written]


def _finished(out_dir: Path, doc_id: str, status: str = "skipped") -> Outcome | None:
    """The outcome of a finished document, its row given `status`, or None when its result.json
    is unusable."""
    data = read_below(out_dir, f"{doc_id}/result.json")  # not through a link, not a FIFO
    try:
        record = json.loads(data.decode("utf-8")) if data is not None else None
        if not isinstance(record, dict) or record.get("status") != "ok":
            return None
        return Outcome(row_from_record(record, status), english_from_record(record))
    except ValueError:
        return None


# --- 5. models ----------------------------------------------------------------------------------


def load_models(
    tasks: Sequence[Task],
    *,
    translator: Seq2Seq | LazyModel,
    summarizer: Seq2Seq | LazyModel,
    cache: TranslationCache | None,
) -> Models | None:
    """The models the documents to run need (None when none needs any); the translator only for
    an Arabic one, wrapped in `CachingTranslator` when a `cache` is given.

    Raises:
        ModelError: A model cannot be loaded.
    """
    work = [t.doc for t in tasks if t.needs_models]
    if not work:
        return None
    mt = load(translator) if any(d.lang == "ar" for d in work) else None
    cached = CachingTranslator(mt, cache) if mt is not None and cache is not None else None
    return Models(translator=cached or mt, summarizer=load(summarizer), cached=cached)


# --- 6. the documents ---------------------------------------------------------------------------


def run_tasks(
    tasks: Sequence[Task],
    models: Models | None,
    settings: BatchSettings,
    state: RunState,
    *,
    progress: Callable[[int, int], None] | None = None,
    done: dict[str, Outcome] | None = None,
) -> list[Outcome]:
    """`run_document` for each task that is not skipped; every task's outcome, in order.

    `progress` is called with (0, total) first, then after each document, skipped ones included.
    `done`, when given, gets each outcome by document id as it is known, so that a caller that
    is interrupted meanwhile (KeyboardInterrupt) can report what finished.
    """
    done = {} if done is None else done
    if progress is not None:
        progress(0, len(tasks))
    for task in tasks:
        if task.earlier is not None:
            done[task.doc.id] = task.earlier
        else:
            record = run_document(task.doc, task.signature, models, settings, state, note=task.note)
            done[task.doc.id] = _outcome(record)
        if progress is not None:
            progress(len(done), len(tasks))
    return [done[t.doc.id] for t in tasks]


def _outcome(record: ResultRecord) -> Outcome:
    """The outcome of a document just run, from its result.json record."""
    return Outcome(row_from_record(record, record["status"]), english_from_record(record))


# --- 5 and 6 on Ray ------------------------------------------------------------------------------


def remote_results(
    tasks: Sequence[Task],
    *,
    translator: Seq2Seq | LazyModel,
    summarizer: Seq2Seq | LazyModel,
    settings: BatchSettings,
    engine: RayEngine,
) -> Generator[WorkerResult, None, None]:
    """The results of the tasks that need the models, from a pool of Ray actors, as they arrive
    (`mtsum.batch.ray_engine.ray_results`); the translator goes to the actors only for an Arabic
    document. Nothing starts before the first ``next()``, and nothing at all without such a task.
    """
    work = [(t.doc, t.signature, t.note) for t in tasks if t.needs_models]
    mt = translator if any(doc.lang == "ar" for doc, _, _ in work) else None
    return ray_results(work, translator=mt, summarizer=summarizer, settings=settings, engine=engine)


def record_remote(
    tasks: Sequence[Task],
    results: Iterable[WorkerResult],
    settings: BatchSettings,
    state: RunState,
    *,
    progress: Callable[[int, int], None] | None = None,
    done: dict[str, Outcome] | None = None,
) -> tuple[list[Outcome], CacheUse]:
    """Write and record each result of `results` as it arrives (`record_document`); `done` as
    in `run_tasks`.

    The tasks that need no model are done first: skipped ones, and documents that could not be
    read (failed here, as the local engine fails them). A result for a task that is not waiting
    for one (another run finished it meanwhile) is dropped; a task whose result never came (its
    actor died on every try) fails alone.

    Returns:
        Every task's outcome, in order, and what the actors' translation caches did.

    Raises:
        MtsumError: An actor could not load the models (what it sent back instead of a result).
    """
    done = {} if done is None else done
    waiting: dict[str, Task] = {}
    if progress is not None:
        progress(0, len(tasks))
    for task in tasks:
        if task.earlier is not None:
            done[task.doc.id] = task.earlier
        elif task.needs_models:
            waiting[task.doc.id] = task
        else:
            record = run_document(task.doc, task.signature, None, settings, state, note=task.note)
            done[task.doc.id] = _outcome(record)
    if progress is not None and done:
        progress(len(done), len(tasks))
    hits = misses = 0
    warnings: dict[str, None] = {}  # each once, in order
    for item in results:
        if item.error is not None:
            raise item.error
        task = waiting.pop(item.doc_id, None)
        if task is None or item.result is None:
            continue
        record = record_document(task.doc, task.signature, state, _given(item.result))
        done[task.doc.id] = _outcome(record)
        hits, misses = hits + item.cache_hits, misses + item.cache_misses
        warnings.update(dict.fromkeys(item.warnings))
        if progress is not None:
            progress(len(done), len(tasks))
    for task in waiting.values():
        died = died_result(task.doc, task.signature)
        done[task.doc.id] = _outcome(record_document(task.doc, task.signature, state, _given(died)))
        if progress is not None:
            progress(len(done), len(tasks))
    return [done[t.doc.id] for t in tasks], CacheUse(hits, misses, tuple(warnings))


def _given(result: DocResult) -> Callable[[], DocResult]:
    return lambda: result


# --- 7. the run report --------------------------------------------------------------------------


def write_report(out: Path, report: BatchReport, *, older_reports: bool = False) -> None:
    """Write the run report into OUT_DIR: report.json, report.csv, report.md and index.html.

    Each replaces only a file an earlier run wrote and nobody changed since (`mtsum.written`;
    `older_reports`: an OUT_DIR an older mtsum ran in, with no record of its reports).

    Raises:
        InputError: OUT_DIR cannot be written, or holds a report file mtsum must not replace.
    """
    renderers = (report_json, report_csv, report_markdown, report_html)
    files = [(name, render(report)) for name, render in zip(REPORT_FILES, renderers, strict=True)]
    try:
        write_recorded(out, files, option="--out", adopt=older_reports)
    except OSError as exc:
        raise unusable_folder(out, exc) from None


def _replaced_finished(out: Path, rows: Sequence[DocRow]) -> str | None:
    """A warning when every document of this run failed and the run report it replaces had
    finished ones (ok or skipped); else None."""
    if not rows or any(row.status != "failed" for row in rows):
        return None
    data = read_below(out, REPORT_FILES[0])  # report.json
    try:
        counts = json.loads(data.decode("utf-8"))["counts"] if data is not None else {}
        finished = int(counts.get("ok", 0)) + int(counts.get("skipped", 0))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if finished <= 0:
        return None
    return f"every document failed; this report replaces one with {finished} documents finished"


def _cache_use(models: Models | None, cache: TranslationCache | None) -> CacheUse:
    """What the local engine's translation cache did."""
    cached = models.cached if models is not None else None
    return CacheUse(
        hits=cached.hits if cached is not None else 0,
        misses=cached.misses if cached is not None else 0,
        warnings=tuple(cache.warnings) if cache is not None else (),
    )


def _finished_so_far(
    tasks: Sequence[Task], done: dict[str, Outcome], state: RunState
) -> dict[str, Outcome]:
    """The outcomes of the tasks finished when a run was interrupted, by document id: those
    `done` holds, the skipped ones, and any the state records as finished in this run although
    the interruption came before its outcome reached `done`."""
    finished: dict[str, Outcome] = {}
    for task in tasks:
        doc = task.doc
        outcome = done.get(doc.id) or task.earlier
        unknown = outcome is None and doc.text is not None
        if unknown and state.is_done(doc.id, doc.input_hash, state_key(task.signature)):
            outcome = _finished(state.out_dir, doc.id, status="ok")
        if outcome is not None:
            finished[doc.id] = outcome
    return finished


def _report(
    source: Path,
    out: Path,
    docs: Sequence[Document],
    outcomes: Sequence[Outcome],
    signatures: dict[str, Signature | None],
    started: float,
    used: CacheUse,
) -> BatchReport:
    """The run report of `docs`, whose `outcomes` these are, in order."""
    rows = [o.row for o in outcomes]
    return BatchReport(
        input_dir=display_path(source),
        out_dir=display_path(out),
        documents=tuple(rows),
        corpus=corpus_scores(docs, rows, [o.english for o in outcomes]),
        settings=tuple(sorted({str(s) for s in signatures.values() if s is not None})),
        seconds=time.perf_counter() - started,
        cache_hits=used.hits,
        cache_misses=used.misses,
        warnings=used.warnings,
    )


def _create(lock: RunLock) -> RunState:
    """Lock a new OUT_DIR, creating it, and start its resume state."""
    lock.acquire()
    return RunState(lock.out_dir)


def run_batch(
    input_dir: str | Path,
    out_dir: str | Path,
    *,
    translator: Seq2Seq | LazyModel,
    summarizer: Seq2Seq | LazyModel,
    settings: BatchSettings | None = None,
    force: bool = False,
    cache: TranslationCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    engine: RayEngine | None = None,
) -> BatchReport:
    """Translate, summarize, align and score every document of `input_dir` into `out_dir`.

    Args:
        input_dir: A folder of ``<id>.txt`` documents with their references beside them.
        out_dir: Where outputs go (created once the models are loaded); reruns skip what is
            finished there.
        translator: A translation model, or a `LazyModel` loaded only if an Arabic document
            needs work.
        summarizer: A summarization model, or a `LazyModel` loaded only if a document needs work.
        settings: Options of every stage; `BatchSettings()` by default.
        force: Redo every document, finished or not.
        cache: A translation cache; the translator is wrapped in `CachingTranslator` when given.
            The local engine's only: Ray actors open their own (`RayEngine`'s ``cache``).
        progress: Called with (documents done, documents in all), skipped ones included.
        engine: None runs the documents here, one at a time; a `RayEngine` runs them on a pool
            of Ray actors (`mtsum.batch.ray_engine`), with the same outputs and resume state.

    Returns:
        The `BatchReport`, also written as OUT_DIR/report.json, report.csv, report.md and
        index.html.
        Failed documents are rows with their error, not exceptions.

    Raises:
        InputError: `input_dir` is missing or has no documents; `out_dir` is empty, the input
            folder itself, or cannot be created or written; or the resume state is damaged or
            not mtsum's.
        InputError: With a `RayEngine`, also: Ray is not installed or cannot be joined.
        ModelError: A model that some document needs is unavailable (nothing is written).
        BusyError: Another batch holds `out_dir`.
        KeyboardInterrupt: Passed on once the run report of what finished (with a warning that
            says how far the run got) is written; a rerun resumes.

    Example:
        Plain functions stand in for `lazy_translator()` and `lazy_summarizer()`; the rerun
        skips the finished document:

        >>> import tempfile
        >>> from mtsum.backends.base import FunctionModel
        >>> lead = FunctionModel(lambda xs: [x.split(". ")[0] + "." for x in xs])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     Path(tmp, "seeds").mkdir()
        ...     _ = Path(tmp, "seeds", "flood.txt").write_text("The river rose. Schools closed.")
        ...     for run in range(2):
        ...         report = run_batch(Path(tmp, "seeds"), Path(tmp, "outputs"),
        ...                            translator=lead, summarizer=lead)
        ...         print([(row.id, row.status) for row in report.documents])
        [('flood', 'ok')]
        [('flood', 'skipped')]
    """
    started = time.perf_counter()
    settings = settings if settings is not None else BatchSettings()
    if str(out_dir) == "":  # Path("") is the current folder, whose report.md would be replaced
        raise InputError("the output folder is empty; pass --out FOLDER")
    source, out = Path(input_dir), Path(out_dir)
    if source.is_dir() and out.is_dir() and os.path.samefile(source, out):
        raise InputError(
            f"{display_path(out)}: is the input folder; pass another --out for the outputs"
        )
    docs = scan_folder(
        source,
        source_lang=settings.source_lang,
        max_bytes=settings.max_bytes,
        reserved=REPORT_FILES,
        encoding=settings.encoding,
    )
    if out.exists() and not out.is_dir():
        raise InputError(
            f"{display_path(out)}: exists and is not a folder; pass a folder for --out"
        )
    # A state means an earlier run: its reports may predate the record of what mtsum wrote.
    older_reports = os.path.lexists(out / STATE_FILE)
    if out.is_dir():  # before any model loads: a user's report.md there is never replaced
        check_replaceable(out, REPORT_FILES, option="--out", adopt=older_reports)
    signatures = sign(docs, settings, translator=translator, summarizer=summarizer)
    lock = RunLock(out)
    state: RunState | None = None
    try:
        # lexists: a state path that is a link, dangling or not, is refused before any model
        # loads.
        used = os.path.lexists(out / STATE_FILE)
        if lock.path.exists() or used:  # an OUT_DIR used before
            lock.acquire()
            state = RunState(out, move_aside=force) if used else None
        tasks = plan(docs, signatures, state, force=force)
        done: dict[str, Outcome] = {}  # filled as documents finish: what an interruption reports
        models: Models | None = None
        try:
            if engine is None:
                models = load_models(
                    tasks, translator=translator, summarizer=summarizer, cache=cache
                )
                if state is None:
                    state = _create(lock)  # now that the models are loaded
                    # Another run may have finished some documents meanwhile. What is left to run
                    # is a part of what was planned above, so the models loaded there cover it.
                    tasks = plan(docs, signatures, state, force=force)
                if force:
                    adopt(tasks, state)
                outcomes = run_tasks(tasks, models, settings, state, progress=progress, done=done)
                used = _cache_use(models, cache)
            else:
                results = remote_results(
                    tasks,
                    translator=translator,
                    summarizer=summarizer,
                    settings=settings,
                    engine=engine,
                )
                try:
                    first = next(results, None)  # the actors have loaded the models
                    if first is not None and first.error is not None:
                        raise first.error  # before a new OUT_DIR is made
                    if state is None:
                        state = _create(lock)  # now that the actors have loaded the models
                        tasks = plan(docs, signatures, state, force=force)  # as above
                    if force:
                        adopt(tasks, state)
                    arrived = results if first is None else itertools.chain([first], results)
                    outcomes, used = record_remote(
                        tasks, arrived, settings, state, progress=progress, done=done
                    )
                finally:
                    results.close()  # stops a Ray started for this run, whatever happened
        except KeyboardInterrupt:  # Ctrl-C, or a signal the caller turned into one
            if state is not None:
                finished = _finished_so_far(tasks, done, state)
                if progress is not None:
                    progress(len(finished), len(tasks))  # exact, for the caller's message
                stopped = interrupted_note(len(finished), len(tasks))
                used = _cache_use(models, cache) if engine is None else CacheUse()
                docs_done = [t.doc for t in tasks if t.doc.id in finished]
                write_report(
                    out,
                    _report(
                        source,
                        out,
                        docs_done,
                        [finished[d.id] for d in docs_done],
                        signatures,
                        started,
                        replace(used, warnings=(stopped, *used.warnings)),
                    ),
                    older_reports=older_reports,
                )
            raise
        notes = (
            state.moved if state is not None else None,
            _replaced_finished(out, [o.row for o in outcomes]),
        )
        used = replace(used, warnings=(*(n for n in notes if n is not None), *used.warnings))
        report = _report(source, out, docs, outcomes, signatures, started, used)
        write_report(out, report, older_reports=older_reports)
        return report
    finally:
        if state is not None:
            state.close()
        lock.release()
