"""The records of an `mtsum batch` run: each document's result.json, its row, the run's report.

A document's run ends in a `ResultRecord`, written as ``OUT_DIR/<id>/result.json``: `ok_record`
and `failed_record` make it, and `row_from_record` reads it back into the document's `DocRow`,
checking every key it uses, so that fresh and skipped documents (whose record is read from disk)
are reported alike, and a result.json edited by hand is a `ValueError`, never a crash.

The `BatchReport` holds one `DocRow` per document (status ``ok``, ``skipped`` when an earlier run
finished it with the same input and settings, or ``failed`` with the reason), then `CorpusScores`:
ROUGE over the documents with reference summaries, BLEU/chrF over the paragraphs of the documents
with a reference translation. `mtsum.batch.report` renders it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from mtsum._version import __version__
from mtsum.score import ROUGE_TYPES, CorpusRouge, MTScore, RougeResult, Score
from mtsum.signature import Signature, plain

__all__ = [
    "STATUSES",
    "BatchReport",
    "CorpusScores",
    "DocRow",
    "DocScores",
    "ResultRecord",
    "english_from_record",
    "failed_record",
    "ok_record",
    "row_from_record",
    "scores_from_record",
]

STATUSES = ("ok", "skipped", "failed")


@dataclass(frozen=True, kw_only=True)
class DocScores:
    """One document's scores against the references found beside it.

    ``references`` and ``translation_reference`` are file names; an ``*_error`` says why a
    score is missing although its reference exists (unreadable file, paragraph count mismatch).
    """

    references: tuple[str, ...] = ()
    rouge: RougeResult | None = None
    rouge_error: str | None = None
    translation_reference: str | None = None
    translation: MTScore | None = None
    translation_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class DocRow:
    """One document's line of the run report; everything but id, path and status may be None."""

    id: str
    path: str
    status: str
    error: str | None = None
    lang: str | None = None
    n_paragraphs: int | None = None
    n_summary_sentences: int | None = None
    support: float | None = None
    flagged: int | None = None
    flags: dict[str, int] = field(default_factory=dict)
    scores: DocScores | None = None
    seconds: float | None = None
    signature: Signature | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CorpusScores:
    """Corpus ROUGE (documents with reference summaries) and BLEU/chrF (with reference
    translations); None where no document has the references."""

    rouge: CorpusRouge | None = None
    translation: MTScore | None = None
    translation_docs: int = 0


@dataclass(frozen=True, kw_only=True)
class BatchReport:
    """What one `run_batch` did, document by document, and the corpus scores."""

    input_dir: str
    out_dir: str
    documents: tuple[DocRow, ...]
    corpus: CorpusScores
    settings: tuple[str, ...]
    seconds: float
    cache_hits: int = 0
    cache_misses: int = 0
    warnings: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        """How many documents ended with `status` (one of `STATUSES`)."""
        return sum(row.status == status for row in self.documents)

    @property
    def failed(self) -> int:
        """How many documents failed; the CLI exits 1 when this is not 0."""
        return self.count("failed")


class ResultRecord(TypedDict, total=False):
    """Every key of ``OUT_DIR/<id>/result.json``.

    Both statuses have ``mtsum`` to ``path`` and ``settings`` to ``timings``. The keys from
    ``lang`` to ``translation`` are `mtsum.render.summary_record`'s (``mtsum summarize --format
    json``) and, with ``scores`` and ``notes``, only in an "ok" record; ``traceback`` is only in
    a record of a document that failed on a bug.
    """

    mtsum: str
    status: str  # "ok" or "failed"
    error: str | None
    id: str
    path: str
    lang: str
    arabic_share: float
    warnings: list[str]
    signature: str  # the pipeline's signature: models, options, mtsum version
    summary: str
    check: dict[str, Any]  # support, aligner, threshold, sentences (text, support, flags, ...)
    chunking: dict[str, Any]
    paragraphs: list[dict[str, Any]]
    translation: dict[str, Any] | None  # with its own "warnings"
    scores: dict[str, Any]  # a `DocScores` as a dict
    settings: str  # the settings signature: the resume key
    input_hash: str
    timings: dict[str, float]  # seconds; "total" always
    notes: list[str]  # why it was redone
    traceback: str


def ok_record(
    summary: Mapping[str, Any],
    scores: DocScores,
    *,
    settings: str,
    input_hash: str,
    timings: Mapping[str, float],
    notes: Sequence[str] = (),
) -> ResultRecord:
    """The record of a document that went through, from its `mtsum.render.summary_record`."""
    record = {
        "mtsum": __version__,
        "status": "ok",
        "error": None,
        **summary,
        "scores": plain(scores),
        "settings": settings,
        "input_hash": input_hash,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "notes": list(notes),
    }
    return cast(ResultRecord, record)


def failed_record(
    doc_id: str,
    path: str,
    *,
    error: str,
    settings: str,
    input_hash: str,
    seconds: float,
    traceback: str | None = None,
) -> ResultRecord:
    """The record of a document that failed with `error` (and, for a bug, its `traceback`)."""
    record: ResultRecord = {
        "mtsum": __version__,
        "status": "failed",
        "error": error,
        "id": doc_id,
        "path": path,
        "settings": settings,
        "input_hash": input_hash,
        "timings": {"total": round(seconds, 3)},
    }
    if traceback is not None:
        record["traceback"] = traceback
    return record


_NUMBER = (int, float)
_LIST = (list, tuple)  # tuple: a record made in memory, not yet read back from JSON
_MISSING = object()


def _get(data: object, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
    """``data[key]`` when `data` is a dict and the value a `kind` (None allowed when `default`
    is given, which is also the value of a missing key)."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object with {key!r}, found {type(data).__name__}")
    if key not in data:
        if default is _MISSING:
            raise ValueError(f"{key!r} is missing")
        return default
    value = data[key]
    if value is None and default is not _MISSING:
        return None
    # bool is an int to Python, never a number or a count here.
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{key!r} is {type(value).__name__}, not {_name(kind)}")
    return value


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _strings(data: object, key: str, default: Any = _MISSING) -> tuple[str, ...]:
    values = _get(data, key, _LIST, default) or ()
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{key!r} holds something other than text")
    return tuple(values)


def _score(data: object) -> Score:
    return Score(
        precision=float(_get(data, "precision", _NUMBER)),
        recall=float(_get(data, "recall", _NUMBER)),
        fmeasure=float(_get(data, "fmeasure", _NUMBER)),
    )


def _rouge(data: object) -> RougeResult:
    scores = _get(data, "scores", dict)
    return RougeResult(
        # Every metric the reports show, or none.
        {metric: _score(_get(scores, metric, dict)) for metric in ROUGE_TYPES},
        _get(data, "tokenizer", str),
        _get(data, "n_refs", int),
        Signature.parse(_get(data, "signature", str)),
    )


def _mt(data: object) -> MTScore:
    return MTScore(
        n_segments=_get(data, "n_segments", int),
        bleu=float(_get(data, "bleu", _NUMBER)),
        chrf=float(_get(data, "chrf", _NUMBER)),
        bleu_signature=Signature.parse(_get(data, "bleu_signature", str)),
        chrf_signature=Signature.parse(_get(data, "chrf_signature", str)),
    )


def scores_from_record(data: object) -> DocScores:
    """The `DocScores` that ``asdict`` turned into `data`.

    Raises:
        ValueError: A key is missing or holds the wrong kind of value.
    """
    rouge = _get(data, "rouge", dict, None)
    mt = _get(data, "translation", dict, None)
    return DocScores(
        references=_strings(data, "references"),
        rouge=None if rouge is None else _rouge(rouge),
        rouge_error=_get(data, "rouge_error", str, None),
        translation_reference=_get(data, "translation_reference", str, None),
        translation=None if mt is None else _mt(mt),
        translation_error=_get(data, "translation_error", str, None),
    )


def row_from_record(record: object, status: str) -> DocRow:
    """A document's row, read from its result.json record (a `ResultRecord`).

    Fresh and skipped documents both take this path, so a rerun reports them alike.

    Raises:
        ValueError: The record is not one `mtsum batch` wrote: a key it needs is missing or
            holds the wrong kind of value.
    """
    doc_id, path = _get(record, "id", str), _get(record, "path", str)
    seconds = float(_get(_get(record, "timings", dict), "total", _NUMBER))
    if _get(record, "status", str) != "ok":
        error = _get(record, "error", str, None)
        return DocRow(id=doc_id, path=path, status=status, error=error, seconds=seconds)
    check = _get(record, "check", dict)
    flags = [_strings(s, "flags") for s in _get(check, "sentences", _LIST)]
    translation = _get(record, "translation", dict, None)
    return DocRow(
        id=doc_id,
        path=path,
        status=status,
        lang=_get(record, "lang", str),
        n_paragraphs=len(_get(record, "paragraphs", _LIST)),
        n_summary_sentences=len(flags),
        support=float(_get(check, "support", _NUMBER)),
        flagged=sum(bool(f) for f in flags),
        flags=dict(sorted(Counter(f for sentence in flags for f in sentence).items())),
        scores=scores_from_record(_get(record, "scores", dict)),
        seconds=seconds,
        signature=Signature.parse(_get(record, "signature", str)),
        warnings=(
            *_strings(record, "warnings", ()),
            *(_strings(translation, "warnings", ()) if translation is not None else ()),
            *_strings(record, "notes", ()),
        ),
    )


def english_from_record(record: object) -> list[str]:
    """A document's English paragraphs (its translation, for an Arabic document) from its
    result.json record; none for a failed document.

    Raises:
        ValueError: The paragraphs are not what `mtsum batch` writes.
    """
    return [_get(p, "english", str) for p in _get(record, "paragraphs", _LIST, ()) or ()]
