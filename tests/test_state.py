"""Resume state of `mtsum batch` and its output-folder lock."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtsum.batch import state
from mtsum.batch.lock import HOLDER_FILE, LOCK_FILE, RunLock
from mtsum.batch.state import STATE_FILE, RunState, content_hash
from mtsum.errors import BusyError, InputError

ROOT = Path(__file__).resolve().parents[1]
H1, H2 = content_hash(b"one"), content_hash(b"two")


@pytest.mark.parametrize(
    ("mark", "query", "expected"),
    [
        (("ok", H1, "s1"), (H1, "s1"), True),
        (("ok", H1, "s1"), (H2, "s1"), False),
        (("ok", H1, "s1"), (H1, "s2"), False),
        (("failed", H1, "s1"), (H1, "s1"), False),
        (None, (H1, "s1"), False),
    ],
)
def test_is_done(
    tmp_path: Path, mark: tuple[str, str, str] | None, query: tuple[str, str], expected: bool
) -> None:
    with RunState(tmp_path) as run:
        if mark is not None:
            status, digest, settings = mark
            if status == "ok":
                run.mark_done("a.txt", digest, settings)
            else:
                run.mark_failed("a.txt", digest, settings, error="boom")
        assert run.is_done("a.txt", *query) is expected
        assert run.is_done("b.txt", *query) is False


def test_later_mark_replaces_earlier(tmp_path: Path) -> None:
    with RunState(tmp_path) as run:
        run.mark_failed("a.txt", H1, "s", error="boom")
        run.mark_done("a.txt", H1, "s")
        assert run.is_done("a.txt", H1, "s")
        run.mark_failed("a.txt", H1, "s", error="again")
        assert not run.is_done("a.txt", H1, "s")
        assert [r.error for r in run.records()] == ["again"]


def test_state_survives_reopen_and_records_outputs(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("# a")
    with RunState(tmp_path) as run:
        run.mark_done(
            "a.txt", H1, "s", outputs=["a.json", tmp_path / "sub" / "a.md"], duration_s=1.5
        )
        run.mark_failed("b.txt", H2, "s", error="InputError: empty", duration_s=0.25)
    with RunState(tmp_path) as run:
        assert run.is_done("a.txt", H1, "s")
        a, b = run.records()
    assert (tmp_path / STATE_FILE).is_file()
    assert [f.path for f in a.outputs] == ["a.json", "sub/a.md"]
    assert a.outputs[0].sha256 == content_hash(b"{}")
    assert (a.status, a.error, a.duration_s) == ("ok", None, 1.5)
    assert (b.status, b.error, b.duration_s, b.outputs) == ("failed", "InputError: empty", 0.25, ())
    assert a.finished > 1.6e9
    json.dumps(dataclasses.asdict(a))


def test_deleted_output_is_not_done(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    with RunState(tmp_path) as run:
        run.mark_done("a.txt", H1, "s", outputs=["a.json"])
        assert run.is_done("a.txt", H1, "s")
        (tmp_path / "a.json").unlink()
        assert not run.is_done("a.txt", H1, "s")


def test_unchanged_outputs_are_those_still_as_written(tmp_path: Path) -> None:
    for name in ("a.json", "a.md", "a.txt"):
        (tmp_path / name).write_text(name)
    with RunState(tmp_path) as run:
        run.mark_done("a", H1, "s", outputs=["a.json", "a.md", "a.txt"])
        (tmp_path / "a.md").write_text("edited")
        (tmp_path / "a.txt").unlink()
        [changed_md, changed_txt] = run.changed_outputs(run.get("a"))  # type: ignore[arg-type]
        assert (changed_md.path, changed_txt.path) == ("a.md", "a.txt")
        assert run.unchanged_outputs("a") == [tmp_path.absolute() / "a.json"]
        assert run.unchanged_outputs("never-run") == []


@pytest.mark.parametrize("output", ["missing.json", "../outside.json"])
def test_bad_output_is_refused(tmp_path: Path, output: str) -> None:
    (tmp_path / "outside.json").write_text("{}")
    with RunState(tmp_path / "out") as run, pytest.raises(InputError, match="is not a file in"):
        run.mark_done("a.txt", H1, "s", outputs=[output])


def test_forget_all(tmp_path: Path) -> None:
    with RunState(tmp_path) as run:
        run.mark_done("a.txt", H1, "s")
        run.forget_all()
        assert not run.is_done("a.txt", H1, "s")
        assert run.records() == []


def _damage(path: Path, how: str) -> None:
    """Damage a state holding rows: as a full disk, a bad copy or a stray write would, or a
    cell's contents (sound pages, so quick_check passes)."""
    cells = {"cells": "outputs = '{junk'", "cell types": "outputs = '[[1, 2]]', finished = 'x'"}
    if how in cells:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute(f"UPDATE documents SET {cells[how]} WHERE doc_id = 'doc7'")
            db.commit()
        return
    data = path.read_bytes()
    damaged = {
        "junk": b"garbage, not sqlite\x00" * 100,
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "pages": data[:4096] + b"\xa5" * (len(data) - 4096),  # header intact, pages not
    }
    path.write_bytes(damaged[how])


DAMAGE = ["junk", "truncated", "empty", "pages", "cells", "cell types"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_state_is_refused_and_moved_aside_on_request(tmp_path: Path, how: str) -> None:
    with RunState(tmp_path) as run:
        for n in range(200):  # rows on several pages
            run.mark_done(f"doc{n}", H1, "s" * 50)
    _damage(tmp_path / STATE_FILE, how)
    damaged = (tmp_path / STATE_FILE).read_bytes()
    with pytest.raises(InputError) as refused:
        RunState(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / STATE_FILE}: is ") and "\n" not in message
    assert message.endswith("; rerun with --force to move it aside and redo every document")
    assert (tmp_path / STATE_FILE).read_bytes() == damaged  # refused: left as it was
    with RunState(tmp_path, move_aside=True) as run:
        assert run.records() == []
        run.mark_done("a", H1, "s")
        [aside] = tmp_path.glob(f"{STATE_FILE}.damaged-*")
        assert run.moved is not None and aside.name in run.moved
    assert aside.read_bytes() == damaged
    with RunState(tmp_path) as run:
        assert run.is_done("a", H1, "s") and run.moved is None


def test_a_row_damaged_while_open_is_the_damaged_state_error(tmp_path: Path) -> None:
    with RunState(tmp_path) as run:
        run.mark_done("a", H1, "s")
        with contextlib.closing(sqlite3.connect(tmp_path / STATE_FILE)) as db:
            db.execute("UPDATE documents SET outputs = '{junk'")
            db.commit()
        damaged = r"is a damaged resume state \(the row of 'a': .*--force"
        with pytest.raises(InputError, match=damaged):
            run.get("a")


def test_a_state_interrupted_while_created_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C or SIGTERM (a KeyboardInterrupt) before the table exists: no empty state file is
    left for the rerun to refuse as damaged, and no temporary one either."""

    def interrupted(db: sqlite3.Connection) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(state, "_open_schema", interrupted)
    with pytest.raises(KeyboardInterrupt):
        RunState(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    monkeypatch.undo()
    with RunState(tmp_path / "out") as run:  # the plain rerun
        run.mark_done("a", H1, "s")
    with RunState(tmp_path / "out") as run:
        assert run.is_done("a", H1, "s")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [STATE_FILE]


def test_a_usable_state_is_not_moved_aside(tmp_path: Path) -> None:
    with RunState(tmp_path) as run:
        run.mark_done("a", H1, "s")
    with RunState(tmp_path, move_aside=True) as run:
        assert run.moved is None and run.is_done("a", H1, "s")
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    busy = (
        rf"^{re.escape(str(tmp_path))} is in use by another mtsum batch \(pid {os.getpid()}, since "
    )
    with RunLock(tmp_path) as first:
        assert first.held and first.holder()["pid"] == os.getpid()
        second = RunLock(tmp_path)
        with pytest.raises(BusyError, match=busy):
            second.acquire()
        assert not second.held
        first.acquire()  # a holder taking it again keeps it
        assert first.held
    assert not first.held
    # Released: the lock file stays (deleting it would race a new owner), the holder's note goes.
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE]
    with RunLock(tmp_path) as again:
        assert again.held


def test_lock_creates_the_folder_or_says_it_cannot(tmp_path: Path) -> None:
    with RunLock(tmp_path / "new" / "out") as lock:
        assert lock.path.is_file() and (tmp_path / "new" / "out" / HOLDER_FILE).is_file()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot be used as the output folder"):
        RunLock(tmp_path / "file" / "out").acquire()


def test_busy_message_without_a_holder_note(tmp_path: Path) -> None:
    # The moment between another batch taking the lock and writing who it is.
    with RunLock(tmp_path):
        (tmp_path / HOLDER_FILE).unlink()
        with pytest.raises(BusyError, match=r"\(pid unknown, since unknown\)"):
            RunLock(tmp_path).acquire()


HOLDER = """
import sys, time
from mtsum.batch.lock import RunLock
with RunLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "locked\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_lock_held_by_other_process_then_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(BusyError) as info:
        RunLock(tmp_path).acquire()
    assert f"(pid {holder.pid}, since 20" in str(info.value)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    # A SIGKILLed batch leaves its files, but no lock that blocks the rerun.
    assert (tmp_path / LOCK_FILE).exists() and (tmp_path / HOLDER_FILE).exists()
    with RunLock(tmp_path) as lock:
        assert lock.holder()["pid"] == os.getpid() != holder.pid
