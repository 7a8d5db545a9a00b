"""mtsum.sources: reading named inputs, bounded, and what a folder scan refuses."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mtsum.errors import InputError
from mtsum.sources import display_path, read_at_most, read_bounded, read_sources, refusal


def test_a_scanned_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # no writer: a plain open() would wait forever
    with pytest.raises(InputError, match=r"pipe\.txt: not a regular file"):
        read_bounded(fifo, max_bytes=100, regular_only=True)


def test_a_link_swapped_in_after_the_check_is_read_as_its_target_only_if_regular(
    tmp_path: Path,
) -> None:
    target = tmp_path / "real.txt"
    target.write_bytes(b"text")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert read_bounded(link, max_bytes=100, regular_only=True) == b"text"
    os.mkfifo(tmp_path / "fifo")
    link.unlink()
    link.symlink_to(tmp_path / "fifo")
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(link, max_bytes=100, regular_only=True)


def test_a_huge_limit_allocates_nothing_up_front() -> None:
    assert read_at_most(io.BytesIO(b"abc"), 10**20) == b"abc"
    assert read_at_most(io.BytesIO(b"x" * 3_000_000), 2_500_001) == b"x" * 2_500_001


def test_refusal_names_what_a_folder_entry_is(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("نص", encoding="utf-8")
    (tmp_path / "dir.txt").mkdir()
    (tmp_path / "out.txt").symlink_to("/etc/hostname")
    assert refusal(tmp_path / "ok.txt", tmp_path) is None
    assert "a folder" in (refusal(tmp_path / "dir.txt", tmp_path) or "")
    assert "a symlink that leads out of" in (refusal(tmp_path / "out.txt", tmp_path) or "")


def test_a_folder_input_with_a_fifo_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("نص قصير.", encoding="utf-8")
    os.mkfifo(tmp_path / "b.txt")
    with pytest.raises(InputError, match=r"b\.txt: not a regular file \(a FIFO"):
        read_sources([str(tmp_path)])


def test_display_path_shows_undecodable_bytes_as_replacement() -> None:
    assert display_path(os.fsdecode(b"caf\xe9.txt")) == "caf\ufffd.txt"
    assert display_path(Path("plain/عربي.txt")) == "plain/عربي.txt"
