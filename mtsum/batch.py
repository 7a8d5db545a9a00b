"""`mtsum batch`: every document of a folder, one at a time, resumable, with a run report.

Layout (see seeds/README.md for the inputs)::

    INPUT_DIR/<id>.txt                       OUT_DIR/<id>/translation.txt  English paragraphs
    INPUT_DIR/<id>.summary.ref<N>.en.txt     OUT_DIR/<id>/summary.txt      one sentence a line
    INPUT_DIR/<id>.translation.ref.en.txt    OUT_DIR/<id>/result.json      everything
                                             OUT_DIR/<id>/report.md
                                             OUT_DIR/report.json, report.csv, report.md
                                             OUT_DIR/.mtsum-state.sqlite3, .mtsum.lock

The order of work is what makes a run safe to kill and cheap to repeat:

1. Read every document and its references, hash them, decode, detect the language. A bad
   document (unreadable, empty, invalid UTF-8, over ``max_bytes``) becomes a failed row.
2. Each document's settings signature: models by name and revision (resolved on disk, not
   loaded), every option, mtsum's version. An unavailable model stops the run here.
3. Lock OUT_DIR (`BusyError` while another batch holds it) and skip the documents that the resume
   state records as finished with the same input hash and settings (``force`` skips nothing).
4. Load the models, once, only if some document needs them, and before OUT_DIR is created: a model
   that cannot be loaded leaves nothing behind.
5. One document at a time: translate, summarize, align, score; write its files atomically; record
   it as done. A kill loses at most the document in progress.
6. Write the run report.

Reading the folder and scoring against references are `mtsum.corpus`; a document's input hash
covers its references, so a changed reference redoes it. Timings in result.json are seconds spent
in the translation model, in the summarization model, in the rest of the pipeline (``align``:
segmenting, chunking, alignment) and in scoring.
"""

from __future__ import annotations

import contextlib
import json
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

from mtsum._version import __version__
from mtsum.align import DEFAULT_THRESHOLD, LexicalAligner
from mtsum.atomic import write_text
from mtsum.cache import CachedModel, TranslationCache
from mtsum.corpus import Document, corpus_scores, scan_folder, score_document
from mtsum.errors import InputError, ModelError, MtsumError
from mtsum.models import (
    DEFAULT_MT_MODEL,
    DEFAULT_SUM_MODEL,
    GenerateOptions,
    Seq2Seq,
    load_summarizer,
    load_translator,
    resolve_model,
)
from mtsum.paths import cache_dir as mtsum_cache
from mtsum.pipeline import summarize_texts
from mtsum.report import (
    BatchReport,
    DocRow,
    document_scores_markdown,
    report_csv,
    report_json,
    report_markdown,
    row_from_record,
)
from mtsum.score import join_sentences
from mtsum.sources import MAX_BYTES
from mtsum.state import LOCK_FILE, STATE_FILE, RunLock, RunState, unusable_folder
from mtsum.summarize import SummarizeOptions
from mtsum.textprep import check_encoding
from mtsum.translate import TranslateOptions

__all__ = [
    "MAX_BYTES",
    "OUTPUT_FILES",
    "BatchReport",
    "BatchSettings",
    "LazyModel",
    "lazy_summarizer",
    "lazy_translator",
    "run_batch",
    "settings_signature",
]

# result.json last: a folder with a result.json of this run has all its files.
OUTPUT_FILES = ("translation.txt", "summary.txt", "report.md", "result.json")
REPORT_FILES = ("report.json", "report.csv", "report.md")
_OPTIONS = {"translation": "--mt-model", "summarization": "--sum-model"}
_LANGS = ("auto", "ar", "en")
_INTERRUPTED = "the run stopped while this document was in progress"


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    """Everything but the models that decides a batch's outputs (and ``max_bytes``, which only
    decides which documents are refused)."""

    source_lang: str = "auto"
    translate: TranslateOptions = field(default_factory=TranslateOptions)
    summarize: SummarizeOptions = field(default_factory=SummarizeOptions)
    top_k: int = 3
    threshold: float = DEFAULT_THRESHOLD
    max_bytes: int = MAX_BYTES
    encoding: str | None = None  # a Python codec for the inputs; None: UTF-8 (UTF-16 with a BOM)

    def __post_init__(self) -> None:
        if self.source_lang not in _LANGS:
            raise InputError(f"source language {self.source_lang!r} is not one of auto, ar, en")
        if self.top_k < 1:
            raise InputError(f"top-k must be at least 1, got {self.top_k}")
        if not 0.0 <= self.threshold <= 1.0:
            raise InputError(f"support threshold must be in [0, 1], got {self.threshold}")
        if self.max_bytes < 1:
            raise InputError(f"max bytes must be at least 1, got {self.max_bytes}")
        if self.encoding is not None:
            check_encoding(self.encoding)


@dataclass(frozen=True, kw_only=True)
class LazyModel:
    """A model known by name now and loaded by `load` only when some document needs it.

    Its identity (name and revision, for the settings signature) comes from
    `mtsum.models.resolve_model`, which finds the checkpoint on disk without loading it.
    """

    name: str
    role: str
    load: Callable[[], Seq2Seq]
    runtime: str = ""  # backend and compute type asked for: they change outputs too
    cache: Path | None = None  # the mtsum cache, where local checkpoints' hashes are remembered

    def __post_init__(self) -> None:
        if self.role not in _OPTIONS:
            raise InputError(f"model role {self.role!r} is not one of {', '.join(_OPTIONS)}")

    def identity(self) -> str:
        """``name@revision`` of the checkpoint.

        Raises:
            ModelError: The model is neither local, cached nor downloadable.
        """
        found = resolve_model(
            self.name, role=self.role, option=_OPTIONS[self.role], cache=self.cache
        )
        return f"{found.name}@{found.revision}{self.runtime}"


def lazy_translator(
    name: str = DEFAULT_MT_MODEL,
    *,
    device: str = "auto",
    threads: int | None = None,
    backend: str = "auto",
    compute_type: str | None = None,
    cache_dir: str | Path | None = None,
) -> LazyModel:
    """A `LazyModel` that loads `name` with `mtsum.load_translator` (same options)."""
    runtime = {"device": device, "threads": threads, "backend": backend}
    runtime |= {"compute_type": compute_type, "cache_dir": cache_dir}
    return _lazy(load_translator, name, "translation", runtime)


def lazy_summarizer(
    name: str = DEFAULT_SUM_MODEL,
    *,
    device: str = "auto",
    threads: int | None = None,
    backend: str = "auto",
    compute_type: str | None = None,
    cache_dir: str | Path | None = None,
) -> LazyModel:
    """A `LazyModel` that loads `name` with `mtsum.load_summarizer` (same options)."""
    runtime = {"device": device, "threads": threads, "backend": backend}
    runtime |= {"compute_type": compute_type, "cache_dir": cache_dir}
    return _lazy(load_summarizer, name, "summarization", runtime)


def _lazy(
    loader: Callable[..., Seq2Seq], name: str, role: str, runtime: dict[str, Any]
) -> LazyModel:
    # Backend and compute type change the outputs, so they belong in the model's identity.
    label = f"[{runtime['backend']},{runtime['compute_type'] or 'default'}]"
    return LazyModel(
        name=name,
        role=role,
        load=partial(loader, name, **runtime),
        runtime=label,
        cache=mtsum_cache(runtime["cache_dir"]),
    )


def _options(options: TranslateOptions | SummarizeOptions) -> str:
    return ",".join(f"{f.name}={getattr(options, f.name)!r}" for f in fields(options))


def settings_signature(settings: BatchSettings, *, summarizer: str, translator: str | None) -> str:
    """The resume key of a document's settings: a change in any part means redo it.

    Args:
        settings: The batch settings.
        summarizer: ``name@revision`` of the summarization model.
        translator: ``name@revision`` of the translation model, None for an English document
            (its outputs do not depend on the translator).

    Returns:
        A sacrebleu-style ``key:value|...`` string ending in the mtsum version.
    """
    parts = []
    if translator is not None:
        parts += [f"mt:{translator}", f"mt-opts:{_options(settings.translate)}"]
    parts += [
        f"sum:{summarizer}",
        f"sum-opts:{_options(settings.summarize)}",
        f"lang:{settings.source_lang}",
        f"align:{LexicalAligner().name}",
        f"top:{settings.top_k}",
        f"thr:{settings.threshold}",
        # Only when given, so signatures (and resume) of UTF-8 runs stay as they were.
        *([f"enc:{settings.encoding}"] if settings.encoding is not None else []),
        f"mtsum:{__version__}",
    ]
    return "|".join(parts)


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


@dataclass
class _Models:
    translator: Seq2Seq | None
    summarizer: Seq2Seq
    cached: CachedModel | None = None


def _no_translator() -> Seq2Seq:
    raise ModelError("no translation model was loaded for this run (an English document?)")


def _summarize(
    doc: Document, signature: str, models: _Models, settings: BatchSettings, *, note: str | None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One document through the pipeline: its result.json record and its files, in order."""
    from mtsum.render import dumps, summary_markdown, summary_record

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
        top_k=settings.top_k,
        threshold=settings.threshold,
    )
    pipeline_s = time.perf_counter() - start
    english, sentences = list(result.source.english), list(result.summary.sentences)
    scores = score_document(doc, english, sentences)
    total = time.perf_counter() - start
    translate_s = mt.seconds if mt is not None else 0.0
    timings = {
        "translate": translate_s,
        "summarize": sm.seconds,
        "align": pipeline_s - translate_s - sm.seconds,
        "score": total - pipeline_s,
        "total": total,
    }
    record = {
        "mtsum": __version__,
        "status": "ok",
        "error": None,
        **summary_record(doc.id, doc.path, result),
        "scores": asdict(scores),
        "settings": signature,
        "input_hash": doc.input_hash,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "notes": [note] if note else [],
    }
    files = [
        ("translation.txt", "\n\n".join(english) + "\n"),
        ("summary.txt", join_sentences(sentences) + "\n"),
        ("report.md", f"{summary_markdown(doc.id, result)}\n{document_scores_markdown(scores)}"),
        ("result.json", dumps(record)),
    ]
    return record, files


def _document_folder(out: Path, doc_id: str) -> Path:
    """OUT_DIR/<id> as a plain folder directly inside OUT_DIR (created), never through a link.

    Raises:
        InputError: The id is not one path component, or OUT_DIR/<id> is a symlink or a file.
    """
    folder = out / doc_id
    if doc_id in ("", ".", "..") or Path(doc_id).name != doc_id:
        raise InputError(f"document id {doc_id!r} is not a plain file name; rename the document")
    if folder.is_symlink():
        raise InputError(
            f"{folder}: is a symlink; mtsum does not write through links, remove it to redo "
            "this document"
        )
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot be created ({exc.strerror or exc})") from None
    if not folder.is_dir() or folder.resolve().parent != out.resolve():
        raise InputError(f"{folder}: is not a folder inside {out}; remove it to redo this document")
    return folder


def _write_into(folder: Path, name: str, text: str) -> Path:
    """Write `folder`/`name` atomically after checking it lands in `folder` itself."""
    path = folder / name
    if path.parent.resolve() != folder.resolve() or path.is_dir():
        raise InputError(f"{path}: not a file inside {folder}; remove it to redo this document")
    try:
        write_text(path, text)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return path


def _remove_ours(folder: Path, paths: Sequence[Path]) -> None:
    """Delete files mtsum wrote into `folder`: regular files directly inside it, nothing else."""
    for path in paths:
        if path.is_file() and not path.is_symlink() and path.parent.resolve() == folder.resolve():
            path.unlink(missing_ok=True)


def _earlier_outputs(state: RunState, out: Path, doc_id: str) -> list[Path]:
    """Outputs an earlier run recorded for `doc_id` that still hold what it wrote."""
    record = state.get(doc_id)
    if record is None:
        return []
    unchanged = set(record.outputs) - set(state.changed_outputs(record))
    return [out / f.path for f in unchanged]


def _run_document(
    doc: Document,
    signature: str,
    models: _Models | None,
    settings: BatchSettings,
    state: RunState,
    *,
    note: str | None = None,
) -> dict[str, Any]:
    from mtsum.render import dumps

    start = time.perf_counter()
    folder: Path | None = None
    written: list[Path] = []
    error, trace = doc.error, None
    earlier = _earlier_outputs(state, state.out_dir, doc.id)
    try:
        folder = _document_folder(state.out_dir, doc.id)
        # Temporary files of an atomic write that a kill interrupted (mtsum's own names).
        _remove_ours(folder, [t for n in OUTPUT_FILES for t in folder.glob(f".{n}.*.tmp")])
    except InputError as exc:
        error = error or str(exc)
    if error is None and folder is not None and models is not None:
        # Until it is marked done again, an earlier record must not let a rerun skip a folder
        # that is half rewritten.
        state.mark_failed(doc.id, doc.input_hash, signature, error=_INTERRUPTED)
        try:
            record, files = _summarize(doc, signature, models, settings, note=note)
            for name, text in files:
                written.append(_write_into(folder, name, text))
            duration = time.perf_counter() - start
            state.mark_done(doc.id, doc.input_hash, signature, outputs=written, duration_s=duration)
            return record
        except MtsumError as exc:
            error = str(exc)
        except Exception as exc:  # one document must never stop the others
            error = f"internal error: {type(exc).__name__}: {exc}"
            trace = traceback.format_exc()
    error = error or "no model was loaded for this document"
    seconds = time.perf_counter() - start
    record = {
        "mtsum": __version__,
        "status": "failed",
        "error": error,
        "id": doc.id,
        "path": doc.path,
        "settings": signature,
        "input_hash": doc.input_hash,
        "timings": {"total": round(seconds, 3)},
    }
    if trace is not None:
        record["traceback"] = trace
    if folder is not None:
        # Outputs of an earlier input would pass for this one's; only files mtsum wrote go.
        _remove_ours(folder, [*written, *earlier])
        with contextlib.suppress(InputError):  # the run report's row still says why it failed
            _write_into(folder, "result.json", dumps(record))
    state.mark_failed(doc.id, doc.input_hash, signature, error=error, duration_s=seconds)
    return record


def _finished(out_dir: Path, doc_id: str) -> tuple[dict[str, Any], DocRow] | None:
    """The record and row of a finished document, or None when its result.json is unusable."""
    try:
        record = json.loads((out_dir / doc_id / "result.json").read_text(encoding="utf-8"))
        return (record, row_from_record(record, "skipped")) if record["status"] == "ok" else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _english(record: dict[str, Any]) -> list[str]:
    return [p["english"] for p in record.get("paragraphs", [])]


def _load(model: Seq2Seq | LazyModel) -> Seq2Seq:
    return model.load() if isinstance(model, LazyModel) else model


def _identity(model: Seq2Seq | LazyModel) -> str:
    if isinstance(model, LazyModel):
        return model.identity()
    return f"{model.info.name}@{model.info.revision}"


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
) -> BatchReport:
    """Translate, summarize, align and score every document of `input_dir` into `out_dir`.

    Args:
        input_dir: A folder of ``<id>.txt`` documents with their references beside them.
        out_dir: Where outputs go (created when the first document is done); reruns skip what
            is finished there.
        translator: A translation model, or a `LazyModel` loaded only if an Arabic document
            needs work.
        summarizer: A summarization model, or a `LazyModel` loaded only if a document needs work.
        settings: Options of every stage; `BatchSettings()` by default.
        force: Redo every document, finished or not.
        cache: A translation cache; the translator is wrapped in `CachedModel` when given.
        progress: Called with (documents done, documents in all), skipped ones included.

    Returns:
        The `BatchReport`, also written as OUT_DIR/report.json, report.csv and report.md.
        Failed documents are rows with their error, not exceptions.

    Raises:
        InputError: `input_dir` is missing or has no documents, or the resume state is damaged.
        ModelError: A model that some document needs is unavailable (nothing is written).
        BusyError: Another batch holds `out_dir`.

    Example:
        >>> report = run_batch("seeds", "outputs", translator=lazy_translator(),
        ...                    summarizer=lazy_summarizer())  # doctest: +SKIP
        >>> [(row.id, row.status) for row in report.documents]  # doctest: +SKIP
        [('000_91e72526449f324a', 'ok')]
    """
    started = time.perf_counter()
    settings = settings if settings is not None else BatchSettings()
    source, out = Path(input_dir), Path(out_dir)
    docs = scan_folder(
        source,
        source_lang=settings.source_lang,
        max_bytes=settings.max_bytes,
        reserved=REPORT_FILES,
        encoding=settings.encoding,
    )
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; pass a folder for --out")

    identities: dict[str, str] = {}

    def identity(role: str) -> str:
        if role not in identities:
            identities[role] = _identity(translator if role == "translation" else summarizer)
        return identities[role]

    def signature(doc: Document) -> str:
        if doc.text is None:
            return "-"  # it fails before any model runs
        mt = identity("translation") if doc.lang == "ar" else None
        return settings_signature(settings, summarizer=identity("summarization"), translator=mt)

    # Resolved before anything is written, so an unavailable model leaves no trace.
    signatures = {d.id: signature(d) for d in docs}

    notes: dict[str, str] = {}

    def pending(state: RunState | None) -> dict[str, tuple[dict[str, Any], DocRow]]:
        if state is None or force:
            return {}
        done = {}
        for d in docs:
            if d.text is None:
                continue
            if state.is_done(d.id, d.input_hash, signatures[d.id]):
                found = _finished(out, d.id)
                if found is not None:
                    done[d.id] = found
                continue
            record = state.get(d.id)
            if record is not None and record.status == "ok":
                changed = ", ".join(Path(f.path).name for f in state.changed_outputs(record))
                if changed:
                    notes[d.id] = f"redone: {changed} changed or deleted since the last run"
        return done

    def load(skipped: dict[str, Any], models: _Models | None) -> _Models | None:
        work = [d for d in docs if d.text is not None and d.id not in skipped]
        if not work or models is not None:
            return models
        mt = _load(translator) if any(d.lang == "ar" for d in work) else None
        cached = CachedModel(mt, cache) if mt is not None and cache is not None else None
        return _Models(translator=cached or mt, summarizer=_load(summarizer), cached=cached)

    lock = RunLock(out)
    state: RunState | None = None
    try:
        # An OUT_DIR used before is locked at once; a new one only once the models are loaded.
        locked = (out / LOCK_FILE).exists()
        if locked:
            lock.acquire()
            if (out / STATE_FILE).exists():
                state = RunState(out)
        skipped = pending(state)
        models = load(skipped, None)
        if not locked:
            lock.acquire()
        if state is None:
            state = RunState(out)
            skipped = pending(state)  # another run may have finished some meanwhile
            models = load(skipped, models)
        records: list[dict[str, Any]] = []
        rows: list[DocRow] = []
        if progress is not None:
            progress(0, len(docs))
        for n, doc in enumerate(docs, 1):
            if doc.id in skipped:
                record, row = skipped[doc.id]
            else:
                record = _run_document(
                    doc, signatures[doc.id], models, settings, state, note=notes.get(doc.id)
                )
                row = row_from_record(record, record["status"])
            records.append(record)
            rows.append(row)
            if progress is not None:
                progress(n, len(docs))
        report = BatchReport(
            input_dir=str(source),
            out_dir=str(out),
            documents=tuple(rows),
            corpus=corpus_scores(docs, rows, [_english(r) for r in records]),
            settings=tuple(sorted({s for s in signatures.values() if s != "-"})),
            seconds=time.perf_counter() - started,
            cache_hits=models.cached.hits if models and models.cached else 0,
            cache_misses=models.cached.misses if models and models.cached else 0,
            warnings=tuple(cache.warnings) if cache is not None else (),
        )
        for name, render in zip(
            REPORT_FILES, (report_json, report_csv, report_markdown), strict=True
        ):
            try:
                write_text(out / name, render(report))
            except OSError as exc:
                raise unusable_folder(out, exc) from None
        return report
    finally:
        if state is not None:
            state.close()
        lock.release()
