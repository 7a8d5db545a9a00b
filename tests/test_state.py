"""Resume state of `mtsum batch` and its output-folder lock."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtsum import state
from mtsum.errors import BusyError, InputError
from mtsum.state import LOCK_FILE, STATE_FILE, RunLock, RunState, content_hash

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


def test_damaged_state_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_bytes(b"garbage, not sqlite\x00" * 100)
    with pytest.raises(InputError, match="delete it to redo every document"):
        RunState(tmp_path)


@pytest.fixture(params=["fcntl", "pidfile"])
def lock_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pidfile":
        monkeypatch.setattr(state, "fcntl", None)
    return request.param


def test_lock_is_exclusive_and_released(tmp_path: Path, lock_kind: str) -> None:
    busy = r"in use by another mtsum batch \(pid \d+, since"
    with RunLock(tmp_path), pytest.raises(BusyError, match=busy):
        RunLock(tmp_path).acquire()
    with RunLock(tmp_path):
        pass


HOLDER = """
import sys, time
from mtsum import state
if sys.argv[2] == "pidfile":
    state.fcntl = None
with state.RunLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path, lock_kind: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), lock_kind],
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
    message = str(info.value)
    assert f"pid {holder.pid}, since 20" in message
    assert str(tmp_path / LOCK_FILE) in message
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    # A SIGKILLed batch leaves no lock behind that blocks the rerun.
    with RunLock(tmp_path) as lock:
        assert json.loads(lock.path.read_text())["pid"] != holder.pid
