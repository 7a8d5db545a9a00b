"""Records of `mtsum batch` (result.json read back into rows) and the run report's renderings."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import pytest

from mtsum.batch.records import (
    BatchReport,
    CorpusScores,
    DocRow,
    DocScores,
    english_from_record,
    failed_record,
    ok_record,
    row_from_record,
    scores_from_record,
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
from mtsum.render import dumps
from mtsum.score import rouge, rouge_corpus, translation_scores
from mtsum.signature import Signature, plain

# 5 of 6 words shared, LCS "the cat on the mat": ROUGE-1, -L and -Lsum 5/6, ROUGE-2 3/5.
ROUGE = rouge("the cat sat on the mat", ["the cat lay on the mat"])
# A translation equal to its reference: BLEU and chrF 100.
MT = translation_scores(["The talks went well."], ["The talks went well."])
SCORES = DocScores(
    references=("a.summary.ref1.en.txt",),
    rouge=ROUGE,
    translation_reference="a.translation.ref.en.txt",
    translation=MT,
)


def summary(sentences: list[tuple[str, list[str]]], **extra: Any) -> dict[str, Any]:
    """The part of a result.json that `mtsum.render.summary_record` writes, cut to what rows use."""
    return {
        "id": "a",
        "path": "in/a.txt",
        "lang": "ar",
        "warnings": ["2 segments were cut"],
        "signature": "pipeline:signature",
        "check": {
            "support": 0.75,
            "sentences": [{"text": t, "flags": flags} for t, flags in sentences],
        },
        "paragraphs": [
            {"index": 0, "original": "أ", "english": "One."},
            {"index": 1, "original": "ب", "english": "Two."},
        ],
        "translation": {"warnings": ["paragraph 2: untranslated"]},
        **extra,
    }


SENTENCES = [
    ("First.", ["unsupported", "number_not_in_source"]),
    ("Second.", []),
    ("Third.", ["unsupported"]),
]


def on_disk(record: object) -> Any:
    """A record as a rerun finds it: written as result.json and read back."""
    return json.loads(dumps(record))


def good_record() -> dict[str, Any]:
    record = ok_record(
        summary(SENTENCES),
        SCORES,
        settings="sum:s@1|mtsum:0.1.0",
        input_hash="ab" * 32,
        timings={"translate": 1.23456, "total": 2.5},
        notes=["redone: summary.txt changed or deleted since the last run"],
    )
    return dict(on_disk(record))


# --- result.json records and their rows ----------------------------------------------------------


def test_ok_record_reads_back_into_its_row() -> None:
    record = good_record()
    assert record["status"] == "ok" and record["error"] is None
    assert record["timings"] == {"translate": 1.235, "total": 2.5}  # rounded to milliseconds
    row = row_from_record(record, "skipped")
    assert row == DocRow(
        id="a",
        path="in/a.txt",
        status="skipped",
        lang="ar",
        n_paragraphs=2,
        n_summary_sentences=3,
        support=0.75,
        flagged=2,  # sentences with any flag
        flags={"number_not_in_source": 1, "unsupported": 2},  # flags counted, sorted by name
        scores=SCORES,
        seconds=2.5,
        signature=Signature.of(("pipeline", "signature")),
        warnings=(
            "2 segments were cut",
            "paragraph 2: untranslated",
            "redone: summary.txt changed or deleted since the last run",
        ),
    )
    # The record as made in memory (tuples, not lists) gives the same row: fresh and skipped
    # documents are reported alike.
    fresh = ok_record(
        summary(SENTENCES),
        SCORES,
        settings="s",
        input_hash="h",
        timings={"total": 2.5},
        notes=["redone: summary.txt changed or deleted since the last run"],
    )
    assert row_from_record(fresh, "ok") == row_from_record(record, "ok")


def test_failed_record_reads_back_into_its_row() -> None:
    record = failed_record(
        "b",
        "in/b.txt",
        error="in/b.txt: the file is empty",
        settings="-",
        input_hash="cd" * 32,
        seconds=0.01234,
        traceback="Traceback ...",
    )
    assert record["timings"] == {"total": 0.012} and record["traceback"] == "Traceback ..."
    assert "traceback" not in failed_record(
        "b", "p", error="e", settings="-", input_hash="h", seconds=0
    )
    row = row_from_record(on_disk(record), "failed")
    assert row == DocRow(
        id="b", path="in/b.txt", status="failed", error="in/b.txt: the file is empty", seconds=0.012
    )
    assert english_from_record(on_disk(record)) == []


def test_scores_read_back_as_they_were() -> None:
    assert scores_from_record(on_disk(plain(SCORES))) == SCORES
    missing = DocScores(rouge_error="ref1: empty")
    assert scores_from_record(on_disk(plain(missing))) == missing


def test_english_paragraphs_from_a_record() -> None:
    assert english_from_record(good_record()) == ["One.", "Two."]


def _without(path: list[str | int]) -> dict[str, Any]:
    record = copy.deepcopy(good_record())
    *parents, last = path
    target: Any = record
    for key in parents:
        target = target[key]
    del target[last]
    return record


def _with(path: list[str | int], value: object) -> dict[str, Any]:
    record = copy.deepcopy(good_record())
    *parents, last = path
    target: Any = record
    for key in parents:
        target = target[key]
    target[last] = value
    return record


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([], "expected an object with 'id', found list"),
        (_without(["id"]), "'id' is missing"),
        (_without(["timings", "total"]), "'total' is missing"),
        (_with(["timings"], [1.0]), "'timings' is list, not dict"),
        (_with(["check", "support"], "high"), "'support' is str, not int or float"),
        (_with(["check", "support"], True), "'support' is bool"),
        (_with(["check", "sentences"], {"a": 1}), "'sentences' is dict, not list or tuple"),
        (_with(["check", "sentences", 0, "flags"], [1]), "'flags' holds something other than"),
        (_without(["scores", "rouge", "scores", "rougeLsum"]), "'rougeLsum' is missing"),
        (_with(["scores", "translation", "bleu"], None), "'bleu' is NoneType"),
        (_with(["scores"], None), "'scores' is NoneType, not dict"),
        (_with(["translation"], ["x"]), "'translation' is list, not dict"),
    ],
)
def test_row_from_a_damaged_record_is_a_value_error(record: object, message: str) -> None:
    # A result.json edited by hand: the document is redone, never a crash of the run.
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        row_from_record(record, "skipped")


def test_optional_keys_may_be_missing() -> None:
    # Records written before notes and warnings existed still read back.
    record = _without(["notes"])
    del record["warnings"]
    record["translation"] = None
    assert row_from_record(record, "skipped").warnings == ()
    with pytest.raises(ValueError, match="'english' is missing"):
        english_from_record(_without(["paragraphs", 1, "english"]))


# --- the run report ------------------------------------------------------------------------------


def report_of(*rows: DocRow, corpus: CorpusScores | None = None) -> BatchReport:
    return BatchReport(
        input_dir="in",
        out_dir="out",
        documents=rows,
        corpus=corpus or CorpusScores(),
        settings=("sig",),
        seconds=2.0,
        cache_hits=3,
        cache_misses=4,
        warnings=("cache: read-only",),
    )


def test_report_renderers_escape_and_flatten() -> None:
    row = DocRow(id="x", path="in/x.txt", status="failed", error="bad | value\nsecond line")
    flags = {"unsupported": 1, "number_not_in_source": 1}
    ok = DocRow(
        id="y",
        path="in/y.txt",
        status="ok",
        lang="ar",
        n_paragraphs=3,
        n_summary_sentences=2,
        support=0.5,
        flagged=1,
        flags=flags,
        seconds=1.23456,
    )
    report = report_of(row, ok)
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["error"] == "bad | value\nsecond line" and rows[0]["support"] == ""
    assert rows[1]["flags"] == "number_not_in_source:1;unsupported:1"
    assert rows[1]["seconds"] == "1.2346" and rows[1]["support"] == "0.5"
    markdown = report_markdown(report)
    assert "| x | failed |" in markdown and "bad \\| value second line |" in markdown
    assert "| y | ok | 3 | 2 | 0.50 | 1 |" in markdown
    assert "2 documents (1 ok, 0 skipped, 1 failed)" in markdown
    assert "ROUGE: no document has reference summaries." in markdown
    assert "Translation: no document has a usable reference translation." in markdown


def test_report_with_scores_shows_them_with_their_signatures() -> None:
    row = row_from_record(good_record(), "ok")
    corpus = CorpusScores(rouge=rouge_corpus([ROUGE]), translation=MT, translation_docs=1)
    report = report_of(row, corpus=corpus)
    [cells] = list(csv.DictReader(io.StringIO(report_csv(report))))
    # F1 to 4 digits: 5/6 and 3/5; BLEU and chrF of a perfect translation.
    assert [cells[m] for m in ("rouge1", "rouge2", "rougeL", "rougeLsum")] == [
        "0.8333",
        "0.6",
        "0.8333",
        "0.8333",
    ]
    assert (cells["bleu"], cells["chrf"]) == ("100.0", "100.0")
    markdown = report_markdown(report)
    assert "| a | ok | 2 | 3 | 0.75 | 2 | 0.8333 | 0.6000 | 0.8333 | 0.8333 | 100.0 | 100.0 |" in (
        markdown
    )
    # One document: the bootstrap interval is the point itself.
    assert "- rouge1: 0.8333 [0.8333, 0.8333]" in markdown
    assert f"`{corpus.rouge.signature}`" in markdown  # type: ignore[union-attr]
    assert "Translation over 1 paragraphs of 1 documents: BLEU 100.00, chrF 100.00" in markdown
    assert f"- BLEU `{MT.bleu_signature}`" in markdown
    # Run and document warnings, each document's under its id.
    assert "- cache: read-only\n- a: 2 segments were cut\n" in markdown
    assert markdown.endswith("## Settings\n\n- `sig`\n")


def test_report_json_is_the_report_record() -> None:
    row = row_from_record(good_record(), "ok")
    failed = DocRow(id="b", path="in/b.txt", status="failed", error="empty")
    report = report_of(row, failed)
    record = report_record(report)
    assert json.loads(report_json(report)) == on_disk(record)
    assert record["counts"] == {"ok": 1, "skipped": 0, "failed": 1}
    assert record["cache"] == {"hits": 3, "misses": 4} and record["seconds"] == 2.0
    assert [d["id"] for d in record["documents"]] == ["a", "b"]
    assert record["documents"][0]["scores"]["rouge"]["scores"]["rouge2"]["fmeasure"] == 0.6
    assert report.failed == 1 and report.count("skipped") == 0


# --- a document's scores section -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "shown"),
    [
        (SCORES, "| rouge2 | 0.6000 | 0.6000 | 0.6000 |"),
        (SCORES, f"`{ROUGE.signature}`"),
        (SCORES, "Translation against `a.translation.ref.en.txt` (1 paragraphs): BLEU 100.00"),
        (DocScores(), "ROUGE: no reference summaries beside the document."),
        (
            DocScores(rouge_error="ref1 <b>bad</b>"),
            "ROUGE: not scored: ref1 &lt;b&gt;bad&lt;/b&gt;",
        ),
        (
            DocScores(translation_error="2 hypothesis paragraphs but 1"),
            "Translation: not scored: 2 hypothesis paragraphs but 1",
        ),
    ],
)
def test_document_scores_markdown(scores: DocScores, shown: str) -> None:
    assert shown in document_scores_markdown(scores)


def test_document_scores_markdown_without_translation_reference_says_nothing_of_it() -> None:
    assert "Translation" not in document_scores_markdown(DocScores())


# --- mtsum score ---------------------------------------------------------------------------------


def test_score_text_and_record() -> None:
    assert score_text(ROUGE) == (
        "                 P       R      F1\n"
        "rouge1      0.8333  0.8333  0.8333\n"
        "rouge2      0.6000  0.6000  0.6000\n"
        "rougeL      0.8333  0.8333  0.8333\n"
        "rougeLsum   0.8333  0.8333  0.8333\n"
        f"{ROUGE.signature}\n"
    )
    record = score_record("hyp.txt", ["ref.txt"], ROUGE)
    assert (record["hypothesis"], record["references"], record["n_refs"]) == (
        "hyp.txt",
        ["ref.txt"],
        1,
    )
    assert record["scores"]["rouge1"]["fmeasure"] == pytest.approx(5 / 6)
