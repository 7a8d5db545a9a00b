"""Read, normalize and segment a document into paragraphs and sentences.

The first stage of the pipeline: bytes -> validated text -> normalized text -> ``Segment`` records.
Offsets always point into ``normalize(text)``, so the normalized document can be rebuilt exactly:
``normalized[s.start:s.end] == s.text`` and only whitespace lies between consecutive segments.

Sentence rules (measured on FLORES-200 Arabic and on a news dev set full of quoted speech, see
``bench/segmentation.py`` and ``bench/news_dev.py``):

* a sentence ends after ``.`` ``!`` ``?`` ``؟`` (or a run such as ``?!``) when whitespace or the
  end of the line follows, together with the quotes and brackets that close right after it:
  ``هذا يكفي."`` ends after the quote, ``هذا يكفي".`` after the period that follows it;
* quotation marks never hold sentences together. Quoted speech of several sentences is cut into
  its sentences, each mark staying where it stands: ``قال: "لن نفعل شيئاً. هذا يكفي". ثم غادر.``
  gives ``قال: "لن نفعل شيئاً.`` / ``هذا يكفي".`` / ``ثم غادر.``, the opening quote with the
  first sentence and the closing quote with the last. Each quoted sentence then reaches the
  translator at its normal length, and a stray or unbalanced quote, common in news and never
  reliably paired, cannot glue a paragraph into one over-long segment;
* a straight ``"`` is read from its neighbours, not by pairing: after a space or ``:`` and
  before a letter it opens, after a letter and before a space or punctuation it closes; with
  spaces or letters on both sides (``" نص "``, ``ب"الأصدقاء"``) it closes while a quotation is
  open. ``“ « ‘ '`` right after a terminator close when a space follows, since right-to-left
  text often has them reversed (``”نص“``); a closing quote padded with a space after the
  sentence (``نص. " وقال``) still goes with it;
* a parenthesis or bracket that closes on the line within 100 characters is an aside without
  sentence ends, unless it follows a sentence end and ends with a terminator, when it holds
  whole sentences: ``وصف الرئيس (الذي قال: "لن نتراجع!") المحتجين`` is one sentence,
  ``... التالي. (وكانت قد تراجعت. ثم تعافت.) وقال`` three. A bracket that never closes, or
  closes further on, protects nothing;
* a sentence goes on after a terminator followed by a lowercase Latin word (``"Why?" asked
  one.``), or by a speech verb after a quoted question or exclamation (``"متى تنتهي الحرب؟"
  تساءل أحد السكان.``); after a quoted statement (``."``) a speech verb starts a new sentence;
* a run of two or more dots (``..``, ``...``, ``…``) inside a line is a pause, as in the Arabic
  headline style "دون خسارة السعوديين.. روسيا تعزز"; at the end of a line it ends the sentence;
* ``؛`` (Arabic semicolon) joins clauses like ``;`` and does not end a sentence;
* no split inside numbers (``3.5``, ``24:00``), after initials (``J.``, ``د.``, ``دي. كي.``),
  known abbreviations (``Dr.``, ``e.g.``) or a list number that opens a line or follows a
  sentence end or a colon (``1.``, ``: 1. ... 2.``); an Arabic letter after a number is a unit or
  an era, not an initial, and may end the sentence (``عام 1320 هـ.``);
* a terminator glued between two Arabic words ends a sentence (``انتهى.وقال``), also with a
  quote between them (``."وقال``, ``.«وقال``);
* every line end ends a sentence.

Each rule reads a line a bounded number of times (and sorts its parentheses once), so the time
to split a line grows with its length, never with its square.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from mtsum.arabic import LETTERS, arabic_share
from mtsum.errors import InputError, text_arg

__all__ = [
    "Segment",
    "check_encoding",
    "decode_document",
    "normalize",
    "paragraphs",
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
    **{0x00A0: " ", 0x202F: " "},
    # Line and paragraph separators end a paragraph as a newline does: form feed (a PDF's page
    # break), vertical tab, NEL, U+2028, U+2029, and the file, group and record separators
    # (all of them line ends to str.splitlines). One character each, so offsets survive.
    **dict.fromkeys([0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029], "\n"),
}

_ARABIC = LETTERS
_ARABIC_LETTER = re.compile(f"[{_ARABIC}]")
_ARABIC_WORD = re.compile(f"[{_ARABIC}]+")
# A run of terminators: a sentence end, a pause (.., …), or part of a number or an abbreviation.
_TERMINATOR = re.compile(r"[.!?؟…]+")
_SENTENCE_END = ".!?؟"
# Marks that only ever close, and marks that open but are typed reversed often enough in Arabic
# text ("”نص“") that what follows them decides.
_CLOSERS = "»”’)]"
_EITHER_WAY = "“«‘'"
_OPENING = "\"'«“‘(["
# What a closing quote is followed by, and what an opening quote follows (besides whitespace).
_AFTER_CLOSING = ".,،;؛:!?؟…)]»”"
_BEFORE_OPENING = "([«“:"
_LIST_NUMBER_AFTER = ".!?؟:،,;؛"
_BRACKETS = re.compile(r"[()\[\]]")
_BRACKET_PAIRS = {")": "(", "]": "["}
_QUOTE = re.compile('"')
# A parenthesis longer than this is not an aside inside one sentence: it is an unbalanced bracket
# paired with a stray one further on, or text of several sentences.
_ASIDE_LIMIT = 100
# Tokens longer than this are no abbreviation, initial or speech verb; not reading past it keeps
# a line without spaces ("جملة.جملة.جملة...") linear.
_TOKEN_LIMIT = 40
_NEXT_TOKEN = re.compile(rf"\s*(\S{{0,{_TOKEN_LIMIT + 1}}})")
# English abbreviations that take a period, matched case-insensitively. Dotted forms (e.g., U.S.)
# and single letters -- which covers the Arabic ones: د. doctor, أ. professor, م. engineer or AD,
# ه. AH, ص. page, ج. part -- have their own rules in _is_abbreviation.
_ABBREVIATION_WORDS = (
    " mr mrs ms messrs dr prof st jr sr mt ft vs etc inc ltd corp gen col lt sgt capt cmdr gov sen"
    " rep rev fig figs vol pp ed approx dept univ ph.d jan feb mar apr jun jul aug sep sept oct nov"
    " dec "
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# Speech verbs that follow a quotation in the same sentence ("لن نستسلم!" هتف المتظاهرون),
# spelled with and without hamza as news sites type them.
_SPEECH_VERB_WORDS = (
    " قال قالت قالوا يقول تقول أضاف أضافت اضاف اضافت تابع تابعت تساءل تساءلت تسائل سأل سألت"
    " هتف هتفت هتفوا صاح صاحت صرخ صرخت أكد أكدت اكد اكدت أوضح أوضحت اوضح اوضحت كتب كتبت علق"
    " علقت ردد رددوا "
)
_SPEECH_VERBS = frozenset(_SPEECH_VERB_WORDS.split())


# High bytes of UTF-16 code units in Arabic and Latin text: ASCII, Latin-1, the Arabic block,
# general punctuation (U+20xx) and the Arabic presentation forms (U+FBxx-U+FExx).
_SURROGATE = re.compile("[\ud800-\udfff]")
_UTF16_HIGH_BYTES = frozenset({0x00, 0x06, 0x20, 0xFB, 0xFC, 0xFD, 0xFE})


def decode_document(data: bytes, *, name: str, encoding: str | None = None) -> str:
    """Decode a document's bytes: UTF-8 (BOM stripped), or UTF-16 when it starts with a BOM, or
    the codec `encoding` names.

    Bytes that are neither get an error that says what they look like and how to convert them:
    UTF-16 without a BOM (every other byte NUL) and Windows-1256, the legacy Arabic code page.

    Args:
        data: the raw bytes of the document.
        name: how to call the document in error messages (a file name, ``<stdin>``).
        encoding: any Python codec (``cp1256``, ``utf-16-le``, ``iso-8859-6`` ...) to decode with
            instead of guessing between UTF-8 and UTF-16.

    Returns:
        The decoded text, not normalized.

    Raises:
        InputError: the document is empty, binary (NUL bytes), not valid in its encoding, has
            nothing but whitespace and invisible characters, or `encoding` is no codec.

    Example:
        >>> decode_document("\ufeffمرحبا".encode(), name="a.txt")
        'مرحبا'
        >>> decode_document("مرحبا".encode("cp1256"), name="a.txt", encoding="cp1256")
        'مرحبا'
    """
    if not data:
        raise InputError(f"{name}: the file is empty; pass a document with text")
    if encoding is not None:
        text = _decode_as(data, name, encoding)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")  # the BOM picks the byte order and is dropped
        except UnicodeDecodeError as err:
            raise InputError(
                f"{name}: not valid UTF-16 at byte {err.start} (save it as UTF-8)"
            ) from None
    else:
        looks = _utf16_without_bom(data)
        if looks is not None:
            iconv = looks.upper().replace("-LE", "LE").replace("-BE", "BE")
            raise InputError(
                f"{name}: looks like {iconv} without a byte order mark; pass --encoding {looks}, "
                f"or convert it: iconv -f {iconv} -t UTF-8"
            )
        nul = data.find(b"\x00")
        if nul >= 0:
            raise InputError(f"{name}: binary data (NUL byte at byte {nul}); pass a text file")
        skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        try:
            text = data[skip:].decode("utf-8")
        except UnicodeDecodeError as err:
            where = err.start + skip
            if _looks_like_cp1256(data):
                raise InputError(
                    f"{name}: not valid UTF-8 at byte {where}; it looks like Windows-1256 (legacy "
                    "Arabic): pass --encoding cp1256, or convert it: iconv -f CP1256 -t UTF-8"
                ) from None
            raise InputError(
                f"{name}: not valid UTF-8 at byte {where} (save it as UTF-8, or pass --encoding "
                "NAME)"
            ) from None
    if "\x00" in text:
        raise InputError(f"{name}: binary data (NUL character); pass a text file")
    if not normalize(text).strip():
        raise InputError(f"{name}: has only whitespace or invisible characters; pass some text")
    return text


def check_encoding(encoding: str) -> None:
    """Raise `InputError` unless `encoding` names a text codec Python knows.

    Example:
        >>> check_encoding("cp1256")
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InputError(
            f"encoding {encoding!r} is not a codec Python knows (e.g. cp1256, utf-16-le)"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"encoding {encoding!r} does not decode bytes to text (e.g. cp1256)")


def _decode_as(data: bytes, name: str, encoding: str) -> str:
    check_encoding(encoding)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: not valid {encoding} at byte {err.start}") from None
    except UnicodeError as err:  # a codec that cannot decode at all ("undefined")
        raise InputError(f"{name}: cannot be decoded as {encoding} ({err})") from None
    lone = _SURROGATE.search(text)
    if lone is not None:  # utf-7, unicode_escape ... can spell characters that cannot exist
        raise InputError(
            f"{name}: decoded as {encoding} it holds an invalid character (a lone surrogate) at "
            f"character {lone.start()}; check --encoding"
        )
    return text.removeprefix("\ufeff")


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the bytes read as UTF-16 text with no BOM: every
    other byte is the high byte of a code point, and in Arabic or Latin text nearly all of those
    are 0x00 (ASCII: spaces, digits, punctuation) or 0x06 (the Arabic block)."""
    sample = data[:4096]
    if len(sample) < 8 or len(sample) % 2:
        return None
    for high, codec in ((sample[1::2], "utf-16-le"), (sample[0::2], "utf-16-be")):
        usual = sum(b in _UTF16_HIGH_BYTES for b in high)
        if high.count(0) >= 0.1 * len(high) and usual >= 0.9 * len(high):
            try:
                data.decode(codec)
            except UnicodeDecodeError:
                continue
            return codec
    return None


def _looks_like_cp1256(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as mostly Arabic in Windows-1256, and not as
    Arabic UTF-8 with a few bad bytes (whose Windows-1256 reading is mojibake of Arabic)."""
    sample = data[:65536]
    try:
        text = sample.decode("cp1256")
    except UnicodeDecodeError:
        return False
    as_utf8 = sample.decode("utf-8", errors="replace")
    return arabic_share(text) >= 0.5 and arabic_share(as_utf8) < 0.2


def normalize(text: str) -> str:
    """Normalize text: NFC, drop tatweel and invisible controls, NBSP to space, ``\\n`` line
    ends (for ``\\r``, form feed, vertical tab, NEL and the Unicode line separators too).

    Diacritics are kept.

    Example:
        >>> normalize("الـعـربية\\u00a0نص\\r\\n")
        'العربية نص\\n'
    """
    text = text_arg(text, "text").replace("\r\n", "\n").replace("\r", "\n")
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
    """Offsets (after the closing quotes and brackets) where a sentence ends inside one line."""
    # Sweep the asides by their opening: a terminator is protected when an aside opened before it
    # closes after it. Each helper reads only the text next to its terminator (a token, a run of
    # spaces or marks), so the whole line is read in linear time.
    closing = _closing_quotes(line)
    asides = iter(_asides(line, closing))
    pending = next(asides, None)
    furthest_close = -1
    last = len(line.rstrip())
    found = []
    for match in _TERMINATOR.finditer(line, 0, last):
        run, dot = match.group(), match.start()
        end = _closed_end(line, match.end(), closing)
        while pending is not None and pending[0] < dot:
            furthest_close = max(furthest_close, pending[1])
            pending = next(asides, None)
        if end >= last:
            continue  # the line end is a boundary anyway
        if not line[end].isspace() and not _missing_space(line, dot, end, closing):
            continue  # 3.5, 24:00, e.g, www.site.com
        if _is_pause(run) or (run == "." and _is_abbreviation(line, dot)):
            continue
        if furthest_close > dot:
            continue  # a parenthesis inside the sentence goes on after this terminator
        end = _spaced_close(line, end, closing)
        if end >= last or _goes_on(line, dot, end):
            continue
        found.append(end)
    return found


def _closing_quotes(line: str) -> set[int]:
    """Offsets of the straight double quotes that close a quotation rather than open one.

    A quote with a space or an opening mark before it and a letter after it opens; one with a
    letter before it and a space or punctuation after it closes, and so does one that ends the
    line. A quote with spaces on both sides or letters on both sides (``" نص "``,
    ``ب"الأصدقاء"``) closes when a quotation is open, that is when more quotes have opened than
    closed so far; counting, not a yes/no, lets a quotation hold quoted names
    (``" طلب "إعادة صياغة" القانون. "``).
    """
    closing: set[int] = set()
    depth = 0
    for match in _QUOTE.finditer(line):
        index = match.start()
        before = line[index - 1] if index else " "
        after = line[index + 1] if index + 1 < len(line) else ""
        opens = before.isspace() or before in _BEFORE_OPENING
        closes = not after or after.isspace() or after in _AFTER_CLOSING
        if opens == closes:
            closes = depth > 0 or not after
        if closes:
            closing.add(index)
            depth = max(depth - 1, 0)
        else:
            depth += 1
    return closing


def _closed_end(line: str, end: int, closing: set[int]) -> int:
    """Move past the quotes and brackets that close the sentence ending at ``end``."""
    while end < len(line):
        char = line[end]
        if char == '"':
            if end not in closing:
                break
        elif char in _EITHER_WAY:
            if not _closes_here(line, end + 1):
                break
        elif char not in _CLOSERS:
            break
        end += 1
    return end


def _closes_here(line: str, index: int) -> bool:
    return index >= len(line) or line[index].isspace() or line[index] in _AFTER_CLOSING


def _spaced_close(line: str, end: int, closing: set[int]) -> int:
    """Take in a closing quote typed with spaces around it after the sentence: ``نص. " وقال``."""
    quote = end
    while quote < len(line) and line[quote].isspace():
        quote += 1
    if quote >= len(line) or (quote + 1 < len(line) and not line[quote + 1].isspace()):
        return end
    if quote in closing or line[quote] in "»”":
        return quote + 1
    return end


def _goes_on(line: str, dot: int, end: int) -> bool:
    """Whether the words after the sentence end at ``dot`` ... ``end`` continue the sentence.

    In English text they do when they start with a lowercase letter (``"Why?" asked one.``,
    ``He said "no." and left.``); an Arabic sentence may well start with "iPhone". In Arabic they
    do when a speech verb follows a question or exclamation that closes a quotation
    (``"متى تنتهي الحرب؟" تساءل أحد السكان.``): a quoted statement is followed by a comma when
    its sentence goes on (``"...،" قال``), so after ``."`` a verb starts a sentence.
    """
    index = end
    while index < len(line) and (line[index].isspace() or line[index] in _OPENING):
        index += 1
    english = dot > 0 and "a" <= line[dot - 1].lower() <= "z"
    if english and index < len(line) and "a" <= line[index] <= "z":
        return True
    quoted = end >= 2 and line[end - 1] in '"»”“' and line[end - 2] in "!?؟"
    return quoted and _first_token(line, end).rstrip("،,:") in _SPEECH_VERBS


def _is_pause(run: str) -> bool:
    """An ellipsis (``..``, ``...``, ``…``) inside a line marks a pause, not an end."""
    return not set(run) & set("!?؟") and run.count(".") + 2 * run.count("…") >= 2


def _missing_space(line: str, dot: int, end: int, closing: set[int]) -> bool:
    """Whether one terminator is glued between two Arabic words, as in "جملة.جملة".

    Closing quotes may sit between the terminator and the next word (``."وقال``), and so may an
    opening quote (``.«وقال``).
    """
    if line[dot] not in _SENTENCE_END or not _is_arabic_at(line, dot - 1):
        return False
    if line[dot + 1 : end].strip(_CLOSERS + _EITHER_WAY + '"'):
        return False  # a run such as "?!" glued to a word is left alone
    if end < len(line) and line[end] in _OPENING and end not in closing:
        end += 1
    return _is_arabic_at(line, end)


def _is_arabic_at(line: str, index: int) -> bool:
    return 0 <= index < len(line) and bool(_ARABIC_LETTER.match(line[index]))


def _first_token(line: str, index: int) -> str:
    """The first token at or after ``index``, cut after ``_TOKEN_LIMIT`` + 1 characters."""
    match = _NEXT_TOKEN.match(line, index)
    return match.group(1) if match else ""


def _token_before(line: str, index: int) -> tuple[int, str]:
    """Where the token that ends at ``index`` starts, and the token without opening quotes.

    A token longer than ``_TOKEN_LIMIT`` comes back as ``(index, "")``.
    """
    window = line[max(0, index - _TOKEN_LIMIT - 1) : index]
    token = window.rsplit(None, 1)[-1] if window and not window[-1].isspace() else ""
    if len(token) > _TOKEN_LIMIT:
        return index, ""
    return index - len(token), token.lstrip(_OPENING)


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
    if word.isdigit() and len(word) <= 3:
        # "1. ..." opening a line, or after a sentence end or a colon: a numbered list.
        before = start
        while before > 0 and line[before - 1].isspace():
            before -= 1
        return before == 0 or line[before - 1] in _LIST_NUMBER_AFTER
    if len(word) == 1 and word.isalpha():
        # An initial is followed by the rest of the name in the same script: "د. مول",
        # "J. K. Rowling"; a Latin letter before Arabic text ends a sentence ("من A إلى B. تعلم"),
        # and so does an Arabic letter after a number, a unit or an era ("عام 1320 هـ.").
        if _ARABIC_WORD.match(word):
            return not _token_before(line, max(start - 1, 0))[1].isdigit()
        return not _ARABIC_WORD.match(after)
    if len(word) == 2 and _ARABIC_WORD.fullmatch(word):
        # Transliterated initials come in chains ("دي. كي. أريا"); a lone two-letter word before
        # a period ("كيو في سي.", "له.") ends a sentence.
        return _is_initial(after) or _is_initial(_token_before(line, max(start - 1, 0))[1])
    return False


def _asides(line: str, closing: set[int]) -> list[tuple[int, int]]:
    """(open, close) offsets of the parentheses and brackets that are asides inside a sentence.

    An aside closes on this line within ``_ASIDE_LIMIT`` characters, and either opened inside a
    sentence (``وصف الرئيس (الذي قال "لن نتراجع!") المحتجين``) or does not end with a
    terminator. One that opens after a sentence end and ends with a terminator
    (``... التالي. (وكانت قد تراجعت. ثم تعافت.) وقال``) holds whole sentences. A closing bracket
    without its opener is skipped; an opener without its closer protects nothing.
    """
    asides = []
    stack: list[tuple[str, int]] = []
    unclosed = {"(": 0, "[": 0}
    for match in _BRACKETS.finditer(line):
        char, index = match.group(), match.start()
        if char in unclosed:
            stack.append((char, index))
            unclosed[char] += 1
            continue
        opener = _BRACKET_PAIRS[char]
        if not unclosed[opener]:
            continue  # "1) ...", ":)": nothing to close
        while True:  # drop openers left unclosed inside this pair
            kind, start = stack.pop()
            unclosed[kind] -= 1
            if kind == opener:
                break
        if index - start <= _ASIDE_LIMIT and (
            not _follows_sentence_end(line, start, closing)
            or line[_closed_start(line, index, closing) - 1] not in _SENTENCE_END + "…"
        ):
            asides.append((start, index))
    asides.sort()
    return asides


def _follows_sentence_end(line: str, index: int, closing: set[int]) -> bool:
    """Whether ``index`` starts the line or comes after a terminator (and its closing marks)."""
    before = _closed_start(line, index, closing)
    return before == 0 or line[before - 1] in _SENTENCE_END + "…"


def _closed_start(line: str, index: int, closing: set[int]) -> int:
    """Step back over closing quotes and brackets (and spaces) that end just before ``index``."""
    while index > 0 and (
        line[index - 1] in _CLOSERS or line[index - 1].isspace() or index - 1 in closing
    ):
        index -= 1
    return index
