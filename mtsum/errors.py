"""The exceptions mtsum raises.

Library code raises; only the CLI prints and exits. Each class maps to one documented exit code::

    MtsumError                 base of everything mtsum raises on purpose
     ├── InputError            a document or option value cannot be used   (exit 3)
     │    └── OptionError      an option out of range, or two that clash   (exit 2)
     ├── ModelError            a model cannot be found, loaded or run      (exit 4)
     └── BusyError             another run holds the output folder's lock  (exit 5)

Messages name the value at fault and the fix, on one line. A function that takes texts checks
them with `texts_arg` (a sequence of str) or `text_arg` (one str): a plain str where a sequence
is wanted is a `TypeError` (it would be read as one text per character); None, bytes or a number
where a text is wanted is an `InputError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BusyError",
    "InputError",
    "ModelError",
    "MtsumError",
    "OptionError",
    "text_arg",
    "texts_arg",
]


class MtsumError(Exception):
    """Base class of every error mtsum raises on purpose."""

    exit_code: int = 1


class InputError(MtsumError, ValueError):
    """A document, text or option value that cannot be used (bad encoding, empty, ...)."""

    exit_code = 3


class OptionError(InputError):
    """An option value out of its range, or two that contradict each other (min above max): a
    usage error, refused before anything runs."""

    exit_code = 2


class ModelError(MtsumError, RuntimeError):
    """A model that cannot be found, downloaded, loaded or run."""

    exit_code = 4


class BusyError(MtsumError, RuntimeError):
    """Another mtsum run holds the lock on an output folder."""

    exit_code = 5


def text_arg(value: object, name: str) -> str:
    """`value` itself when it is a str.

    Raises:
        InputError: It is anything else; the message names it (`name`) and the fix.

    Example:
        >>> text_arg(None, "texts[1]")
        Traceback (most recent call last):
        ...
        mtsum.errors.InputError: texts[1] is None, not a str; pass the text as a str
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        fix = "decode it first (mtsum.read_document reads and decodes a file)"
        raise InputError(f"{name} is {type(value).__name__}, not a str; {fix}")
    shown = "None" if value is None else f"of type {type(value).__name__} ({value!r:.40})"
    raise InputError(f"{name} is {shown}, not a str; pass the text as a str")


def texts_arg(value: object, name: str) -> list[str]:
    """`value`'s texts as a list, each checked with `text_arg` (named ``name[i]``).

    Raises:
        TypeError: `value` is a str or bytes (each character would be a text), or not a
            sequence at all.
        InputError: An item is not a str.

    Example:
        >>> texts_arg("Russia", "texts")
        Traceback (most recent call last):
        ...
        TypeError: texts is a str, not a sequence of texts; pass a list: ['Russia']
    """
    if isinstance(value, str):
        shown = value if len(value) <= 20 else f"{value[:20]}..."
        raise TypeError(f"{name} is a str, not a sequence of texts; pass a list: [{shown!r}]")
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise TypeError(
            f"{name} is {type(value).__name__}, not a sequence of texts; pass a list of str"
        )
    return [text_arg(item, f"{name}[{i}]") for i, item in enumerate(value)]
