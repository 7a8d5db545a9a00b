"""Moved: the input folder is `mtsum.batch.inputs`, scoring against it `mtsum.batch.scoring`.

Kept only so that importers not yet switched keep working; delete it once none is left
(``grep -rn "mtsum.corpus" mtsum tests``).
"""

from __future__ import annotations

from mtsum.batch.inputs import Document, Reference, scan_folder
from mtsum.batch.scoring import corpus_scores, score_document, score_summary

__all__ = [
    "Document",
    "Reference",
    "corpus_scores",
    "scan_folder",
    "score_document",
    "score_summary",
]
