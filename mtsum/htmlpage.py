"""The HTML report: one self-contained page per document, and an index of a run's pages.

A page is rendered from the same records as the JSON outputs (`mtsum.render.summary_record`,
the ``result.json`` of `mtsum batch`), so it shows exactly what the JSON says, and a page can be
made again from a result.json without any model. `document_html` takes such a record;
`summary_html` and `checked_html` make it from a pipeline result first. `index_html` renders rows
of the batch report (``report.json``'s ``documents``) or `index_row`s of pages.

Safety rules, which the browser tests check:

* Jinja2 renders every page with autoescaping on: text from articles, summaries, file names and
  model names is data, never markup. No HTML is built by joining strings.
* The page is one file. Its CSS and script are inline, allowed by their sha256 in a
  ``Content-Security-Policy`` meta that forbids everything else (fonts, images, scripts, styles,
  requests), so even text that escaped escaping could not run or fetch anything.
* The script reads its data from a ``<script type="application/json">`` element written by
  Jinja's ``tojson``, which escapes ``<``, ``>``, ``&`` and ``'``: ``</script>`` in a sentence
  cannot end the element.
* Everything is readable with JavaScript off: each sentence links to its paragraphs and each
  paragraph back to its sentences; the script only highlights.

Example:
    >>> import mtsum
    >>> sm = mtsum.FunctionModel(lambda xs: ["The river rose."] * len(xs))
    >>> [result] = mtsum.summarize_texts(["The river rose on Monday."], summarizer=sm)
    >>> page = summary_html("doc", "doc.txt", result)
    >>> page.startswith("<!DOCTYPE html>"), "The river rose on Monday." in page
    (True, True)
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mtsum.signature import Signature

if TYPE_CHECKING:
    import jinja2

    from mtsum.pipeline import CheckedSummary, DocumentSummary

__all__ = [
    "INDEX_NAME",
    "PAGE_NAME",
    "check_page_folder",
    "check_page_ids",
    "checked_html",
    "document_html",
    "index_html",
    "index_row",
    "page_files",
    "summary_html",
    "write_pages",
]

PAGE_NAME = "report.html"  # a document's page, in its folder beside the index
INDEX_NAME = "index.html"

# Readable labels of flags; any other flag shows with its underscores as spaces.
_FLAG_LABELS = {
    "number_not_in_source": "number not in source",
    "repetition": "repetition, retried",
    "repetition_after_retry": "still repetitive after the retry",
    "source_repetition": "source repetition, retried",
    "source_repetition_after_retry": "source still repetitive after the retry",
}
_LANGUAGES = {"ar": "Arabic, translated to English", "en": "English"}


def summary_html(
    doc_id: str, path: str, result: DocumentSummary, *, scores: Mapping[str, Any] | None = None
) -> str:
    """The page of `mtsum summarize --format html` for one document.

    Args:
        doc_id: The document's id.
        path: Its source path, as shown.
        result: What `mtsum.summarize_texts` returned for it.
        scores: Its scores against references (a batch's ``DocScores`` as plain data), if any.

    Returns:
        The page, one self-contained HTML document.
    """
    from mtsum.render import summary_record

    record = summary_record(doc_id, path, result)
    if scores is not None:
        record["scores"] = scores
    return document_html(record)


def checked_html(doc_id: str, path: str, summary_path: str, result: CheckedSummary) -> str:
    """The page of `mtsum check --format html`: a summary written elsewhere, checked.

    Args:
        doc_id: The article's id.
        path: The article's path, as shown.
        summary_path: The summary's path, as shown.
        result: What `mtsum.check_document` returned.
    """
    from mtsum.render import checked_record, translation_record
    from mtsum.sources import Source

    source = result.source
    record = checked_record(doc_id, summary_path, result)
    # The check record keeps only the aligned paragraphs; the page shows the whole article.
    record["path"] = path
    record["paragraphs"] = [
        {"index": i, "original": o, "english": e}
        for i, (o, e) in enumerate(zip(source.original, source.english, strict=True))
    ]
    record["translation"] = (
        None
        if source.translation is None
        else translation_record(Source(doc_id, path, ""), source.translation)
    )
    return document_html(record)


def document_html(record: Mapping[str, Any]) -> str:
    """A document's page from its record.

    Args:
        record: `mtsum.render.summary_record`'s dict (``mtsum summarize --format json``, a batch
            result.json with its ``scores``), or a check record with ``paragraphs`` and
            ``summary_path``. ``signature`` may be a `Signature` or its printed form.

    Returns:
        The page, one self-contained HTML document.

    Raises:
        KeyError: The record lacks ``id``, ``lang``, ``check`` or ``paragraphs``.
    """
    return _render("document.html", _document_view(record), script=True)


def index_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row of `index_html` for a page's record, in the shape of a batch report's rows."""
    sentences = record["check"]["sentences"]
    return {
        "id": record["id"],
        "path": record.get("path") or "",
        "status": "ok",
        "error": None,
        "lang": record.get("lang"),
        "n_paragraphs": len(record["paragraphs"]),
        "n_summary_sentences": len(sentences),
        "support": record["check"]["support"],
        "flagged": sum(bool(s["flags"]) for s in sentences),
        "scores": record.get("scores"),
    }


def index_html(
    documents: Sequence[Mapping[str, Any]],
    *,
    title: str = "mtsum report",
    corpus: Mapping[str, Any] | None = None,
    details: Sequence[tuple[str, str]] = (),
    settings: Sequence[Signature | str] = (),
) -> str:
    """The index of a run: one row per document, linking to ``<id>/report.html``.

    Args:
        documents: Rows as in a batch's ``report.json`` (``documents``) or from `index_row`:
            ``id``, ``path``, ``status``, ``error``, ``lang``, ``n_paragraphs``,
            ``n_summary_sentences``, ``support``, ``flagged``, ``scores``. A row whose status is
            ``ok`` or ``skipped`` links to its page.
        title: The page's heading.
        corpus: A batch's corpus scores (``report.json``'s ``corpus``), if any.
        details: ``(label, value)`` lines under the heading (input folder, time, ...).
        settings: Signatures of the run's settings, shown in a collapsible block.
    """
    rows = [_index_row_view(row) for row in documents]
    view = {
        "title": title,
        "rows": rows,
        "details": list(details),
        "settings": [_signature_view(s) for s in settings],
        "has_rouge": any(row["rouge"] for row in rows),
        "has_mt": any(row["bleu"] is not None for row in rows),
        "corpus": _corpus_view(corpus) if corpus else None,
        "counts": {s: sum(r["status"] == s for r in rows) for s in ("ok", "skipped", "failed")},
    }
    return _render("index.html", view, script=False)


def page_files(records: Sequence[Mapping[str, Any]], *, title: str) -> list[tuple[str, str]]:
    """The files of a folder of pages: ``<id>/report.html`` per record, then ``index.html``.

    The layout of `mtsum batch`'s output folder, for `mtsum summarize --format html -o DIR`.

    Args:
        records: Page records, as `document_html` takes them.
        title: The index's heading.

    Returns:
        ``(relative path, HTML)`` pairs, in order, the index last.

    Raises:
        InputError: An id is not a plain file name, or two records share one.

    Example:
        >>> from mtsum import FunctionModel, summarize_texts
        >>> from mtsum.render import summary_record
        >>> sm = FunctionModel(lambda xs: ["The river rose."] * len(xs))
        >>> [result] = summarize_texts(["The river rose on Monday."], summarizer=sm)
        >>> record = summary_record("doc", "doc.txt", result)
        >>> [name for name, _ in page_files([record], title="Run")]
        ['doc/report.html', 'index.html']
        >>> page_files([record, record], title="Run")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        mtsum.errors.InputError: two documents have the id 'doc' (the same file name in two ...
    """
    check_page_ids([record["id"] for record in records])
    files = [(_page_name(record["id"]), document_html(record)) for record in records]
    files.append((INDEX_NAME, index_html([index_row(r) for r in records], title=title)))
    return files


def check_page_ids(ids: Sequence[str]) -> None:
    """Check that each id can name its page's folder beside the index: a plain name, not the
    index's own (in any case, for case-insensitive file systems), and each once.

    Raises:
        InputError: An id that cannot; the message names it and what to do.

    Example:
        >>> check_page_ids(["a", "b"])
        >>> check_page_ids(["a", "Index.HTML"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        mtsum.errors.InputError: document id 'Index.HTML' would be the folder of the index ...
    """
    from mtsum.errors import InputError

    seen: set[str] = set()
    for doc_id in ids:
        if doc_id in ("", ".", "..") or any(c in doc_id for c in "/\\\0"):
            raise InputError(f"document id {doc_id!r} cannot name a folder; rename the document")
        if doc_id.casefold() == INDEX_NAME:
            raise InputError(
                f"document id {doc_id!r} would be the folder of the index page {INDEX_NAME}; "
                "rename the document"
            )
        if doc_id in seen:
            raise InputError(
                f"two documents have the id {doc_id!r} (the same file name in two folders?); "
                "write them to separate output folders"
            )
        seen.add(doc_id)


def check_page_folder(folder: str | Path, ids: Sequence[str]) -> None:
    """Refuse now what `write_pages` would refuse for the pages of `ids` in `folder`, before any
    model runs: an id `check_page_ids` refuses, a `folder` that is a file, a symlink at
    ``folder/<id>``, and a page or index that mtsum did not write there or that was changed since
    (`mtsum.written`: mtsum replaces only its own files).

    Raises:
        InputError: The message names the path and what to do.
    """
    from mtsum.errors import InputError
    from mtsum.sources import display_path
    from mtsum.written import check_replaceable

    check_page_ids(ids)
    folder = Path(folder)
    if not str(folder):
        raise InputError("the output folder is empty; pass -o FOLDER")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{display_path(folder)}: is not a folder; pass a folder for the pages")
    for doc_id in ids:
        # The folder named is the user's choice, a link or not; what mtsum makes inside is not.
        if (folder / doc_id).is_symlink():
            shown = display_path(folder / doc_id)
            raise InputError(f"{shown}: is a symlink; mtsum does not write through links")
    names = [*(_page_name(doc_id) for doc_id in ids), INDEX_NAME]
    check_replaceable(folder, names, option="-o")


def write_pages(folder: str | Path, records: Sequence[Mapping[str, Any]], *, title: str) -> None:
    """Write `page_files` into `folder` (made if missing), each file atomically.

    A page or index is replaced only when mtsum wrote it and nobody changed it since
    (`check_page_folder`); nothing is written through a symlink.

    Raises:
        InputError: As `check_page_folder` and `page_files`, or a file cannot be written.
    """
    from mtsum.errors import InputError
    from mtsum.sources import display_path
    from mtsum.written import write_recorded

    files = page_files(records, title=title)  # ids checked before anything is written
    check_page_folder(folder, [record["id"] for record in records])
    try:
        write_recorded(folder, files, option="-o")
    except OSError as exc:
        shown = display_path(folder)
        raise InputError(f"{shown}: cannot be written ({exc.strerror or exc})") from None


def _page_name(doc_id: str) -> str:
    return f"{doc_id}/{PAGE_NAME}"


# The view: everything the templates show, worked out here so that they only loop and print.


def _document_view(record: Mapping[str, Any]) -> dict[str, Any]:
    check = record["check"]
    paragraphs = record["paragraphs"]
    threshold = check.get("threshold")
    sentences = [_sentence_view(n, s) for n, s in enumerate(check["sentences"])]
    used_by: dict[int, dict[int, float]] = {}
    for n, sentence in enumerate(check["sentences"]):
        for alignment in sentence["alignments"]:
            for p in alignment["paragraphs"]:
                scores = used_by.setdefault(p, {})
                scores[n] = max(scores.get(n, 0.0), alignment["score"])
    flags, retried = _paragraph_flags(record.get("translation"))
    rows = [
        {
            "number": p["index"] + 1,
            "original": p["original"],
            "english": p["english"],
            "flags": [_flag_view(f) for f in flags.get(p["index"], [])],
            "first_outputs": retried.get(p["index"], []),
            "used_by": [
                {"number": n + 1, "score": score}
                for n, score in sorted(used_by.get(p["index"], {}).items())
            ],
        }
        for p in paragraphs
    ]
    flagged = sum(bool(s["flags"]) for s in sentences)
    translation = record.get("translation") or {}
    chunking = record.get("chunking") or {}
    warnings = [
        *record.get("warnings", []),
        *translation.get("warnings", []),
        *chunking.get("warnings", []),
    ]
    summary_path = record.get("summary_path")
    return {
        "title": f"Check of {summary_path}" if summary_path else f"Summary of {record['id']}",
        "id": record["id"],
        "path": record.get("path") or "",
        "summary_path": summary_path,
        "lang": record["lang"],
        "language": _LANGUAGES.get(record["lang"], record["lang"]),
        "arabic_share": record.get("arabic_share"),
        "bilingual": record["lang"] != "en",
        "support": check["support"],
        "threshold": threshold,
        "reading": _reading(flagged, len(sentences)),
        "aligner": check.get("aligner"),
        "warnings": warnings,
        "signature": _signature_view(record.get("signature") or ""),
        "sentences": sentences,
        "rows": rows,
        "scores": _scores_view(record.get("scores")),
        # What the script needs: paragraph numbers and scores, not the paragraphs' text again.
        "data": {
            "sentences": [
                {
                    "text": s["text"],
                    "alignments": [
                        {"paragraphs": a["paragraphs"], "score": a["score"]}
                        for a in s["alignments"]
                    ],
                }
                for s in check["sentences"]
            ]
        },
    }


def _reading(flagged: int, total: int) -> str:
    """The support in plain words: how many sentences a reader should check."""
    if total == 0:
        return "the summary has no sentences"
    if total == 1:
        return "its one sentence needs checking" if flagged else "its one sentence is supported"
    if flagged == 0:
        return f"all {total} sentences are supported by the article"
    verb = "needs" if flagged == 1 else "need"
    return f"{flagged} of {total} sentences {verb} checking"


def _sentence_view(index: int, sentence: Mapping[str, Any]) -> dict[str, Any]:
    missing = sentence.get("missing_numbers") or []
    return {
        "number": index + 1,
        "text": sentence["text"],
        "support": sentence["support"],
        "flags": [_flag_view(f, missing) for f in sentence["flags"]],
        "alignments": [
            {
                "paragraphs": [p + 1 for p in a["paragraphs"]],
                "first": a["paragraphs"][0] + 1,
                "score": a["score"],
            }
            for a in sentence["alignments"]
        ],
    }


def _flag_view(flag: str, missing: Sequence[str] = ()) -> dict[str, str]:
    label = _FLAG_LABELS.get(flag, flag.replace("_", " "))
    if flag == "number_not_in_source" and missing:
        label = f"{label}: {', '.join(missing)}"
    return {"flag": flag, "label": label}


def _paragraph_flags(
    translation: Mapping[str, Any] | None,
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Per paragraph: its segments' translation flags (in order, once each), and the first
    outputs of its segments that were translated again (the retry of a repetition)."""
    flags: dict[int, list[str]] = {}
    retried: dict[int, list[str]] = {}
    for seg in (translation or {}).get("segments", []):
        found = flags.setdefault(seg["paragraph"], [])
        found.extend(f for f in seg["flags"] if f not in found)
        if seg.get("first_output"):
            retried.setdefault(seg["paragraph"], []).append(seg["first_output"])
    return flags, retried


def _signature_view(signature: Signature | str) -> dict[str, Any]:
    """A signature as its printed form and its fields, one group per stage."""
    if isinstance(signature, str):
        try:
            signature = Signature.parse(signature) if signature else Signature(())
        except ValueError:  # not a printed signature: shown as it is, with no fields
            return {"text": signature, "groups": []}
    return {"text": str(signature), "groups": [list(group) for group in signature.groups]}


def _scores_view(scores: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not scores:
        return None
    rouge = scores.get("rouge")
    mt = scores.get("translation")
    view = {
        "references": list(scores.get("references") or []),
        "rouge": None,
        "rouge_error": scores.get("rouge_error"),
        "translation_reference": scores.get("translation_reference"),
        "mt": None,
        "mt_error": scores.get("translation_error"),
    }
    if rouge:
        view["rouge"] = {
            "metrics": [(name, s) for name, s in rouge["scores"].items()],
            "n_refs": rouge.get("n_refs"),
            "signature": _signature_view(rouge.get("signature") or ""),
        }
    if mt:
        view["mt"] = {
            "bleu": mt["bleu"],
            "chrf": mt["chrf"],
            "n_segments": mt.get("n_segments"),
            "bleu_signature": _signature_view(mt.get("bleu_signature") or ""),
            "chrf_signature": _signature_view(mt.get("chrf_signature") or ""),
        }
    if not any(view[k] for k in ("rouge", "rouge_error", "mt", "mt_error")):
        return None
    return view


def _index_row_view(row: Mapping[str, Any]) -> dict[str, Any]:
    scores = row.get("scores") or {}
    rouge = scores.get("rouge")
    mt = scores.get("translation")
    linked = row["status"] in ("ok", "skipped")
    return {
        "id": row["id"],
        "path": row.get("path") or "",
        "status": row["status"],
        "error": row.get("error"),
        "href": f"{quote(row['id'], safe='')}/{PAGE_NAME}" if linked else None,
        "language": _LANGUAGES.get(row.get("lang") or "", row.get("lang") or ""),
        "n_paragraphs": row.get("n_paragraphs"),
        "n_summary_sentences": row.get("n_summary_sentences"),
        "support": row.get("support"),
        "flagged": row.get("flagged"),
        "rouge": {k: v["fmeasure"] for k, v in rouge["scores"].items()} if rouge else None,
        "bleu": mt["bleu"] if mt else None,
        "chrf": mt["chrf"] if mt else None,
    }


def _corpus_view(corpus: Mapping[str, Any]) -> dict[str, Any] | None:
    rouge = corpus.get("rouge")
    mt = corpus.get("translation")
    if not rouge and not mt:
        return None
    return {
        "rouge": None
        if not rouge
        else {
            "n_docs": rouge["n_docs"],
            "fmeasure": list(rouge["fmeasure"].items()),
            "signature": _signature_view(rouge.get("signature") or ""),
        },
        "mt": None
        if not mt
        else {
            "bleu": mt["bleu"],
            "chrf": mt["chrf"],
            "n_docs": corpus.get("translation_docs"),
            "bleu_signature": _signature_view(mt.get("bleu_signature") or ""),
            "chrf_signature": _signature_view(mt.get("chrf_signature") or ""),
        },
    }


# Rendering.


def _render(template: str, view: dict[str, Any], *, script: bool) -> str:
    from markupsafe import Markup

    css, js = _asset("page.css"), _asset("page.js") if script else ""
    policy = [
        "default-src 'none'",
        f"style-src '{_sha256(css)}'",
        f"script-src '{_sha256(js)}'" if script else "script-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    return (
        _environment()
        .get_template(template)
        .render(
            **view,
            css=Markup(css),  # our own package files, not document text
            script=Markup(js) if script else None,
            policy="; ".join(policy),
        )
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@functools.cache
def _asset(name: str) -> str:
    return (resources.files("mtsum") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # imported when a page is first made, not on `import mtsum`

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mtsum", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = _number
    return env


def _number(value: float | None, digits: int = 2) -> str:
    """A score as shown: fixed decimals, or an en dash when there is none."""
    return "–" if value is None else f"{value:.{digits}f}"
