"""Sentence-boundary precision, recall and F1 on a news-style Arabic dev set.

FLORES-200 (``bench/segmentation.py``) is clean, one translation unit per line, with almost no
quoted speech inside a line. Real news paragraphs are full of it, in every form: straight ``"``
for opening and closing alike, ``« »``, ``“ ”`` (sometimes reversed), quotes padded with spaces,
stray quotes left by editing, quotations of several sentences, and datelines, bylines, headlines
and numbered lists. This dev set has two parts:

* **hand-made** (``bench/data/news_dev.txt``, committed): paragraphs written for this set or
  taken from the seed article, one per line, with the gold boundaries marked by ``|``;
* **FLORES-derived** (built here on the fly from ``../shared/data/flores200-devtest``, never
  stored in the repository, skipped without it): consecutive sentences of each FLORES article
  joined into one paragraph the way news prints them, and dressed by a fixed cycle of templates:
  datelines, multi-sentence quotations in each quote style (terminator inside or after the
  closing quote), quotes padded with spaces, a quotation that never closes, stray quotes at the
  start or end of a sentence, attribution after the quote, an inline numbered list.

Gold is what a careful reader calls a sentence end, and was written before the splitter was
changed. Every sentence of a quotation is a sentence; a closing quote or bracket goes with the
sentence it closes; a quotation or parenthesis followed by the rest of its sentence
(``"Is this the end?" asked one resident.``) holds no boundary. In the FLORES part only lines
whose English reference is one sentence (pysbd's English rules) and that end with a terminator
are used, so each line is one sentence and each line end a boundary. As in
``bench/segmentation.py``, a paragraph's own end is not counted: every segmenter finds it.

Run from the repository root::

    .venv/bin/python bench/news_dev.py [--errors] [--ablations]

Prints a markdown table per part and writes ``bench/results/news_dev.json``. ``--errors`` also
lists mtsum's missed and extra boundaries in context; ``--ablations`` scores mtsum with one rule
switched off at a time (the same variants as ``bench/segmentation.py --ablations``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from segmentation import DATA, ablations, english_breaks_counter, load_articles, segmenters

from mtsum.textprep import normalize

ROOT = Path(__file__).resolve().parents[1]
HANDMADE = ROOT / "bench" / "data" / "news_dev.txt"
RESULTS = ROOT / "bench" / "results" / "news_dev.json"

# A gold boundary mark, with the spaces around it: one space stays in the text when there was any.
_MARK = re.compile(r" ?\| ?")
_ENDS_SENTENCE = re.compile(r"[.!?؟]$")


@dataclass(frozen=True)
class Paragraph:
    text: str
    gold: frozenset[int]  # sentence ends inside the paragraph (its own end excluded)
    kind: str  # what the paragraph exercises, e.g. "quote-multi-straight"
    source: str  # "handmade:LINE" or "flores:FIRST-LAST" (0-based FLORES line numbers)


@dataclass(frozen=True)
class Result:
    segmenter: str
    part: str
    paragraphs: int
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def parse_marked(marked: str, *, kind: str, source: str) -> Paragraph:
    """Turn one ``|``-marked line into a paragraph and its gold boundaries.

    Raises:
        ValueError: a mark at the start or end of the line, or two marks in a row.
    """
    text, gold = "", set()
    pieces = _MARK.split(marked)
    marks = _MARK.findall(marked)
    for index, piece in enumerate(pieces):
        if not piece.strip():
            raise ValueError(f"{source}: a '|' mark with no sentence on one side: {marked!r}")
        text += piece
        if index < len(marks):
            gold.add(len(text.rstrip()))
            text += " " if marks[index].strip(" ") != marks[index] else ""
    return Paragraph(text=text, gold=frozenset(gold), kind=kind, source=source)


def load_handmade(path: Path = HANDMADE) -> list[Paragraph]:
    """Read the committed hand-made paragraphs; ``## kind`` lines set the kind of those below."""
    paragraphs, kind = [], "unknown"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("## "):
            kind = line[3:].strip()
        elif line.strip() and not line.startswith("#"):
            # mtsum segments normalized text ("هـ." is "ه."), so every segmenter is given it.
            marked = normalize(line)
            paragraphs.append(parse_marked(marked, kind=kind, source=f"handmade:{number}"))
    return paragraphs


# Hand-written frames for the FLORES part. Each template takes the paragraph's sentences (each
# ending with a terminator) and the paragraph's number, and returns a "|"-marked paragraph.
_ATTRIBUTIONS = (
    "وقال المتحدث باسم الوزارة",
    "وقالت الشرطة في بيان",
    "وأضاف المصدر",
    "وقال مسؤول طلب عدم نشر اسمه",
    "وكتب الباحث في تقريره",
    "وقالت المتحدثة باسم المنظمة للصحفيين",
    "وأوضح الخبير",
    "ونقلت الوكالة عن مصدر مطلع قوله",
)
_DATELINES = (
    "القاهرة (رويترز) - ",
    "بيروت (أ ف ب) - ",
    'لندن - "القدس العربي": ',
    "الرباط - “القدس العربي”: ",
    "واشنطن (د. ب. أ) - ",
    "دبي (CNN) -- ",
    "عمان - بترا - ",
    "الدوحة (الأناضول) – ",
)
_AFTER_QUOTE = ("، قال المتحدث.", "، بحسب ما قاله مسؤول في الوزارة.", "، قالت الباحثة للصحفيين.")


def _quoted(
    opening: str, closing: str, *, outside: bool = False, pad: str = ""
) -> Callable[[list[str], int], str]:
    """A lead sentence, then the next two quoted after an attribution, then the rest.

    ``outside`` moves a final period after the closing quote (``يكفي".``); ``pad`` puts a space
    inside the quotes, as many Arabic sites type them (``" نص "``).
    """

    def frame(sentences: list[str], number: int) -> str:
        lead = sentences[:1] if len(sentences) > 2 else []
        first, second, *rest = sentences[len(lead) :]
        attribution = _ATTRIBUTIONS[number % len(_ATTRIBUTIONS)]
        if outside and second.endswith("."):
            last = f"{second[:-1]}{pad}{closing}."
        else:
            last = f"{second}{pad}{closing}"
        quote = f"{attribution}: {opening}{pad}{first} | {last}"
        return " | ".join([*lead, quote, *rest])

    return frame


def _plain(sentences: list[str], number: int) -> str:
    return " | ".join(sentences)


def _dateline(sentences: list[str], number: int) -> str:
    return _DATELINES[number % len(_DATELINES)] + " | ".join(sentences)


def _never_closes(sentences: list[str], number: int) -> str:
    # A quotation that runs on into the next paragraph leaves no closing quote in this one.
    attribution = _ATTRIBUTIONS[number % len(_ATTRIBUTIONS)]
    return f'{attribution}: "' + " | ".join(sentences)


def _stray_at_start(sentences: list[str], number: int) -> str:
    return " | ".join([*sentences[:1], '"' + sentences[1], *sentences[2:]])


def _stray_at_end(sentences: list[str], number: int) -> str:
    return " | ".join([sentences[0] + '"', *sentences[1:]])


def _attribution_after(sentences: list[str], number: int) -> str:
    # "S1. S2"، قال المتحدث. -- the attribution closes the second sentence.
    first, second, *rest = sentences
    tail = _AFTER_QUOTE[number % len(_AFTER_QUOTE)]
    second = second.removesuffix(".")
    return " | ".join([f'"{first}', f'{second}"{tail}', *rest])


def _numbered(sentences: list[str], number: int) -> str:
    items = [f"{index}. {sentence}" for index, sentence in enumerate(sentences, start=1)]
    return "وجاء في التقرير: " + " | ".join(items)


_TEMPLATES: tuple[tuple[str, Callable[[list[str], int], str]], ...] = (
    ("plain", _plain),
    ("quote-multi-straight", _quoted('"', '"', outside=True)),
    ("dateline", _dateline),
    ("quote-multi-straight", _quoted('"', '"')),
    ("quote-multi-guillemets", _quoted("«", "»", outside=True)),
    ("quote-stray", _stray_at_start),
    ("quote-multi-curly", _quoted("“", "”")),
    ("quote-spaced", _quoted('"', '"', pad=" ")),
    ("quote-stray", _never_closes),
    ("quote-multi-guillemets", _quoted("«", "»")),
    ("quote-attribution-after", _attribution_after),
    ("quote-multi-curly-reversed", _quoted("”", "“", outside=True)),
    ("quote-stray", _stray_at_end),
    ("numbered-list", _numbered),
)


def _usable(line: str, english_breaks: int) -> bool:
    """A FLORES line that is one sentence, ends like one, and carries no quotation of its own."""
    return (
        english_breaks == 0
        and bool(_ENDS_SENTENCE.search(line))
        and "|" not in line
        and line.count('"') % 2 == 0
        and not line.startswith('"')
        and not set(line) & set("«»“”")
    )


def _runs(folder: Path) -> Iterator[tuple[int, list[str]]]:
    """Runs of two or more consecutive usable lines of a FLORES article, with the first's number."""
    line_number = 0
    for article in load_articles(folder, english_breaks_counter()):
        run: list[str] = []
        first = line_number
        for (start, end), breaks in zip(article.lines, article.english_breaks, strict=True):
            line = article.text[start:end]
            if _usable(line, breaks):
                if not run:
                    first = line_number
                run.append(line)
            else:
                if len(run) >= 2:
                    yield first, run
                run = []
            line_number += 1
        if len(run) >= 2:
            yield first, run


def flores_paragraphs(folder: Path = DATA) -> list[Paragraph]:
    """Build the FLORES-derived part; empty when FLORES is not there."""
    if not (folder / "arb_Arab.devtest").is_file():
        return []
    paragraphs = []
    for number, (first, sentences) in enumerate(_runs(folder)):
        kind, frame = _TEMPLATES[number % len(_TEMPLATES)]
        source = f"flores:{first}-{first + len(sentences) - 1}"
        paragraphs.append(parse_marked(frame(sentences, number), kind=kind, source=source))
    return paragraphs


def predicted(split: Callable[[str], list[int]], paragraph: Paragraph) -> set[int]:
    final = len(paragraph.text)
    return {b for b in split(paragraph.text) if 0 < b < final}


def evaluate(
    name: str, split: Callable[[str], list[int]], part: str, paragraphs: Sequence[Paragraph]
) -> Result:
    """Score one segmenter over paragraphs (micro-averaged over boundaries)."""
    tp = fp = fn = 0
    for paragraph in paragraphs:
        found = predicted(split, paragraph)
        tp += len(found & paragraph.gold)
        fp += len(found - paragraph.gold)
        fn += len(paragraph.gold - found)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Result(
        segmenter=name,
        part=part,
        paragraphs=len(paragraphs),
        precision=round(precision, 3),
        recall=round(recall, 3),
        f1=round(f1, 3),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )


def table(results: Sequence[Result]) -> str:
    lines = [
        "| segmenter | part | P | R | F1 | TP | FP | FN |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.segmenter} | {r.part} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | "
            f"{r.true_positives} | {r.false_positives} | {r.false_negatives} |"
        )
    return "\n".join(lines)


def errors(split: Callable[[str], list[int]], paragraphs: Sequence[Paragraph]) -> list[str]:
    """mtsum's missed (FN) and extra (FP) boundaries, each shown as ``before ‖ after``."""
    shown = []
    for paragraph in paragraphs:
        found = predicted(split, paragraph)
        for label, wrong in (("FN", paragraph.gold - found), ("FP", found - paragraph.gold)):
            for b in sorted(wrong):
                text = paragraph.text
                shown.append(
                    f"{label} {paragraph.source} {paragraph.kind}: "
                    f"{text[max(0, b - 60) : b]} ‖ {text[b : b + 40]}"
                )
    return shown


def main() -> int:
    handmade = load_handmade()
    flores = flores_paragraphs()
    parts = {"hand-made": handmade, "FLORES-derived": flores, "all": [*handmade, *flores]}
    if not flores:
        print(f"FLORES-200 devtest not found at {DATA}; scoring the hand-made part only.")
        del parts["FLORES-derived"], parts["all"]
    for part, paragraphs in parts.items():
        gold = sum(len(p.gold) for p in paragraphs)
        print(f"{part}: {len(paragraphs)} paragraphs, {gold} gold boundaries")
    results = [
        evaluate(name, split, part, paragraphs)
        for part, paragraphs in parts.items()
        for name, split in segmenters().items()
    ]
    print("\n" + table(results))
    ablated: list[Result] = []
    if "--ablations" in sys.argv[1:]:
        mtsum = segmenters()["mtsum"]
        for name, patch in ablations().items():
            with patch():
                ablated += [evaluate(name, mtsum, part, ps) for part, ps in parts.items()]
        print("\n" + table(ablated))
    if "--errors" in sys.argv[1:]:
        mtsum = segmenters()["mtsum"]
        print("\n" + "\n".join(errors(mtsum, [*handmade, *flores])))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "data": {
            "hand-made": str(HANDMADE.relative_to(ROOT)),
            "FLORES-derived": "flores200-devtest/arb_Arab.devtest, built by bench/news_dev.py",
        },
        "parts": {
            part: {"paragraphs": len(ps), "gold_boundaries": sum(len(p.gold) for p in ps)}
            for part, ps in parts.items()
        },
        "kinds": _kinds([*handmade, *flores]),
        "results": [asdict(r) for r in results],
        "ablations": [asdict(r) for r in ablated],
    }
    RESULTS.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


def _kinds(paragraphs: Sequence[Paragraph]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for paragraph in paragraphs:
        counts[paragraph.kind] = counts.get(paragraph.kind, 0) + 1
    return dict(sorted(counts.items()))


if __name__ == "__main__":
    sys.exit(main())
