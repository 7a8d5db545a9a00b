"""Tests for mtsum.numbers: each case is a figure as written and the value it must read as."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mtsum.numbers import Quantity, extract_quantities, missing_quantities, normalize_digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Arabic-Indic and Persian digits, Arabic decimal and thousands separators
        ("٢٠٢٢", [("year", "year:2022")]),
        ("١٢٣ شخصا", [("number", "123")]),
        ("۴۵ نفر", [("number", "45")]),
        ("٣٫٥", [("number", "3.5")]),
        ("٢٬٠٠٠", [("number", "2000")]),
        # thousands separators
        ("1,000 people", [("number", "1000")]),
        ("1000 people", [("number", "1000")]),
        ("1,234,567.5", [("number", "1234567.5")]),
        # scale words
        ("2 million", [("number", "2000000")]),
        ("2,000,000", [("number", "2000000")]),
        ("two million", [("number", "2000000")]),
        ("$2m", [("number", "2000000")]),
        ("2.5bn", [("number", "2500000000")]),
        ("a billion", [("number", "1000000000")]),
        ("2 مليون", [("number", "2000000")]),
        ("3 آلاف", [("number", "3000")]),
        ("a 5m wall", [("number", "5")]),  # no currency sign: metres, not millions
        # percentages
        ("50%", [("percent", "percent:50")]),
        ("50 percent", [("percent", "percent:50")]),
        ("50 per cent", [("percent", "percent:50")]),
        ("fifty percent", [("percent", "percent:50")]),
        ("٥٠٪", [("percent", "percent:50")]),
        ("50 بالمئة", [("percent", "percent:50")]),
        # number words
        ("two", [("number", "2")]),
        ("Three", [("number", "3")]),
        ("seven", [("number", "7")]),
        ("twenty-five", [("number", "25")]),
        ("three hundred and fifty", [("number", "350")]),
        ("a dozen", [("number", "12")]),
        ("two and three", [("number", "2"), ("number", "3")]),
        ("one of the biggest", []),  # a lone "one" is not a figure
        ("dozens of people", []),
        # dates: the English spellings and the year-first / day-first numeric forms
        ("November 10", [("date", "date:--11-10")]),
        ("10 November", [("date", "date:--11-10")]),
        ("10th of November", [("date", "date:--11-10")]),
        ("Nov. 10, 2022", [("date", "date:2022-11-10")]),
        ("10 November 2022", [("date", "date:2022-11-10")]),
        ("2022/11/10", [("date", "date:2022-11-10")]),
        ("10/11/2022", [("date", "date:2022-11-10")]),
        ("11/25/2022", [("date", "date:2022-11-25")]),  # 25 cannot be a month
        ("November 2022", [("date", "date:2022-11")]),
        ("may 18", [("date", "date:--05-18")]),
        ("10 may be", [("number", "10")]),  # lowercase day-first "may" is the verb
        ("In May", []),  # a month alone is not a figure
        # Arabic month names, Levantine and Egyptian, alone or paired
        ("10 تشرين الثاني/نوفمبر 2022", [("date", "date:2022-11-10")]),
        ("١٠ شباط (فبراير) ٢٠٢٢", [("date", "date:2022-02-10")]),
        ("شباط/فبراير 2021", [("date", "date:2021-02")]),
        ("10 نوفمبر", [("date", "date:--11-10")]),
        # years and ordinals
        ("in 2022", [("year", "year:2022")]),
        ("since 1999,", [("year", "year:1999")]),
        ("the 21st", [("ordinal", "ordinal:21")]),
        # times and identifiers
        ("at 4am", [("number", "4")]),
        ("at 4 p.m.", [("number", "4")]),
        ("a G20 summit", []),
    ],
)
def test_extract_quantities(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(q.kind, q.value) for q in extract_quantities(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "On " is 3 characters, the date 21 (2 + 1 + 4 + 1 + 8 + 1 + 4), " some " 6.
        (
            "On ١٠ شباط (فبراير) ٢٠٢٢ some ٢٬٠٠٠ fled",
            [("١٠ شباط (فبراير) ٢٠٢٢", 3, 24), ("٢٬٠٠٠", 30, 35)],
        ),
        # The currency sign is not part of the amount.
        (
            "Up 5% to $2bn on Nov. 10, 2022.",
            [("5%", 3, 5), ("2bn", 10, 13), ("Nov. 10, 2022", 17, 30)],
        ),
    ],
)
def test_offsets_point_at_the_original_text(
    text: str, expected: list[tuple[str, int, int]]
) -> None:
    quantities = extract_quantities(text)
    assert [(q.text, q.start, q.end) for q in quantities] == expected
    for quantity in quantities:
        assert text[quantity.start : quantity.end] == quantity.text


def test_normalize_digits_keeps_length() -> None:
    assert normalize_digits("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ ٣٫٥ ٢٬٠٠٠ ٥٪") == (
        "0123456789 0123456789 3.5 2,000 5%"
    )


@pytest.mark.parametrize(
    ("summary", "source", "missing"),
    [
        ("2 million people fled.", ["2,000,000 people fled."], []),
        ("two million people fled.", ["٢ مليون"], []),
        ("Seven people died.", ["7 people died."], []),
        ("3 people died.", ["2 people died."], ["3"]),  # a number absent from the source
        ("It opens on November 10.", ["It opens on 2022/11/10."], []),
        ("It opens on November 11.", ["It opens on 2022/11/10."], ["November 11"]),
        ("It opened on November 10, 2021.", ["It opens on 2022/11/10."], ["November 10, 2021"]),
        # the source's date has no year, but the source names the year elsewhere
        ("It opens on 10 November 2022.", ["Opens on November 10.", "Plans for 2022."], []),
        ("It opens in November 2022.", ["Opens on November 10.", "Plans for 2022."], []),
        ("50% of voters", ["50 per cent of voters"], []),
        ("50 of the voters", ["50% of voters"], []),  # a bare number matches a percentage
        ("50% of voters", ["50 of the voters"], ["50%"]),  # but not the other way round
        ("in 2022", ["the 2022 election"], []),
        ("in 2023", ["the 2022 election"], ["2023"]),  # years
        ("3 killed on 10 November 2022", ["قتل ٣ أشخاص في 10 تشرين الثاني/نوفمبر 2022"], []),
        ("Nothing to check here.", ["Nothing."], []),
    ],
)
def test_missing_quantities(summary: str, source: list[str], missing: list[str]) -> None:
    assert [q.text for q in missing_quantities(summary, source)] == missing


def test_quantity_is_a_json_record() -> None:
    quantity = extract_quantities("2 million")[0]
    assert quantity == Quantity("2 million", "number", "2000000", 0, 9)
    assert json.loads(json.dumps(dataclasses.asdict(quantity)))["value"] == "2000000"
    with pytest.raises(dataclasses.FrozenInstanceError):
        quantity.value = "3"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [("They met on 5 May.", "5 May"), ("They met on 10 Nov. 2022 in Cairo.", "10 Nov. 2022")],
)
def test_a_sentence_end_is_not_part_of_a_date(text: str, quoted: str) -> None:
    assert [q.text for q in extract_quantities(text)] == [quoted]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        # the currency sign is what makes "2m" millions, so a report quotes it with the figure
        ("They raised $2m in May.", "$2m"),
        ("a $5 m fund", "$5 m"),
        ("a 5m wall", "5"),
        # the bracket of an aside is not part of a paired Arabic month name
        ("(10 تشرين الثاني/نوفمبر)", "10 تشرين الثاني/نوفمبر"),
        ("(١٠ شباط (فبراير))", "١٠ شباط (فبراير)"),
    ],
)
def test_a_figure_is_quoted_as_written(text: str, quoted: str) -> None:
    assert [q.text for q in extract_quantities(text)] == [quoted]
    assert [q.value for q in extract_quantities(quoted)] == [
        q.value for q in extract_quantities(text)
    ]
