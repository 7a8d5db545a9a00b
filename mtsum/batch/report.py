"""The run report of `mtsum batch` as files: report.json, report.csv, report.md, index.html; and
the text of `mtsum score`.

Pure: records in (`mtsum.batch.records`), text out; nothing here reads or writes files. Text
taken from documents and models is shown as text (`mtsum.markup`): escaped in markdown, and in
CSV a cell that a spreadsheet would run as a formula gets a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from mtsum._version import __version__
from mtsum.batch.records import STATUSES, BatchReport, CorpusScores, DocRow, DocScores
from mtsum.htmlpage import index_html
from mtsum.markup import csv_cell, markdown_code, markdown_text
from mtsum.render import dumps
from mtsum.score import ROUGE_TYPES, RougeResult
from mtsum.signature import plain

__all__ = [
    "CSV_COLUMNS",
    "document_scores_markdown",
    "report_csv",
    "report_html",
    "report_json",
    "report_markdown",
    "report_record",
    "score_record",
    "score_text",
]

CSV_COLUMNS = (
    "id",
    "status",
    "error",
    "lang",
    "n_paragraphs",
    "n_summary_sentences",
    "support",
    "flagged",
    "flags",
    "rouge1",
    "rouge2",
    "rougeL",
    "rougeLsum",
    "bleu",
    "chrf",
    "seconds",
)


def _f1(row: DocRow, metric: str) -> float | None:
    rouge = row.scores.rouge if row.scores is not None else None
    return None if rouge is None else rouge.scores[metric].fmeasure


def _mt(row: DocRow, name: str) -> float | None:
    mt = row.scores.translation if row.scores is not None else None
    return None if mt is None else getattr(mt, name)


def _flags(row: DocRow) -> str:
    return ";".join(f"{name}:{n}" for name, n in sorted(row.flags.items()))


def _cells(row: DocRow) -> dict[str, Any]:
    """The flat columns of a row (CSV and the markdown table), unrounded."""
    return {
        "id": row.id,
        "status": row.status,
        "error": row.error,
        "lang": row.lang,
        "n_paragraphs": row.n_paragraphs,
        "n_summary_sentences": row.n_summary_sentences,
        "support": row.support,
        "flagged": row.flagged,
        "flags": _flags(row),
        **{metric: _f1(row, metric) for metric in ROUGE_TYPES},
        "bleu": _mt(row, "bleu"),
        "chrf": _mt(row, "chrf"),
        "seconds": row.seconds,
    }


def report_record(report: BatchReport) -> dict[str, Any]:
    """The run report as a JSON-ready dict (``report.json``)."""
    return {
        "mtsum": __version__,
        "input_dir": report.input_dir,
        "out_dir": report.out_dir,
        "counts": {status: report.count(status) for status in STATUSES},
        "seconds": round(report.seconds, 3),
        "settings": list(report.settings),
        "cache": {"hits": report.cache_hits, "misses": report.cache_misses},
        "warnings": list(report.warnings),
        "documents": [plain(row) for row in report.documents],
        "corpus": plain(report.corpus),
    }


def report_json(report: BatchReport) -> str:
    """``report.json``: `report_record` as indented UTF-8 JSON."""
    return dumps(report_record(report))


def report_html(report: BatchReport) -> str:
    """``index.html``: one row per document linking to its ``<id>/report.html`` (a failed one
    with its reason), the corpus scores and the settings (`mtsum.htmlpage.index_html`)."""
    record = report_record(report)
    details = [
        ("Input folder", report.input_dir),
        ("Output folder", report.out_dir),
        ("Time", f"{report.seconds:.1f} s"),
        *(("Warning", w) for w in report.warnings),
    ]
    return index_html(
        record["documents"],
        title="mtsum batch report",
        corpus=record["corpus"],
        details=details,
        settings=report.settings,
    )


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return csv_cell(value)


def report_csv(report: BatchReport) -> str:
    """``report.csv``: one row per document, columns `CSV_COLUMNS`, ROUGE as F1 in [0, 1]."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report.documents:
        writer.writerow({k: _csv_value(v) for k, v in _cells(row).items()})
    return out.getvalue()


def _md(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return markdown_text(str(value))  # one line, no pipe to end the cell, no markup


def report_markdown(report: BatchReport) -> str:
    """``report.md``: the table of documents, then corpus scores and every signature."""
    counts = ", ".join(f"{report.count(s)} {s}" for s in STATUSES)
    out = [
        "# mtsum batch report",
        "",
        f"{markdown_code(report.input_dir)} → {markdown_code(report.out_dir)}: "
        f"{len(report.documents)} documents "
        f"({counts}) in {report.seconds:.1f} s. *skipped*: finished by an earlier run with the "
        "same input and settings. ROUGE columns are F1 against the reference summaries.",
        "",
        "| id | status | ¶ | sentences | support | flagged | R1 | R2 | RL | RLsum | BLEU | chrF "
        "| s | error |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| --- |",
    ]
    for row in report.documents:
        c = _cells(row)
        cells = [
            _md(c["id"]),
            _md(c["status"]),
            _md(c["n_paragraphs"]),
            _md(c["n_summary_sentences"]),
            _md(c["support"]),
            _md(c["flagged"]),
            *(_md(c[m], 4) for m in ROUGE_TYPES),
            _md(c["bleu"], 1),
            _md(c["chrf"], 1),
            _md(c["seconds"], 1),
            _md(c["error"]),
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## Corpus", ""]
    out += _corpus_markdown(report.corpus)
    warnings = [*report.warnings, *(f"{r.id}: {w}" for r in report.documents for w in r.warnings)]
    if warnings:
        out += ["", "## Warnings", "", *(f"- {_md(w)}" for w in warnings)]
    out += ["", "## Settings", "", *(f"- {markdown_code(s)}" for s in report.settings), ""]
    return "\n".join(out)


def _corpus_markdown(corpus: CorpusScores) -> list[str]:
    out: list[str] = []
    if corpus.rouge is None:
        out.append("ROUGE: no document has reference summaries.")
    else:
        out += [
            f"ROUGE F1 over {corpus.rouge.n_docs} documents with reference summaries, mean "
            "[95% bootstrap interval]:",
            "",
        ]
        for metric in ROUGE_TYPES:
            i = corpus.rouge.fmeasure[metric]
            out.append(f"- {metric}: {i.mean:.4f} [{i.low:.4f}, {i.high:.4f}]")
        out += ["", f"`{corpus.rouge.signature}`"]
    out.append("")
    mt = corpus.translation
    if mt is None:
        out.append("Translation: no document has a usable reference translation.")
    else:
        out += [
            f"Translation over {mt.n_segments} paragraphs of {corpus.translation_docs} "
            f"documents: BLEU {mt.bleu:.2f}, chrF {mt.chrf:.2f}",
            "",
            f"- BLEU `{mt.bleu_signature}`",
            f"- chrF `{mt.chrf_signature}`",
        ]
    return out


def document_scores_markdown(scores: DocScores) -> str:
    """The scores section of a document's ``report.md``."""
    out = ["## Scores", ""]
    if scores.rouge is not None:
        refs = ", ".join(markdown_code(r) for r in scores.references)
        out += [f"ROUGE against {refs}:", "", "| metric | P | R | F1 |"]
        out.append("| --- | ---: | ---: | ---: |")
        for metric in ROUGE_TYPES:
            s = scores.rouge.scores[metric]
            out.append(f"| {metric} | {s.precision:.4f} | {s.recall:.4f} | {s.fmeasure:.4f} |")
        out += ["", f"`{scores.rouge.signature}`", ""]
    elif scores.rouge_error is not None:
        out += [f"ROUGE: not scored: {markdown_text(scores.rouge_error)}", ""]
    else:
        out += ["ROUGE: no reference summaries beside the document.", ""]
    mt = scores.translation
    if mt is not None:
        out += [
            f"Translation against {markdown_code(scores.translation_reference or '')} "
            f"({mt.n_segments} "
            f"paragraphs): BLEU {mt.bleu:.2f}, chrF {mt.chrf:.2f}",
            "",
            f"- BLEU `{mt.bleu_signature}`",
            f"- chrF `{mt.chrf_signature}`",
            "",
        ]
    elif scores.translation_error is not None:
        out += [f"Translation: not scored: {markdown_text(scores.translation_error)}", ""]
    return "\n".join(out)


def score_text(result: RougeResult) -> str:
    """`mtsum score` output: P, R and F1 of each ROUGE metric, then the signature."""
    lines = [f"{'':10} {'P':>7} {'R':>7} {'F1':>7}"]
    for metric in ROUGE_TYPES:
        s = result.scores[metric]
        lines.append(f"{metric:10} {s.precision:7.4f} {s.recall:7.4f} {s.fmeasure:7.4f}")
    lines.append(str(result.signature))
    return "\n".join(lines) + "\n"


def score_record(hypothesis: str, references: Sequence[str], result: RougeResult) -> dict[str, Any]:
    """`mtsum score --format json`: the files scored and the `RougeResult`."""
    return {
        "mtsum": __version__,
        "hypothesis": hypothesis,
        "references": list(references),
        **plain(result),
    }
