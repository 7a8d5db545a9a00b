"""Tests for mtsum.align on a small hand-made news article and summary."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence

import pytest

from mtsum.align import (
    DEFAULT_THRESHOLD,
    Alignment,
    Check,
    LexicalAligner,
    SentenceSupport,
    align,
    check_english,
    document_support,
)
from mtsum.errors import InputError, ModelError

# Eight short paragraphs, indices 0-7.
ARTICLE = [
    "CAIRO - Egypt's parliament approved a new water law on Tuesday after a heated debate.",
    "The law sets fines of up to 50,000 pounds for farmers who waste irrigation water.",
    "Speaker Hanafy Gebaly said the vote passed with 320 members in favour and 45 against.",
    "The bill was drafted by the Ministry of Irrigation in March 2021.",
    "Minister Hani Sewilam told reporters that Egypt loses about 2 million cubic metres of water "
    "every day.",
    "Farmers' unions in the Delta criticised the law, saying small growers cannot afford drip "
    "systems.",
    "The government plans to spend 8 billion pounds to line canals with concrete by 2025.",
    "The law will take effect on November 10, 2022, according to the official gazette.",
]
# Paragraph 7 nearly verbatim; only the date is spelled another way.
COPIED = "The law will take effect on 10 November 2022, according to the official gazette."
# Facts of paragraph 3 (ministry, bill, March 2021) and paragraph 4 (2 million cubic metres a day).
FUSED = (
    "The Ministry of Irrigation drafted the bill in March 2021, as Egypt loses 2,000,000 cubic "
    "metres of water a day."
)
# Paragraph 6 with 9 billion for 8 billion.
WRONG_NUMBER = (
    "The government plans to spend 9 billion pounds to line canals with concrete by 2025."
)
# Nothing of this is in the article.
INVENTED = "Protesters set fire to a police station in Alexandria."
SUMMARY = [COPIED, FUSED, WRONG_NUMBER, INVENTED]


@pytest.fixture(scope="module")
def supports() -> dict[str, SentenceSupport]:
    return dict(zip(("copied", "fused", "wrong", "invented"), align(SUMMARY, ARTICLE), strict=True))


def test_top_alignments_point_at_the_right_paragraphs(supports: dict[str, SentenceSupport]) -> None:
    assert supports["copied"].alignments[0] == Alignment((7,), 1.0)
    assert supports["fused"].alignments[0].paragraphs == (3, 4)
    assert supports["wrong"].alignments[0].paragraphs == (6,)


def test_scores_order_copy_fused_wrong_invented(supports: dict[str, SentenceSupport]) -> None:
    scores = [supports[name].support for name in ("copied", "fused", "wrong", "invented")]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 4


def test_invented_sentence_support_by_hand(supports: dict[str, SentenceSupport]) -> None:
    # Of protest, set, fire, polic, station, alexandria only "set" is in the article ("sets" in
    # paragraph 1, so in 3 of the 15 units: idf ln(16/4) + 1); the other five are in none (idf
    # ln(16) + 1 each). No word pair is in any unit. Paragraph 1 and the pairs around it score
    # the same, so paragraph 1 alone is kept.
    words = 3 / 4 * (1 + math.log(4)) / (5 * (1 + math.log(16)) + 1 + math.log(4))
    assert supports["invented"].alignments == (Alignment((1,), pytest.approx(words)),)
    assert supports["invented"].support == pytest.approx(0.0842, abs=1e-4)


def test_flags(supports: dict[str, SentenceSupport]) -> None:
    assert supports["copied"].flags == ()
    assert supports["fused"].flags == ()
    assert "number_not_in_source" in supports["wrong"].flags
    assert [q.text for q in supports["wrong"].missing_numbers] == ["9 billion"]
    assert supports["invented"].flags == ("unsupported",)
    assert supports["invented"].support < DEFAULT_THRESHOLD <= supports["fused"].support


def test_a_pair_appears_only_when_it_beats_both_its_paragraphs(
    supports: dict[str, SentenceSupport],
) -> None:
    fused = {a.paragraphs: a.score for a in supports["fused"].alignments}
    assert fused[(3, 4)] > max(fused[(3,)], fused[(4,)])
    # paragraph 7 alone supports the copy fully, so no pair can beat it
    assert all(len(a.paragraphs) == 1 for a in supports["copied"].alignments)


@pytest.mark.parametrize("top_k", [1, 2, 3, 5])
def test_top_k_is_respected(top_k: int) -> None:
    for support in align(SUMMARY, ARTICLE, top_k=top_k):
        assert 1 <= len(support.alignments) <= top_k
        scores = [a.score for a in support.alignments]
        assert scores == sorted(scores, reverse=True)
        assert support.support == scores[0]


def test_document_support_drops_with_an_invented_sentence() -> None:
    source, copied, invented = ["Rain fell in Cairo."], "Rain fell in Cairo.", "Markets closed."
    assert check_english(source, [copied]).support == 1.0
    # The invented sentence shares no word with the source: support 0, so (1² + 0²) / 2.
    assert check_english(source, [copied, invented]).support == 0.5


def test_document_support_is_the_mean_squared_support_with_wrong_figures_at_zero() -> None:
    copied, fused, wrong = align([COPIED, FUSED, WRONG_NUMBER], ARTICLE)
    expected = (copied.support**2 + fused.support**2 + 0.0) / 3
    assert math.isclose(document_support([copied, fused, wrong]), expected)


@pytest.mark.parametrize(
    ("aligner", "unit", "expected"),
    [
        # cairo, flood in the unit; badli not: 2 of 3 words
        (LexicalAligner(idf=False, bigram_weight=0.0), "Rains flooded Cairo.", 2 / 3),
        # plus a quarter of bigram precision: neither (cairo, flood) nor (flood, badli) is found
        (LexicalAligner(idf=False), "Rains flooded Cairo.", 0.75 * 2 / 3 + 0.25 * 0 / 2),
        # ... and here (cairo, flood) is
        (LexicalAligner(idf=False), "Cairo flooded after rains.", 0.75 * 2 / 3 + 0.25 * 1 / 2),
        # one unit: idf is ln(2/2) + 1 = 1 for its words, ln(2/1) + 1 for "badli"
        (LexicalAligner(bigram_weight=0.0), "Rains flooded Cairo.", 2 / (3 + math.log(2))),
    ],
)
def test_lexical_scores_by_hand(aligner: LexicalAligner, unit: str, expected: float) -> None:
    [[score]] = aligner.score(["Cairo flooded badly."], [unit])
    assert math.isclose(score, expected)


def test_numbers_weigh_double_and_match_across_spellings() -> None:
    aligner = LexicalAligner(idf=False, bigram_weight=0.0)
    [[missing, present]] = aligner.score(
        ["Sales rose 5%."], ["Sales rose.", "Sales rose 5 per cent."]
    )
    assert math.isclose(missing, 2 / 4)  # sale, rose found; the percentage, weight 2, not
    assert present == 1.0


def test_check_is_a_json_record() -> None:
    check = check_english(ARTICLE, SUMMARY, top_k=2)
    assert isinstance(check, Check)
    assert check.aligner == LexicalAligner().name
    assert check.threshold == DEFAULT_THRESHOLD
    record = json.loads(json.dumps(dataclasses.asdict(check)))
    assert record["sentences"][0]["alignments"][0] == {"paragraphs": [7], "score": 1.0}
    assert record["sentences"][2]["missing_numbers"][0]["value"] == "9000000000"


class FixedAligner:
    """Returns the same scores for units (0,), (1,), (2,), (0, 1), (1, 2) of three paragraphs."""

    name = "fixed"

    def __init__(self, row: list[float]) -> None:
        self.row = row

    def score(self, sentences: Sequence[str], units: Sequence[str]) -> list[list[float]]:
        return [list(self.row) for _ in sentences]


def test_any_aligner_plugs_in() -> None:
    aligner = FixedAligner([0.2, 0.6, 0.1, 0.6, 0.9])
    check = check_english(["a", "b", "c"], ["x"], aligner=aligner, threshold=0.95)
    [sentence] = check.sentences
    # (0, 1) ties its member (1,) at 0.6, so the single paragraph is kept instead
    assert sentence.alignments == (
        Alignment((1, 2), 0.9),
        Alignment((1,), 0.6),
        Alignment((0,), 0.2),
    )
    assert sentence.flags == ("unsupported",)
    assert check.aligner == "fixed"
    assert math.isclose(check.support, 0.81)


@pytest.mark.parametrize(
    ("row", "message"),
    [([0.5, 0.5], "3x5 matrix"), ([0.1, 0.2, 0.3, 0.4, 1.5], r"outside \[0, 1\]")],
)
def test_a_misbehaving_aligner_raises(row: list[float], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        align(["x", "y", "z"], ["a", "b", "c"], aligner=FixedAligner(row))


def test_empty_summary_aligns_to_nothing_but_cannot_be_scored() -> None:
    assert align([], ARTICLE) == []
    with pytest.raises(InputError, match="no sentences"):
        check_english(ARTICLE, [])
    with pytest.raises(InputError, match="no sentences"):
        document_support([])


@pytest.mark.parametrize(
    ("sentences", "paragraphs", "options", "message"),
    [
        (["A sentence."], [], {}, "source has no text"),
        (["A sentence."], ["  ", ""], {}, "source has no text"),
        (["A sentence.", " "], ARTICLE, {}, "sentence 1 is empty"),
        ("A sentence.", ARTICLE, {}, "not one string"),
        (["A sentence."], ARTICLE, {"top_k": 0}, "top_k=0"),
        (["A sentence."], ARTICLE, {"threshold": 1.5}, "threshold=1.5"),
    ],
)
def test_bad_input_raises(
    sentences: list[str], paragraphs: list[str], options: dict, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        align(sentences, paragraphs, **options)
