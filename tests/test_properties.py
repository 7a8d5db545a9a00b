"""Property-based tests (Hypothesis) of the text layer: textprep, numbers, align and score.

The strategies build the inputs that break text code in practice: Arabic letters with diacritics
and tatweel, Arabic-Indic digits and separators, Latin, sentence punctuation and quotes, figures
and month names, and every kind of whitespace the pipeline meets (``\\r``, NBSP, zero-width and
bidi controls, line and paragraph separators), mixed with plain ``st.text()`` for arbitrary
Unicode.

Every test runs with ``derandomize=True`` and no example database, so a run explores the same
examples on every machine and CI is deterministic; example counts are kept small so that the file
runs in a few seconds.
"""

from __future__ import annotations

import calendar
import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rouge_score.tokenizers import DefaultTokenizer

from mtsum.align import LexicalAligner
from mtsum.numbers import Quantity, extract_quantities
from mtsum.score import ROUGE_TYPES, arabic_tokenize, rouge
from mtsum.textprep import normalize, segment

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- strategies -------------------------------------------------------------------------------

ARABIC_LETTERS = [chr(c) for c in range(0x0621, 0x063B)] + [chr(c) for c in range(0x0641, 0x064B)]
ARABIC_LETTERS += ["\u0671", "\u067e", "\u0686", "\u06a4", "\u06af", "\u06cc", "\u06d2"]
DIACRITICS = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670"]
TATWEEL = "\u0640"
ARABIC_DIGITS = [chr(0x0660 + d) for d in range(10)] + [chr(0x06F0 + d) for d in range(10)]
ARABIC_SIGNS = ["\u066b", "\u066c", "\u066a"]  # decimal, thousands, percent
PUNCTUATION = [*'.!?؟…"«»“”()[]،؛:', "'", "‘", "’", ",", "-", "/", "%", "$", "..", "?!"]
WHITESPACE = [" ", "  ", "\t", "\r", "\n", "\r\n", "\n\n", "\u00a0", "\u202f", "\u2028", "\u2029"]
WHITESPACE += ["\x0b", "\x0c", "\x85", "\u3000", "\u2003"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u061c"]
INVISIBLE += [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
# Words that trip the sentence rules and the figure readers: initials, abbreviations, numbers
# with separators, times, month names, number and scale words.
TRICKY_WORDS = [
    "د.", "أ.", "م.", "دي.", "كي.", "Dr.", "e.g.", "U.S.", "J.", "No.", "no.", "1.", "12.",
    "3.5", "٣٫٥", "24:00", "2,000,000", "٢٬٠٠٠", "50%", "٥٠٪", "$2m", "2.5bn", "5m", "21st",
    "4 p.m.", "2022/11/10", "10/11/2022", "11/25/2022", "Nov.", "November", "may", "May",
    "March", "نوفمبر", "تشرين الثاني/نوفمبر", "شباط (فبراير)", "2022", "١٩٩٩", "two", "million",
    "hundred and", "a dozen", "one", "percent", "per cent", "بالمئة", "مليون", "آلاف",
    "www.site.com", "جملة.جملة", "دون خسارة السعوديين.. روسيا", "قال:", "«نعم»", "(see",
]  # fmt: skip
ENGLISH_WORDS = [
    "the", "rain", "fell", "in", "Cairo", "on", "Monday", "markets", "closed", "early", "Ali",
    "beat", "Omar", "minister", "said", "water", "law", "farmers", "running", "runs", "is",
]  # fmt: skip
ARABIC_WORDS = [
    "قالت", "الحكومة", "إنّ", "الأمطار", "ستستمر", "وأغلقت", "المدارسُ", "أبوابها", "يوم",
    "مارس", "الـعـربية", "إلى", "المدرسةِ", "مصر", "القاهرة", "ﻻ", "ﷲ",
]  # fmt: skip

_pieces = st.one_of(
    st.sampled_from(ARABIC_LETTERS),
    st.sampled_from(DIACRITICS),
    st.just(TATWEEL),
    st.sampled_from(ARABIC_DIGITS + ARABIC_SIGNS),
    st.sampled_from(PUNCTUATION),
    st.sampled_from(WHITESPACE),
    st.sampled_from(INVISIBLE),
    st.sampled_from(TRICKY_WORDS),
    st.sampled_from(ENGLISH_WORDS + ARABIC_WORDS),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=6),
    st.text(max_size=3),  # any Unicode at all
)
hard_text = st.lists(_pieces, max_size=40).map("".join)
any_text = st.one_of(hard_text, st.text(max_size=60))


# --- textprep ---------------------------------------------------------------------------------


@PROPERTY
@given(any_text)
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    """``segment`` accepts normalized or raw text, so normalizing twice must change nothing."""
    normalized = normalize(text)
    assert "\r" not in normalized
    assert normalize(normalized) == normalized


@PROPERTY
@given(any_text)
def test_segments_tile_the_paragraphs_of_the_normalized_text(text: str) -> None:
    """Offsets slice exactly; segments are ordered, disjoint and cover every visible character.

    A paragraph is a non-blank line of ``normalize(text)``; paragraph indices count them from 0
    and sentence indices restart at 0 in every paragraph.
    """
    normalized = normalize(text)
    segments = segment(text)
    assert segment(normalized) == segments  # "a document, normalized or not"
    for seg in segments:
        assert normalized[seg.start : seg.end] == seg.text
        assert seg.text and seg.text == seg.text.strip()
    for before, after in itertools.pairwise(segments):
        assert before.end <= after.start
        assert not normalized[before.end : after.start].strip()  # "جملة.جملة" has none

    lines, offset = [], 0
    for line in normalized.split("\n"):
        if line.strip():
            lines.append((offset, offset + len(line)))
        offset += len(line) + 1
    assert sorted({seg.paragraph for seg in segments}) == list(range(len(lines)))
    for number, (line_start, line_end) in enumerate(lines):
        mine = [seg for seg in segments if seg.paragraph == number]
        assert [seg.sentence for seg in mine] == list(range(len(mine)))
        assert all(line_start <= seg.start and seg.end <= line_end for seg in mine)
        covered = set().union(*(range(seg.start, seg.end) for seg in mine))
        visible = {i for i in range(line_start, line_end) if not normalized[i].isspace()}
        assert visible <= covered


# --- numbers ----------------------------------------------------------------------------------

KINDS = {"number", "percent", "year", "date", "ordinal"}
_NUMBER = r"(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?"  # no leading or trailing zeros, no exponent
_MM, _DD = "(?:0[1-9]|1[0-2])", "(?:0[1-9]|[12][0-9]|3[01])"
VALUE_PATTERN = {
    "number": _NUMBER,
    "percent": f"percent:{_NUMBER}",
    "ordinal": f"ordinal:{_NUMBER}",
    "year": r"year:(?:1[89]|20)[0-9]{2}",
    # year-month-day, year-month, or --month-day (ISO 8601 for a date without its year)
    "date": rf"date:(?:[0-9]{{4}}-{_MM}(?:-{_DD})?|--{_MM}-{_DD})",
}

MONTHS = [
    ("January", "Jan."), ("February", "Feb."), ("March", "Mar."), ("April", "Apr."),
    ("May", "May"), ("June", "Jun."), ("July", "Jul."), ("August", "Aug."),
    ("September", "Sept."), ("October", "Oct."), ("November", "Nov."), ("December", "Dec."),
]  # fmt: skip
ARABIC_MONTHS = [
    "كانون الثاني/يناير", "شباط (فبراير)", "آذار/مارس", "نيسان/أبريل", "أيار/مايو",
    "حزيران/يونيو", "تموز/يوليو", "آب/أغسطس", "أيلول/سبتمبر", "تشرين الأول/أكتوبر",
    "تشرين الثاني/نوفمبر", "كانون الأول/ديسمبر",
]  # fmt: skip
UNITS = [
    "", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = [
    ("{} million", 6), ("{} billion", 9), ("{}bn", 9), ("{} thousand", 3), ("${}m", 6),
    ("{} مليون", 6), ("{} مليار", 9), ("{} آلاف", 3),
]  # fmt: skip
PERCENTS = ["{}%", "{} percent", "{} per cent", "{} بالمئة", "{} في المئة"]


def _arabic_digits(text: str) -> str:
    return text.translate(
        str.maketrans({str(d): chr(0x0660 + d) for d in range(10)} | {",": "٬", ".": "٫"})
    )


def _in_words(n: int) -> str:
    """1 <= n <= 999 in English words: "three hundred and fifty-two"."""
    hundreds, rest = divmod(n, 100)
    tens = (
        UNITS[rest] if rest < 20 else "-".join(filter(None, [TENS[rest // 10], UNITS[rest % 10]]))
    )
    if not hundreds:
        return tens
    return f"{UNITS[hundreds]} hundred" + (f" and {tens}" if tens else "")


@st.composite
def spelled_figures(draw: st.DrawFn) -> tuple[str, str]:
    """A figure spelled one of the ways the numbers module documents, and its canonical value."""
    kind = draw(
        st.sampled_from(["integer", "decimal", "scaled", "words", "percent", "ordinal", "date"])
    )
    if kind == "integer":
        n = draw(st.integers(0, 10**12))
        grouped = draw(st.sampled_from([f"{n:,}", _arabic_digits(f"{n:,}")]))
        if draw(st.booleans()):
            return grouped, str(n)
        # Ungrouped, a lone 4-digit number from 1800 to 2099 is a year; the rest are numbers.
        return str(n), (f"year:{n}" if 1800 <= n <= 2099 else str(n))
    if kind == "decimal":
        whole = draw(st.integers(0, 10**6))
        fraction = draw(st.from_regex(r"[0-9]{0,3}[1-9]", fullmatch=True))
        zeros = draw(st.sampled_from(["", "0", "00"]))  # trailing zeros do not change the value
        spelled = draw(st.sampled_from([f"{whole}.{fraction}{zeros}", f"{whole:,}.{fraction}"]))
        return draw(st.sampled_from([spelled, _arabic_digits(spelled)])), f"{whole}.{fraction}"
    if kind == "scaled":
        n, (template, power) = draw(st.integers(1, 999)), draw(st.sampled_from(SCALES))
        return template.format(n), str(n * 10**power)
    if kind == "words":
        n = draw(st.integers(2, 999))  # a lone "one" is not a figure
        power = draw(st.sampled_from([0, 3, 6, 9]))
        scale = {0: "", 3: " thousand", 6: " million", 9: " billion"}[power]
        return f"{_in_words(n)}{scale}", str(n * 10**power)
    if kind == "percent":
        n = draw(st.integers(0, 1000))
        number = draw(st.sampled_from([str(n), _arabic_digits(str(n))]))
        return draw(st.sampled_from([*PERCENTS, "{}٪"])).format(number), f"percent:{n}"
    if kind == "ordinal":
        n = draw(st.integers(1, 1000))
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}", f"ordinal:{n}"
    year, month = draw(st.integers(1800, 2099)), draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    name, short = MONTHS[month - 1]
    arabic = ARABIC_MONTHS[month - 1]
    full = f"date:{year}-{month:02d}-{day:02d}"
    return draw(
        st.sampled_from(
            [
                (f"{year}/{month}/{day}", full),
                (f"{year}-{month:02d}-{day:02d}", full),
                (f"{day}/{month}/{year}", full),
                (f"{name} {day}, {year}", full),
                (f"{short} {day}, {year}", full),
                (f"{day} {name} {year}", full),
                (f"{day} {arabic} {year}", full),
                (_arabic_digits(f"{day} ") + arabic + _arabic_digits(f" {year}"), full),
                (f"{name} {day}", f"date:--{month:02d}-{day:02d}"),
                (f"{day} {arabic}", f"date:--{month:02d}-{day:02d}"),
                (f"{name} {year}", f"date:{year}-{month:02d}"),
            ]
        )
    )


# Figures in every documented spelling, glued to hard text on either side.
figure_text = st.lists(
    st.one_of(spelled_figures().map(lambda figure: figure[0]), _pieces), max_size=12
).map("".join)


@PROPERTY
@given(st.one_of(figure_text, any_text))
def test_extract_quantities_finds_canonical_disjoint_figures(text: str) -> None:
    """Figures are in order, disjoint, located exactly, and their values are canonical.

    Canonical means one spelling per value: a number has no leading zeros, no trailing
    fractional zeros and no exponent, so "2,000,000", "2 million" and "٢٠٠٠٠٠٠" compare equal.
    """
    quantities = extract_quantities(text)
    for before, after in itertools.pairwise(quantities):
        assert before.end <= after.start
    for quantity in quantities:
        assert text[quantity.start : quantity.end] == quantity.text
        assert quantity.kind in KINDS
        assert re.fullmatch(VALUE_PATTERN[quantity.kind], quantity.value), quantity


@PROPERTY
@given(
    spelled_figures(),
    st.sampled_from(["", "On ", "قال إن ", "(", "« ", "up to "]),
    st.sampled_from(["", " today.", " أمس", ".", ",", ")", " »", "\n"]),
)
def test_a_spelled_value_reads_back_as_that_value(
    figure: tuple[str, str], before: str, after: str
) -> None:
    """Round trip value -> text -> value: every documented spelling of a value reads as it.

    The value is drawn first and spelled one of the ways the module docstring lists (digit
    groups, Arabic-Indic digits and separators, scale words, number words, percent signs and
    words, numeric and named dates in both languages, ordinals), then placed in a sentence;
    extraction must find exactly that figure, spanning exactly the spelling, with exactly that
    canonical value.
    """
    spelled, value = figure
    text = before + spelled + after
    found = [(q.start, q.text, q.value) for q in extract_quantities(text)]
    assert found == [(len(before), spelled, value)]


@PROPERTY
@given(st.one_of(figure_text, any_text))
def test_a_figure_read_alone_keeps_its_value(text: str) -> None:
    """Round trip text -> figure -> text: a quantity's ``text`` alone reads as the same figure.

    ``Quantity.text`` is what reports quote to a reader ("number_not_in_source: $2m"), so it
    must carry its own value: extracting it with no surrounding context gives back exactly one
    quantity, spanning all of it, of the same kind and value.
    """
    for quantity in extract_quantities(text):
        alone = extract_quantities(quantity.text)
        expected = Quantity(quantity.text, quantity.kind, quantity.value, 0, len(quantity.text))
        assert alone == [expected], (quantity, alone)


# --- align ------------------------------------------------------------------------------------

_aligner_words = st.one_of(
    st.sampled_from(ENGLISH_WORDS + ARABIC_WORDS + TRICKY_WORDS),
    st.sampled_from(["2 million", "2,000,000", "Nov. 10, 2022", "10 November", "5%", "2022"]),
    st.lists(_pieces, max_size=4).map("".join),
)
_aligner_text = st.lists(_aligner_words, max_size=12).map(" ".join)
aligners = st.builds(
    LexicalAligner,
    number_weight=st.sampled_from([0.0, 1.0, 2.0, 3.5]),
    name_weight=st.sampled_from([0.0, 1.0, 2.0]),
    bigram_weight=st.sampled_from([0.0, 0.25, 0.3, 0.7, 1.0]),
    idf=st.booleans(),
)


@settings(PROPERTY, max_examples=100)
@given(
    aligners,
    st.lists(_aligner_text, min_size=1, max_size=4),
    st.lists(_aligner_text, min_size=1, max_size=5).flatmap(
        lambda units: st.tuples(st.just(units), st.permutations(range(len(units))))
    ),
)
def test_alignment_scores_are_shares_and_ignore_paragraph_order(
    aligner: LexicalAligner, sentences: list[str], units_and_order: tuple[list[str], list[int]]
) -> None:
    """Scores lie in [0, 1]; permuting the units permutes the columns and nothing else."""
    units, order = units_and_order
    matrix = aligner.score(sentences, units)
    assert len(matrix) == len(sentences)
    assert all(len(row) == len(units) for row in matrix)
    assert all(0.0 <= score <= 1.0 for row in matrix for score in row)
    permuted = aligner.score(sentences, [units[i] for i in order])
    assert permuted == [[row[i] for i in order] for row in matrix]


# --- score ------------------------------------------------------------------------------------

# The tokenizers rouge() uses, by the name it reports: its own for Arabic, rouge-score's
# default (lowercase [a-z0-9] runs, Porter-stemmed) for English.
TOKENIZERS = {"ar-norm": arabic_tokenize, "en-porter": DefaultTokenizer(use_stemmer=True).tokenize}

english_text = st.lists(
    st.one_of(
        st.sampled_from(ENGLISH_WORDS + WHITESPACE + PUNCTUATION),
        st.text(st.characters(codec="ascii"), max_size=5),
    ),
    max_size=25,
).map(" ".join)
arabic_text = st.lists(
    st.one_of(
        st.sampled_from(ARABIC_WORDS + WHITESPACE + PUNCTUATION + INVISIBLE),
        st.lists(st.sampled_from(ARABIC_LETTERS + DIACRITICS + [TATWEEL] + ARABIC_DIGITS)).map(
            "".join
        ),
    ),
    max_size=25,
).map(" ".join)


@settings(PROPERTY, max_examples=100)
@given(st.sampled_from(["ar", "en", "auto"]), st.one_of(english_text, arabic_text, any_text))
def test_rouge_of_a_text_with_itself_is_one(lang: str, text: str) -> None:
    """A summary identical to its reference scores 1 wherever there is something to match.

    "Something" is counted with the tokenizer ``rouge`` used (the one its result names): ROUGE-1,
    ROUGE-L and ROUGE-Lsum are 1 from one kept token, ROUGE-2 from two, since a single token has
    no bigram. With fewer tokens there is nothing to match and rouge-score's convention gives 0.
    """
    result = rouge(text, [text], lang=lang)
    tokens = TOKENIZERS[result.tokenizer](text)
    needed = {"rouge1": 1, "rouge2": 2, "rougeL": 1, "rougeLsum": 1}
    for rouge_type in ROUGE_TYPES:
        score = result.scores[rouge_type]
        expected = 1.0 if len(tokens) >= needed[rouge_type] else 0.0
        assert (score.precision, score.recall, score.fmeasure) == (expected,) * 3, rouge_type
