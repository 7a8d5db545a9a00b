"""Tests for mtsum.textprep: decoding, normalization, paragraphs and sentences."""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from mtsum.arabic import arabic_share
from mtsum.errors import InputError
from mtsum.sources import read_document
from mtsum.textprep import (
    Segment,
    decode_document,
    normalize,
    paragraphs,
    segment,
    split_sentences,
)

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_91e72526449f324a.txt"
SEED_TITLE = "دون خسارة السعوديين.. روسيا تعزز تحالفها العسكري مع إيران"


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def check_rebuild(text: str) -> list[Segment]:
    """Segments slice the normalized text exactly, with only whitespace around and between."""
    normalized = normalize(text)
    segments = segment(text)
    position = 0
    previous: Segment | None = None
    for seg in segments:
        assert normalized[seg.start : seg.end] == seg.text
        assert seg.text == seg.text.strip() != ""
        gap = normalized[position : seg.start]
        assert not gap.strip(), f"text lost before {seg.text!r}: {gap!r}"
        if previous is not None:
            new_paragraph = seg.paragraph == previous.paragraph + 1 and seg.sentence == 0
            same_paragraph = seg.paragraph == previous.paragraph
            assert same_paragraph or new_paragraph
            assert same_paragraph == (seg.sentence == previous.sentence + 1)
            assert ("\n" in gap) == new_paragraph
        previous = seg
        position = seg.end
    assert not normalized[position:].strip()
    return segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("هل جاء؟ نعم جاء.", ["هل جاء؟", "نعم جاء."]),
        ("يا له من يوم! ثم عاد.", ["يا له من يوم!", "ثم عاد."]),
        ("ذهب إلى السوق. ثم عاد", ["ذهب إلى السوق.", "ثم عاد"]),
        ("ماذا؟! لا أصدق.", ["ماذا؟!", "لا أصدق."]),
        ("Is it? Yes! It is.", ["Is it?", "Yes!", "It is."]),
        ("انتهى الأمر…", ["انتهى الأمر…"]),
        ("انتهى الأمر..\nثم بدأ", ["انتهى الأمر..", "ثم بدأ"]),  # a line end always ends
        ("انتهى الاجتماع.وقال الوزير", ["انتهى الاجتماع.", "وقال الوزير"]),  # missing space
        (
            "نصنع بيوتنا من النباتات . معظم الطعام كذلك.",
            ["نصنع بيوتنا من النباتات .", "معظم الطعام كذلك."],
        ),
        # An ellipsis inside a line is a pause (FLORES: 5 of 5 are), not a sentence end.
        (
            "وصلت الرياح إلى 70 كم... ثم هطلت الأمطار.",
            ["وصلت الرياح إلى 70 كم... ثم هطلت الأمطار."],
        ),
        ("جاء… ثم ذهب.", ["جاء… ثم ذهب."]),
        # ؛ joins clauses like ";": FLORES has 24 mid-line and none at a line end.
        (
            "أثبتت الإستراتيجية فاعليتها؛ قطع الإمدادات.",
            ["أثبتت الإستراتيجية فاعليتها؛ قطع الإمدادات."],
        ),
    ],
)
def test_terminators(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('قال "نعم." ثم ذهب.', ['قال "نعم."', "ثم ذهب."]),
        ("قال «لا!» ثم ذهب.", ["قال «لا!»", "ثم ذهب."]),
        ("He said “yes.” Then he left.", ["He said “yes.”", "Then he left."]),
        ('قال "هل انتهى؟" ثم صمت', ['قال "هل انتهى؟"', "ثم صمت"]),
        # The period after the closing quote ends the sentence; the quote stays inside it.
        ('قال: "لا شيء". ثم غادر.', ['قال: "لا شيء".', "ثم غادر."]),
        ("قال: «لا شيء». ثم غادر.", ["قال: «لا شيء».", "ثم غادر."]),
        # A sentence-level parenthesis: it follows a sentence end and ends with a terminator.
        ("انتهى الأمر. (تماماً.) وبدأ غيره.", ["انتهى الأمر.", "(تماماً.)", "وبدأ غيره."]),
        ("It ended. [Really.] Then more.", ["It ended.", "[Really.]", "Then more."]),
    ],
)
def test_closing_quotes_and_brackets_stay_with_their_sentence(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Quoted speech of several sentences is cut into its sentences; the opening quote goes
        # with the first, the closing quote with the last.
        (
            'قال: "لن نفعل شيئاً. هذا يكفي". ثم غادر.',
            ['قال: "لن نفعل شيئاً.', 'هذا يكفي".', "ثم غادر."],
        ),
        (
            'قال: "لن نفعل شيئاً. هذا يكفي." ثم غادر.',
            ['قال: "لن نفعل شيئاً.', 'هذا يكفي."', "ثم غادر."],
        ),
        (
            "قال: «لا نريد الحرب. هل هذا واضح؟» ثم غادر.",
            ["قال: «لا نريد الحرب.", "هل هذا واضح؟»", "ثم غادر."],
        ),
        ("قال: “لا اتفاق. المحادثات غداً”. وأضاف", ["قال: “لا اتفاق.", "المحادثات غداً”.", "وأضاف"]),
        # Curly quotes typed reversed, as right-to-left text often has them.
        (
            "قال: ”المياه غمرت الطرق. ابقوا في منازلكم.“ وتوقعت",
            ["قال: ”المياه غمرت الطرق.", "ابقوا في منازلكم.“", "وتوقعت"],
        ),
        # Quotes padded with spaces; the closing one is still read as closing.
        (
            'وقال " لن نتراجع . سنواصل العمل " . وأضاف',
            ['وقال " لن نتراجع .', 'سنواصل العمل " .', "وأضاف"],
        ),
        ('وأضاف " الأسعار سترتفع. " وتابع', ['وأضاف " الأسعار سترتفع. "', "وتابع"]),
        # Quoted names inside a padded quotation do not turn it inside out.
        (
            'قالت: " طلب "إعادة صياغة" القانون. " لكن الوزير رفض.',
            ['قالت: " طلب "إعادة صياغة" القانون. "', "لكن الوزير رفض."],
        ),
        ('وصفهم ب"الأصدقاء". وأكد الوساطة.', ['وصفهم ب"الأصدقاء".', "وأكد الوساطة."]),
        # A quotation that never closes protects nothing.
        ('قال "لن نفعل شيئاً. هذا يكفي', ['قال "لن نفعل شيئاً.', "هذا يكفي"]),
        (
            'وقال: "لن نتراجع. سنواصل العمل. وغادر.',
            ['وقال: "لن نتراجع.', "سنواصل العمل.", "وغادر."],
        ),
        # Stray quotes left by editing, at the start, middle and end of a sentence.
        (
            '"وقال إن الإصلاحات مستمرة. وأضاف أن التضخم تراجع.',
            ['"وقال إن الإصلاحات مستمرة.', "وأضاف أن التضخم تراجع."],
        ),
        (
            'وأكد أن الوضع "مستقر. ولم تسجل حوادث. وعادت الحركة.',
            ['وأكد أن الوضع "مستقر.', "ولم تسجل حوادث.", "وعادت الحركة."],
        ),
        (
            'وانتهى الاجتماع." وقال مصدر إن الخلاف قائم.',
            ['وانتهى الاجتماع."', "وقال مصدر إن الخلاف قائم."],
        ),
        ('تراجعت الأسهم. "وقال محللون إنهم قلقون.', ["تراجعت الأسهم.", '"وقال محللون إنهم قلقون.']),
        # Quotes paired the wrong way round by a stray one.
        (
            'قال إن "الحكومة لن تتراجع. وأضاف أن القرار "نهائي".',
            ['قال إن "الحكومة لن تتراجع.', 'وأضاف أن القرار "نهائي".'],
        ),
        # Glued to the next sentence: the quote is read as closing or opening from context.
        ('قال: "لن نتراجع."وأضاف أن', ['قال: "لن نتراجع."', "وأضاف أن"]),
        ('انتهى الاجتماع."وقال مصدر', ["انتهى الاجتماع.", '"وقال مصدر']),
        # English.
        (
            'He said: "We will not give up. The talks go on." Then he left.',
            ['He said: "We will not give up.', 'The talks go on."', "Then he left."],
        ),
        (
            '"We lost a battle. Not the war," the general said. Fighting went on.',
            ['"We lost a battle.', 'Not the war," the general said.', "Fighting went on."],
        ),
    ],
)
def test_quoted_speech_is_split_into_its_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A parenthesis inside a sentence holds no sentence end, even before its closing mark.
        ("(انظر الخريطة. والجدول) ثم تابع.", ["(انظر الخريطة. والجدول) ثم تابع."]),
        ("انتهى (تماماً.) وبدأ غيره.", ["انتهى (تماماً.) وبدأ غيره."]),
        (
            'ووصف الرئيس (الذي قال: "لن نتراجع أبداً!") المحتجين بالمخربين. ثم غادر.',
            ['ووصف الرئيس (الذي قال: "لن نتراجع أبداً!") المحتجين بالمخربين.', "ثم غادر."],
        ),
        # Quoted speech of whole sentences inside a sentence-level parenthesis is split.
        (
            'ارتفعت الصادرات. (وقال الوزير: "هذا إنجاز. سنواصل.") وتابع آخرون.',
            ["ارتفعت الصادرات.", '(وقال الوزير: "هذا إنجاز.', 'سنواصل.")', "وتابع آخرون."],
        ),
        # A bracket that never closes, or closes too far on to be an aside, protects nothing.
        (
            "وأعلنت (في بيان أن الإغلاق مستمر. وأضاف أن المدارس تعمل.",
            ["وأعلنت (في بيان أن الإغلاق مستمر.", "وأضاف أن المدارس تعمل."],
        ),
        (
            "تراجعت الصادرات (بنسبة 12 بالمئة عن العام الماضي. ويعزو الخبراء ذلك إلى ارتفاع"
            " تكاليف الشحن. كما تراجع الطلب في أوروبا، وفق التقرير) وهو أكبر تراجع.",
            [
                "تراجعت الصادرات (بنسبة 12 بالمئة عن العام الماضي.",
                "ويعزو الخبراء ذلك إلى ارتفاع تكاليف الشحن.",
                "كما تراجع الطلب في أوروبا، وفق التقرير) وهو أكبر تراجع.",
            ],
        ),
        # A closing bracket without its opener is skipped: "1)" closes nothing.
        ("البنود: 1) الأجور. 2) الضرائب.", ["البنود: 1) الأجور.", "2) الضرائب."]),
    ],
)
def test_parentheses(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # After a quoted question or exclamation, a speech verb or a lowercase word goes on.
        (
            '"متى تنتهي الحرب؟" تساءل أحد السكان. ثم صمت.',
            ['"متى تنتهي الحرب؟" تساءل أحد السكان.', "ثم صمت."],
        ),
        ("«لن نستسلم!» هتف المتظاهرون. وتفرقوا.", ["«لن نستسلم!» هتف المتظاهرون.", "وتفرقوا."]),
        (
            '"Is this the end?" asked one resident. Nobody answered.',
            ['"Is this the end?" asked one resident.', "Nobody answered."],
        ),
        ('He said "no." and left.', ['He said "no." and left.']),
        # A lowercase word goes on an English sentence only.
        (
            "أعلنت الشركة هاتفها الجديد. iPhone 15 يصل غداً.",
            ["أعلنت الشركة هاتفها الجديد.", "iPhone 15 يصل غداً."],
        ),
        # A quoted statement would take a comma to go on, so after ".\"" a verb starts anew.
        (
            'وانتهى الاجتماع." قال مصدر إن الخلاف قائم.',
            ['وانتهى الاجتماع."', "قال مصدر إن الخلاف قائم."],
        ),
        ('"لن نتراجع". قال الوزير ذلك ثم غادر.', ['"لن نتراجع".', "قال الوزير ذلك ثم غادر."]),
    ],
)
def test_sentences_that_go_on_after_a_quote(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "في 2022/11/10 الساعة 24:00 ارتفع بنسبة 3.5 بالمئة إلى 1,000 نقطة.",
        "يعمل معيار 802.11n على ترددي 2.4 جيغاهرتز و5.0 جيغاهرتز.",
        "ضرب زلزال الساعة ١٠:٠٨ بقوة ٤٫٥ درجة.",
        "بوقت 4:41.30، وهو أبطأ بـ 1.5 دقيقة من 10.11.2022 تماماً.",
        "He arrived at 10.30 a.m. on Monday and paid $1,000.50 in cash.",
        "1. البند الأول من القائمة.",
        "زوروا www.example.com أو mtsum.org اليوم.",
    ],
)
def test_numbers_dates_and_times_do_not_split(text: str) -> None:
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "اكتشف د. توني مول المرض.",
        "قال أ. محمد إن الأمر انتهى.",
        "التقى م. أحمد بالوزير.",
        "انظر ص. 12 من التقرير.",
        "انظر ج. 2 من الكتاب.",
        "وقال نائب المفتش العام دي. كي. أريا إن الشرطة اعتقلت خمسة.",
        "قال ن. وين هالي بأن الرغوة سقطت.",
        "J. K. Rowling wrote it.",
        "Mr. Smith met Dr. Jones and Prof. Ur in the U.S. capital.",
        "Use a pen, e.g. a blue one, i.e. ink, etc. and more.",
        "St. Louis voted on Jan. 5 vs. Feb. 6 at No. 10 Downing St. today.",
    ],
)
def test_abbreviations_and_initials_do_not_split(text: str) -> None:
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A lone two-letter Arabic word before a period ends a sentence; initials come in chains.
        (
            "عرضت على قناة كيو في سي. كما قامت بتسوية",
            ["عرضت على قناة كيو في سي.", "كما قامت بتسوية"],
        ),
        ("لا أعرف عنه شيئاً غير ما قيل له. ثم ذهب", ["لا أعرف عنه شيئاً غير ما قيل له.", "ثم ذهب"]),
        # A Latin letter before Arabic text is not an initial.
        ("الرحلات من A إلى B. تعلم الخطوط", ["الرحلات من A إلى B.", "تعلم الخطوط"]),
        ("The answer is no. Then we left.", ["The answer is no.", "Then we left."]),
        ("وصل عام 2022. ثم غادر", ["وصل عام 2022.", "ثم غادر"]),
        # An Arabic letter after a number is a unit or an era, not an initial.
        ("ولد عام 1320 ه. وتوفي بعدها", ["ولد عام 1320 ه.", "وتوفي بعدها"]),
        ("وقع الانفجار الساعة 9 م. وقال شهود", ["وقع الانفجار الساعة 9 م.", "وقال شهود"]),
    ],
)
def test_sentence_ends_that_look_like_abbreviations(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A list number opens a line, or follows a sentence end or a colon.
        (
            "وتتضمن الخطة: 1. وقف النار. 2. تبادل الأسرى. 3. الإعمار.",
            ["وتتضمن الخطة: 1. وقف النار.", "2. تبادل الأسرى.", "3. الإعمار."],
        ),
        ("1. رفع الأجور. 2. خفض الضرائب.", ["1. رفع الأجور.", "2. خفض الضرائب."]),
        # After a word, a number and a period end a sentence.
        ("وبلغ عدد القتلى 12. وأصيب آخرون.", ["وبلغ عدد القتلى 12.", "وأصيب آخرون."]),
    ],
)
def test_numbered_lists(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "القاهرة (رويترز) - قال مسؤولون إن مصر تتفاوض على قرض جديد.",
        "بيروت (د. ب. أ) - أعلن الجيش توقيف شبكة لتهريب الأسلحة.",
        'لندن- "القدس العربي": كشفت صحيفة أن الحكومة تدرس ضرائب جديدة.',
        "الرباط - “القدس العربي”: أعلنت الوزارة تعديلات في القانون.",
        "غزة (أ.ش.أ) - قالت الوزارة إن عدد القتلى ارتفع.",
        "بقلم: أ. د. سامي الخطيب، أستاذ العلوم السياسية",
        "عاجل.. انفجار يهز وسط العاصمة",
        'بث التلفزيون برنامج "من المسؤول؟"',
    ],
)
def test_datelines_bylines_and_headlines_are_one_sentence(text: str) -> None:
    assert sentences(text) == [text]


def test_seed_title_double_dot_is_a_pause() -> None:
    # Arabic headlines use ".." as a dash: "Without losing the Saudis.. Russia strengthens ...".
    # Splitting would hand the translator a fragment.
    segments = segment(read_document(SEED))
    assert segments[1] == Segment(SEED_TITLE, paragraph=1, sentence=0, start=15, end=72)


def test_seed_footnote_marker_is_its_own_paragraph() -> None:
    segments = segment(read_document(SEED))
    markers = [seg for seg in segments if seg.text == "((4))"]
    assert len(markers) == 1
    assert markers[0].sentence == 0
    assert not any(ch.isalpha() for ch in markers[0].text)
    assert arabic_share(markers[0].text) == 0.0
    neighbours = {seg.paragraph for seg in segments} - {markers[0].paragraph}
    assert markers[0].paragraph - 1 in neighbours and markers[0].paragraph + 1 in neighbours


def test_seed_rebuilds_exactly() -> None:
    text = read_document(SEED)
    segments = check_rebuild(text)
    assert len(paragraphs(segments)) == sum(1 for line in text.splitlines() if line.strip()) == 36
    assert segments[0].text == "علاقات » روسي"
    assert segments[3].text == "متابعات-"  # the NBSP after the dash became a space, stripped
    assert "ـ" not in "".join(seg.text for seg in segments)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n\t ",
        "  جملة أولى.  جملة ثانية؟ \r\n\r\n\r\n  فقرة\u00a0ثانية…  \n",
        "\ufeffالـعـربية\u200b نص\u202b مقلوب\u202c. ثم\u2066 نص\u2069!\r\rآخر",
        'قال "نعم." ثم ذهب.\n((4))\n\nد. أحمد قال: "لا. أبداً". انتهى..\n',
        "a. b. c.\n\n1. d e. F g!",
        '" . " . "\n«» ». «\n)( ]. [. (.) ".\'" \u201d. \u201c',
        'قال: " لا . نعم " . "\n(((( ا. ب. ج. ))))\n1. 2. 3. ".."',
    ],
)
def test_rebuild_invariant_on_tricky_inputs(text: str) -> None:
    check_rebuild(text)


def test_rebuild_invariant_on_generated_inputs() -> None:
    # Every mix of the marks the quote and bracket rules read, with words and spaces between.
    pieces = [
        "جملة", "Word", "word", "12", "د", " ", " ", "  ", ".", "!", "؟", "..", "…", ":", "،",
        '"', "«", "»", "“", "”", "'", "(", ")", "[", "]", "قال", "\n",
    ]  # fmt: skip
    generator = random.Random(9)
    for _ in range(2000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 30)))
        spans = split_sentences(text)
        assert spans == sorted(spans)
        assert all(a < b <= c for (a, b), (c, _) in itertools.pairwise(spans))
        assert all(text[a:b] == text[a:b].strip() != "" for a, b in spans)
        check_rebuild(text)


# A line with a sentence end, quotes of each kind, a parenthesis and an initial every 60 or so
# characters, and lines made of nothing but the marks the rules look back and ahead for.
NEWS_UNIT = 'وقال: "لن نفعل شيئاً. هذا يكفي". ثم (انظر ص. 5) غادر د. أحمد! «نعم. لا». '
ADVERSARIAL = ['"', '. " ', "(", ")", "(ا. ب) ", ". ", "1. ", "ا.ب", '."', "x", "a. "]


def test_a_one_megabyte_line_segments_in_linear_time() -> None:
    line = NEWS_UNIT * (1_000_000 // len(NEWS_UNIT))
    began = time.perf_counter()
    spans = split_sentences(line)
    assert time.perf_counter() - began < 2.0
    assert len(spans) == 5 * (1_000_000 // len(NEWS_UNIT))


@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_lines_of_marks_segment_in_linear_time(unit: str) -> None:
    # At 250,000 characters a quadratic scan takes minutes; a linear one well under a second.
    line = unit * (250_000 // len(unit))
    began = time.perf_counter()
    split_sentences(line)
    assert time.perf_counter() - began < 1.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("الـعـربـيـة", "العربية"),  # tatweel
        ("ab\u200bcd\u200c\u200d", "abcd"),  # zero-width space, non-joiner, joiner
        ("\u200fنص\u200e", "نص"),  # right-to-left and left-to-right marks
        ("\u202bنص\u202c \u202a\u202d\u202e", "نص "),  # embeddings and overrides
        ("\u2066نص\u2069 \u2067\u2068", "نص "),  # isolates
        ("\ufeffنص", "نص"),  # BOM / zero-width no-break space
        ("a\u00a0b\u202fc", "a b c"),  # no-break spaces
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),  # line endings
        ("e\u0301", "é"),  # NFC
        ("ا\u0653", "آ"),  # NFC: alef + madda above
        ("مُحَمَّدٌ", "مُحَمَّدٌ"),  # diacritics are kept
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_offsets_point_into_normalized_text() -> None:
    text = "الـمـؤتمر\u200b انتهى.\u00a0ثم\r\nبدأ\u202b الحوار\u202c؟"
    normalized = normalize(text)
    assert normalized == "المؤتمر انتهى. ثم\nبدأ الحوار؟"
    expected = [("المؤتمر انتهى.", 0, 0), ("ثم", 0, 1), ("بدأ الحوار؟", 1, 0)]
    segments = segment(text)
    assert [(s.text, s.paragraph, s.sentence) for s in segments] == expected
    assert all(normalized[s.start : s.end] == s.text for s in segments)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"  \n\t\r\n ", "only whitespace"),
        ("\ufeff\u200b\n\u00a0".encode(), "only whitespace"),  # invisible characters only
        (b"\xef\xbb\xbf", "only whitespace"),  # a UTF-8 BOM and nothing else
        (b"abc\x00def", "NUL byte at byte 3"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL byte at byte 8"),
        (
            b"abc" + "مرحبا".encode() + b"\xff tail",
            "not valid UTF-8 at byte 13 (save it as UTF-8, or pass --encoding NAME)",
        ),
        (b"\xef\xbb\xbfab\xc3(", "not valid UTF-8 at byte 5"),  # the offset counts the BOM
        ("café".encode("latin-1"), "not valid UTF-8 at byte 3"),
        ("\ufeffنص".encode("utf-16-le") + b"x", "not valid UTF-16 at byte 6"),  # odd length
        (b"\xff\xfe" + "a".encode("utf-16-le") + b"\x00\xd8a\x00", "not valid UTF-16 at byte 4"),
        ("\ufeff\x00".encode("utf-16-le"), "NUL character"),
    ],
)
def test_bad_input_raises_one_line_naming_the_file(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_document(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.txt: no such file"):
        read_document(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_document(tmp_path)


def test_decode_document_names_the_source() -> None:
    with pytest.raises(InputError, match=r"^<stdin>: not valid UTF-8 at byte 1 "):
        decode_document(b"a\x80", name="<stdin>")


TEXT = "مرحبا بالعالم.\nسطر ثانٍ؟ English too!"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode(),
        b"\xef\xbb\xbf" + TEXT.encode(),
        b"\xff\xfe" + TEXT.encode("utf-16-le"),
        b"\xfe\xff" + TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_encodings_decode_to_the_same_text(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    assert read_document(str(path)) == TEXT
    assert decode_document(data, name="doc") == TEXT


def test_english_only_text() -> None:
    text = (
        "The president arrived on Monday. He met Dr. Smith at 10.30 a.m. in Washington.\n\n"
        'Talks went well! "We agreed," he said. What next?'
    )
    segments = check_rebuild(text)
    assert [(s.paragraph, s.text) for s in segments] == [
        (0, "The president arrived on Monday."),
        (0, "He met Dr. Smith at 10.30 a.m. in Washington."),
        (1, "Talks went well!"),
        (1, '"We agreed," he said.'),
        (1, "What next?"),
    ]
    assert arabic_share(text) == 0.0


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("", 0.0),
        ("123 ((4)) !؟", 0.0),
        ("Iran إيران", 5 / 9),
        ("abc دون", 0.5),
        ("مُحَمَّد", 1.0),  # diacritics are not letters
        ("ﻣﺮﺣﺒﺎ", 1.0),  # presentation forms
        ("ok", 0.0),
    ],
)
def test_arabic_share(text: str, share: float) -> None:
    assert arabic_share(text) == pytest.approx(share)


def test_seed_is_arabic() -> None:
    text = read_document(SEED)
    # Every letter of the seed is Arabic (no Latin names or acronyms): a share of exactly 1.
    assert [c for c in text if c.isascii() and c.isalpha()] == []
    assert arabic_share(text) == 1.0


def test_paragraphs_join_sentences_in_order() -> None:
    segments = segment("أ ب. ج د؟\n\n\nهـ و.\n((4))")
    assert paragraphs(segments) == ["أ ب. ج د؟", "ه و.", "((4))"]
    assert paragraphs([]) == []


def test_split_sentences_splits_at_line_breaks() -> None:
    assert split_sentences("a.\n b\n\nc d") == [(0, 2), (4, 5), (7, 10)]
    assert split_sentences("  \n ") == []


def test_segments_serialize_to_json() -> None:
    seg = segment("نص.")[0]
    assert json.loads(json.dumps(asdict(seg))) == {
        "text": "نص.",
        "paragraph": 0,
        "sentence": 0,
        "start": 0,
        "end": 3,
    }


# --- encodings other than UTF-8 -----------------------------------------------------------------

LEGACY = "قال الوزير إن المحادثات كانت مثمرة.\nوأضاف: نعم، سنلتقي غداً في 10:30."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (LEGACY.encode("utf-16-le"), "looks like UTF-16LE without a byte order mark; pass"),
        (LEGACY.encode("utf-16-be"), "--encoding utf-16-be, or convert it: iconv -f UTF-16BE"),
        ("Plain English text.".encode("utf-16-le"), "looks like UTF-16LE without a byte"),
        (LEGACY.encode("cp1256"), "it looks like Windows-1256 (legacy Arabic): pass --encoding"),
        (b"abc \xff\xfe def", "not valid UTF-8 at byte 4 (save it as UTF-8, or pass --encoding"),
    ],
)
def test_legacy_encodings_are_named_with_the_fix(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        decode_document(data, name="f.txt")


@pytest.mark.parametrize("codec", ["cp1256", "utf-16-le", "utf-16", "utf-8-sig", "utf-32"])
def test_encoding_option_decodes_any_codec(codec: str) -> None:
    assert decode_document(LEGACY.encode(codec), name="f.txt", encoding=codec) == LEGACY


@pytest.mark.parametrize(
    ("codec", "message"),
    [("nope", "is not a codec Python knows"), ("rot13", "does not decode bytes to text")],
)
def test_encoding_option_refuses_what_is_no_text_codec(codec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode_document(b"abc", name="f.txt", encoding=codec)
    with pytest.raises(InputError, match=re.escape("f.txt: not valid ascii at byte 1")):
        decode_document(b"a\xffc", name="f.txt", encoding="ascii")


def test_utf8_with_a_bad_byte_is_not_called_windows_1256() -> None:
    # Following that advice would translate mojibake.
    data = LEGACY.encode() + b"\xff"
    with pytest.raises(InputError) as raised:
        decode_document(data, name="f.txt")
    assert "Windows-1256" not in str(raised.value)
    assert "not valid UTF-8 at byte" in str(raised.value)


@pytest.mark.parametrize(
    ("data", "codec", "message"),
    [
        (b"+2AA-", "utf-7", "holds an invalid character (a lone surrogate) at character 0"),
        (b"a \\ud800", "unicode_escape", "a lone surrogate) at character 2"),
        (b"abc", "undefined", "cannot be decoded as undefined"),
    ],
)
def test_encodings_that_cannot_give_text_are_input_errors(
    data: bytes, codec: str, message: str
) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        decode_document(data, name="f.txt", encoding=codec)


@pytest.mark.parametrize(
    "separator",
    ["\f", "\v", "\x85", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e", "\r", "\r\n", "\n"],
    ids=["FF", "VT", "NEL", "LS", "PS", "FS", "GS", "RS", "CR", "CRLF", "LF"],
)
def test_every_line_separator_ends_a_paragraph(separator: str) -> None:
    # A PDF's text has a form feed at each page break: the paragraphs on either side stay two.
    text = f"نهاية الصفحة الأولى{separator}بداية الصفحة الثانية."
    segments = segment(text)
    assert [(s.paragraph, s.text) for s in segments] == [
        (0, "نهاية الصفحة الأولى"),
        (1, "بداية الصفحة الثانية."),
    ]
    normalized = normalize(text)
    assert all(normalized[s.start : s.end] == s.text for s in segments)


def test_one_huge_latin_token_does_not_outweigh_an_arabic_article() -> None:
    # 30,000 Latin letters in one token (a pasted blob) against a few hundred Arabic letters:
    # by letters the article was 1.4% Arabic and read as English; each word counts at most
    # WORD_LETTERS letters, so the article's words decide.
    from mtsum.arabic import WORD_LETTERS, detect_language

    article = "أعلنت الحكومة خطة جديدة للطاقة يوم الأربعاء. " * 8
    text = f"{article}\n{'x' * 30_000}\n{article}"
    assert detect_language(text) == "ar"
    assert arabic_share(text) > 0.9
    # Within one word letters count alike, and ordinary words are not capped at all.
    assert arabic_share("abcdef" * 20 + "دون" * 40) == 0.5
    assert arabic_share("abc دون") == 0.5 and WORD_LETTERS >= 20
