"""The input folder of `mtsum batch` (`mtsum.batch.inputs`); its scoring against the references
is in test_scoring.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtsum.batch.inputs import Document, scan_folder
from mtsum.batch.state import content_hash
from mtsum.errors import InputError

ARABIC = "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n"
ENGLISH = "The minister spoke on Wednesday.\n"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


def scan(folder: Path, **kwargs: object) -> dict[str, Document]:
    kwargs.setdefault("max_bytes", 1_000)
    return {d.id: d for d in scan_folder(folder, **kwargs)}  # type: ignore[arg-type]


# --- reading the folder --------------------------------------------------------------------------


def test_documents_with_their_references_in_order(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {
            "b.txt": ENGLISH,
            "a.txt": ARABIC,
            "a.summary.ref10.en.txt": "Ten.\n",
            "a.summary.ref2.en.txt": "Two.\n",
            "a.translation.ref.en.txt": "The minister visited.\n\n  He spoke.  \n",
            "orphan.summary.ref1.en.txt": "No document.\n",
            "notes.md": "not a document",
        },
    )
    docs = scan_folder(folder, max_bytes=1_000)
    assert [(d.id, d.path, d.lang, d.error) for d in docs] == [
        ("a", str(folder / "a.txt"), "ar", None),
        ("b", str(folder / "b.txt"), "en", None),
    ]
    a, b = docs
    assert a.text == ARABIC and b.text == ENGLISH
    # Numbered order, ref2 before ref10; references alone are no documents.
    assert [(r.name, r.text) for r in a.summary_refs] == [
        ("a.summary.ref2.en.txt", "Two.\n"),
        ("a.summary.ref10.en.txt", "Ten.\n"),
    ]
    assert a.summary_refs[0].digest == content_hash(b"Two.\n")
    assert a.translation_ref is not None and a.translation_ref.lines == [
        "The minister visited.",
        "He spoke.",
    ]
    assert b.summary_refs == () and b.translation_ref is None


def test_source_lang_decides_instead_of_detection(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.txt": ARABIC, "b.txt": ENGLISH})
    assert {i: d.lang for i, d in scan(folder, source_lang="ar").items()} == {"a": "ar", "b": "ar"}
    assert {i: d.lang for i, d in scan(folder, source_lang="en").items()} == {"a": "en", "b": "en"}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "empty"),
        ("نص".encode() + b"\xff rest", "not valid UTF-8 at byte 4"),
        (b"x" * 1_001, "over the limit of 1,000"),
    ],
)
def test_bad_document_carries_its_error(tmp_path: Path, content: bytes, error: str) -> None:
    docs = scan(write(tmp_path, {"bad.txt": content, "good.txt": ENGLISH}))
    bad = docs["bad"]
    assert bad.text is None and bad.lang is None and error in (bad.error or "")
    assert docs["good"].error is None


def test_unreadable_reference_is_kept_with_its_error(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.txt": ENGLISH, "a.summary.ref1.en.txt": b"\xff\xfe\xff"})
    [ref] = scan(folder)["a"].summary_refs
    assert ref.text is None and ref.digest == "unreadable"
    assert "not valid" in (ref.error or "")


def test_encoding_applies_to_documents_and_references(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {"a.txt": ARABIC.encode("cp1256"), "a.summary.ref1.en.txt": "Café.\n".encode("cp1256")},
    )
    a = scan(folder, encoding="cp1256")["a"]
    assert a.text == ARABIC and a.summary_refs[0].text == "Café.\n"


def test_input_hash_covers_the_text_and_its_references(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.txt": ENGLISH, "b.txt": ENGLISH})

    def hashes() -> dict[str, str]:
        return {i: d.input_hash for i, d in scan(folder).items()}

    first = hashes()
    assert first["a"] == first["b"]  # the same text and no references: the same hash
    write(folder, {"a.summary.ref1.en.txt": "One.\n"})
    second = hashes()
    assert second["a"] != first["a"] and second["b"] == first["b"]
    write(folder, {"a.summary.ref1.en.txt": "Other.\n"})
    assert hashes()["a"] not in (first["a"], second["a"])
    write(folder, {"b.translation.ref.en.txt": "One.\n"})
    assert hashes()["b"] != first["b"]
    write(folder, {"b.txt": ENGLISH + "More.\n"})
    assert len(set(hashes().values())) == 2


def test_reserved_names_get_an_id_of_their_own(tmp_path: Path) -> None:
    folder = write(tmp_path, {"report.md.txt": ENGLISH, "plain.txt": ENGLISH})
    ids = sorted(scan(folder, reserved=("report.md",)))
    assert ids[0] == "plain" and re.fullmatch(r"report\.md-[0-9a-f]{8}", ids[1])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (None, "no such directory; pass the folder of <id>.txt documents"),
        ({}, "no <id>.txt documents"),
        ({"a.summary.ref1.en.txt": "Ref.\n"}, "no <id>.txt documents (references alone"),
    ],
)
def test_folder_without_documents_is_an_input_error(
    tmp_path: Path, files: dict[str, str | bytes] | None, message: str
) -> None:
    folder = tmp_path / "in"
    if files is not None:
        write(folder, files)
    with pytest.raises(InputError, match=re.escape(message)):
        scan_folder(folder, max_bytes=1_000)
