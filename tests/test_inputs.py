"""The input folder of `mtsum batch` (`mtsum.batch.inputs`) and scoring against its references
(`mtsum.batch.scoring`): numbers worked out by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtsum.batch.inputs import Document, Reference, scan_folder
from mtsum.batch.records import DocRow, DocScores
from mtsum.batch.scoring import corpus_scores, score_document, score_summary
from mtsum.batch.state import content_hash
from mtsum.errors import InputError
from mtsum.score import rouge

ARABIC = "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n"
ENGLISH = "The minister spoke on Wednesday.\n"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


def scan(folder: Path, **kwargs: object) -> dict[str, Document]:
    kwargs.setdefault("max_bytes", 1_000)
    return {d.id: d for d in scan_folder(folder, **kwargs)}  # type: ignore[arg-type]


# --- reading the folder --------------------------------------------------------------------------


def test_documents_with_their_references_in_order(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "b.txt": ENGLISH,
            "a.txt": ARABIC,
            "a.summary.ref10.en.txt": "Ten.\n",
            "a.summary.ref2.en.txt": "Two.\n",
            "a.translation.ref.en.txt": "The minister visited.\n\n  He spoke.  \n",
            "orphan.summary.ref1.en.txt": "No document.\n",
            "notes.md": "not a document",
        },
    )
    docs = scan_folder(folder, max_bytes=1_000)
    assert [(d.id, d.path, d.lang, d.error) for d in docs] == [
        ("a", str(folder / "a.txt"), "ar", None),
        ("b", str(folder / "b.txt"), "en", None),
    ]
    a, b = docs
    assert a.text == ARABIC and b.text == ENGLISH
    # Numbered order, ref2 before ref10; references alone are no documents.
    assert [(r.name, r.text) for r in a.summary_refs] == [
        ("a.summary.ref2.en.txt", "Two.\n"),
        ("a.summary.ref10.en.txt", "Ten.\n"),
    ]
    assert a.summary_refs[0].digest == content_hash(b"Two.\n")
    assert a.translation_ref is not None and a.translation_ref.lines == [
        "The minister visited.",
        "He spoke.",
    ]
    assert b.summary_refs == () and b.translation_ref is None


def test_source_lang_decides_instead_of_detection(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.txt": ARABIC, "b.txt": ENGLISH})
    assert {i: d.lang for i, d in scan(folder, source_lang="ar").items()} == {"a": "ar", "b": "ar"}
    assert {i: d.lang for i, d in scan(folder, source_lang="en").items()} == {"a": "en", "b": "en"}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "empty"),
        ("نص".encode() + b"\xff rest", "not valid UTF-8 at byte 4"),
        (b"x" * 1_001, "over the limit of 1,000"),
    ],
)
def test_bad_document_carries_its_error(tmp_path: Path, content: bytes, error: str) -> None:
    docs = scan(write(tmp_path, {"bad.txt": content, "good.txt": ENGLISH}))
    bad = docs["bad"]
    assert bad.text is None and bad.lang is None and error in (bad.error or "")
    assert docs["good"].error is None


def test_unreadable_reference_is_kept_with_its_error(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.txt": ENGLISH, "a.summary.ref1.en.txt": b"\xff\xfe\xff"})
    [ref] = scan(folder)["a"].summary_refs
    assert ref.text is None and ref.digest == "unreadable"
    assert "not valid" in (ref.error or "")


def test_encoding_applies_to_documents_and_references(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {"a.txt": ARABIC.encode("cp1256"), "a.summary.ref1.en.txt": "Café.\n".encode("cp1256")},
    )
    a = scan(folder, encoding="cp1256")["a"]
    assert a.text == ARABIC and a.summary_refs[0].text == "Café.\n"


def test_input_hash_covers_the_text_and_its_references(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.txt": ENGLISH, "b.txt": ENGLISH})

    def hashes() -> dict[str, str]:
        return {i: d.input_hash for i, d in scan(folder).items()}

    first = hashes()
    assert first["a"] == first["b"]  # the same text and no references: the same hash
    write(folder, {"a.summary.ref1.en.txt": "One.\n"})
    second = hashes()
    assert second["a"] != first["a"] and second["b"] == first["b"]
    write(folder, {"a.summary.ref1.en.txt": "Other.\n"})
    assert hashes()["a"] not in (first["a"], second["a"])
    write(folder, {"b.translation.ref.en.txt": "One.\n"})
    assert hashes()["b"] != first["b"]
    write(folder, {"b.txt": ENGLISH + "More.\n"})
    assert len(set(hashes().values())) == 2


def test_reserved_names_get_an_id_of_their_own(tmp_path: Path) -> None:
    folder = write(tmp_path, {"report.md.txt": ENGLISH, "plain.txt": ENGLISH})
    ids = sorted(scan(folder, reserved=("report.md",)))
    assert ids[0] == "plain" and re.fullmatch(r"report\.md-[0-9a-f]{8}", ids[1])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (None, "no such directory; pass the folder of <id>.txt documents"),
        ({}, "no <id>.txt documents"),
        ({"a.summary.ref1.en.txt": "Ref.\n"}, "no <id>.txt documents (references alone"),
    ],
)
def test_folder_without_documents_is_an_input_error(
    tmp_path: Path, files: dict[str, str | bytes] | None, message: str
) -> None:
    folder = tmp_path / "in"
    if files is not None:
        write(folder, files)
    with pytest.raises(InputError, match=re.escape(message)):
        scan_folder(folder, max_bytes=1_000)


# --- scores against the references ---------------------------------------------------------------


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
