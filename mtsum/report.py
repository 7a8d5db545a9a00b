"""Moved: the run's records are `mtsum.batch.records`, their renderings `mtsum.batch.report`.

Kept only so that importers not yet switched keep working; delete it once none is left
(``grep -rn "mtsum.report" mtsum tests``).
"""

from __future__ import annotations

from mtsum.batch.records import (
    STATUSES,
    BatchReport,
    CorpusScores,
    DocRow,
    DocScores,
    row_from_record,
)
from mtsum.batch.report import (
    CSV_COLUMNS,
    document_scores_markdown,
    report_csv,
    report_json,
    report_markdown,
    report_record,
    score_record,
    score_text,
)

__all__ = [
    "CSV_COLUMNS",
    "STATUSES",
    "BatchReport",
    "CorpusScores",
    "DocRow",
    "DocScores",
    "document_scores_markdown",
    "report_csv",
    "report_json",
    "report_markdown",
    "report_record",
    "row_from_record",
    "score_record",
    "score_text",
]
