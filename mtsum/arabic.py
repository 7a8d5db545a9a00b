"""Arabic script and language: one definition of each fact that several stages need.

* `LETTERS`: Arabic letters as a regex character-class body: the Arabic block's letters
  (U+0621-U+064A, tatweel U+0640 among them), the extended letters (U+0671-U+06D3,
  U+06FA-U+06FF) and the presentation forms (U+FB50-U+FDFF, U+FE70-U+FEFC).
* `DIGITS`: Arabic-Indic (٠-٩) and Eastern Arabic-Indic (Persian, ۰-۹) digits to ASCII, for
  `str.maketrans`; length-preserving, so offsets survive.
* `LANGUAGES`: what ``--source-lang`` and ``--lang`` accept: ``auto``, ``ar``, ``en``.
* `arabic_share` / `text_arabic_share`: the share of a text's letters that are Arabic (a word
  counting at most `WORD_LETTERS`), plain or with markup (tags, entities, web addresses) left
  out; `detect_language` decides ``ar`` at half.

Segmenting (textprep), translation flags (translate), ROUGE's Arabic tokenizer (score), number
matching (numbers) and the pipeline's language decision all read these.
"""

from __future__ import annotations

import re

from mtsum.errors import InputError, text_arg

__all__ = [
    "DIGITS",
    "LANGUAGES",
    "LETTERS",
    "WORD_LETTERS",
    "arabic_share",
    "detect_language",
    "text_arabic_share",
]

LETTERS = "\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\ufb50-\ufdff\ufe70-\ufefc"
DIGITS: dict[str, str] = {chr(0x0660 + d): str(d) for d in range(10)} | {
    chr(0x06F0 + d): str(d) for d in range(10)
}
LANGUAGES = ("auto", "ar", "en")

# The most letters one word counts for in `arabic_share`: longer than any word of prose.
WORD_LETTERS = 24

_LETTER = re.compile(f"[{LETTERS}]")
# Tags, entities and web addresses are Latin letters that say nothing of the text's language.
_MARKUP = re.compile(r"<[^<>]*>|&#?\w+;|\b(?:https?://|www\.)\S+")


def arabic_share(text: str) -> float:
    """Return the share of letters in ``text`` that are Arabic letters (0.0 when no letters),
    each word (a run without whitespace) counting at most `WORD_LETTERS` letters.

    A word's weight is capped so that one huge token (a base64 blob, a URL of 30,000 letters)
    cannot outweigh the article around it; within a word its letters count alike.

    Example:
        >>> arabic_share("abc دون")
        0.5
        >>> round(arabic_share("قال الوزير إن المحادثات مثمرة " + "x" * 30_000), 2)
        0.51
    """
    arabic = letters = 0.0
    for word in text_arg(text, "text").split():
        count = sum(1 for ch in word if ch.isalpha())
        if count:
            weight = min(1.0, WORD_LETTERS / count)
            letters += count * weight
            arabic += sum(1 for ch in word if _LETTER.match(ch)) * weight
    return arabic / letters if letters else 0.0


def text_arabic_share(text: str) -> float:
    """The share of Arabic letters in `text`, tags, entities and URLs left out.

    Example:
        >>> text_arabic_share('<p class="lead">مرحبا</p>')
        1.0
    """
    return arabic_share(_MARKUP.sub(" ", text_arg(text, "text")))


def detect_language(text: str, requested: str = "auto") -> str:
    """``ar`` or ``en``: the requested language, or ``ar`` when at least half of the letters
    are Arabic (markup left out, see `text_arabic_share`).

    Raises:
        InputError: `requested` is not one of `LANGUAGES`.

    Example:
        >>> detect_language("<b>قال</b> the"), detect_language("x", "ar")
        ('ar', 'ar')
    """
    if requested not in LANGUAGES:
        raise InputError(f"source language {requested!r} is not one of {', '.join(LANGUAGES)}")
    if requested != "auto":
        return requested
    return "ar" if text_arabic_share(text) >= 0.5 else "en"
