"""Where `mtsum batch` writes, checked: one plain folder per document inside OUT_DIR, nothing else.

Layout::

    OUT_DIR/<id>/translation.txt, summary.txt, report.md, result.json     `OUTPUT_FILES`
    OUT_DIR/report.json, report.csv, report.md                             `REPORT_FILES`
    OUT_DIR/.mtsum-state.sqlite3, .mtsum.lock, .mtsum.lock.json            state and lock

Every write goes through `write_into`, which checks that the file lands directly in the document's
own folder (never through a symlink) and writes it atomically; every delete goes through
`remove_ours`, which removes only regular files directly inside that folder. A document id is
safe by construction (`mtsum.sources.document_id`); `document_folder` checks it all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mtsum.atomic import write_text
from mtsum.errors import InputError

__all__ = [
    "OUTPUT_FILES",
    "REPORT_FILES",
    "document_folder",
    "remove_leftovers",
    "remove_ours",
    "unusable_folder",
    "write_into",
    "write_report_file",
]

# result.json last: a folder with a result.json of this run has all its files.
OUTPUT_FILES = ("translation.txt", "summary.txt", "report.md", "result.json")
REPORT_FILES = ("report.json", "report.csv", "report.md")


def unusable_folder(folder: Path, exc: OSError) -> InputError:
    """The error for an output folder that cannot be created or written."""
    return InputError(
        f"{folder}: cannot be used as the output folder ({exc.strerror or exc}); pass a folder "
        "you can write to"
    )


def document_folder(out: Path, doc_id: str) -> Path:
    """OUT_DIR/<id> as a plain folder directly inside OUT_DIR (created), never through a link.

    Raises:
        InputError: The id is not one path component, or OUT_DIR/<id> is a symlink or a file.
    """
    folder = out / doc_id
    if doc_id in ("", ".", "..") or Path(doc_id).name != doc_id:
        raise InputError(f"document id {doc_id!r} is not a plain file name; rename the document")
    if folder.is_symlink():
        raise InputError(
            f"{folder}: is a symlink; mtsum does not write through links, remove it to redo "
            "this document"
        )
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot be created ({exc.strerror or exc})") from None
    if not folder.is_dir() or folder.resolve().parent != out.resolve():
        raise InputError(f"{folder}: is not a folder inside {out}; remove it to redo this document")
    return folder


def write_into(folder: Path, name: str, text: str) -> Path:
    """Write `folder`/`name` atomically after checking it lands in `folder` itself.

    Raises:
        InputError: The path leads elsewhere, is a folder, or cannot be written.
    """
    path = folder / name
    if path.parent.resolve() != folder.resolve() or path.is_dir():
        raise InputError(f"{path}: not a file inside {folder}; remove it to redo this document")
    try:
        write_text(path, text)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return path


def remove_ours(folder: Path, paths: Sequence[Path]) -> None:
    """Delete files mtsum wrote into `folder`: regular files directly inside it, nothing else."""
    for path in paths:
        if path.is_file() and not path.is_symlink() and path.parent.resolve() == folder.resolve():
            path.unlink(missing_ok=True)


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files of atomic writes that a kill interrupted (mtsum's own names)."""
    remove_ours(folder, [t for n in OUTPUT_FILES for t in folder.glob(f".{n}.*.tmp")])


def write_report_file(out: Path, name: str, text: str) -> None:
    """Write one of the run report's `REPORT_FILES` into OUT_DIR atomically.

    Raises:
        InputError: OUT_DIR cannot be written.
    """
    try:
        write_text(out / name, text)
    except OSError as exc:
        raise unusable_folder(out, exc) from None
