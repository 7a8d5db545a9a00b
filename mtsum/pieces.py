"""Cut a text too long for a model into pieces that fit its input, dropping nothing.

Translation and summarization both come here when a sentence alone is over the model's input
limit (in the model's own tokens). The cut is made at the best boundary there is:

1. after clause punctuation (``،`` ``,`` ``:`` ``;`` ``؛``) followed by a space;
2. between words;
3. between characters, inside a "word" that alone is over the limit (600 dashes, a long URL, a
   base64 ``data:`` URI): windows as long as the limit allows, measured in the model's tokens.

Then neighbouring pieces are packed back together while their measured join fits, so a sentence
becomes as few pieces as the limit allows.

Every piece is a span of the original text: the pieces are in order, never overlap, and only
whitespace lies between two of them, so every other character is in exactly one piece. A
piece's ``text`` is its span with each run of whitespace made one space, which is what the model
reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mtsum.errors import InputError

__all__ = ["JOIN_SLACK", "Piece", "pack", "split_to_fit"]

# Measured alone, a piece may be tokenized a little differently than inside its join (a word
# that opens a piece loses its leading space), so a join can cost a token or two more than the
# sum of its parts: joins within this slack of the limit are measured, not assumed.
JOIN_SLACK = 2
_CLAUSE_END = re.compile(r"(?<=[،,:;؛])\s+")
_WORD = re.compile(r"\S+")
_CLAUSES, _WORDS, _CHARACTERS = range(3)

Count = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True, kw_only=True)
class Piece:
    """``text[start:end]`` of the text that was split, as the model reads it, and its tokens."""

    start: int
    end: int
    text: str
    tokens: int


def split_to_fit(
    text: str, count_tokens: Count, limit: int, *, start: int = 0, end: int | None = None
) -> list[Piece]:
    """Pieces of ``text[start:end]``, each at most `limit` tokens, covering all of it in order.

    Args:
        text: The text the span lies in (offsets of the pieces index it).
        count_tokens: The model's counter (`mtsum.backends.Seq2Seq.count_tokens`): each text's
            input length, special tokens included.
        limit: The most tokens a piece may have.
        start, end: The span to split; the whole text by default.

    Returns:
        The pieces in order; one when the span fits, none when it is only whitespace.

    Raises:
        InputError: The limit leaves no room for text, or a single character is over it.

    Example:
        >>> words = lambda texts: [len(t.split()) + 1 for t in texts]  # a word a token, + EOS
        >>> [p.text for p in split_to_fit("one two, three four five six.", words, 4)]
        ['one two,', 'three four five', 'six.']
    """
    end = len(text) if end is None else end
    words = [m.span() for m in _WORD.finditer(text, start, end)]
    if not words:
        return []
    a, b = words[0][0], words[-1][1]
    whole = _clean(text[a:b])
    (tokens,) = count_tokens([whole])
    if tokens <= limit:
        return [Piece(start=a, end=b, text=whole, tokens=tokens)]
    (overhead,) = count_tokens([""])
    if limit <= overhead:
        raise InputError(
            f"a limit of {limit} tokens leaves no room for text next to the model's {overhead} "
            "special tokens; raise the limit"
        )
    return _Splitter(text, count_tokens, limit, overhead).split(a, b, _CLAUSES)


def pack(
    tokens: Sequence[int], measure: Callable[[int, int], int], limit: int, overhead: int
) -> list[tuple[int, int, int]]:
    """Greedy groups of consecutive items whose measured join stays within `limit` tokens.

    Args:
        tokens: Each item's own token count, special tokens included.
        measure: ``measure(i, j)`` counts the tokens of items ``i`` to ``j - 1`` joined.
        limit: The most tokens a group may have (an item over it stays a group of its own).
        overhead: The special tokens every count includes once (the count of an empty text).

    Returns:
        ``(i, j, tokens)`` per group of items ``i`` to ``j - 1``, in order.

    Example:
        >>> pack([3, 3, 3], lambda i, j: 2 * (j - i) + 1, 6, 1)
        [(0, 2, 5), (2, 3, 3)]
    """
    groups: list[tuple[int, int, int]] = []
    for k, n in enumerate(tokens):
        if groups:
            i, _, held = groups[-1]
            if held + n - overhead <= limit + JOIN_SLACK:
                measured = measure(i, k + 1)
                if measured <= limit:
                    groups[-1] = (i, k + 1, measured)
                    continue
        groups.append((k, k + 1, n))
    return groups


class _Splitter:
    def __init__(self, text: str, count_tokens: Count, limit: int, overhead: int) -> None:
        self.text = text
        self.count = count_tokens
        self.limit = limit
        self.overhead = overhead

    def split(self, a: int, b: int, level: int) -> list[Piece]:
        if level == _CHARACTERS:
            return self._characters(a, b)
        parts = _clauses(self.text, a, b) if level == _CLAUSES else _words(self.text, a, b)
        if len(parts) == 1:
            return self.split(a, b, level + 1)
        texts = [_clean(self.text[x:y]) for x, y in parts]
        pieces: list[Piece] = []
        for (x, y), text, n in zip(parts, texts, self.count(texts), strict=True):
            if n <= self.limit:
                pieces.append(Piece(start=x, end=y, text=text, tokens=n))
            else:
                pieces.extend(self.split(x, y, level + 1))
        return self._pack(pieces)

    def _characters(self, a: int, b: int) -> list[Piece]:
        """Consecutive windows of the span, each the longest that fits (see `_window`)."""
        pieces = []
        while a < b:
            end, tokens = self._window(a, b)
            pieces.append(Piece(start=a, end=end, text=self.text[a:end], tokens=tokens))
            a = end
        return pieces

    def _window(self, a: int, b: int) -> tuple[int, int]:
        """The end and tokens of the longest window from `a` (up to `b`) within the limit.

        Measured, not guessed: the end doubles in steps from `limit` characters until a window
        is too long, then a binary search finds the longest that fits. A window never ends just
        before a combining mark, so an Arabic vowel sign stays with its letter.
        """
        measured: dict[int, int] = {}

        def fits(end: int) -> bool:
            if end not in measured:
                measured[end] = self.count([self.text[a:end]])[0]
            return measured[end] <= self.limit

        good, bad, step = a, b + 1, self.limit  # bad: the shortest end known not to fit
        while good < b and bad > b:
            end = min(a + step, b)
            if fits(end):
                good, step = end, 2 * step
            else:
                bad = end
        while bad - good > 1 and bad <= b:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if fits(middle) else (good, middle)
        longest = good
        while good - a > 1 and good < b and unicodedata.combining(self.text[good]):
            good -= 1
        if not fits(good):  # tokens need not fall with length; the longest fit is measured
            good = longest
        if good == a:
            raise InputError(
                f"the character {self.text[a]!r} alone is over the limit of {self.limit} tokens; "
                "raise the limit"
            )
        return good, measured[good]

    def _pack(self, pieces: list[Piece]) -> list[Piece]:
        def measure(i: int, j: int) -> int:
            return self.count([_clean(self.text[pieces[i].start : pieces[j - 1].end])])[0]

        groups = pack([p.tokens for p in pieces], measure, self.limit, self.overhead)
        packed = []
        for i, j, tokens in groups:
            if j - i == 1:
                packed.append(pieces[i])
                continue
            x, y = pieces[i].start, pieces[j - 1].end
            packed.append(Piece(start=x, end=y, text=_clean(self.text[x:y]), tokens=tokens))
        return packed


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    parts, at = [], a
    for gap in _CLAUSE_END.finditer(text, a, b):
        parts.append((at, gap.start()))
        at = gap.end()
    return [*parts, (at, b)]


def _words(text: str, a: int, b: int) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text, a, b)]


def _clean(text: str) -> str:
    return " ".join(text.split())
