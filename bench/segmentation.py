"""Sentence-boundary precision, recall and F1 on FLORES-200 devtest Arabic.

FLORES gives one sentence per line; consecutive lines with the same source URL form one article.
Each article's lines are joined with a single space and every line end except the article's last
is a gold boundary (a character offset in the joined text). The article's final end is excluded:
every segmenter finds it for free. A predicted boundary is the end of a predicted sentence with
trailing whitespace removed.

FLORES lines are translation units, and 121 of the 1,012 lines hold more than one sentence
("يمكن تشكيل الذهب على شتى الأشكال. يمكن لفه في أشكالٍ صغيرة."): a correct split inside such a
line counts as a false positive, so no segmenter that splits real sentences can reach a strict
F1 much above 0.93. The "lenient" columns forgive predicted boundaries inside a line up to the
number of sentence breaks in its English reference line (counted with pysbd's English rules, with
quotation marks blanked first: pysbd never splits inside a quotation, and 10 of the breaks lie in
quoted speech of several sentences), which estimates how often a segmenter splits where no
sentence ends. "F1 with ends" counts each article's end as found by every segmenter, the
convention of the issue's reference figures.

Run from the repository root::

    .venv/bin/python bench/segmentation.py [--ablations]

Prints a markdown table and writes ``bench/results/segmentation.json``. ``--ablations`` also scores
mtsum with one rule switched off at a time (``bench/news_dev.py --ablations`` does the same on the
news dev set).
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "flores200-devtest"
RESULTS = ROOT / "bench" / "results" / "segmentation.json"

sys.path.insert(0, str(ROOT))

Splitter = Callable[[str], list[int]]


@dataclass(frozen=True)
class Article:
    text: str  # the lines joined with one space
    gold: frozenset[int]  # ends of all lines but the last
    lines: tuple[tuple[int, int], ...]  # (start, end) of each line in text
    english_breaks: tuple[int, ...]  # sentence breaks inside each English reference line


@dataclass(frozen=True)
class Result:
    segmenter: str
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    lenient_precision: float
    lenient_f1: float
    f1_with_article_ends: float  # the article ends counted as found, for every segmenter
    unforgiven: int  # false positives beyond the English reference's breaks on their line
    seconds: float


def load_articles(folder: Path, english_breaks: Callable[[str], int]) -> list[Article]:
    """Group FLORES lines into articles by their URL in metadata_devtest.tsv."""
    arabic = (folder / "arb_Arab.devtest").read_text(encoding="utf-8").splitlines()
    english = (folder / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()
    rows = (folder / "metadata_devtest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    urls = [row.split("\t")[0] for row in rows]
    if not len(arabic) == len(english) == len(urls):
        raise ValueError(f"line counts differ: {len(arabic)} {len(english)} {len(urls)}")
    groups: list[list[int]] = []
    for index, url in enumerate(urls):
        if groups and urls[groups[-1][0]] == url:
            groups[-1].append(index)
        else:
            groups.append([index])
    articles = []
    for group in groups:
        lines = [arabic[i].strip() for i in group]
        spans, offset = [], 0
        for line in lines:
            spans.append((offset, offset + len(line)))
            offset += len(line) + 1
        articles.append(
            Article(
                text=" ".join(lines),
                gold=frozenset(end for _, end in spans[:-1]),
                lines=tuple(spans),
                english_breaks=tuple(english_breaks(english[i]) for i in group),
            )
        )
    return articles


def evaluate(name: str, split: Splitter, articles: Sequence[Article]) -> Result:
    """Score one segmenter over all articles (micro-averaged over boundaries)."""
    tp = fp = fn = forgiven = 0
    began = time.perf_counter()
    for article in articles:
        final = len(article.text)
        predicted = {b for b in split(article.text) if 0 < b < final}
        tp += len(predicted & article.gold)
        fn += len(article.gold - predicted)
        wrong = predicted - article.gold
        fp += len(wrong)
        for (start, end), breaks in zip(article.lines, article.english_breaks, strict=True):
            inside = sum(1 for b in wrong if start < b < end)
            forgiven += min(inside, breaks)
    seconds = time.perf_counter() - began
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    lenient = (tp + forgiven) / (tp + fp) if tp + fp else 0.0
    ends = len(articles)
    with_ends = _f1((tp + ends) / (tp + ends + fp), (tp + ends) / (tp + ends + fn))
    return Result(
        segmenter=name,
        precision=round(precision, 3),
        recall=round(recall, 3),
        f1=round(_f1(precision, recall), 3),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        lenient_precision=round(lenient, 3),
        lenient_f1=round(_f1(lenient, recall), 3),
        f1_with_article_ends=round(with_ends, 3),
        unforgiven=fp - forgiven,
        seconds=round(seconds, 3),
    )


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _ends(spans: Sequence[tuple[int, int]]) -> list[int]:
    return [end for _, end in spans]


def _stripped_ends(text: str, starts_ends: Sequence[tuple[int, int]]) -> list[int]:
    return [start + len(text[start:end].rstrip()) for start, end in starts_ends]


def segmenters() -> dict[str, Splitter]:
    """The segmenters compared, each mapping a text to its sentence-end offsets."""
    import pysbd
    import sentencex

    from mtsum.textprep import split_sentences

    arabic_sbd = pysbd.Segmenter(language="ar", clean=False, char_span=True)
    # The usual one-liner: re.split(r"(?<=[.!?؟])\s+", text).
    regex = re.compile(r"(?<=[.!?؟])\s+")

    def plain_regex(text: str) -> list[int]:
        return [m.start() for m in regex.finditer(text)]

    def run_pysbd(text: str) -> list[int]:
        return _stripped_ends(text, [(s.start, s.end) for s in arabic_sbd.segment(text)])

    def run_sentencex(text: str) -> list[int]:
        found = sentencex.get_sentence_boundaries("ar", text)
        return _stripped_ends(text, [(s["start_index"], s["end_index"]) for s in found])

    return {
        "mtsum": lambda text: _ends(split_sentences(text)),
        "sentencex (ar)": run_sentencex,
        "pysbd (ar)": run_pysbd,
        "regex `(?<=[.!?؟])\\s+`": plain_regex,
    }


def ablations() -> dict[str, Callable[[], contextlib.AbstractContextManager[object]]]:
    """mtsum with one rule switched off, by patching the private rule it lives in."""
    from unittest import mock

    from mtsum import textprep

    with_semicolon = re.compile(textprep._TERMINATOR.pattern.replace("…]", "…؛]"))
    every_quote = re.compile('"')

    def patch(name: str, value: object) -> Callable[[], contextlib.AbstractContextManager[object]]:
        return lambda: mock.patch.object(textprep, name, value)

    return {
        "mtsum, all rules": contextlib.nullcontext,
        "the old rule: quotes and brackets closing on the line protect all they enclose": patch(
            "_asides", lambda line, closing: sorted(old_enclosed_ranges(line))
        ),
        "parentheses protect nothing": patch("_asides", lambda line, closing: []),
        "parentheses protect at any length": patch("_ASIDE_LIMIT", sys.maxsize),
        "every straight quote after a terminator closes": patch(
            "_closing_quotes", lambda line: {m.start() for m in every_quote.finditer(line)}
        ),
        "no continuation rule (lowercase word, speech verb)": patch(
            "_goes_on", lambda line, dot, end: False
        ),
        "also split at ؛": patch("_TERMINATOR", with_semicolon),
        "also split at a mid-line ellipsis": patch("_is_pause", lambda run: False),
        "no abbreviation, initial or list-number rules": patch(
            "_is_abbreviation", lambda line, dot: False
        ),
        "no missing-space rule": patch("_missing_space", lambda line, dot, end, closing: False),
    }


def old_enclosed_ranges(line: str) -> list[tuple[int, int]]:
    """The quote rule before issue 9, as asides: straight quotes paired in turn, and every
    quotation or bracket closing on the line protecting the terminators it encloses but the last
    ("قال: "لا. نعم". ثم" split only after ".)."""
    openers = {"(": ")", "[": "]", "«": "»", "“": "”"}
    ranges = []
    stack: list[tuple[str, int]] = []
    quote = -1
    for index, char in enumerate(line):
        if char == '"':
            if quote < 0:
                quote = index
            else:
                ranges.append((quote, index))
                quote = -1
        elif char in openers:
            stack.append((openers[char], index))
        elif stack and char == stack[-1][0]:
            ranges.append((stack.pop()[1], index))
    ends = ".!?؟…\"'»”’)]"
    shifted = []
    for open_, close in ranges:
        while close - 1 > open_ and line[close - 1] in ends:
            close -= 1  # the terminator just before the closing mark was never protected
        shifted.append((open_, close))
    return shifted


def sentencex_with_fixes() -> Splitter:
    """sentencex, with its splits vetoed where mtsum's Arabic rules say a sentence goes on."""
    import sentencex

    from mtsum import textprep

    def split(text: str) -> list[int]:
        closing = textprep._closing_quotes(text)
        asides = textprep._asides(text, closing)
        kept = []
        for found in sentencex.get_sentence_boundaries("ar", text):
            (end,) = _stripped_ends(text, [(found["start_index"], found["end_index"])])
            match = next(
                (
                    m
                    for m in textprep._TERMINATOR.finditer(text, 0, end)
                    if textprep._closed_end(text, m.end(), closing) == end
                ),
                None,
            )
            if end < len(text) and match is not None:
                run, dot = match.group(), match.start()
                if textprep._is_pause(run) or (run == "." and textprep._is_abbreviation(text, dot)):
                    continue
                if any(open_ < dot < close for open_, close in asides):
                    continue
                if textprep._goes_on(text, dot, end):
                    continue
            kept.append(end)
        return kept

    return split


def english_breaks_counter() -> Callable[[str], int]:
    """Count sentence breaks inside one English line with pysbd's English rules.

    pysbd never splits inside quotation marks ('Danius said, "Right now we are doing nothing. I
    have called ..."' is one sentence to it), so they are blanked first.
    """
    import pysbd

    english = pysbd.Segmenter(language="en", clean=False)
    quotes = re.compile('["“”]')
    return lambda line: max(0, len(english.segment(quotes.sub(" ", line))) - 1)


def english_oracle(articles: Sequence[Article]) -> tuple[float, float]:
    """F1 (strict, with ends) of a segmenter that splits exactly where the English does.

    It finds every line end and, inside each line, as many boundaries as the English reference
    line has sentence breaks, all of them false positives against FLORES's line-end gold.
    """
    tp = sum(len(a.gold) for a in articles)
    fp = sum(sum(a.english_breaks) for a in articles)
    ends = len(articles)
    return _f1(tp / (tp + fp), 1.0), _f1((tp + ends) / (tp + ends + fp), 1.0)


def table(results: Sequence[Result]) -> str:
    """Render results as a markdown table."""
    lines = [
        "| segmenter | P | R | F1 | TP | FP | FN | lenient P | lenient F1 | F1 with ends |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.segmenter} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | "
            f"{r.true_positives} | {r.false_positives} | {r.false_negatives} | "
            f"{r.lenient_precision:.3f} | {r.lenient_f1:.3f} | {r.f1_with_article_ends:.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    if not (DATA / "arb_Arab.devtest").is_file():
        print(f"FLORES-200 devtest not found at {DATA}; nothing to measure.")
        return 0
    articles = load_articles(DATA, english_breaks_counter())
    results = [evaluate(name, split, articles) for name, split in segmenters().items()]
    gold = sum(len(a.gold) for a in articles)
    breaks = [n for article in articles for n in article.english_breaks]
    print(f"FLORES-200 devtest arb_Arab: {len(articles)} articles, {gold} gold boundaries")
    print("(article ends excluded)")
    print(
        f"English reference: {sum(1 for n in breaks if n)} lines hold more than one sentence "
        f"({sum(breaks)} breaks, pysbd en)\n"
    )
    print(table(results))
    ablated: list[Result] = []
    if "--ablations" in sys.argv[1:]:
        from mtsum.textprep import split_sentences

        for name, patch in ablations().items():
            with patch():
                ablated.append(evaluate(name, lambda text: _ends(split_sentences(text)), articles))
        ablated.append(evaluate("sentencex (ar) + mtsum's fixes", sentencex_with_fixes(), articles))
        print("\n" + table(ablated))
    oracle_f1, oracle_with_ends = english_oracle(articles)
    print(
        f"\nSplitting exactly where the English reference has sentence ends scores F1 "
        f"{oracle_f1:.3f} ({oracle_with_ends:.3f} with ends)."
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "data": "flores200-devtest/arb_Arab.devtest",
        "articles": len(articles),
        "gold_boundaries": gold,
        "article_ends": "excluded",
        "english_multi_sentence_lines": sum(1 for n in breaks if n),
        "english_breaks": sum(breaks),
        "english_oracle_f1": round(oracle_f1, 3),
        "english_oracle_f1_with_ends": round(oracle_with_ends, 3),
        "results": [asdict(r) for r in results],
        "ablations": [asdict(r) for r in ablated],
    }
    RESULTS.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
