"""The input folder of `mtsum batch`: each document with the references beside it, read once.

Layout (seeds/README.md): ``<id>.txt`` is a document, ``<id>.summary.ref<N>.en.txt`` its reference
summaries (numbered order, ref2 before ref10) and ``<id>.translation.ref.en.txt`` its optional
paragraph-aligned reference translation. `scan_folder` reads them all without raising for a bad
document: its `Document` carries the error instead, so one file never stops a batch. What is
refused and why (symlinks out of the folder, FIFOs, folders, files over the limit) is
`mtsum.sources.refusal`'s rule. A document's ``input_hash`` covers its references too, since a
changed reference changes its scores.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from mtsum.arabic import detect_language
from mtsum.batch.state import content_hash
from mtsum.errors import InputError
from mtsum.sources import display_path, document_id, document_paths, read_bounded, refusal
from mtsum.textprep import decode_document

__all__ = ["Document", "Reference", "scan_folder"]

_SUMMARY_REF = re.compile(r"(?P<id>.+)\.summary\.ref(?P<n>\d+)\.en\.txt")


@dataclass(frozen=True, kw_only=True)
class Reference:
    """A reference file beside a document: its text, or why it cannot be used."""

    name: str
    digest: str
    text: str | None
    error: str | None

    @property
    def lines(self) -> list[str]:
        """The non-empty lines, stripped: one per paragraph for a reference translation."""
        return [line.strip() for line in (self.text or "").splitlines() if line.strip()]


@dataclass(frozen=True, kw_only=True)
class Document:
    """A document as read: its text and language, or the error that makes it fail."""

    id: str
    path: str
    input_hash: str
    text: str | None
    lang: str | None
    error: str | None
    summary_refs: tuple[Reference, ...]
    translation_ref: Reference | None


def _read_ref(path: Path, folder: Path, max_bytes: int, encoding: str | None) -> Reference:
    why = refusal(path, folder)
    try:
        if why is not None:
            raise InputError(why)
        data = read_bounded(path, max_bytes=max_bytes, regular_only=True)
        text, error = decode_document(data, name=display_path(path), encoding=encoding), None
    except InputError as exc:
        return Reference(name=path.name, digest="unreadable", text=None, error=str(exc))
    return Reference(name=path.name, digest=content_hash(data), text=text, error=error)


def _summary_refs(directory: Path) -> dict[str, list[Path]]:
    # One listing for the whole folder, not one per document.
    found: dict[str, list[tuple[int, Path]]] = {}
    for path in directory.iterdir():
        match = _SUMMARY_REF.fullmatch(path.name)
        if match:
            found.setdefault(match["id"], []).append((int(match["n"]), path))
    return {doc: [p for _, p in sorted(refs)] for doc, refs in found.items()}


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except OSError:  # a document name so long that the reference's name is over the limit
        return False


def _read(
    path: Path,
    folder: Path,
    doc_id: str,
    refs: tuple[Reference, ...],
    *,
    source_lang: str,
    max_bytes: int,
    encoding: str | None,
) -> Document:
    stem = path.name[: -len(".txt")]
    translation = path.with_name(f"{stem}.translation.ref.en.txt")
    translation_ref = (
        _read_ref(translation, folder, max_bytes, encoding) if _exists(translation) else None
    )
    text = lang = None
    data = b""
    error = refusal(path, folder)
    if error is None:
        try:
            data = read_bounded(path, max_bytes=max_bytes, regular_only=True)
            text = decode_document(data, name=display_path(path), encoding=encoding)
            lang = detect_language(text, source_lang)
        except InputError as exc:
            text, error = None, str(exc)
    parts = [content_hash(data), *(f"{r.name}:{r.digest}" for r in refs)]
    if translation_ref is not None:
        parts.append(f"{translation_ref.name}:{translation_ref.digest}")
    return Document(
        id=doc_id,
        path=display_path(path),
        input_hash=content_hash("\n".join(parts).encode("utf-8", "surrogatepass")),
        text=text,
        lang=lang,
        error=error,
        summary_refs=refs,
        translation_ref=translation_ref,
    )


def _unique_ids(paths: Sequence[Path], reserved: Collection[str]) -> list[str]:
    """Each document's `document_id`, made unique should two ever meet."""
    ids: list[str] = []
    taken: set[str] = set()  # lower-cased, kept as ids are made: one lookup per id, not a scan
    for path in paths:
        doc_id = document_id(path.name, reserved=reserved)
        n = 1
        while doc_id.lower() in taken:
            n += 1
            doc_id = f"{document_id(path.name, reserved=[*reserved, doc_id])}-{n}"
        ids.append(doc_id)
        taken.add(doc_id.lower())
    return ids


def scan_folder(
    directory: str | Path,
    *,
    source_lang: str = "auto",
    max_bytes: int,
    reserved: Collection[str] = (),
    encoding: str | None = None,
) -> list[Document]:
    """Read every document of a folder, sorted by file name, with its references.

    Args:
        directory: The folder.
        source_lang: ``auto``, ``ar`` or ``en``: how each document's language is decided.
        max_bytes: A larger document or reference fails ("larger than the limit"); nothing
            larger is read.
        encoding: A Python codec for every document and reference (None: UTF-8, or UTF-16
            with a BOM).
        reserved: Names an id may not take (what the caller writes beside the document
            folders); see `mtsum.sources.document_id`.

    Returns:
        One `Document` per ``*.txt`` entry; one that cannot be used (a symlink out of the folder,
        not a regular file, unreadable, too large, not text) has ``error`` set.

    Raises:
        InputError: The folder is missing or holds no documents.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(
            f"{display_path(folder)}: no such directory; pass the folder of <id>.txt documents"
        )
    paths = document_paths(folder)
    if not paths:
        raise InputError(
            f"{display_path(folder)}: no <id>.txt documents (references alone are not documents)"
        )
    refs = _summary_refs(folder)
    return [
        _read(
            path,
            folder,
            doc_id,
            tuple(_read_ref(r, folder, max_bytes, encoding) for r in refs.get(path.name[:-4], [])),
            source_lang=source_lang,
            max_bytes=max_bytes,
            encoding=encoding,
        )
        for path, doc_id in zip(paths, _unique_ids(paths, reserved), strict=True)
    ]
