"""Tie each summary sentence to the source paragraphs that support it, and flag what has none.

Every summary sentence is scored against every source paragraph and every pair of adjacent
paragraphs (abstractive summaries fuse neighbouring facts) by an ``Aligner``: anything with a
``name`` and a ``score(sentences, units)`` method returning a sentences x units matrix in [0, 1].
The default ``LexicalAligner`` needs no model. Its score is mostly the weighted share of the
sentence's content words that the unit contains, and a quarter the share of its adjacent
content-word pairs (bigrams) that the unit contains, so word order counts a little::

    score(s, u) = 3/4 * sum(w(t) for t in words(s) & words(u)) / sum(w(t) for t in words(s))
                + 1/4 * |bigrams(s) & bigrams(u)| / |bigrams(s)|
    w(t)        = idf(t) * (2 if t is a number, a date or a percentage else 1)
    idf(t)      = ln((1 + units) / (1 + units containing t)) + 1      # over this document only

Words are lowercased and Porter-stemmed (rouge-score's stemmer, from nltk), stop words are dropped,
and numbers, dates and percentages become their canonical values from ``mtsum.numbers``, so "2
million" matches "2,000,000". A word found nowhere in the document gets the largest idf, so an
invented word costs the most. Names (capitalized mid-sentence) can be weighted too, but on FRANK
that lowered the correlation with human judgements, so by default they weigh as any word.

A sentence's ``support`` is its best alignment score. It is flagged ``unsupported`` below the
threshold, and ``number_not_in_source`` when it has a figure that no source paragraph contains.
``document_support`` is the mean squared support, a sentence with a wrong figure counting 0.

Example::

    >>> check = check_english(["Rain fell in Cairo on Monday.", "Markets closed early."],
    ...                       ["Rain fell in Cairo."])
    >>> check.sentences[0].alignments[0].paragraphs, check.sentences[0].support
    ((0,), 1.0)
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mtsum.errors import InputError, ModelError
from mtsum.numbers import Quantity, extract_quantities, missing_quantities

__all__ = [
    "DEFAULT_THRESHOLD",
    "Aligner",
    "Alignment",
    "Check",
    "LexicalAligner",
    "SentenceSupport",
    "align",
    "check_english",
    "document_support",
]

# Calibrated on FRANK validation by `.venv/bin/python bench/faithfulness.py` (bench/README.md):
# the t whose share of sentences with support >= t best fits the human share of factual sentences
# of each summary (mean squared error 0.086, against 0.206 for predicting the mean). On sentences
# of summaries judged wholly factual or unfactual it has a balanced accuracy of 0.90.
DEFAULT_THRESHOLD = 0.74

_STOP_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own said same says say she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    """
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD_RE = re.compile(r"[^\W_]+")
_SENTENCE_START = frozenset(".!?:;\"'“‘(")


class Aligner(Protocol):
    """Scores summary sentences against candidate source units (paragraphs or fused pairs)."""

    @property
    def name(self) -> str:
        """The aligner and every setting that changes its scores, as one signature field's
        value (no ``|``), e.g. ``lexical(porter,idf=yes,...)``."""
        ...

    def score(self, sentences: Sequence[str], units: Sequence[str]) -> list[list[float]]:
        """Return a len(sentences) x len(units) matrix of support scores in [0, 1]."""
        ...


@dataclass(frozen=True)
class Alignment:
    """Source paragraphs (0-based; a fused pair is ``(i, i + 1)``) and how well they support."""

    paragraphs: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class SentenceSupport:
    """One summary sentence, its best alignments, its support and its flags."""

    text: str
    support: float
    alignments: tuple[Alignment, ...]
    flags: tuple[str, ...]
    missing_numbers: tuple[Quantity, ...]


@dataclass(frozen=True)
class Check:
    """A summary checked against its source: document support and one record per sentence."""

    support: float
    sentences: tuple[SentenceSupport, ...]
    aligner: str
    threshold: float


def _make_stemmer() -> Callable[[str], str]:
    from nltk.stem import porter  # rouge-score's own dependency; imported when first needed

    stemmer, cache = porter.PorterStemmer(), {}

    def stem(word: str) -> str:
        if word not in cache:
            cache[word] = stemmer.stem(word) if len(word) > 3 else word  # as rouge-score does
        return cache[word]

    return stem


def _quantity_words(quantity: Quantity) -> list[str]:
    """Canonical tokens of a figure; a date gives its year (as a number) and month-day apart."""
    if quantity.kind == "year":
        return [f"#{quantity.value.removeprefix('year:')}"]  # "in 2000" ~ "2,000"
    if quantity.kind != "date":
        return [f"#{quantity.value}"]
    year, _, rest = quantity.value.removeprefix("date:").partition("-")
    month_day = rest.lstrip("-")
    words = [f"#{year}"] if year else []
    return [*words, f"#date:{month_day}" if "-" in month_day else f"#month:{month_day}"]


def _content_words(text: str, stem: Callable[[str], str]) -> tuple[dict[str, str], list[str]]:
    """Content words (stemmed, or canonical figures), each with its kind, and in text order.

    The kind is "number", "name" (capitalized mid-sentence) or "word".
    """
    kinds: dict[str, str] = {}
    positioned: list[tuple[int, str]] = []
    chars = list(text)
    for quantity in extract_quantities(text):
        chars[quantity.start : quantity.end] = " " * (quantity.end - quantity.start)
        for word in _quantity_words(quantity):
            kinds[word] = "number"
            positioned.append((quantity.start, word))
    rest = "".join(chars)
    previous = ""  # the last non-space character before the current word
    position = 0
    for match in _WORD_RE.finditer(rest):
        gap = rest[position : match.start()].strip()
        previous, position = (gap[-1] if gap else previous), match.end()
        word, lower = match[0], match[0].lower()
        # The first word of a sentence is capitalized whatever it is, so it proves nothing.
        is_name = word[0].isupper() and previous != "" and previous not in _SENTENCE_START
        previous = word[-1]
        if lower in _STOP_WORDS or len(lower) < 2:
            continue
        stemmed = stem(lower)
        if kinds.get(stemmed) != "number":
            kinds[stemmed] = "name" if is_name or kinds.get(stemmed) == "name" else "word"
        positioned.append((match.start(), stemmed))
    return kinds, [word for _, word in sorted(positioned)]


@dataclass(frozen=True, kw_only=True)
class LexicalAligner:
    """Weighted content-word precision of a sentence against a unit, plus word order; no model.

    The defaults were chosen on FRANK validation (``bench/faithfulness.py``, see
    bench/README.md): doubling the weight of names there lowered the correlation with human
    judgements (summaries copy names right and get relations wrong), so names weigh as any word.

    Attributes:
        number_weight: weight multiplier of numbers, dates and percentages.
        name_weight: weight multiplier of name-like words (capitalized mid-sentence).
        bigram_weight: share of the score given to the precision of adjacent content-word pairs,
            so that "Ali beat Omar" is not fully supported by "Omar beat Ali".
        idf: weight words by their inverse frequency over the units being scored.
    """

    number_weight: float = 2.0
    name_weight: float = 1.0
    bigram_weight: float = 0.25
    idf: bool = True

    @property
    def name(self) -> str:
        """This aligner and its settings, e.g. ``lexical(porter,idf=yes,numbers=2,...)``."""
        return (
            f"lexical(porter,idf={'yes' if self.idf else 'no'},numbers={self.number_weight:g},"
            f"names={self.name_weight:g},bigrams={self.bigram_weight:g})"
        )

    def score(self, sentences: Sequence[str], units: Sequence[str]) -> list[list[float]]:
        """Score every sentence against every unit; see the module docstring for the formula.

        Args:
            sentences: summary sentences.
            units: candidate source texts.

        Returns:
            A len(sentences) x len(units) matrix in [0, 1]; a sentence without content words
            scores 0 everywhere, as there is nothing in it that a source could confirm.
        """
        stem = _make_stemmer()
        unit_words, unit_bigrams = [], []
        for unit in units:
            kinds, order = _content_words(unit, stem)
            unit_words.append(set(kinds))
            unit_bigrams.append(set(itertools.pairwise(order)))
        df: dict[str, int] = {}
        for words in unit_words:
            for word in words:
                df[word] = df.get(word, 0) + 1
        boost = {"number": self.number_weight, "name": self.name_weight, "word": 1.0}
        matrix = []
        for sentence in sentences:
            kinds, order = _content_words(sentence, stem)
            weights = {
                word: boost[kind]
                * (math.log((1 + len(units)) / (1 + df.get(word, 0))) + 1 if self.idf else 1.0)
                for word, kind in kinds.items()
            }
            total = sum(weights.values())
            bigrams = set(itertools.pairwise(order))
            row = []
            for words, pairs in zip(unit_words, unit_bigrams, strict=True):
                found = sum(weight for word, weight in weights.items() if word in words)
                score = found / total if total else 0.0
                if bigrams:  # a one-word sentence has no order to check
                    share = len(bigrams & pairs) / len(bigrams)
                    score = (1 - self.bigram_weight) * score + self.bigram_weight * share
                row.append(score)
            matrix.append(row)
        return matrix


def _validate(
    sentences: Sequence[str], paragraphs: Sequence[str], top_k: int, threshold: float
) -> None:
    if isinstance(sentences, str) or isinstance(paragraphs, str):
        raise InputError("sentences and paragraphs must be sequences of strings, not one string")
    if not any(paragraph.strip() for paragraph in paragraphs):
        raise InputError("the source has no text: give at least one non-empty paragraph")
    for index, sentence in enumerate(sentences):
        if not sentence.strip():
            raise InputError(f"summary sentence {index} is empty: drop it before aligning")
    if top_k < 1:
        raise InputError(f"top_k={top_k} must be at least 1")
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"threshold={threshold} must be between 0 and 1")


def align(
    sentences: Sequence[str],
    paragraphs: Sequence[str],
    *,
    aligner: Aligner | None = None,
    top_k: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[SentenceSupport]:
    """Find the source paragraphs (or adjacent pairs) that best support each summary sentence.

    A pair ``(i, i + 1)`` is reported only when it scores higher than both of its paragraphs
    alone; otherwise the single paragraph is the more precise pointer.

    Args:
        sentences: the summary, one sentence per item; may be empty.
        paragraphs: the source, one paragraph per item.
        aligner: the scorer; ``LexicalAligner()`` when None.
        top_k: how many alignments to keep per sentence, best first.
        threshold: support below which a sentence is flagged ``unsupported``.

    Returns:
        One ``SentenceSupport`` per sentence, in order.

    Raises:
        InputError: the source is empty, a sentence is blank, or an option is out of range.
        ModelError: the aligner returned a matrix of the wrong shape or out of [0, 1].

    Example:
        >>> [s.flags for s in align(["Cairo flooded.", "Mars attacked."], ["Cairo flooded."])]
        [(), ('unsupported',)]
    """
    _validate(sentences, paragraphs, top_k, threshold)
    if not sentences:
        return []
    aligner = aligner if aligner is not None else LexicalAligner()
    units = [(i,) for i in range(len(paragraphs))]
    units += [(i, i + 1) for i in range(len(paragraphs) - 1)]
    texts = [" ".join(paragraphs[i] for i in unit) for unit in units]
    matrix = aligner.score(sentences, texts)
    if len(matrix) != len(sentences) or any(len(row) != len(units) for row in matrix):
        shape = f"{len(sentences)}x{len(units)}"
        raise ModelError(
            f"aligner {aligner.name!r} must return a {shape} matrix (sentences x units)"
        )
    results = []
    for sentence, row in zip(sentences, matrix, strict=True):
        if any(not 0.0 <= score <= 1.0 for score in row):
            raise ModelError(f"aligner {aligner.name!r} returned a score outside [0, 1]")
        single = row[: len(paragraphs)]
        candidates = [
            Alignment(unit, float(score))
            for unit, score in zip(units, row, strict=True)
            if score > 0 and (len(unit) == 1 or score > max(single[unit[0]], single[unit[1]]))
        ]
        candidates.sort(key=lambda a: (-a.score, len(a.paragraphs), a.paragraphs))
        best = candidates[:top_k]
        support = best[0].score if best else 0.0
        missing = tuple(missing_quantities(sentence, paragraphs))
        flags = ("unsupported",) * (support < threshold) + ("number_not_in_source",) * bool(missing)
        results.append(SentenceSupport(sentence, support, tuple(best), flags, missing))
    return results


def document_support(sentences: Sequence[SentenceSupport]) -> float:
    """Score a whole summary: the mean of its sentences' squared supports.

    Squaring makes a half-supported sentence count a quarter, so one made-up sentence pulls a
    summary down more than a plain mean would. A sentence with a figure the source lacks
    (``number_not_in_source``) counts 0: a wrong number makes it wrong however many of its words
    match. Both choices raise the correlation with human judgements on FRANK validation
    (bench/README.md).

    Args:
        sentences: the output of ``align`` for one summary.

    Returns:
        A score in [0, 1].

    Raises:
        InputError: there are no sentences.
    """
    if not sentences:
        raise InputError("the summary has no sentences to score: give at least one")
    return sum(0.0 if s.missing_numbers else s.support**2 for s in sentences) / len(sentences)


def check_english(
    paragraphs: Sequence[str],
    sentences: Sequence[str],
    *,
    aligner: Aligner | None = None,
    top_k: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
) -> Check:
    """Check English summary sentences against English paragraphs: ``align`` each sentence,
    then ``document_support`` (`mtsum.check` translates an Arabic source first).

    Args:
        paragraphs: the source, one paragraph per item.
        sentences: the summary, one sentence per item.
        aligner: the scorer; ``LexicalAligner()`` when None.
        top_k: how many alignments to keep per sentence.
        threshold: support below which a sentence is flagged ``unsupported``.

    Returns:
        A ``Check`` with the document support, the per-sentence records, the aligner's name and
        the threshold used.

    Raises:
        InputError: the summary or the source is empty, or an option is out of range.
        ModelError: the aligner misbehaved.
    """
    aligner = aligner if aligner is not None else LexicalAligner()
    supports = align(sentences, paragraphs, aligner=aligner, top_k=top_k, threshold=threshold)
    return Check(document_support(supports), tuple(supports), aligner.name, threshold)
