"""Turn results into what users read: plain text, JSON (schema in README), markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from mtsum._version import __version__
from mtsum.sources import Source
from mtsum.translate import DocumentTranslation

__all__ = ["dumps", "translation_record", "translation_text"]


def dumps(payload: Any) -> str:
    """JSON as mtsum writes it: UTF-8 text (Arabic unescaped), indented, newline at the end."""
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def translation_record(source: Source, doc: DocumentTranslation) -> dict[str, Any]:
    """One document's translation as a JSON-ready dict."""
    return {
        "id": source.id,
        "path": source.path,
        "signature": doc.signature,
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
        body = "\n\n".join(doc.paragraphs)
        parts.append(f"==> {source.id} <==\n\n{body}" if len(docs) > 1 else body)
    return "\n\n".join(parts) + "\n"
