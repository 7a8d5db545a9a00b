"""Turn results into what users read: plain text, JSON (schema in README), markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from mtsum._version import __version__
from mtsum.align import Alignment, Check
from mtsum.markup import markdown_code, markdown_text, one_line
from mtsum.pipeline import CheckedSummary, DocumentSummary, PreparedSource
from mtsum.signature import Signature
from mtsum.sources import Source
from mtsum.translate import DocumentTranslation

__all__ = [
    "check_markdown",
    "check_record",
    "check_text",
    "checked_record",
    "dumps",
    "summary_markdown",
    "summary_record",
    "summary_text",
    "translation_json",
    "translation_record",
    "translation_text",
]


def dumps(payload: Any) -> str:
    """JSON as mtsum writes it: UTF-8 text (Arabic unescaped), indented, newline at the end."""
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def translation_record(source: Source, doc: DocumentTranslation) -> dict[str, Any]:
    """One document's translation as a JSON-ready dict."""
    return {
        "id": source.id,
        "path": source.path,
        "signature": str(doc.signature),
        "warnings": list(doc.warnings),
        "paragraphs": doc.paragraphs,
        "segments": [asdict(s) for s in doc.segments],
    }


def translation_json(sources: Sequence[Source], docs: Sequence[DocumentTranslation]) -> str:
    """The `mtsum translate --format json` document."""
    records = [translation_record(s, d) for s, d in zip(sources, docs, strict=True)]
    return dumps({"mtsum": __version__, "documents": records})


def translation_text(sources: Sequence[Source], docs: Sequence[DocumentTranslation]) -> str:
    """English paragraphs separated by blank lines; a header per document when there are several."""
    parts = []
    for source, doc in zip(sources, docs, strict=True):
        body = "\n\n".join(map(one_line, doc.paragraphs))
        parts.append(f"==> {one_line(source.id)} <==\n\n{body}" if len(docs) > 1 else body)
    return "\n\n".join(parts) + "\n"


def _alignment_record(source: PreparedSource, alignment: Alignment) -> dict[str, Any]:
    return {
        "paragraphs": list(alignment.paragraphs),
        "score": round(alignment.score, 4),
        "original": [source.original[i] for i in alignment.paragraphs],
        "english": [source.english[i] for i in alignment.paragraphs],
    }


def check_record(source: PreparedSource, check: Check) -> dict[str, Any]:
    """Per-sentence support, flags and alignments (with the paragraphs' text) as a dict."""
    return {
        "support": round(check.support, 4),
        "aligner": check.aligner,
        "threshold": check.threshold,
        "sentences": [
            {
                "text": s.text,
                "support": round(s.support, 4),
                "flags": list(s.flags),
                "missing_numbers": [q.text for q in s.missing_numbers],
                "alignments": [_alignment_record(source, a) for a in s.alignments],
            }
            for s in check.sentences
        ],
    }


def summary_record(doc_id: str, path: str, result: DocumentSummary) -> dict[str, Any]:
    """One document's `mtsum summarize --format json` record."""
    source = result.source
    translation = None
    if source.translation is not None:
        translation = translation_record(Source(doc_id, path, ""), source.translation)
    return {
        "id": doc_id,
        "path": path,
        "lang": source.lang,
        "arabic_share": round(source.arabic_share, 4),
        "warnings": list(source.warnings),
        "signature": str(result.signature),
        "summary": result.summary.text,
        "check": check_record(source, result.check),
        "chunking": asdict(result.summary.chunking),
        "paragraphs": [
            {"index": i, "original": o, "english": e}
            for i, (o, e) in enumerate(zip(source.original, source.english, strict=True))
        ],
        "translation": translation,
    }


def _refs(alignments: Sequence[Alignment]) -> str:
    # Paragraphs are numbered from 1 for readers; JSON keeps 0-based indices.
    if not alignments:
        return "no supporting paragraph"
    return ", ".join(
        "¶" + "+".join(str(i + 1) for i in a.paragraphs) + f" {a.score:.2f}" for a in alignments
    )


def check_text(check: Check) -> str:
    """One sentence a line, each with its paragraph references and flags, then the support."""
    lines = []
    for s in check.sentences:
        flags = f" !{','.join(s.flags)}" if s.flags else ""
        lines.append(f"{one_line(s.text)}  [{_refs(s.alignments)}]{flags}")
    lines.append(f"(support {check.support:.2f}; paragraphs numbered from 1)")
    return "\n".join(lines) + "\n"


def summary_text(doc_id: str, result: DocumentSummary, *, header: bool) -> str:
    """`check_text` of a summary, under a `==> id <==` header when asked."""
    return (f"==> {one_line(doc_id)} <==\n\n" if header else "") + check_text(result.check)


def checked_record(doc_id: str, summary_path: str, result: CheckedSummary) -> dict[str, Any]:
    """The `mtsum check --format json` record."""
    return {
        "id": doc_id,
        "summary_path": summary_path,
        "lang": result.source.lang,
        "arabic_share": round(result.source.arabic_share, 4),
        "warnings": list(result.source.warnings),
        "signature": str(result.signature),
        "check": check_record(result.source, result.check),
    }


def check_markdown(title: str, source: PreparedSource, check: Check, signature: Signature) -> str:
    """Markdown: the sentences with references, flagged ones marked, then the aligned paragraphs."""
    out = [f"# {markdown_text(title)}", "", f"Support: **{check.support:.2f}** (0 to 1).", ""]
    for n, s in enumerate(check.sentences, 1):
        mark = f" ⚠ **{', '.join(s.flags)}**" if s.flags else ""
        out.append(f"{n}. {markdown_text(s.text)} — {_refs(s.alignments)}{mark}")
    out += ["", "## Supporting paragraphs", ""]
    for n, s in enumerate(check.sentences, 1):
        out.append(f"### Sentence {n}: support {s.support:.2f}")
        out.append("")
        if s.missing_numbers:
            missing = ", ".join(markdown_text(q.text) for q in s.missing_numbers)
            out += [f"Not in the source: {missing}", ""]
        for a in s.alignments:
            for i in a.paragraphs:
                out.append(f"- ¶{i + 1} ({a.score:.2f})")
                if source.original[i] != source.english[i]:
                    out.append(f"  - ar: {markdown_text(source.original[i])}")
                out.append(f"  - en: {markdown_text(source.english[i])}")
        if not s.alignments:
            out.append("- no paragraph of the source supports this sentence")
        out.append("")
    out += ["---", "", markdown_code(str(signature)), ""]
    return "\n".join(out)


def summary_markdown(doc_id: str, result: DocumentSummary) -> str:
    """One document's `mtsum summarize --format markdown` report."""
    return check_markdown(f"Summary of {doc_id}", result.source, result.check, result.signature)
