"""Files mtsum writes beside a user's own, and which of them it may replace.

`mtsum batch` writes its run report into OUT (``report.md``, ``report.csv``, ``report.json``,
``index.html``) and ``mtsum summarize --format html -o FOLDER`` writes ``FOLDER/index.html`` and
``FOLDER/<id>/report.html``: names a user may already have there. Rules:

- ``FOLDER/.mtsum-written.json`` (`RECORD`) holds the sha256 of what mtsum last wrote at each
  such name. mtsum replaces a file only when its bytes are recorded there; a file it did not
  write, one edited since, a symlink, or anything but a regular file is refused (`InputError`,
  naming it and what to do), before anything is written.
- The record is written before the files (the old and the new sha256 of each) and again after
  (the new), so a kill at any moment leaves every file one the record knows.
- A folder with no record at all may be adopted (``adopt``): `mtsum batch` adopts an OUT whose
  resume state shows an older mtsum ran there before the record existed. A record that cannot be
  read counts as one that records nothing; the next write replaces it.
"""

from __future__ import annotations

import errno
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from mtsum._version import __version__
from mtsum.atomic import read_regular, write_bytes
from mtsum.errors import InputError
from mtsum.sources import display_path

__all__ = ["RECORD", "check_replaceable", "write_recorded"]

RECORD = ".mtsum-written.json"


def check_replaceable(
    folder: str | Path, names: Collection[str], *, option: str, adopt: bool = False
) -> None:
    """Refuse now if writing `names` (relative POSIX paths) in `folder` would replace a file that
    mtsum did not write there, or one changed since.

    Args:
        folder: The folder written to (missing: nothing to refuse).
        names: The files to be written, relative to it.
        option: The option that names `folder` (``--out``, ``-o``), for the advice.
        adopt: Count every file as mtsum's when `folder` has no record at all.

    Raises:
        InputError: A file there is not mtsum's to replace; the message names it.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "index.html").write_text("my page")
        >>> check_replaceable(folder, ["index.html"], option="-o")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        mtsum.errors.InputError: .../index.html exists and was not written by mtsum; move it ...
    """
    _current(Path(folder), names, option=option, adopt=adopt)


def write_recorded(
    folder: str | Path, files: Sequence[tuple[str, str]], *, option: str, adopt: bool = False
) -> None:
    """Write each ``(name, text)`` of `files` into `folder` atomically (as UTF-8, parent folders
    made), after `check_replaceable`, and record what was written.

    Raises:
        InputError: As `check_replaceable`; nothing is written then.
        OSError: A file or the record cannot be written (the files written before it stay, each
            whole and recorded).
    """
    folder = Path(folder)
    data = [(name, text.encode("utf-8")) for name, text in files]
    current = _current(folder, [name for name, _ in data], option=option, adopt=adopt)
    recorded = _read_record(folder) or {}
    new = {name: hashlib.sha256(blob).hexdigest() for name, blob in data}
    during = {name: sorted({*current.get(name, ()), digest}) for name, digest in new.items()}
    _write_record(folder, {**recorded, **during})
    for name, blob in data:
        write_bytes(folder / name, blob)
    _write_record(folder, {**recorded, **{name: [digest] for name, digest in new.items()}})


def _current(
    folder: Path, names: Collection[str], *, option: str, adopt: bool
) -> dict[str, list[str]]:
    """{name: [sha256]} of the files of `names` that exist, each checked to be mtsum's."""
    recorded = _read_record(folder)
    found: dict[str, list[str]] = {}
    for name in names:
        path = folder / name
        try:
            data = read_regular(path)
        except (FileNotFoundError, NotADirectoryError):  # the write will say what is wrong
            continue
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # not a link at the name: it cannot be read
                raise InputError(
                    f"{display_path(path)}: cannot be read ({exc.strerror or exc}); fix its "
                    f"permissions, or pass another {option}"
                ) from None
            data = None
        digest = hashlib.sha256(data).hexdigest() if data is not None else None
        if digest is None or (recorded is None and not adopt):
            why = "exists and was not written by mtsum"
        elif recorded is not None and digest not in recorded.get(name, ()):
            known = name in recorded
            why = (
                "was changed since mtsum wrote it"
                if known
                else "exists and was not written by mtsum"
            )
        else:
            found[name] = [digest]
            continue
        raise InputError(f"{display_path(path)} {why}; move it or pass another {option}")
    return found


def _read_record(folder: Path) -> dict[str, list[str]] | None:
    """The record of `folder`, {name: [sha256]}: None when there is none, {} when it cannot be
    read as one."""
    try:
        data = read_regular(folder / RECORD)
    except FileNotFoundError:
        return None
    except OSError:
        return {}  # a link (O_NOFOLLOW: ELOOP) or unreadable
    try:
        record = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:
        return {}
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict):
        return {}
    return {
        name: [h for h in hashes if isinstance(h, str)]
        for name, hashes in files.items()
        if isinstance(hashes, list)
    }


def _write_record(folder: Path, files: Mapping[str, list[str]]) -> None:
    # ASCII JSON: a name that was not UTF-8 (a lone surrogate) reads back as it was.
    text = json.dumps({"mtsum": __version__, "files": dict(sorted(files.items()))}, indent=1)
    write_bytes(folder / RECORD, (text + "\n").encode("ascii"))
