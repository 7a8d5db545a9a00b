"""Read, normalize and segment a document into paragraphs and sentences.

The first stage of the pipeline: bytes -> validated text -> normalized text -> ``Segment`` records.
Offsets always point into ``normalize(text)``, so the normalized document can be rebuilt exactly:
``normalized[s.start:s.end] == s.text`` and only whitespace lies between consecutive segments.

Sentence rules (measured on FLORES-200 Arabic, see ``bench/segmentation.py``):

* a sentence ends after ``.`` ``!`` ``?`` ``؟`` (or a run such as ``?!``), together with any
  closing quotes and brackets, when whitespace or the end of the line follows;
* a run of two or more dots (``..``, ``...``, ``…``) inside a line is a pause, as in the Arabic
  headline style "دون خسارة السعوديين.. روسيا تعزز"; at the end of a line it ends the sentence;
* ``؛`` (Arabic semicolon) joins clauses like ``;`` and does not end a sentence;
* no split inside numbers (``3.5``, ``24:00``), after initials (``J.``, ``د.``, ``دي. كي.``),
  known abbreviations (``Dr.``, ``e.g.``, ``م.``) or a list number opening a line (``1.``), nor
  inside a quotation or bracket that closes later on the same line;
* every line end ends a sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mtsum.errors import InputError

__all__ = [
    "Segment",
    "arabic_share",
    "decode_document",
    "normalize",
    "paragraphs",
    "read_document",
    "segment",
    "split_sentences",
]


@dataclass(frozen=True)
class Segment:
    """One sentence of a document, located in the normalized text."""

    text: str  # the sentence, without surrounding whitespace
    paragraph: int  # 0-based index of the paragraph (non-blank line) in the document
    sentence: int  # 0-based index of the sentence within its paragraph
    start: int  # offset into normalize(document): normalized[start:end] == text
    end: int


# Tatweel (U+0640) is a stretch for justification; zero-width and bidi controls (and a stray BOM)
# are invisible. All of them split words for the tokenizers and are dropped.
_INVISIBLE = [0x0640, 0x061C, 0x2060, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F)]
_TABLE: dict[int, str | None] = {
    **dict.fromkeys([*_INVISIBLE, *range(0x2066, 0x206A)]),
    **{0x00A0: " ", 0x202F: " ", 0x2028: "\n", 0x2029: "\n"},
}

_ARABIC = "\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\ufb50-\ufdff\ufe70-\ufefc"
_ARABIC_LETTER = re.compile(f"[{_ARABIC}]")
_ARABIC_WORD = re.compile(f"[{_ARABIC}]+")
# A terminator run, then the closing quotes and brackets that belong to the same sentence.
_TERMINATOR = re.compile(r"([.!?؟…]+)([\"'»”’)\]]*)")
_OPENERS = {"(": ")", "[": "]", "«": "»", "“": "”"}
_OPENING = "\"'«“‘(["
_NEXT_TOKEN = re.compile(r"\s*(\S*)")
# English abbreviations that take a period, matched case-insensitively. Dotted forms (e.g., U.S.)
# and single letters -- which covers the Arabic ones: د. doctor, أ. professor, م. engineer or AD,
# ه. AH, ص. page, ج. part -- have their own rules in _is_abbreviation.
_ABBREVIATION_WORDS = (
    " mr mrs ms messrs dr prof st jr sr mt ft vs etc inc ltd corp gen col lt sgt capt cmdr gov sen"
    " rep rev fig figs vol pp ed approx dept univ ph.d jan feb mar apr jun jul aug sep sept oct nov"
    " dec "
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def decode_document(data: bytes, *, name: str) -> str:
    """Decode a document's bytes: UTF-8 (BOM stripped), or UTF-16 when it starts with a BOM.

    Args:
        data: the raw bytes of the document.
        name: how to call the document in error messages (a file name, ``<stdin>``).

    Returns:
        The decoded text, not normalized.

    Raises:
        InputError: the document is empty, binary (NUL bytes), not valid UTF-8 / UTF-16, or has
            nothing but whitespace and invisible characters.

    Example:
        >>> decode_document("\ufeffمرحبا".encode(), name="a.txt")
        'مرحبا'
    """
    if not data:
        raise InputError(f"{name}: the file is empty; pass a document with text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")  # the BOM picks the byte order and is dropped
        except UnicodeDecodeError as err:
            raise InputError(
                f"{name}: not valid UTF-16 at byte {err.start} (save it as UTF-8)"
            ) from None
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise InputError(f"{name}: binary data (NUL byte at byte {nul}); pass a text file")
        skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        try:
            text = data[skip:].decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(
                f"{name}: not valid UTF-8 at byte {err.start + skip} (save it as UTF-8)"
            ) from None
    if "\x00" in text:
        raise InputError(f"{name}: binary data (NUL character); pass a text file")
    if not normalize(text).strip():
        raise InputError(f"{name}: has only whitespace or invisible characters; pass some text")
    return text


def read_document(path: str | Path) -> str:
    """Read a document file and decode it with :func:`decode_document`.

    Args:
        path: the file to read.

    Returns:
        The decoded text, not normalized.

    Raises:
        InputError: when the file is missing, a directory, unreadable, or fails decoding.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory; pass a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as err:
        raise InputError(
            f"{path}: cannot be read ({err.strerror}); check its permissions"
        ) from None
    return decode_document(data, name=str(path))


def normalize(text: str) -> str:
    """Normalize text: NFC, drop tatweel and invisible controls, NBSP to space, ``\\n`` lines.

    Diacritics are kept.

    Example:
        >>> normalize("الـعـربية\\u00a0نص\\r\\n")
        'العربية نص\\n'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text.translate(_TABLE))


def segment(text: str) -> list[Segment]:
    """Normalize ``text`` and cut it into paragraphs (non-blank lines) and sentences.

    Args:
        text: a document, normalized or not.

    Returns:
        The sentences in document order; offsets point into ``normalize(text)``. Empty when the
        text has no visible characters.

    Example:
        >>> [s.text for s in segment("جاء د. أحمد. ثم ذهب؟\\n\\nNew line")]
        ['جاء د. أحمد.', 'ثم ذهب؟', 'New line']
    """
    normalized = normalize(text)
    segments: list[Segment] = []
    paragraph = 0
    offset = 0
    for line in normalized.split("\n"):
        spans = split_sentences(line)
        for number, (start, end) in enumerate(spans):
            segments.append(
                Segment(line[start:end], paragraph, number, offset + start, offset + end)
            )
        paragraph += bool(spans)
        offset += len(line) + 1
    return segments


def paragraphs(segments: Sequence[Segment]) -> list[str]:
    """Join each paragraph's sentences with one space; item ``i`` is paragraph ``i``.

    Example:
        >>> paragraphs(segment("A b. C d.\\nE f."))
        ['A b. C d.', 'E f.']
    """
    joined: list[list[str]] = []
    for seg in segments:
        while len(joined) <= seg.paragraph:
            joined.append([])
        joined[seg.paragraph].append(seg.text)
    return [" ".join(texts) for texts in joined]


def arabic_share(text: str) -> float:
    """Return the share of letters in ``text`` that are Arabic letters (0.0 when no letters).

    Example:
        >>> arabic_share("abc دون")
        0.5
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _ARABIC_LETTER.match(ch)) / len(letters)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Find the sentences of one paragraph; every line break also ends a sentence.

    Args:
        text: a paragraph (Arabic or English), ideally normalized.

    Returns:
        ``(start, end)`` spans, in order, with surrounding whitespace excluded.

    Example:
        >>> split_sentences("قال م. علي: نعم. لا؟")
        [(0, 16), (17, 20)]
    """
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        start = 0
        for end in [*_line_boundaries(line), len(line)]:
            piece = line[start:end]
            if piece.strip():
                left = start + len(piece) - len(piece.lstrip())
                right = start + len(piece.rstrip())
                spans.append((offset + left, offset + right))
            start = end
        offset += len(line) + 1
    return spans


def _line_boundaries(line: str) -> list[int]:
    """Offsets (after closing quotes and brackets) where a sentence ends inside one line."""
    # Sweep the enclosed ranges by their opening: a terminator is enclosed when a range opened
    # before it closes after it. Everything here stays linear in the line's length.
    enclosed = iter(sorted(_enclosed_ranges(line)))
    pending = next(enclosed, None)
    furthest_close = -1
    last = len(line.rstrip())
    found = []
    for match in _TERMINATOR.finditer(line, 0, last):
        run, dot, end = match.group(1), match.start(), match.end()
        while pending is not None and pending[0] < dot:
            furthest_close = max(furthest_close, pending[1])
            pending = next(enclosed, None)
        if end >= last:
            continue  # the line end is a boundary anyway
        if not line[end].isspace() and not _missing_space(line, dot, end):
            continue  # 3.5, 24:00, e.g, www.site.com
        if _is_pause(run) or (run == "." and _is_abbreviation(line, dot)):
            continue
        if furthest_close >= end:
            continue  # quoted speech or a parenthesis goes on after this sentence
        found.append(end)
    return found


def _is_pause(run: str) -> bool:
    """An ellipsis (``..``, ``...``, ``…``) inside a line marks a pause, not an end."""
    return not set(run) & set("!?؟") and run.count(".") + 2 * run.count("…") >= 2


def _missing_space(line: str, dot: int, end: int) -> bool:
    """Whether one terminator is glued between two Arabic words, as in "جملة.جملة"."""
    return dot + 1 == end and _is_arabic_at(line, dot - 1) and _is_arabic_at(line, end)


def _is_arabic_at(line: str, index: int) -> bool:
    return 0 <= index < len(line) and bool(_ARABIC_LETTER.match(line[index]))


def _first_token(line: str, index: int) -> str:
    """The first token at or after ``index`` (without copying the rest of the line)."""
    match = _NEXT_TOKEN.match(line, index)
    return match.group(1) if match else ""


def _token_before(line: str, index: int) -> tuple[int, str]:
    """Where the token that ends at ``index`` starts, and the token without opening quotes."""
    start = index
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return start, line[start:index].lstrip(_OPENING)


def _is_initial(token: str) -> bool:
    """Whether ``token`` looks like an initial: one letter, or two Arabic letters, and a period."""
    letters = token[:-1]
    return token.endswith(".") and (
        (len(letters) == 1 and letters.isalpha())
        or (len(letters) == 2 and bool(_ARABIC_WORD.fullmatch(letters)))
    )


def _is_abbreviation(line: str, dot: int) -> bool:
    """Whether the period at ``dot`` closes an initial, an abbreviation or a list number."""
    start, word = _token_before(line, dot)
    if not word:
        return False
    after = _first_token(line, dot + 1).lstrip(_OPENING)
    if word.lower() in _ABBREVIATIONS or re.fullmatch(r"(?:\w\.)+\w", word):
        return True  # Dr. / e.g. / U.S.
    if word.lower() == "no" and after[:1].isdigit():
        return True  # "No. 1"; a plain "no." ends a sentence
    first = _NEXT_TOKEN.match(line)
    if word.isdigit() and len(word) <= 3 and first is not None and first.start(1) == start:
        return True  # "1. ..." opening a numbered line
    if len(word) == 1 and word.isalpha():
        # An initial is followed by the rest of the name in the same script: "د. مول",
        # "J. K. Rowling"; a Latin letter before Arabic text ends a sentence ("من A إلى B. تعلم").
        return bool(_ARABIC_WORD.match(word)) or not _ARABIC_WORD.match(after)
    if len(word) == 2 and _ARABIC_WORD.fullmatch(word):
        # Transliterated initials come in chains ("دي. كي. أريا"); a lone two-letter word before
        # a period ("كيو في سي.", "له.") ends a sentence.
        return _is_initial(after) or _is_initial(_token_before(line, max(start - 1, 0))[1])
    return False


def _enclosed_ranges(line: str) -> list[tuple[int, int]]:
    """(open, close) index pairs of quotations and brackets that close on this line."""
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
        elif char in _OPENERS:
            stack.append((_OPENERS[char], index))
        elif stack and char == stack[-1][0]:
            ranges.append((stack.pop()[1], index))
    return ranges
