"""Atomic writes: whole files only, with the permissions a plain open() would give; `-o` paths
written where they point, never replacing a link, device or FIFO."""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

import pytest

from mtsum.atomic import write_output, write_text
from mtsum.errors import InputError


def test_writes_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    write_text(target, "نص\n")
    write_text(target, "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.txt"
    write_text(target, "old")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# --- write_output: where a user points -o -------------------------------------------------------


def test_write_output_replaces_a_regular_file(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out.json"  # folders are made as needed
    write_output(out, b"one")
    write_output(out, b"two")
    assert out.read_bytes() == b"two"


def test_write_output_writes_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_output(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_write_output_writes_into_a_fifo_and_keeps_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, b"through the pipe")
    reader.join(timeout=10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced by a regular file


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "the output path is empty"),
        ("folder", "folder: is a folder; pass a file name"),
        ("plain/out.txt", "plain/out.txt: cannot be written (plain is a file, not a folder)"),
        ("plain/sub/o.txt", "plain/sub/o.txt: cannot be written (plain is a file, not a folder)"),
        ("x" * 300, "cannot be written (File name too long)"),
    ],
)
def test_write_output_refuses_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("a file\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)):
        write_output(name, b"data")
    assert (tmp_path / "plain").read_text(encoding="utf-8") == "a file\n"
    assert list((tmp_path / "folder").iterdir()) == []


def test_write_output_to_dev_fd_writes_the_descriptor_and_keeps_an_append(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_bytes(b"line 1 important\n")
    inode = log.stat().st_ino
    with log.open("ab") as handle:  # what `mtsum ... -o /dev/stdout >> log.txt` hands over
        write_output(f"/dev/fd/{handle.fileno()}", b"line 2 from mtsum\n")
    assert log.read_bytes() == b"line 1 important\nline 2 from mtsum\n"
    assert log.stat().st_ino == inode


def test_write_output_keeps_a_files_permissions(tmp_path: Path) -> None:
    private = tmp_path / "private.txt"
    private.write_bytes(b"old")
    private.chmod(0o600)
    write_output(private, b"new")
    assert private.read_bytes() == b"new" and stat.S_IMODE(private.stat().st_mode) == 0o600


def test_write_output_takes_a_name_near_the_file_system_limit(tmp_path: Path) -> None:
    long = tmp_path / ("n" * 250)
    write_output(long, b"fits")
    assert long.read_bytes() == b"fits"
    assert [p.name for p in tmp_path.iterdir()] == [long.name]


def test_write_output_refuses_a_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    with pytest.raises(InputError, match=re.escape("cannot be written (a symlink loop)")):
        write_output(loop, b"data")
