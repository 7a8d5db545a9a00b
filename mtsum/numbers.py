"""Find the numbers, dates and quantities in a text, so a summary's figures can be checked.

Every figure gets one canonical ``value`` whatever its spelling, so ``"2 million"``,
``"2,000,000"``, ``"two million"`` and ``"٢٠٠٠٠٠٠"`` all read ``"2000000"``::

    kind      value             examples
    number    "2000000"         2,000,000 | 2 million | two million | $2m | ٢٬٠٠٠٬٠٠٠ | 2 مليون
    percent   "percent:50"      50% | 50 percent | 50 per cent | ٥٠٪ | 50 بالمئة
    year      "year:2022"       2022 (a lone 4-digit number from 1800 to 2099)
    date      "date:2022-11-10" Nov. 10, 2022 | 10 November 2022 | 2022/11/10 | 10/11/2022
    date      "date:--11-10"    November 10 | 10 تشرين الثاني/نوفمبر   (ISO 8601 for "no year")
    date      "date:2022-11"    November 2022 | نوفمبر 2022
    ordinal   "ordinal:21"      21st

Numeric dates are read year-first (``2022/11/10``, as Arabic news writes them) or day-first
(``10/11/2022``, the Arabic and British order) unless the middle field is over 12. A month name
counts only next to a day or a year, since "may", "march" and مارس are also ordinary words, and
"10 may" must be capitalized to count. A lone "one" is not a figure ("one of the..."); "4 pm" is
the number 4.

``missing_quantities`` lists a summary sentence's figures that no source text supports: a number
matches an equal number, percentage or year; a percentage needs the same percentage; a date needs
the same month and day, and the same year when the summary gives one (the source may give the year
elsewhere in the text when its own date has none).

Example::

    >>> [q.value for q in extract_quantities("Two million fled by Nov. 10, 2022, up 5%.")]
    ['2000000', 'date:2022-11-10', 'percent:5']
    >>> [q.text for q in missing_quantities("3 died on 10 November", ["On 2022/11/10, 2 died."])]
    ['3']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from mtsum.arabic import DIGITS

__all__ = ["Quantity", "extract_quantities", "missing_quantities", "normalize_digits"]


@dataclass(frozen=True)
class Quantity:
    """One figure found in a text.

    Attributes:
        text: the figure as written, e.g. ``"Nov. 10, 2022"``.
        kind: ``"number"``, ``"percent"``, ``"year"``, ``"date"`` or ``"ordinal"``.
        value: the canonical value, e.g. ``"2000000"``, ``"percent:50"``, ``"date:--11-10"``.
        start: offset of the first character in the text.
        end: offset just past the last character.
    """

    text: str
    kind: str
    value: str
    start: int
    end: int


# Length-preserving, so offsets in the normalized text are offsets in the original.
_DIGITS = str.maketrans(
    DIGITS | {"\u066b": ".", "\u066c": ",", "\u066a": "%"}  # Arabic decimal, thousands, percent
)

_MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_MONTHS_AR = {
    "كانون الثاني": 1, "يناير": 1, "شباط": 2, "فبراير": 2, "آذار": 3, "اذار": 3, "مارس": 3,
    "نيسان": 4, "أبريل": 4, "ابريل": 4, "إبريل": 4, "أيار": 5, "ايار": 5, "مايو": 5, "حزيران": 6,
    "يونيو": 6, "يونيه": 6, "تموز": 7, "يوليو": 7, "يوليه": 7, "آب": 8, "اب": 8, "أغسطس": 8,
    "اغسطس": 8, "أيلول": 9, "ايلول": 9, "سبتمبر": 9, "تشرين الأول": 10, "تشرين الاول": 10,
    "أكتوبر": 10, "اكتوبر": 10, "تشرين الثاني": 11, "نوفمبر": 11, "كانون الأول": 12,
    "كانون الاول": 12, "ديسمبر": 12,
}  # fmt: skip
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
    "bn": 10**9, "mn": 10**6, "m": 10**6, "ألف": 10**3, "آلاف": 10**3, "الف": 10**3, "مليون": 10**6,
    "ملايين": 10**6, "مليار": 10**9, "مليارات": 10**9, "بليون": 10**9, "تريليون": 10**12,
}  # fmt: skip

_LETTER = r"[^\W\d_]"
_EN_MONTH = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
_AR_MONTH = "|".join(sorted(_MONTHS_AR, key=len, reverse=True))
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>1[89]\d\d|20\d\d)"
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.-])(?:(?P<y1>\d{4})[/.-](?P<m1>\d{1,2})[/.-](?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})[/.-](?P<m2>\d{1,2})[/.-](?P<y2>\d{4}))(?![\d/])"
)
_MONTH_DATES = [
    # November 10 | Nov. 10, 2022 | November 10th
    re.compile(rf"\b(?P<month>{_EN_MONTH})\.? {_DAY}\b(?:,? {_YEAR}\b)?(?![.,]?\d)", re.I),
    # 10 November 2022 | 10th of November
    # An abbreviation dot only before a year: "10 Nov. 2022", but "on 5 May." ends a sentence.
    re.compile(rf"(?<!\d){_DAY} (?:of )?(?P<month>{_EN_MONTH})\b(?:\.?,? {_YEAR}\b)?", re.I),
    # November 2022
    re.compile(rf"\b(?P<month>{_EN_MONTH})\.?,? {_YEAR}\b", re.I),
    # 10 تشرين الثاني/نوفمبر 2022 | 10 نوفمبر | شباط 2022 (one of day or year is required below)
    re.compile(
        rf"(?:(?<!\d)(?P<day>[0-3]?\d) )?(?<!{_LETTER})(?P<month>{_AR_MONTH})(?!{_LETTER})"
        # The paired name comes after "/" or in brackets; only "(" takes a ")" with it, so
        # "(10 تشرين الثاني/نوفمبر)" leaves the closing bracket of the aside alone.
        rf"(?:\s*(?:/\s*(?:{_AR_MONTH})|\(\s*(?:{_AR_MONTH})(?:\s*\))?))?(?:\s+{_YEAR}(?!\d))?"
    ),
]
_SCALE_WORDS = "|".join(sorted(_SCALES, key=len, reverse=True))
_NUMBER = re.compile(
    rf"(?<!\d)(?<!\d[.,])(?<!{_LETTER})(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?:(?P<ord>st|nd|rd|th)\b|\s?[ap]\.?m\b\.?|[ -]?(?P<scale>{_SCALE_WORDS})(?!{_LETTER}))?"
    rf"(?!\d|{_LETTER})"
)
_WORD = "|".join([*sorted(_UNITS, key=len, reverse=True), "hundred", "thousand", "million",
                  "billion", "trillion", "dozen"])  # fmt: skip
_WORD_NUMBER = re.compile(
    rf"\b(?:(?:an?|{_WORD})[ -](?=(?:hundred|thousand|million|billion|trillion|dozen)\b))?"
    rf"(?:{_WORD})(?:(?:[ -]|(?<=hundred) and |(?<=thousand) and )(?:{_WORD})\b)*\b",
    re.I,
)
_NUMBER_WORDS = frozenset(
    [*_UNITS, "hundred", "thousand", "million", "billion", "trillion", "dozen"]
)
_CURRENCY = frozenset("$£€")
_ANY_DIGIT = re.compile(r"\d")
_PERCENT = re.compile(r"\s?(?:%|per ?cent\b|pct\b|بالمئة|بالمائة|في المئة|في المائة)", re.I)


def normalize_digits(text: str) -> str:
    """Return ``text`` with Arabic-Indic and Persian digits and Arabic separators made ASCII.

    The result has the same length as ``text``, so offsets carry over.

    Args:
        text: any text.

    Returns:
        The text with ``٠-٩``/``۰-۹`` as ``0-9``, ``٫`` as ``.``, ``٬`` as ``,`` and ``٪`` as ``%``.
    """
    return text.translate(_DIGITS)


def _canon(number: Decimal) -> str:
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _date(year: str | None, month: int, day: str | int | None) -> str | None:
    day_int = int(day) if day is not None else None
    if not 1 <= month <= 12 or (day_int is not None and not 1 <= day_int <= 31):
        return None
    if day_int is None:
        return f"date:{year}-{month:02d}" if year else None
    return f"date:{year or '-'}-{month:02d}-{day_int:02d}"


def _words_value(words: str) -> int | None:
    tokens = re.findall(r"[a-z]+", words.lower())
    if not tokens or tokens == ["one"]:
        return None  # a lone "one" is mostly a pronoun or determiner
    total, current = 0, 0
    for token in tokens:
        if token in ("a", "an"):
            current = 1
        elif token in _UNITS:
            current += _UNITS[token]
        elif token == "dozen":
            current = (current or 1) * 12
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _SCALES:
            total, current = total + (current or 1) * _SCALES[token], 0
    return total + current


def _candidates(text: str) -> Iterator[tuple[int, int, str, str]]:
    """Yield (start, end, kind, value) in priority order; earlier ones win overlaps."""
    yield from _digit_candidates(text) if _ANY_DIGIT.search(text) else ()
    # Cheap pre-check: most sentences hold no number word, and the full pattern is slow.
    if _NUMBER_WORDS.isdisjoint(re.findall(r"[a-z]+", text.lower())):
        return
    for match in _WORD_NUMBER.finditer(text):
        words_value = _words_value(match[0])
        if words_value is not None:
            yield from _with_percent(text, match.start(), match.end(), Decimal(words_value), False)


def _digit_candidates(text: str) -> Iterator[tuple[int, int, str, str]]:
    for match in _NUMERIC_DATE.finditer(text):
        if match["y1"]:
            year, month, day = match["y1"], int(match["m1"]), match["d1"]
        else:
            year, month, day = match["y2"], int(match["m2"]), match["d2"]
            if month > 12 >= int(day):  # 11/25/2022 can only be month-first
                month, day = int(day), str(month)
        value = _date(year, month, day)
        if value:
            yield match.start(), match.end(), "date", value
    for day_first, pattern in zip((False, True, False, False), _MONTH_DATES, strict=True):
        for match in pattern.finditer(text):
            name = match["month"].lower()
            if day_first and name in ("may", "march", "mar") and match["month"].islower():
                continue  # "10 may be": a verb; "may 10" is a date even in lowercased text
            month = _MONTHS_EN.get(name) or _MONTHS_AR.get(match["month"], 0)
            value = _date(match["year"], month, match.groupdict().get("day"))
            if value:
                yield match.start(), match.end(), "date", value
    for match in _NUMBER.finditer(text):
        number = Decimal(match["num"].replace(",", ""))
        start, end = match.start(), match.end()
        if match["ord"]:
            yield start, end, "ordinal", f"ordinal:{_canon(number)}"
            continue
        if match["scale"] == "m":
            if text[start - 1 : start] in _CURRENCY:
                # The sign is what makes "$2m" millions, so it belongs to the figure's text:
                # "2m" quoted alone would read as 2 (metres).
                start -= 1
                number *= _SCALES["m"]
            else:
                end = match.end("num")  # "5m" without a currency sign is more likely metres
        elif match["scale"]:
            number *= _SCALES[match["scale"]]
        yield from _with_percent(text, start, end, number, match["scale"] is None)


def _with_percent(
    text: str, start: int, end: int, number: Decimal, may_be_year: bool
) -> Iterator[tuple[int, int, str, str]]:
    percent = _PERCENT.match(text, end)
    if percent:
        yield start, percent.end(), "percent", f"percent:{_canon(number)}"
    elif may_be_year and re.fullmatch(r"1[89]\d\d|20\d\d", text[start:end]):
        yield start, end, "year", f"year:{text[start:end]}"
    else:
        yield start, end, "number", _canon(number)


def extract_quantities(text: str) -> list[Quantity]:
    """Find the numbers, percentages, years, dates and ordinals in an English or Arabic text.

    Args:
        text: the text to read.

    Returns:
        The figures in text order, none overlapping another; see the module docstring for values.

    Example:
        >>> [q.value for q in extract_quantities("٥٠٪ of ٢٬٠٠٠ on 2022/11/10")]
        ['percent:50', '2000', 'date:2022-11-10']
    """
    normalized = normalize_digits(text)
    taken = [False] * len(normalized)
    found = []
    for start, end, kind, value in _candidates(normalized):
        if any(taken[start:end]):
            continue
        taken[start:end] = [True] * (end - start)
        found.append(Quantity(text[start:end], kind, value, start, end))
    return sorted(found, key=lambda quantity: quantity.start)


def _date_parts(value: str) -> tuple[str, str, str]:
    """Split "date:2022-11-10" / "date:--11-10" / "date:2022-11" into (year, month, day)."""
    year, _, rest = value.removeprefix("date:").partition("-")
    month, _, day = rest.lstrip("-").partition("-")
    return year, month, day


def _offers(quantity: Quantity) -> set[str]:
    """What a source figure can vouch for."""
    kind, value = quantity.kind, quantity.value.split(":", 1)[-1]
    if kind in ("number", "ordinal"):
        return {f"n:{value}"}
    if kind in ("percent", "year"):
        return {quantity.value, f"n:{value}"}
    year, month, day = _date_parts(quantity.value)
    if not year:  # "November 10": its year may be named elsewhere in the source
        return {f"md:{month}-{day}", f"md-no-year:{month}-{day}", f"m-no-year:{month}"}
    offers = {f"ym:{year}-{month}", f"year:{year}", f"n:{year}"}
    return offers | ({f"ymd:{year}-{month}-{day}", f"md:{month}-{day}"} if day else set())


def _needs(quantity: Quantity) -> list[set[str]]:
    """What a summary figure needs from the source: all keys of any one of these sets."""
    kind, value = quantity.kind, quantity.value.split(":", 1)[-1]
    if kind in ("number", "ordinal", "year"):
        return [{f"n:{value}"}]
    if kind == "percent":
        return [{quantity.value}]
    year, month, day = _date_parts(quantity.value)
    if not year:
        return [{f"md:{month}-{day}"}]
    if not day:
        return [{f"ym:{year}-{month}"}, {f"m-no-year:{month}", f"year:{year}"}]
    return [{f"ymd:{year}-{month}-{day}"}, {f"md-no-year:{month}-{day}", f"year:{year}"}]


def missing_quantities(summary_sentence: str, source_texts: Sequence[str]) -> list[Quantity]:
    """List the figures of a summary sentence that the source texts do not contain.

    Args:
        summary_sentence: one sentence of the summary.
        source_texts: the source paragraphs (English or Arabic), all searched together.

    Returns:
        The sentence's figures, as ``extract_quantities`` finds them, that no source figure
        matches after normalization; empty when every figure is supported.

    Example:
        >>> [q.text for q in missing_quantities("Up 7% to $2bn", ["rose 7 per cent to 2 billion"])]
        []
    """
    offered: set[str] = set()
    for text in source_texts:
        for quantity in extract_quantities(text):
            offered |= _offers(quantity)
    return [
        quantity
        for quantity in extract_quantities(summary_sentence)
        if not any(need <= offered for need in _needs(quantity))
    ]
