"""Text taken from documents and models, made safe for where it is shown.

Document text, file names and model output are data, never markup or formulas:

* `one_line`: plain text and terminals. White space folded to single spaces, control characters
  (which a terminal obeys: ESC sequences) shown as U+FFFD.
* `markdown_text`: inline markdown. ``&``, ``<`` and ``>`` become HTML entities, so ``<script>``
  and ``<img onerror=...>`` show as text; ``\\ ` * _ [ ] | ~`` are escaped with a backslash, so
  no link (``[x](javascript:...)``), emphasis, code or table cell can be made; one line.
* `markdown_code`: a code span that no backtick inside can close early.
* `csv_cell`: a spreadsheet cell. A text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading ``'`` (OWASP's rule against CSV injection), so a spreadsheet
  shows it instead of running it. Numbers stay numbers.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["csv_cell", "markdown_code", "markdown_text", "one_line"]

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN_ESCAPE = frozenset("\\`*_[]|~")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BLOCK_START = re.compile(r"^(\d*)([#>+\-=]|(?<=\d)[.)])")


def one_line(text: str) -> str:
    """`text` as one line of plain text.

    Example:
        >>> one_line("Rain\\x0bfell\\x1b[2J today.\\n")
        'Rain fell\\ufffd[2J today.'
    """
    folded = " ".join(text.split())
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in folded)


def markdown_text(text: str) -> str:
    """`text` as inline markdown that renders as exactly this text.

    Example:
        >>> markdown_text("<b>hi</b> [x](javascript:alert(1)) a|b")
        '&lt;b&gt;hi&lt;/b&gt; \\\\[x\\\\](javascript:alert(1)) a\\\\|b'
        >>> markdown_text("# 1. not a heading"), markdown_text("2024. a year")
        ('\\\\# 1. not a heading', '2024\\\\. a year')
    """
    escaped = "".join(
        _ENTITIES.get(c) or (f"\\{c}" if c in _MARKDOWN_ESCAPE else c) for c in one_line(text)
    )
    # At the start of a list item or line, "# x", "> x", "- x", "+ x" or "1. x" would make a
    # heading, a quote or a nested list.
    return _BLOCK_START.sub(r"\1\\\2", escaped, count=1)


def markdown_code(text: str) -> str:
    """`text` as a markdown code span (shown verbatim, HTML included).

    Example:
        >>> markdown_code("a`b")
        '``a`b``'
    """
    text = one_line(text)
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def csv_cell(value: Any) -> Any:
    """`value` for a CSV cell: text that a spreadsheet would run as a formula is quoted.

    Example:
        >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell(-1.5)
        ('\\'=HYPERLINK("http://x")', -1.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
