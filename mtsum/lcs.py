"""ROUGE-L and ROUGE-Lsum in linear memory, scoring exactly as google's rouge-score does.

rouge-score builds the whole longest-common-subsequence table, a Python list of ``len(ref) *
len(hyp)`` cells: two 60,000-word texts need about 29 GB. Here:

* ROUGE-L needs only the LCS length: `lcs_length` runs the bit-parallel algorithm (Allison and
  Dix; Hyyrö), one row of the table as an integer's bits, ``len(hyp)`` bits of memory;
* ROUGE-Lsum needs, for each reference sentence, *which* of its tokens an LCS with each summary
  sentence takes: `lcs_indices` follows rouge-score's own backtrack (``_backtrack_norec``: a
  match goes diagonally, else left when the left cell is larger, else up), so ties break the
  same way and the union of LCSs, hence the score, is the same. A table of more than 2**26
  cells (8 MB of rows) is never held whole: every ``k``-th row is kept (``k`` about the square
  root of the rows), and the rows between two kept ones are computed again, a block at a time,
  as the backtrack walks up through them: memory grows with ``sqrt(len(ref)) * len(hyp)`` bits,
  the work with twice the table.

A row is held as the bits of an int (Hyyrö's encoding: which columns the LCS grows at), so one
step of the table is four operations on ``len(hyp)``-bit ints and a cell is a bit count.

Measured by hand (2 shared cores): ``mtsum score`` of two 60,000-word texts (390 KB, random words)
took 7-11 s and 122 MB peak RSS; before, it was exit 70 (MemoryError) under a 4 GB cap, about 29
GB uncapped. Two 5,000-word texts of 250 sentences each: 3.4 s and 76 MB, before 21.7 s and 271
MB, the same scores to the last digit. Lsum of one 20,000-token sentence each: 1.6 s, 2.2 MB
(tracemalloc), where rouge-score's table is 400 million cells (~3.2 GB). Lsum still scores every
pair of sentences, as rouge-score does: thousands of sentences on both sides take minutes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["lcs_indices", "lcs_length", "rouge_l", "rouge_lsum"]

# Tables up to this many cells (8 MB of rows) are held whole; larger ones in blocks.
_WHOLE_CELLS = 1 << 26


def _masks(b: Sequence[str]) -> dict[str, int]:
    """Each token of `b` and the columns that hold it, as the bits of an int."""
    where: dict[str, list[int]] = {}
    for j, token in enumerate(b):
        where.setdefault(token, []).append(j)
    masks = {}
    for token, columns in where.items():
        bits = bytearray((len(b) + 7) // 8)
        for j in columns:
            bits[j >> 3] |= 1 << (j & 7)
        masks[token] = int.from_bytes(bits, "little")
    return masks


class _Rows:
    """The rows of the LCS table of `a` against `b`, one at a time, as ints: bit j of row i is 0
    where ``table[i][j + 1]`` is one more than ``table[i][j]`` (row 0: all ones)."""

    def __init__(self, b: Sequence[str]) -> None:
        self.masks = _masks(b)
        self.full = (1 << len(b)) - 1

    def next(self, row: int, token: str) -> int:
        match = row & self.masks.get(token, 0)
        return ((row + match) | (row - match)) & self.full


def _cell(row: int, j: int) -> int:
    """``table[i][j]`` from row i (see `_Rows`): j less the columns before j where it stays."""
    return j - (row & ((1 << j) - 1)).bit_count()


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """The length of a longest common subsequence of `a` and `b`.

    Example:
        >>> lcs_length("the cat sat on the mat".split(), "the cat lay on the mat".split())
        5
    """
    if not a or not b:
        return 0
    rows = _Rows(b)
    row = rows.full
    for token in a:
        row = rows.next(row, token)
    return _cell(row, len(b))


def lcs_indices(a: Sequence[str], b: Sequence[str], *, rows: _Rows | None = None) -> list[int]:
    """The indices into `a` of the LCS that rouge-score's ``lcs_ind(a, b)`` picks.

    `rows` is ``_Rows(b)``, when the caller pairs `b` with many sentences.

    Example:
        >>> lcs_indices("a b c d".split(), "b d a".split())
        [1, 3]
    """
    m, n = len(a), len(b)
    if not m or not n:
        return []
    rows = rows if rows is not None else _Rows(b)
    step = m if m * n <= _WHOLE_CELLS else math.isqrt(m) + 1
    kept = {0: rows.full}  # row i, for every i a multiple of `step`
    row = rows.full
    # Only up to the last kept row the backtrack needs (none when the table is held whole).
    for i in range(1, (m - 1) // step * step + 1):
        row = rows.next(row, a[i - 1])
        if i % step == 0:
            kept[i] = row
    found: list[int] = []
    i, j = m, n
    while i > 0 and j > 0:
        # Rows first..i of the block that row i-1 lies in, computed again from its kept row.
        first = (i - 1) // step * step
        block = [kept[first]]
        for r in range(first + 1, i + 1):
            block.append(rows.next(block[-1], a[r - 1]))
        while i > first and j > 0:
            if a[i - 1] == b[j - 1]:
                found.append(i - 1)
                i -= 1
                j -= 1
            elif _cell(block[i - first], j - 1) > _cell(block[i - first - 1], j):
                j -= 1
            else:
                i -= 1
    found.reverse()
    return found


def _f1(precision: float, recall: float) -> float:
    # rouge_score.scoring.fmeasure
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def rouge_l(target: Sequence[str], prediction: Sequence[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of ROUGE-L, as rouge-score's ``_score_lcs``.

    Example:
        >>> rouge_l("the cat sat".split(), "the cat".split())
        (1.0, 0.6666666666666666, 0.8)
    """
    if not target or not prediction:
        return 0.0, 0.0, 0.0
    length = lcs_length(target, prediction)
    precision, recall = length / len(prediction), length / len(target)
    return precision, recall, _f1(precision, recall)


def rouge_lsum(
    target: Sequence[Sequence[str]], prediction: Sequence[Sequence[str]]
) -> tuple[float, float, float]:
    """(precision, recall, F1) of ROUGE-Lsum over tokenized sentences, as rouge-score's
    ``_summary_level_lcs``: the union of each reference sentence's LCSs with every summary
    sentence, each token counted at most as often as it occurs in both.

    Example:
        >>> rouge_lsum([["a", "b"], ["c"]], [["a", "c"], ["b"]])
        (1.0, 1.0, 1.0)
    """
    from collections import Counter

    m = sum(map(len, target))
    n = sum(map(len, prediction))
    if not target or not prediction or not m or not n:
        return 0.0, 0.0, 0.0
    left_target = Counter(t for sentence in target for t in sentence)
    left_prediction = Counter(t for sentence in prediction for t in sentence)
    columns = [_Rows(p) for p in prediction]  # each summary sentence's masks, made once
    hits = 0
    for sentence in target:
        union: set[int] = set()
        for other, rows in zip(prediction, columns, strict=True):
            union.update(lcs_indices(sentence, other, rows=rows))
        for token in (sentence[i] for i in sorted(union)):
            # Prevent double-counting, as rouge-score (and ROUGE 1.5.5) do.
            if left_prediction[token] > 0 and left_target[token] > 0:
                hits += 1
                left_prediction[token] -= 1
                left_target[token] -= 1
    precision, recall = hits / n, hits / m
    return precision, recall, _f1(precision, recall)
