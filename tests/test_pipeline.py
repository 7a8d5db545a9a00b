"""The whole job with injected models: translate, summarize, align, flag, and `mtsum.check`."""

from __future__ import annotations

import math

import pytest
from test_align import ARTICLE, COPIED, FUSED, INVENTED, WRONG_NUMBER

import mtsum
from mtsum.backends.base import FunctionModel
from mtsum.pipeline import check_document, summarize_texts, summary_sentences

# An "Arabic" article whose translation we control: paragraph i says "فقرة i" and translates to
# ARTICLE[i], so alignments to English paragraphs must map back to the same Arabic index.
ARABIC = [f"هذه هي الفقرة رقم {i} من المقال." for i in range(len(ARTICLE))]
TRANSLATIONS = dict(zip(ARABIC, ARTICLE, strict=True))
# INVENTED's support against ARTICLE, worked out in test_align: of its six content words only
# "set" is in the article (in 3 of the 15 units: idf ln(16/4) + 1, the rest ln(16) + 1 each), and
# none of its word pairs is.
INVENTED_SUPPORT = 3 / 4 * (1 + math.log(4)) / (5 * (1 + math.log(16)) + 1 + math.log(4))


def fake_translator() -> FunctionModel:
    return FunctionModel(lambda xs: [TRANSLATIONS[x] for x in xs], name="fake-mt")


def fake_summarizer() -> FunctionModel:
    # Returns the same known summary whatever it is given: the four test sentences.
    return FunctionModel(
        lambda xs: [" ".join([COPIED, FUSED, INVENTED, WRONG_NUMBER])] * len(xs), name="fake-sum"
    )


@pytest.fixture(scope="module")
def english_result() -> mtsum.DocumentSummary:
    [result] = summarize_texts(["\n\n".join(ARTICLE)], summarizer=fake_summarizer())
    return result


def test_english_input_skips_translation(english_result: mtsum.DocumentSummary) -> None:
    assert english_result.source.lang == "en"
    assert english_result.source.translation is None
    assert list(english_result.source.english) == ARTICLE


def test_injected_summary_aligned_and_flagged(english_result: mtsum.DocumentSummary) -> None:
    sentences = english_result.check.sentences
    assert [s.text for s in sentences] == [COPIED, FUSED, INVENTED, WRONG_NUMBER]
    copied, fused, invented, wrong = sentences
    assert copied.alignments[0].paragraphs == (7,)
    assert fused.alignments[0].paragraphs == (3, 4)
    assert wrong.alignments[0].paragraphs == (6,)
    assert copied.support > fused.support > wrong.support > invented.support
    assert copied.flags == () and fused.flags == ()
    assert "unsupported" in invented.flags
    assert "number_not_in_source" in wrong.flags
    assert all(len(s.alignments) <= 3 for s in sentences)
    # Document support, by hand: the mean of the squared sentence supports, a wrong figure at 0.
    # - copied: its words and word pairs are all in paragraph 7 (the date is canonical): 1.
    # - fused: all its content words are in paragraphs 3+4, so the word share is 1; of its 12
    #   word pairs 7 are there (ministri-irrig, 2021-March, egypt-lose, lose-2000000,
    #   2000000-cubic, cubic-metr, metr-water; "every" splits water-day): 3/4 + 1/4 * 7/12 = 43/48.
    # - invented: INVENTED_SUPPORT, "set" alone.
    # - wrong number: 9 billion is not in the source, so it counts 0.
    assert fused.support == pytest.approx(43 / 48)
    assert invented.support == pytest.approx(INVENTED_SUPPORT)
    expected = (1**2 + (43 / 48) ** 2 + INVENTED_SUPPORT**2 + 0) / 4
    assert english_result.check.support == pytest.approx(expected)  # 0.4524


def test_arabic_paragraphs_map_back_by_index() -> None:
    translator = fake_translator()
    [result] = summarize_texts(
        ["\n".join(ARABIC)], summarizer=fake_summarizer(), translator=translator, top_k=2
    )
    assert result.source.lang == "ar" and translator.calls == 1
    assert list(result.source.original) == ARABIC
    assert list(result.source.english) == ARTICLE
    copied = result.check.sentences[0]
    [index] = copied.alignments[0].paragraphs
    assert result.source.original[index] == ARABIC[7]
    assert all(len(s.alignments) <= 2 for s in result.check.sentences)
    signature = str(result.signature)
    assert signature.startswith("mt:fake-mt@none|") and "sum:fake-sum" in signature
    assert "align:lexical(porter," in signature


def test_translation_flags_reach_the_sentences_that_lean_on_them() -> None:
    untranslated = dict(TRANSLATIONS)
    untranslated[ARABIC[7]] = ARABIC[7]  # paragraph 7 comes back in Arabic
    translator = FunctionModel(lambda xs: [untranslated[x] for x in xs])
    summarizer = FunctionModel(lambda xs: [ARABIC[7] + " " + FUSED] * len(xs))
    [result] = summarize_texts(["\n".join(ARABIC)], summarizer=summarizer, translator=translator)
    leaning, fused = result.check.sentences
    assert leaning.alignments[0].paragraphs == (7,)
    assert "source_untranslated" in leaning.flags
    assert not any(f.startswith("source_") for f in fused.flags)


def test_translator_loaded_only_for_arabic() -> None:
    def never() -> FunctionModel:
        raise AssertionError("no Arabic input, so no translator")

    [result] = summarize_texts(["\n".join(ARTICLE)], summarizer=fake_summarizer(), translator=never)
    assert result.source.lang == "en"


def test_check_on_text_and_on_paragraphs() -> None:
    summary = f"{COPIED} {INVENTED}"
    by_text = mtsum.check("\n".join(ARTICLE), summary)
    by_paragraphs = mtsum.check(ARTICLE, [COPIED, INVENTED])
    assert by_text == by_paragraphs
    # (1² for the copy + INVENTED_SUPPORT² for the invention) / 2 = 0.5035
    assert by_text.support == pytest.approx((1 + INVENTED_SUPPORT**2) / 2)
    assert [s.flags for s in by_text.sentences] == [(), ("unsupported",)]


def test_check_arabic_source_translates_first() -> None:
    result = check_document("\n".join(ARABIC), [COPIED], translator=fake_translator())
    assert result.source.lang == "ar"
    assert result.check.sentences[0].alignments[0].paragraphs == (7,)
    assert str(result.signature).startswith("mt:fake-mt@none|")


def test_check_rejects_empty_summary() -> None:
    with pytest.raises(mtsum.InputError, match="no sentences"):
        mtsum.check(ARTICLE, "  \n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two!\nThree", ["One.", "Two!", "Three"]),
        ("Dr. Smith met Mr. Jones on Nov. 10.", ["Dr. Smith met Mr. Jones on Nov. 10."]),
        ("  \n", []),
    ],
)
def test_summary_sentences(text: str, expected: list[str]) -> None:
    assert summary_sentences(text) == expected


def test_source_language_option_is_validated() -> None:
    with pytest.raises(mtsum.InputError, match="source language"):
        summarize_texts(["text"], summarizer=fake_summarizer(), source_lang="fr")


# --- which documents are translated -------------------------------------------------------------

ARABIC_LEAD = "أعلنت الحكومة خطة جديدة للطاقة يوم الأربعاء."


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (f'<div class="article-body"><p style="text-align:right">{ARABIC_LEAD}</p></div>', "ar"),
        (f"&nbsp;&quot;{ARABIC_LEAD}&quot; https://www.example.com/news/story-123", "ar"),
        ("<p>The government announced a new energy plan.</p>", "en"),
    ],
)
def test_markup_does_not_decide_the_language(text: str, lang: str) -> None:
    from mtsum.arabic import detect_language

    assert detect_language(text) == lang


def test_english_with_arabic_in_it_is_not_left_untranslated_silently() -> None:
    from mtsum.render import summary_record

    text = f"Officials said the plan starts soon.\n\n{ARABIC_LEAD}\n\nMore details came later."
    [result] = summarize_texts([text], summarizer=fake_summarizer())
    assert result.source.lang == "en" and result.source.translation is None
    share = result.source.arabic_share
    assert 0.1 < share < 0.5
    assert result.source.warnings == (
        f"{share:.0%} of the letters are Arabic but the document was read as English and not "
        "translated; pass --source-lang ar to translate it",
    )
    record = summary_record("doc", "doc.txt", result)
    assert record["warnings"] == list(result.source.warnings)
    assert record["arabic_share"] == round(share, 4)
    [plain] = summarize_texts(["\n\n".join(ARTICLE)], summarizer=fake_summarizer())
    assert plain.source.warnings == () and plain.source.arabic_share == 0.0
