"""Find the documents named on a command line: files, directories of ``*.txt``, or ``-`` (stdin).

A directory holds documents ``<id>.txt`` beside their references (``<id>.summary.ref<N>.en.txt``,
``<id>.translation.ref.en.txt``, see seeds/README.md); references are not documents.

A document's id names its output folder in ``mtsum batch``, so `document_id` makes it a safe name
by construction: the file name without ``.txt``, with separators, control and format characters
(bidi overrides included) and undecodable bytes replaced by ``_``, leading dots replaced by ``_``
(never ``.``, ``..`` or a hidden name such as mtsum's own ``.mtsum-state.sqlite3``), at most
`MAX_ID_BYTES` bytes of UTF-8. An id that had to change, or that names a file mtsum writes beside
the document folders, ends in ``-`` and 8 hex digits of the file name's sha256, so two file names
never share an id.

A folder scan reads regular files only: a ``*.txt`` entry that is a symlink leading out of the
folder, a FIFO, a device, a socket or a folder is refused with the reason (`refusal`), never read.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mtsum.errors import InputError
from mtsum.textprep import decode_document

__all__ = [
    "MAX_BYTES",
    "MAX_ID_BYTES",
    "Source",
    "display_path",
    "document_id",
    "document_paths",
    "input_files",
    "is_reference",
    "read_at_most",
    "read_bounded",
    "read_document",
    "read_sources",
    "refusal",
]

MAX_BYTES = 1_000_000  # the default limit on one input file (--max-bytes)
MAX_ID_BYTES = 100
_CHUNK = 1 << 20
_REFERENCE = re.compile(r"\.(summary\.ref\d*|translation\.ref)(\.[a-z]{2})?\.txt$")
_SEPARATORS = frozenset('/\\:*?"<>|')
# Control, format (bidi overrides, zero-width), surrogate (undecodable bytes), private-use and
# unassigned characters, and line or paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class Source:
    """One input document: its id (file name without .txt), where it came from, and its text."""

    id: str
    path: str
    text: str


def display_path(path: str | Path) -> str:
    """A path as text that can always be printed and written as UTF-8: bytes that were not
    UTF-8 in the file name show as U+FFFD.

    Example:
        >>> display_path(os.fsdecode(b"caf\\xe9.txt"))
        'caf\ufffd.txt'
    """
    return os.fsencode(path).decode("utf-8", "replace")


def _unsafe(char: str) -> bool:
    return char in _SEPARATORS or unicodedata.category(char) in _HIDDEN_CATEGORIES


def _cut(text: str, limit: int) -> str:
    """The longest prefix of `text` that is at most `limit` bytes of UTF-8."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def document_id(name: str, *, reserved: Collection[str] = ()) -> str:
    """The id of the document in file `name`: a safe, single path component (see the module).

    Args:
        name: The file name (no folder), e.g. ``"report 7.txt"``.
        reserved: Names the id may not take (compared case-insensitively), such as the run
            report files beside the document folders.

    Returns:
        The name without ``.txt`` when that is safe; otherwise a safe form of it ending in
        ``-<8 hex digits>``.

    Example:
        >>> document_id("2024-05 news.txt"), document_id("...txt"), document_id("a/b.txt")
        ('2024-05 news', '__-299a20bb', 'a_b-5550000d')
    """
    stem = name[:-4] if name.lower().endswith(".txt") else name
    safe = "".join("_" if _unsafe(c) else c for c in stem)
    dots = len(safe) - len(safe.lstrip("."))
    safe = "_" * dots + safe[dots:]
    fits = len(safe.encode("utf-8")) <= MAX_ID_BYTES
    taken = safe.lower() in {r.lower() for r in reserved}
    if safe == stem and stem and fits and not taken:
        return stem
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{_cut(safe, MAX_ID_BYTES - 9) or '_'}-{digest}"


def read_bounded(path: str | Path, *, max_bytes: int, regular_only: bool = False) -> bytes:
    """The bytes of file `path`, refusing more than `max_bytes` after reading at most one more.

    So ``/dev/zero`` or a huge file costs one bounded read, never all memory (it is read in
    pieces, so a huge `max_bytes` allocates nothing up front).

    Args:
        path: The file.
        max_bytes: The most bytes accepted.
        regular_only: Open what `path` leads to without following a link swapped in since it
            was checked and without blocking, and accept only a regular file (folder scans: a
            FIFO would block, a device never end). A path named by the user may be a FIFO
            (``<(cmd)``), so this is off by default.

    Raises:
        InputError: The file is missing, a folder, unreadable, not regular (with
            `regular_only`), or larger than `max_bytes`.
    """
    name = display_path(path)
    try:
        if regular_only:
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(os.path.realpath(path), flags)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise InputError(f"{name}: not a regular file; only regular files are read")
            handle = os.fdopen(fd, "rb")
        else:
            handle = open(path, "rb")  # noqa: SIM115 (closed by the with below)
        with handle:
            data = read_at_most(handle, max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory; pass a text file") from None
    except OSError as err:
        raise InputError(f"{name}: cannot be read ({err.strerror or err})") from None
    if len(data) > max_bytes:
        raise InputError(
            f"{name}: over the limit of {max_bytes:,} bytes; split the document or raise "
            "--max-bytes"
        )
    return data


def read_at_most(handle: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes from `handle`, read in pieces of at most 1 MiB."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = handle.read(min(_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_document(
    path: str | Path,
    *,
    max_bytes: int = MAX_BYTES,
    encoding: str | None = None,
    regular_only: bool = False,
) -> str:
    """Read a document file (at most `max_bytes`) and decode it with
    `mtsum.textprep.decode_document`.

    Returns:
        The decoded text, not normalized.

    Raises:
        InputError: The file is missing, a folder, unreadable, too large, or not text (the
            message names the file and the problem).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder, "doc.txt")
        ...     _ = path.write_bytes("\\ufeffمرحبا بكم.\\n".encode())  # a UTF-8 BOM is dropped
        ...     read_document(path)
        'مرحبا بكم.\\n'
    """
    data = read_bounded(path, max_bytes=max_bytes, regular_only=regular_only)
    return decode_document(data, name=display_path(path), encoding=encoding)


def is_reference(path: Path) -> bool:
    """True for reference summaries and translations that sit beside documents."""
    return _REFERENCE.search(path.name) is not None


def refusal(path: Path, folder: Path) -> str | None:
    """Why the entry `path` of a scanned `folder` must not be read, or None for a regular file.

    A symlink may lead to a regular file inside the folder; anything else it leads to, and any
    entry that is not a regular file, is refused (a FIFO would block the read forever, a device
    would never end).
    """
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(folder.resolve(strict=True)):
                return f"{display_path(path)}: a symlink that leads out of {display_path(folder)}"
        mode = path.stat().st_mode
    except (OSError, RuntimeError) as exc:  # a dangling or looping link, a name too long
        return f"{display_path(path)}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISREG(mode):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, device or socket)"
    return f"{display_path(path)}: {kind}; only regular *.txt files are documents"


def document_paths(directory: Path) -> list[Path]:
    """The ``*.txt`` entries of a directory that are not references, sorted by name so runs are
    deterministic. Entries are not checked here: see `refusal`."""
    return sorted(p for p in directory.glob("*.txt") if not is_reference(p))


def input_files(inputs: Sequence[str]) -> list[str]:
    """The files `read_sources` reads for `inputs`, unchecked and unread: each file as named,
    each directory's documents (`document_paths`), ``-`` for stdin. For refusing an output that
    would replace one of them.

    Example:
        >>> input_files(["-", "a.txt"])
        ['-', 'a.txt']
    """
    files: list[str] = []
    for item in inputs:
        if item != "-" and Path(item).is_dir():
            files.extend(str(p) for p in document_paths(Path(item)))
        else:
            files.append(item)
    return files


def read_sources(
    inputs: Sequence[str], *, max_bytes: int = MAX_BYTES, encoding: str | None = None
) -> list[Source]:
    """Read every document named by `inputs` (files, directories, or ``-`` for stdin), each at
    most `max_bytes` long, decoded as `mtsum.textprep.decode_document` does with `encoding`.

    Raises:
        InputError: A path is missing, a directory holds no documents or an entry that is not a
            regular file inside it, or a file is too large or cannot be read as text (the message
            names the file and the problem).
    """
    if not inputs:
        raise InputError("no input given: name a file, a directory, or - for stdin")
    sources: list[Source] = []
    for item in inputs:
        if item == "-":
            if sys.stdin is None:
                raise InputError("stdin is closed; pipe a document in, or name a file")
            data = read_at_most(sys.stdin.buffer, max_bytes + 1)
            if len(data) > max_bytes:
                raise InputError(
                    f"stdin: over the limit of {max_bytes:,} bytes; split the document or raise "
                    "--max-bytes"
                )
            text = decode_document(data, name="stdin", encoding=encoding)
            sources.append(Source("stdin", "-", text))
            continue
        path = Path(item)
        scanned = path.is_dir()
        if scanned:
            found = document_paths(path)
            if not found:
                raise InputError(f"{display_path(path)}: directory has no *.txt documents")
            for entry in found:
                why = refusal(entry, path)
                if why is not None:
                    raise InputError(why)
        else:
            found = [path]
        sources.extend(
            Source(
                document_id(p.name),
                display_path(p),
                read_document(p, max_bytes=max_bytes, encoding=encoding, regular_only=scanned),
            )
            for p in found
        )
    ids = [s.id for s in sources]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(f"two inputs share the document id {dupes[0]!r}: rename one")
    return sources
