"""Where `mtsum batch` writes: one folder per document inside OUT_DIR, made by mtsum, nothing else.

Layout::

    OUT_DIR/<id>/translation.txt, summary.txt, report.md, report.html, result.json
                                                                         `OUTPUT_FILES`
    OUT_DIR/report.json, report.csv, report.md, index.html                `REPORT_FILES`
    OUT_DIR/.mtsum-written.json                 what mtsum wrote there (`mtsum.written`)
    OUT_DIR/.mtsum-state.sqlite3, .mtsum.lock, .mtsum.lock.json            state and lock

Rules:

- mtsum writes into ``OUT_DIR/<id>`` only when it makes that folder now, or when the resume
  state says an earlier run did (`open_document_folder`'s ``ours``). A folder there that mtsum
  did not make, a symlink, or anything but a folder is refused for that document. With
  ``--force`` a folder that holds nothing but mtsum's output files, its result.json mtsum's
  record of that id (`holds_only_outputs`: a run whose resume state was lost), is taken as
  mtsum's.
- A run report replaces only the report files an earlier run wrote and nobody changed since
  (`mtsum.written`): a user's ``OUT_DIR/report.md`` is refused before any model loads.
- The folder is opened once, without following a link, and checked to be the entry
  ``OUT_DIR/<id>``; every later write, read and delete of the document is made relative to that
  open folder (``dir_fd``), never by path. Swapping ``OUT_DIR/<id>`` for a link to somewhere else
  while the models run changes nothing: the files still go to, and are only removed from, the
  folder that was checked.
- A file is written atomically: a temporary ``.<name>.mtsum-<16 hex>.tmp`` created exclusively
  (never through a link), fsync, rename over ``<name>``. Its mode is what a plain ``open()``
  gives (the umask's). Only temporary files named exactly so are leftovers to remove.
- A delete removes only a regular file that still holds what mtsum wrote (by sha256).

Where the platform lacks ``dir_fd`` for open, mkdir, stat, unlink and rename, or ``O_DIRECTORY``
and ``O_NOFOLLOW`` (Windows), the same steps are done by path after the same checks on the
folder; there a folder swapped while the models run is not detected.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType

from mtsum.atomic import read_regular
from mtsum.errors import InputError
from mtsum.sources import display_path

__all__ = [
    "OUTPUT_FILES",
    "REPORT_FILES",
    "DocumentFolder",
    "content_hash",
    "holds_only_outputs",
    "open_document_folder",
    "read_below",
    "unusable_folder",
]

# result.json last: a folder with a result.json of this run has all its files.
OUTPUT_FILES = ("translation.txt", "summary.txt", "report.md", "report.html", "result.json")
REPORT_FILES = ("report.json", "report.csv", "report.md", "index.html")

_LEFTOVER = re.compile(
    rf"\.(?:{'|'.join(map(re.escape, OUTPUT_FILES))})\.mtsum-[0-9a-f]{{16}}\.tmp"
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FD = (
    bool(_NOFOLLOW and _DIRECTORY)
    and {os.open, os.mkdir, os.stat, os.unlink, os.rename} <= os.supports_dir_fd
    and os.listdir in os.supports_fd
)


def content_hash(data: bytes) -> str:
    """sha256 hex digest of `data`: a document's input bytes, or an output file's.

    Example:
        >>> content_hash(b"")[:12]
        'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def unusable_folder(folder: Path, exc: OSError) -> InputError:
    """The error for an output folder that cannot be created or written."""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    fix = (
        "make room there and rerun the same command to resume"
        if full
        else ("pass a folder you can write to")
    )
    return InputError(
        f"{display_path(folder)}: cannot be used as the output folder ({exc.strerror or exc}); "
        f"{fix}"
    )


def holds_only_outputs(out: Path, doc_id: str) -> bool:
    """Whether ``out/<doc_id>`` is what an mtsum run leaves there: a folder (not a link) of
    regular files named as mtsum names a document's outputs (`OUTPUT_FILES`, or their temporary
    files), with a result.json that is mtsum's record of `doc_id`. What ``--force`` takes as
    mtsum's when the resume state does not know it (the state was lost or moved aside)."""
    folder = out / doc_id
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return False
        with os.scandir(folder) as entries:
            plain = all(
                (e.name in OUTPUT_FILES or _LEFTOVER.fullmatch(e.name))
                and e.is_file(follow_symlinks=False)
                for e in entries
            )
    except OSError:
        return False
    data = read_below(out, f"{doc_id}/result.json") if plain else None
    try:
        record = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:
        return False
    return (
        isinstance(record, dict)
        and isinstance(record.get("mtsum"), str)
        and record.get("id") == doc_id
        and isinstance(record.get("input_hash"), str)
    )


class DocumentFolder:
    """``OUT_DIR/<id>``, opened and checked by `open_document_folder`; close it when done.

    ``fd`` is the open folder (None where the platform has no ``dir_fd``: see the module).
    """

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.fd = fd
        self._closed = False

    def _at(self, name: str) -> str:
        # A name relative to the open folder, or the whole path without dir_fd.
        if self._closed:  # never fall back to a path, or to the working directory
            raise OSError(errno.EBADF, "the document folder is closed")
        return name if self.fd is not None else str(self.path / name)

    def write(self, name: str, text: str) -> str:
        """Write UTF-8 `text` to `name` in this folder atomically; its sha256.

        Raises:
            InputError: It cannot be written (`name` is a folder, the disk is full, ...).
        """
        data = text.encode("utf-8")
        tmp = f".{name}.mtsum-{secrets.token_hex(8)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        try:
            fd = os.open(self._at(tmp), flags, 0o666, dir_fd=self.fd)  # the umask applies
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(self._at(tmp), self._at(name), src_dir_fd=self.fd, dst_dir_fd=self.fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(self._at(tmp), dir_fd=self.fd)
                raise
        except OSError as exc:
            shown = display_path(self.path / name)
            raise InputError(f"{shown}: cannot be written ({exc.strerror or exc})") from None
        return content_hash(data)

    def read(self, name: str) -> bytes | None:
        """The bytes of `name` when it is a regular file in this folder (not a link); else None."""
        try:
            return read_regular(self._at(name), self.fd)
        except OSError:
            return None

    def remove_unchanged(self, files: Mapping[str, str]) -> None:
        """Delete each file `name` of `files` ({name: sha256}) that is a regular file in this
        folder and still holds the bytes of that sha256; leave anything else."""
        for name, digest in files.items():
            data = self.read(name)
            if data is not None and content_hash(data) == digest:
                with contextlib.suppress(OSError):  # one that cannot be removed stays
                    os.unlink(self._at(name), dir_fd=self.fd)

    def remove_leftovers(self) -> None:
        """Delete temporary files of writes that a kill interrupted: regular files named
        exactly as mtsum names them, nothing else."""
        try:
            where = self._at(".")  # first: a closed folder's number may be another file's now
            names = os.listdir(self.fd if self.fd is not None else where)
        except OSError:
            return
        for name in names:
            if not _LEFTOVER.fullmatch(name):
                continue
            try:
                info = os.stat(self._at(name), dir_fd=self.fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode):
                    os.unlink(self._at(name), dir_fd=self.fd)
            except OSError:
                pass

    def close(self) -> None:
        """Close the folder."""
        if self.fd is not None and not self._closed:
            os.close(self.fd)
        self._closed = True

    def __enter__(self) -> DocumentFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_document_folder(out: Path, doc_id: str, *, ours: bool) -> DocumentFolder:
    """Open ``out/<doc_id>``, making it if it is missing; see the module for the rules.

    Args:
        out: OUT_DIR, an existing folder.
        doc_id: The document's id, one plain path component.
        ours: Whether an earlier mtsum run made that folder (the resume state knows the id); an
            existing folder is used only then.

    Returns:
        The open folder; close it (or use it as a context manager) when the document is done.

    Raises:
        InputError: The id is not one path component; ``out/<doc_id>`` is a symlink, not a
            folder, a folder mtsum did not make, or cannot be made or opened.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> with open_document_folder(out, "doc", ours=False) as folder:
        ...     digest = folder.write("summary.txt", "One sentence.\\n")
        >>> digest == hashlib.sha256((out / "doc" / "summary.txt").read_bytes()).hexdigest()
        True
        >>> open_document_folder(out, "doc", ours=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        mtsum.errors.InputError: .../doc exists and was not made by mtsum; move it or pass ...
    """
    if doc_id in ("", ".", "..") or PurePosixPath(doc_id).name != doc_id or "\\" in doc_id:
        raise InputError(f"document id {doc_id!r} is not a plain file name; rename the document")
    folder = out / doc_id
    shown = display_path(folder)
    if not _DIR_FD:
        return _open_by_path(out, folder, ours=ours)
    try:
        out_fd = os.open(out, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except OSError as exc:
        raise unusable_folder(out, exc) from None
    try:
        try:
            os.mkdir(doc_id, 0o777, dir_fd=out_fd)
        except FileExistsError:
            _check_existing(_lstat(doc_id, out_fd, shown), folder, shown, ours=ours)
        except OSError as exc:
            raise InputError(f"{shown}: cannot be created ({exc.strerror or exc})") from None
        try:
            fd = os.open(doc_id, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=out_fd)
        except OSError as exc:
            raise InputError(f"{shown}: cannot be opened ({exc.strerror or exc})") from None
        try:
            _check_opened(fd, doc_id, out_fd, shown)
        except BaseException:
            os.close(fd)
            raise
    finally:
        os.close(out_fd)
    return DocumentFolder(folder, fd)


def read_below(out: Path, relative: str) -> bytes | None:
    """The bytes of the regular file ``out/relative`` (a relative POSIX path), reached without
    following a link below `out`; None when it is missing, a link, under one, or not a regular
    file. For reading back what a run wrote (hashes, result.json) without being led elsewhere."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or {".", ".."} & set(parts):
        return None
    if not _DIR_FD:
        path = out.joinpath(*parts)
        if any(p.is_symlink() for p in [path, *path.parents][: len(parts)]):
            return None
        try:
            return read_regular(str(path), None)
        except OSError:
            return None
    try:
        dir_fd = os.open(out, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except OSError:
        return None
    try:
        for part in parts[:-1]:
            below = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = below
        return read_regular(parts[-1], dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)


def _key(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _check_opened(fd: int, doc_id: str, out_fd: int, shown: str) -> None:
    """Refuse unless folder `fd` is the entry `doc_id` of folder `out_fd` now (nothing was
    swapped in between) and sits in it."""
    try:
        opened, parent = os.fstat(fd), os.stat("..", dir_fd=fd)
        entry = os.stat(doc_id, dir_fd=out_fd, follow_symlinks=False)
        same = _key(opened) == _key(entry) and _key(parent) == _key(os.fstat(out_fd))
    except OSError:
        same = False
    if not same:
        raise InputError(f"{shown}: was replaced while mtsum opened it; rerun the batch")


def _lstat(name: str, dir_fd: int | None, shown: str) -> os.stat_result:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        raise InputError(f"{shown}: cannot be used ({exc.strerror or exc})") from None


def _check_existing(info: os.stat_result, folder: Path, shown: str, *, ours: bool) -> None:
    """Refuse an existing entry OUT_DIR/<id> that mtsum must not write into."""
    if stat.S_ISLNK(info.st_mode):
        raise InputError(
            f"{shown}: is a symlink; mtsum does not write through links, remove it to redo "
            "this document"
        )
    if not ours:
        if stat.S_ISDIR(info.st_mode) and holds_only_outputs(folder.parent, folder.name):
            raise InputError(
                f"{shown} holds mtsum's files, but the resume state does not know it; pass "
                "--force to redo it there, or move it away"
            )
        raise InputError(f"{shown} exists and was not made by mtsum; move it or pass another --out")
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{shown}: is not a folder; remove it to redo this document")


def _open_by_path(out: Path, folder: Path, *, ours: bool) -> DocumentFolder:
    """`open_document_folder` without dir_fd: the same checks, by path."""
    shown = display_path(folder)
    try:
        folder.mkdir()
    except FileExistsError:
        _check_existing(_lstat(str(folder), None, shown), folder, shown, ours=ours)
    except OSError as exc:
        raise InputError(f"{shown}: cannot be created ({exc.strerror or exc})") from None
    if folder.is_symlink() or not folder.is_dir() or folder.resolve().parent != out.resolve():
        raise InputError(
            f"{shown}: is not a folder inside OUT_DIR; remove it to redo this document"
        )
    return DocumentFolder(folder, None)
