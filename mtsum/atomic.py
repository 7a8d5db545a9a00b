"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

A crash at any moment leaves either the old file or the new one, never half a file.

`write_output` is for a path a user names (``-o``): a rename would replace whatever stands there,
so it writes atomically only where a regular file is (or none yet), through a symlink to the file
it points at, and straight into a device or FIFO (``-o /dev/null`` stays a device).
``/dev/stdout``, ``/dev/stderr`` and ``/dev/fd/N`` are written to that descriptor, so ``>> log``
appends as the shell meant. A replaced file keeps its permissions. A path that cannot be written
is an `InputError` naming it, never an internal error, and so is one that is a file the command
reads (`output_target`'s ``inputs``): a translation must never replace its article.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mtsum.errors import InputError

__all__ = [
    "output_target",
    "read_regular",
    "standard_stream",
    "write_bytes",
    "write_output",
    "write_text",
]

_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # a link at the name is refused (ELOOP), never followed
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO at the name must not block the read
    | getattr(os, "O_CLOEXEC", 0)
)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically, creating parent folders. A file replaced keeps its
    permissions; a new one gets those a plain open() would give."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    # The temporary name keeps at most 100 bytes of the target's, so a name near the file
    # system's 255-byte limit can still be written.
    short = path.name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{short}.", suffix=".tmp")
    try:
        # mkstemp makes the file owner-only; give it the mode it should have.
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_regular(name: str | Path, dir_fd: int | None = None) -> bytes | None:
    """The bytes of the regular file `name` (relative to the open folder `dir_fd` if given);
    None when something else is there (a folder, a FIFO, a device).

    Raises:
        FileNotFoundError: Nothing is there.
        OSError: It cannot be read; a link at `name` (ELOOP where the platform refuses to follow
            it) too.
    """
    fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    if not regular:  # checked before fdopen, which refuses a folder (EISDIR)
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _umask() -> int:
    # The umask can only be read by setting it; put it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


def output_target(path: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """The file that ``-o`` `path` will write: the path itself, or the file a symlink points at.

    Call it before long work, so a path that can never be written fails at once.

    Args:
        path: The path named.
        inputs: The files the command reads (``-``: stdin); writing one of them would replace it.

    Raises:
        InputError: The path is empty, a folder, or under a file; or it is one of `inputs`: the
            same file by name, through a symlink or a hard link (the same device and inode).
    """
    if not str(path):
        raise InputError("the output path is empty; pass a file name, or - for stdout")
    target = Path(path)
    try:
        target = target.resolve() if target.is_symlink() else target
        if target.is_dir():
            raise InputError(f"{path}: is a folder; pass a file name to write to")
        above = next((p for p in target.parents if p.exists()), None)
    except RuntimeError:  # Python 3.11's resolve() on a symlink loop
        raise InputError(f"{path}: cannot be written (a symlink loop)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    if above is not None and not above.is_dir():
        raise InputError(f"{path}: cannot be written ({above} is a file, not a folder)")
    _refuse_input(path, target, inputs)
    return target


def _refuse_input(path: str | Path, target: Path, inputs: Sequence[str | Path]) -> None:
    """Refuse an output `target` (of `path`) that is one of `inputs`."""
    try:
        info = os.stat(target)
    except OSError:  # nothing there yet: no input can be it
        return
    if not stat.S_ISREG(info.st_mode):  # a device or FIFO is written into, never replaced
        return
    for name in inputs:
        try:
            other = os.fstat(0) if str(name) == "-" else os.stat(name)
        except OSError:  # stdin closed, a missing input: reading it will say so
            continue
        if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
            what = "stdin" if str(name) == "-" else str(name)
            also = "" if what == str(path) else f" ({what})"
            raise InputError(
                f"-o {path} is an input{also}; writing there would replace it: pass another -o"
            )


def write_output(path: str | Path, data: bytes) -> None:
    """Write `data` where a user asked for it (see the module docstring).

    Raises:
        InputError: The path is empty, a folder, under a file, too long, or not writable.
    """
    stream = standard_stream(path)
    if stream is not None:
        # /dev/stdout is where the shell sent stdout (a file opened with >> perhaps): write to
        # that descriptor; reopening or replacing what it names would truncate or replace it.
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(stream, view) :]
        except OSError as exc:
            raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
        return
    target = output_target(path)
    try:
        if target.exists() and not target.is_file():  # a device or FIFO: write into it, keep it
            with open(target, "wb") as handle:
                handle.write(data)
            return
        write_bytes(target, data)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from None


_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}


def standard_stream(path: str | Path) -> int | None:
    """The file descriptor that ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N`` or
    ``/proc/self/fd/N`` names, or None for any other path."""
    name = os.path.normpath(str(path))
    if name in _STREAMS:
        return _STREAMS[name]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return int(name[len(prefix) :])
    return None
