"""One `Signature` type: what made an output, as named fields that format themselves.

sacrebleu's idea: a small record of ``key:value`` fields, printed as ``key:value|key:value``
(a ``|`` or ``%`` inside a value, say in a model's folder name, is printed as ``%7C`` or ``%25``,
so the printed form always reads back).
Every output mtsum writes records one (translation, summary, alignment, scores), and a batch
records each finished document under its `Signature.key`. A signature of several stages (a
summary of a translation) keeps one group of fields per stage and prints them joined by
`` || ``. The printed form is what JSON, markdown and text outputs carry; `parse` reads it back.

Example:
    >>> mt = Signature.of(("mt", "Helsinki-NLP/opus-mt-ar-en@abc"), ("beams", 4))
    >>> str(mt)
    'mt:Helsinki-NLP/opus-mt-ar-en@abc|beams:4'
    >>> both = mt + Signature.of(("sum", "s@1"))
    >>> str(both)
    'mt:Helsinki-NLP/opus-mt-ar-en@abc|beams:4 || sum:s@1'
    >>> both["beams"], both.get("chunk")
    ('4', None)
    >>> Signature.parse(str(both)) == both
    True
    >>> odd = Signature.of(("mt", "models/a|b 100%@local-1"))
    >>> str(odd), Signature.parse(str(odd)) == odd
    ('mt:models/a%7Cb 100%25@local-1', True)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any

__all__ = ["Signature", "plain"]

_FIELD = "|"
_STAGE = " || "

Fields = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Signature:
    """Groups of ``(key, value)`` fields, in order; one group per stage that made the output."""

    groups: tuple[Fields, ...]

    def __post_init__(self) -> None:
        for group in self.groups:
            for key, _ in group:
                # Keys are mtsum's own names, never user text: a bad one is a bug.
                if not key or any(c in key for c in ":|% "):
                    raise ValueError(f"signature key {key!r} cannot be printed")

    @classmethod
    def of(cls, *fields: tuple[str, object]) -> Signature:
        """One group from ``(key, value)`` pairs; a value of None leaves its field out."""
        return cls((tuple((key, str(value)) for key, value in fields if value is not None),))

    @classmethod
    def parse(cls, text: str) -> Signature:
        """The signature printed as `text` (what ``str`` gave).

        Raises:
            ValueError: `text` is not a printed signature.
        """
        groups = []
        for stage in text.split(_STAGE):
            fields = []
            for field in stage.split(_FIELD):
                key, sep, value = field.partition(":")
                if not sep:
                    raise ValueError(f"not a signature field: {field!r}")
                fields.append((key, value.replace("%7C", "|").replace("%25", "%")))
            groups.append(tuple(fields))
        return cls(tuple(groups))

    def __add__(self, other: Signature) -> Signature:
        return Signature(self.groups + other.groups)

    def __str__(self) -> str:
        return _STAGE.join(
            _FIELD.join(f"{k}:{_escaped(v)}" for k, v in group) for group in self.groups
        )

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Every field of every group, in order."""
        return (field for group in self.groups for field in group)

    def __getitem__(self, key: str) -> str:
        """The first field named `key`."""
        for name, value in self:
            if name == key:
                return value
        raise KeyError(key)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first field named `key`, or `default`."""
        try:
            return self[key]
        except KeyError:
            return default

    def key(self) -> str:
        """A stable string of every field, for keying stored results (batch resume).

        Example:
            >>> Signature.of(("a", 1)).key()
            '{"groups": [[["a", "1"]]]}'
        """
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)


def _escaped(value: str) -> str:
    return value.replace("%", "%25").replace("|", "%7C")


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: records become dicts (as ``dataclasses.asdict``), tuples
    lists, and each `Signature` its printed form, which is what every output file carries.

    Example:
        >>> plain({"s": Signature.of(("a", 1)), "t": (1, 2)})
        {'s': 'a:1', 't': [1, 2]}
    """
    if isinstance(value, Signature):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
