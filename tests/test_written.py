"""`mtsum.written`: mtsum replaces a file in a shared folder only when it wrote it and nobody
changed it since; a kill while it writes never makes its own file look like a user's."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import mtsum.written
from mtsum.errors import InputError
from mtsum.written import RECORD, check_replaceable, write_recorded

FILES = [("index.html", "<p>run 1</p>\n"), ("a/report.html", "<p>page 1</p>\n")]


def test_own_files_are_replaced_and_others_refused(tmp_path: Path) -> None:
    write_recorded(tmp_path, FILES, option="-o")
    assert (tmp_path / "a" / "report.html").read_text(encoding="utf-8") == "<p>page 1</p>\n"
    write_recorded(tmp_path, [("index.html", "<p>run 2</p>\n")], option="-o")
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<p>run 2</p>\n"
    recorded = json.loads((tmp_path / RECORD).read_text(encoding="utf-8"))["files"]
    assert sorted(recorded) == ["a/report.html", "index.html"]  # the page is still recorded
    (tmp_path / "a" / "report.html").write_text("my edit\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=re.escape("a/report.html was changed since mtsum wrote it; move")
    ):
        write_recorded(tmp_path, FILES, option="-o")
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<p>run 2</p>\n"


@pytest.mark.parametrize("kind", ["file", "symlink", "folder", "fifo"])
def test_what_mtsum_did_not_write_is_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "index.html"
    if kind == "file":
        target.write_text("mine\n", encoding="utf-8")
    elif kind == "symlink":
        (tmp_path / "elsewhere.html").write_text("mine\n", encoding="utf-8")
        target.symlink_to("elsewhere.html")
    elif kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)  # must not block the check
    message = re.escape("index.html exists and was not written by mtsum; move it or pass another")
    with pytest.raises(InputError, match=message):
        check_replaceable(tmp_path, ["index.html"], option="--out")
    with pytest.raises(InputError, match=message):  # a record of other files changes nothing
        write_recorded(tmp_path, [("other.html", "x"), ("index.html", "x")], option="--out")
    assert not (tmp_path / "other.html").exists()


def test_adopt_takes_files_only_where_there_is_no_record(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("an older mtsum's report\n", encoding="utf-8")
    write_recorded(tmp_path, [("report.md", "new\n")], option="--out", adopt=True)
    (tmp_path / "report.md").write_text("edited\n", encoding="utf-8")
    with pytest.raises(InputError, match="was changed since"):  # the record rules now
        check_replaceable(tmp_path, ["report.md"], option="--out", adopt=True)


def test_a_damaged_record_records_nothing(tmp_path: Path) -> None:
    write_recorded(tmp_path, FILES, option="-o")
    (tmp_path / RECORD).write_bytes(b"\x00garbage")
    with pytest.raises(
        InputError, match=re.escape("index.html exists and was not written by mtsum")
    ):
        check_replaceable(tmp_path, ["index.html"], option="-o", adopt=True)
    (tmp_path / "index.html").unlink()
    (tmp_path / "a" / "report.html").unlink()  # the advice: move them; then it writes again
    write_recorded(tmp_path, FILES, option="-o")
    check_replaceable(tmp_path, ["index.html", "a/report.html"], option="-o")


def test_a_write_cut_short_leaves_only_files_the_record_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_recorded(tmp_path, FILES, option="-o")
    real = mtsum.written.write_bytes
    writes: list[str] = []

    def cut(path: Path, data: bytes) -> None:  # the disk fills after the first page
        writes.append(Path(path).name)
        if len(writes) == 3:  # the record, index.html, then a/report.html
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(mtsum.written, "write_bytes", cut)
    run2 = [("index.html", "<p>run 2</p>\n"), ("a/report.html", "<p>page 2</p>\n")]
    with pytest.raises(OSError, match="No space left"):
        write_recorded(tmp_path, run2, option="-o")
    assert writes == [RECORD, "index.html", "report.html"]
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<p>run 2</p>\n"
    monkeypatch.undo()
    write_recorded(tmp_path, run2, option="-o")  # a rerun replaces the old and the new alike
    assert (tmp_path / "a" / "report.html").read_text(encoding="utf-8") == "<p>page 2</p>\n"
