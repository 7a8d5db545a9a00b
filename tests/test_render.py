"""mtsum.render: the records, text and markdown made from a hand-made document and summary.

Two paragraphs, translated by a dictionary, and a summary of three sentences whose supports are
worked out by hand (`mtsum.align`'s formula; the five words of each paragraph weigh the same, as
each is in its paragraph and in the fused pair):

* "Markets in Dubai closed early." copies paragraph 2: support 1.
* "Rain fell in Cairo and markets in Dubai closed early." fuses both: all 7 words and all 6 word
  pairs are in the pair, 1.0; paragraph 2 alone has 4 of 7 words and 3 of 6 pairs,
  3/4 * 4/7 + 1/4 * 3/6 = 0.5536; paragraph 1 has 3 of 7 words and 2 of 6 pairs,
  3/4 * 3/7 + 1/4 * 2/6 = 0.4048.
* "Lions escaped from 3 zoos." shares nothing, and 3 is in no paragraph: support 0, both flags.

Document support: (1² + 1² + 0) / 3 = 0.6667.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from mtsum._version import __version__
from mtsum.align import DEFAULT_THRESHOLD, LexicalAligner
from mtsum.backends.base import FunctionModel
from mtsum.pipeline import DocumentSummary, check_document, summarize_texts
from mtsum.render import (
    checked_record,
    dumps,
    summary_markdown,
    summary_record,
    summary_text,
    translation_json,
    translation_text,
)
from mtsum.sources import Source
from mtsum.translate import translate

ARABIC = ["هطل المطر في القاهرة.", "أغلقت الأسواق في دبي مبكرا."]
ENGLISH = ["Rain fell in Cairo.", "Markets in Dubai closed early."]
COPIED = "Markets in Dubai closed early."
FUSED = "Rain fell in Cairo and markets in Dubai closed early."
INVENTED = "Lions escaped from 3 zoos."


def translator() -> FunctionModel:
    table = dict(zip(ARABIC, ENGLISH, strict=True))
    return FunctionModel(lambda xs: [table[x] for x in xs], name="fake-mt")


def summarizer(summary: str) -> FunctionModel:
    return FunctionModel(lambda xs: [summary] * len(xs), name="fake-sum")


@pytest.fixture(scope="module")
def result() -> DocumentSummary:
    [doc] = summarize_texts(
        ["\n\n".join(ARABIC)],
        summarizer=summarizer(f"{COPIED} {FUSED} {INVENTED}"),
        translator=translator(),
    )
    return doc


def aligned(paragraphs: list[int], score: float) -> dict:
    return {
        "paragraphs": paragraphs,
        "score": score,
        "original": [ARABIC[i] for i in paragraphs],
        "english": [ENGLISH[i] for i in paragraphs],
    }


CHECK = {
    "support": 0.6667,
    "aligner": LexicalAligner().name,
    "threshold": DEFAULT_THRESHOLD,
    "sentences": [
        {
            "text": COPIED,
            "support": 1.0,
            "flags": [],
            "missing_numbers": [],
            "alignments": [aligned([1], 1.0)],
        },
        {
            "text": FUSED,
            "support": 1.0,
            "flags": [],
            "missing_numbers": [],
            "alignments": [aligned([0, 1], 1.0), aligned([1], 0.5536), aligned([0], 0.4048)],
        },
        {
            "text": INVENTED,
            "support": 0.0,
            "flags": ["unsupported", "number_not_in_source"],
            "missing_numbers": ["3"],
            "alignments": [],
        },
    ],
}


def test_summary_record_keys_and_values(result: DocumentSummary) -> None:
    record = summary_record("doc", "in/doc.txt", result)
    translation = result.source.translation
    assert translation is not None
    segments = record["translation"].pop("segments")
    assert record == {
        "id": "doc",
        "path": "in/doc.txt",
        "lang": "ar",
        "arabic_share": 1.0,
        "warnings": [],
        "signature": str(result.signature),
        "summary": f"{COPIED} {FUSED} {INVENTED}",
        "check": CHECK,
        "chunking": asdict(result.summary.chunking),
        "paragraphs": [
            {"index": 0, "original": ARABIC[0], "english": ENGLISH[0]},
            {"index": 1, "original": ARABIC[1], "english": ENGLISH[1]},
        ],
        "translation": {
            "id": "doc",
            "path": "in/doc.txt",
            "signature": str(translation.signature),
            "warnings": [],
            "paragraphs": ENGLISH,
        },
    }
    assert [(s["source"], s["text"], s["paragraph"], s["sentence"]) for s in segments] == [
        (ARABIC[0], ENGLISH[0], 0, 0),
        (ARABIC[1], ENGLISH[1], 1, 0),
    ]
    # The printed signature names every stage: translation, summary, alignment.
    assert str(result.signature).startswith("mt:fake-mt@none|")
    assert "sum:fake-sum@none|" in str(result.signature)


def test_dumps_writes_utf8_indented_with_a_final_newline() -> None:
    assert dumps({"a": ["ب", 1.5, None]}) == '{\n  "a": [\n    "ب",\n    1.5,\n    null\n  ]\n}\n'


def test_records_read_back_from_json(result: DocumentSummary) -> None:
    data = json.loads(dumps(summary_record("doc", "in/doc.txt", result)))
    assert data["check"] == CHECK
    assert data["paragraphs"][1] == {"index": 1, "original": ARABIC[1], "english": ENGLISH[1]}
    assert data["signature"] == str(result.signature)
    assert [s["flags"] for s in data["translation"]["segments"]] == [[], []]


def test_checked_record_of_a_given_summary() -> None:
    checked = check_document(
        "\n\n".join(ARABIC), [COPIED, FUSED, INVENTED], translator=translator()
    )
    assert checked_record("doc", "doc.summary.txt", checked) == {
        "id": "doc",
        "summary_path": "doc.summary.txt",
        "lang": "ar",
        "arabic_share": 1.0,
        "warnings": [],
        "signature": str(checked.signature),
        "check": CHECK,
    }


def test_text_lists_each_sentence_with_paragraphs_numbered_from_1(result: DocumentSummary) -> None:
    assert summary_text("doc", result, header=False) == (
        "Markets in Dubai closed early.  [¶2 1.00]\n"
        "Rain fell in Cairo and markets in Dubai closed early.  [¶1+2 1.00, ¶2 0.55, ¶1 0.40]\n"
        "Lions escaped from 3 zoos.  [no supporting paragraph] !unsupported,number_not_in_source\n"
        "(support 0.67; paragraphs numbered from 1)\n"
    )
    headed = summary_text("doc\nid\x1b[2J", result, header=True)
    assert headed.startswith(
        "==> doc id\ufffd[2J <==\n\nMarkets in Dubai closed early.  [¶2 1.00]\n"
    )


def test_text_shows_control_characters_as_replacement() -> None:
    [doc] = summarize_texts(
        ["\n\n".join(ENGLISH)], summarizer=summarizer("Rain fell\x07 in Cairo.\x1b[J")
    )
    # ESC [ J (erase the screen below) would run in a terminal; the one-letter "J" is no word.
    assert summary_text("x", doc, header=False) == (
        "Rain fell\ufffd in Cairo.\ufffd[J  [¶1 1.00]\n(support 1.00; paragraphs numbered from 1)\n"
    )


def test_markdown_report(result: DocumentSummary) -> None:
    assert summary_markdown("doc", result) == "\n".join(
        [
            "# Summary of doc",
            "",
            "Support: **0.67** (0 to 1).",
            "",
            "1. Markets in Dubai closed early. — ¶2 1.00",
            "2. Rain fell in Cairo and markets in Dubai closed early."
            " — ¶1+2 1.00, ¶2 0.55, ¶1 0.40",
            "3. Lions escaped from 3 zoos. — no supporting paragraph"
            " ⚠ **unsupported, number_not_in_source**",
            "",
            "## Supporting paragraphs",
            "",
            "### Sentence 1: support 1.00",
            "",
            "- ¶2 (1.00)",
            f"  - ar: {ARABIC[1]}",
            f"  - en: {ENGLISH[1]}",
            "",
            "### Sentence 2: support 1.00",
            "",
            "- ¶1 (1.00)",
            f"  - ar: {ARABIC[0]}",
            f"  - en: {ENGLISH[0]}",
            "- ¶2 (1.00)",
            f"  - ar: {ARABIC[1]}",
            f"  - en: {ENGLISH[1]}",
            "- ¶2 (0.55)",
            f"  - ar: {ARABIC[1]}",
            f"  - en: {ENGLISH[1]}",
            "- ¶1 (0.40)",
            f"  - ar: {ARABIC[0]}",
            f"  - en: {ENGLISH[0]}",
            "",
            "### Sentence 3: support 0.00",
            "",
            "Not in the source: 3",
            "",
            "- no paragraph of the source supports this sentence",
            "",
            "---",
            "",
            f"`{result.signature}`",
            "",
        ]
    )


HOSTILE = "Rain fell in <script>alert('x')</script> [Cairo](javascript:alert('x')) *now* | a_b."


def test_markdown_escapes_hostile_text() -> None:
    [doc] = summarize_texts(["\n\n".join(ENGLISH)], summarizer=summarizer(HOSTILE))
    markdown = summary_markdown("<img src=x onerror=alert('x')>", doc)
    lines = markdown.splitlines()
    assert lines[0] == "# Summary of &lt;img src=x onerror=alert('x')&gt;"
    [item] = [line for line in lines if line.startswith("1. ")]
    assert item.startswith(
        "1. Rain fell in &lt;script&gt;alert('x')&lt;/script&gt; \\[Cairo\\](javascript:alert('x'))"
        " \\*now\\* \\| a\\_b. — ¶1 "
    )
    for raw in ("<script>", "<img", "[Cairo]", "*now*", " | ", "a_b"):
        assert raw not in markdown


@pytest.mark.parametrize(
    ("paragraph", "shown"),
    [
        ("# Rain fell in Cairo.", "\\# Rain fell in Cairo."),
        ("> Rain fell in Cairo.", "&gt; Rain fell in Cairo."),
        ("1. Rain fell in Cairo.", "1\\. Rain fell in Cairo."),
    ],
)
def test_markdown_source_paragraphs_make_no_blocks(paragraph: str, shown: str) -> None:
    [doc] = summarize_texts([paragraph], summarizer=summarizer("Rain fell in Cairo."))
    assert f"  - en: {shown}" in summary_markdown("doc", doc).splitlines()


def test_translation_text_and_json() -> None:
    texts = ["\n\n".join(ARABIC), ARABIC[1]]
    docs = translate(texts, translator())
    one = [Source("a", "in/a.txt", texts[0])]
    assert translation_text(one, docs[:1]) == f"{ENGLISH[0]}\n\n{ENGLISH[1]}\n"
    two = [*one, Source("b\x1b", "in/b.txt", texts[1])]
    assert translation_text(two, docs) == (
        f"==> a <==\n\n{ENGLISH[0]}\n\n{ENGLISH[1]}\n\n==> b\ufffd <==\n\n{ENGLISH[1]}\n"
    )
    data = json.loads(translation_json(two, docs))
    assert data["mtsum"] == __version__
    assert [(d["id"], d["path"], d["paragraphs"]) for d in data["documents"]] == [
        ("a", "in/a.txt", ENGLISH),
        ("b\x1b", "in/b.txt", [ENGLISH[1]]),
    ]
    assert [d["signature"] for d in data["documents"]] == [str(d.signature) for d in docs]
    with pytest.raises(ValueError):
        translation_text(two, docs[:1])  # sources and documents are paired strictly
