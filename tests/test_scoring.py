"""Scoring against the references beside a document (`mtsum.batch.scoring`): numbers worked
out by hand."""

from __future__ import annotations

import pytest

from mtsum.batch.inputs import Document, Reference
from mtsum.batch.records import DocRow, DocScores
from mtsum.batch.scoring import corpus_scores, score_document, score_summary
from mtsum.errors import InputError
from mtsum.score import rouge


def doc(
    lang: str = "ar",
    refs: tuple[Reference, ...] = (),
    translation: Reference | None = None,
) -> Document:
    return Document(
        id="a",
        path="a.txt",
        input_hash="h",
        text="نص",
        lang=lang,
        error=None,
        summary_refs=refs,
        translation_ref=translation,
    )


def ref(name: str, text: str | None, error: str | None = None) -> Reference:
    return Reference(name=name, digest="d", text=text, error=error)


def test_score_summary_splits_sentences_a_line() -> None:
    # 5 of 6 words shared: ROUGE-1 F1 5/6, whatever the line breaks.
    result = score_summary("the cat sat on the mat", ["the cat lay on the mat"])
    assert result.scores["rouge1"].fmeasure == pytest.approx(5 / 6)
    assert result.n_refs == 1 and result.tokenizer == "en-porter"
    # Sentences become lines: the same as rouge() on one sentence a line.
    split = score_summary("Rain fell. Cairo flooded.", ["Rain fell in Cairo."])
    assert split == rouge("Rain fell.\nCairo flooded.", ["Rain fell in Cairo."])
    # ROUGE-Lsum takes the union of LCS per line: "rain fell" and "cairo" of 4 reference tokens.
    assert split.scores["rougeLsum"].recall == pytest.approx(3 / 4)


def test_score_summary_refuses_a_string_of_references() -> None:
    with pytest.raises(InputError, match="references is a str"):
        score_summary("Summary.", "Reference.")  # type: ignore[arg-type]


def test_score_document_with_every_reference() -> None:
    scored = score_document(
        doc(
            refs=(ref("a.summary.ref1.en.txt", "the cat lay on the mat"),),
            translation=ref("a.translation.ref.en.txt", "The talks went well.\nPrices rose.\n"),
        ),
        ["The talks went well.", "Prices rose."],
        ["the cat sat on the mat"],
    )
    assert scored.references == ("a.summary.ref1.en.txt",)
    assert scored.rouge is not None and scored.rouge.scores["rouge2"].fmeasure == pytest.approx(0.6)
    assert scored.translation is not None
    assert scored.translation.bleu == pytest.approx(100) and scored.translation.chrf == 100
    assert scored.translation.n_segments == 2
    assert scored.translation_reference == "a.translation.ref.en.txt"
    assert scored.rouge_error is None and scored.translation_error is None


@pytest.mark.parametrize(
    ("document", "english", "expected"),
    [
        (doc(), ["x"], DocScores()),
        (
            doc(refs=(ref("r1", "Fine."), ref("r2", None, "r2: the file is empty"))),
            ["x"],
            DocScores(references=("r1", "r2"), rouge_error="r2: the file is empty"),
        ),
        (
            doc(lang="en", translation=ref("t", "x")),
            ["x"],
            DocScores(
                translation_reference="t",
                translation_error="the document is not Arabic; nothing was translated",
            ),
        ),
        (
            doc(translation=ref("t", None, "t: not valid UTF-8")),
            ["x"],
            DocScores(translation_reference="t", translation_error="t: not valid UTF-8"),
        ),
        (
            doc(translation=ref("t", "Only one line.\n")),
            ["One.", "Two."],
            DocScores(
                translation_reference="t",
                translation_error="t: 2 hypothesis paragraphs but 1 reference paragraphs; "
                "align them one to one",
            ),
        ),
    ],
)
def test_score_document_says_why_a_score_is_missing(
    document: Document, english: list[str], expected: DocScores
) -> None:
    assert score_document(document, english, ["Summary."]) == expected


def test_corpus_scores_use_only_what_was_scored() -> None:
    with_refs = doc(
        refs=(ref("r", "the cat lay on the mat"),),
        translation=ref("t", "The talks went well.\n"),
    )
    mismatched = doc(translation=ref("t", "One line.\n"))
    bare = doc()
    english = [["The talks went well."], ["One.", "Two."], ["Three."]]
    docs = [with_refs, mismatched, bare]
    rows = [
        DocRow(id="a", path="a.txt", status="ok", scores=score_document(d, e, ["the cat sat"]))
        for d, e in zip(docs, english, strict=True)
    ]
    corpus = corpus_scores(docs, rows, english)
    # ROUGE over the one document with reference summaries; BLEU/chrF over the one paragraph
    # whose document's translation paired up with its reference.
    assert corpus.rouge is not None and corpus.rouge.n_docs == 1
    assert corpus.translation is not None and corpus.translation.n_segments == 1
    assert corpus.translation.bleu == pytest.approx(100) and corpus.translation_docs == 1
    failed = [DocRow(id="a", path="a.txt", status="failed", error="empty")]
    assert corpus_scores([bare], failed, [[]]) == type(corpus)()
