"""Find the documents named on a command line: files, directories of ``*.txt``, or ``-`` (stdin).

A directory holds documents ``<id>.txt`` beside their references (``<id>.summary.ref<N>.en.txt``,
``<id>.translation.ref.en.txt``, see seeds/README.md); references are not documents.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mtsum.errors import InputError
from mtsum.textprep import decode_document, read_document

__all__ = ["Source", "document_paths", "is_reference", "read_sources"]

_REFERENCE = re.compile(r"\.(summary\.ref\d*|translation\.ref)(\.[a-z]{2})?\.txt$")


@dataclass(frozen=True)
class Source:
    """One input document: its id (file name without .txt), where it came from, and its text."""

    id: str
    path: str
    text: str


def is_reference(path: Path) -> bool:
    """True for reference summaries and translations that sit beside documents."""
    return _REFERENCE.search(path.name) is not None


def document_paths(directory: Path) -> list[Path]:
    """The documents in a directory, sorted by name so runs are deterministic."""
    return sorted(p for p in directory.glob("*.txt") if p.is_file() and not is_reference(p))


def read_sources(inputs: Sequence[str]) -> list[Source]:
    """Read every document named by `inputs` (files, directories, or ``-`` for stdin).

    Raises:
        InputError: A path is missing, a directory holds no documents, or a file cannot be read
            as text (the message names the file and the problem).
    """
    if not inputs:
        raise InputError("no input given: name a file, a directory, or - for stdin")
    sources: list[Source] = []
    for item in inputs:
        if item == "-":
            sources.append(
                Source("stdin", "-", decode_document(sys.stdin.buffer.read(), name="stdin"))
            )
            continue
        path = Path(item)
        if path.is_dir():
            found = document_paths(path)
            if not found:
                raise InputError(f"{path}: directory has no *.txt documents")
            sources.extend(Source(p.stem, str(p), read_document(p)) for p in found)
        else:
            sources.append(Source(path.stem, str(path), read_document(path)))
    ids = [s.id for s in sources]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(f"two inputs share the document id {dupes[0]!r}: rename one")
    return sources
