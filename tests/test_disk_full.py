"""Full disks: under OUT (the lock, the resume state, a document's files, the run report) and
under the translation cache.

Each test mounts a small tmpfs (root only, as CI runs) and fills it with a filler file, so that
ENOSPC comes from a real filesystem through SQLite's own handling of it. What must hold: a run
ends in a report or a one-line `InputError` (exit 3), never anything else (exit 70); every
document recorded before the disk filled stays recorded, and a rerun on a bigger disk skips it;
an optional cache never fails a document.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from batch_runs import done_ids, write_docs
from conftest import missing
from typer.testing import CliRunner

from mtsum.backends.base import FunctionModel
from mtsum.backends.cache import open_cache
from mtsum.batch import BatchReport, run_batch
from mtsum.batch.state import STATE_FILE
from mtsum.cli import app
from mtsum.errors import InputError

ARABIC = "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n"
ENGLISH = "The river rose overnight. Schools closed in the valley. Roads were cut.\n\n"
runner = CliRunner()


class Disk:
    """A mounted tmpfs: `fill` leaves a given free space, `grow` makes room."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self, free_kb: int) -> None:
        """Write a filler file until the disk is full, then give back `free_kb` (4 KB pages)."""
        filler = self.path / "filler"
        # Unbuffered: a buffered file would raise again on close, flushing what did not fit.
        with open(filler, "ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * (1 << 16))
            except OSError:
                pass
        os.truncate(filler, max(0, filler.stat().st_size - free_kb * 1024))

    def grow(self) -> None:
        """Room for everything: the filler goes."""
        (self.path / "filler").unlink()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Callable[[str], Disk]]:
    """Mount a tmpfs of a given size (e.g. "1M") under tmp_path; unmounted after the test."""
    if os.geteuid() != 0:
        missing("mounting a tmpfs needs root (CI runs the tests as root)")
    mounted: list[Path] = []

    def mount(size: str) -> Disk:
        path = tmp_path / f"disk{len(mounted)}"
        path.mkdir()
        run = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if run.returncode:
            missing(f"cannot mount a tmpfs here: {run.stderr.strip()}")
        mounted.append(path)
        return Disk(path)

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=True)


def models() -> dict[str, FunctionModel]:
    return {
        "translator": FunctionModel(lambda xs: [f"Report of {len(x)} letters." for x in xs]),
        "summarizer": FunctionModel(lambda xs: [" ".join(x.split()[:5]) + "." for x in xs]),
    }


def statuses(report: BatchReport) -> dict[str, str]:
    return {row.id: row.status for row in report.documents}


# --- OUT ------------------------------------------------------------------------------------------

# Where a full OUT disk can stop a run, from the first write to the last.
POINTS = {
    "lock or folder",  # .mtsum.lock(.json), nothing recorded
    "state not created",  # .mtsum-state.sqlite3's first write
    "state, nothing recorded",  # state.mark_failed of the first document
    "state, documents recorded",  # mark_failed/mark_done of a later one
    "run report, documents recorded",  # report.json ...
    "failed rows",  # a document's files: a failed row, the run goes on
}


def test_full_out_disk_stops_cleanly_at_every_point(
    disk: Callable[[str], Disk], tmp_path: Path
) -> None:
    inp = write_docs(tmp_path / "in", {f"{n}.txt": ENGLISH * (i + 1) for i, n in enumerate("abc")})
    space = disk("1M")
    out = space.path / "out"
    seen: dict[str, int] = {}
    for free in range(0, 1024, 4):  # KB, until the run has room for everything
        shutil.rmtree(out, ignore_errors=True)
        space.fill(free)
        try:
            report = run_batch(inp, out, **models())  # type: ignore[arg-type]
        except InputError as exc:  # exit 3; anything else fails the test (exit 70)
            message = str(exc)
            assert "\n" not in message and "and rerun the same command to resume" in message
            recorded = done_ids(out)
            if STATE_FILE not in message:
                point = "run report, documents recorded" if recorded else "lock or folder"
            elif recorded:
                point = "state, documents recorded"
            elif (out / STATE_FILE).exists():
                point = "state, nothing recorded"
            else:
                point = "state not created"
        else:
            if not report.failed:
                break
            recorded, point = done_ids(out), "failed rows"
        seen.setdefault(point, free)
        space.grow()
        again = run_batch(inp, out, **models())  # type: ignore[arg-type]
        expected = {doc: "skipped" if doc in recorded else "ok" for doc in "abc"}
        assert statuses(again) == expected, (free, point)
    # A document's files failing on their own (a failed row, the run going on) depends on the
    # sizes of the files written after them; every other point is always reached.
    assert POINTS - {"failed rows"} <= set(seen) <= POINTS, seen


def test_cli_full_out_disk_is_exit_3_and_the_rerun_resumes(
    disk: Callable[[str], Disk], tmp_path: Path, marian_dir: Path, bart_dir: Path
) -> None:
    space = disk("4M")
    inp = write_docs(tmp_path / "in", {"a.txt": ENGLISH})
    out = space.path / "out"
    args = ["batch", str(inp), "--out", str(out), "--mt-model", str(marian_dir)]
    args += ["--sum-model", str(bart_dir), "--sum-beams", "1", "--max-words", "8", "-q"]
    args += ["--threads", "1", "--device", "cpu", "--backend", "transformers"]
    assert runner.invoke(app, args).exit_code == 0
    write_docs(inp, {"b.txt": ENGLISH * 2})
    space.fill(4)  # room for the lock's note, not for the state's journal
    full = runner.invoke(app, args)
    assert full.exit_code == 3, full.output
    assert full.stderr == (
        f"mtsum: error: {out / STATE_FILE}: cannot be written (database or disk is full); make "
        "room there (or fix its permissions) and rerun the same command to resume\n"
    )
    space.grow()
    assert runner.invoke(app, args).exit_code == 0
    assert done_ids(out).keys() == {"a", "b"}


# --- the translation cache ------------------------------------------------------------------------


def test_full_cache_disk_fails_no_document_and_warns_once(
    disk: Callable[[str], Disk], tmp_path: Path
) -> None:
    space = disk("256k")
    inp = write_docs(tmp_path / "in", {f"{n}.txt": ARABIC * (i + 1) for i, n in enumerate("abc")})
    with open_cache(space.path) as cache:
        space.fill(0)
        report = run_batch(inp, tmp_path / "out", **models(), cache=cache)  # type: ignore[arg-type]
    assert statuses(report) == {"a": "ok", "b": "ok", "c": "ok"}
    assert report.warnings == (
        f"translation cache {space.path / 'translations.sqlite3'} cannot be used (database or "
        "disk is full); going on without it",
    )


@pytest.mark.parametrize("quiet", [False, True], ids=["warns", "-q"])
def test_cli_full_cache_disk_is_one_warning(
    disk: Callable[[str], Disk], tmp_path: Path, marian_dir: Path, bart_dir: Path, quiet: bool
) -> None:
    space = disk("256k")
    inp = write_docs(tmp_path / "in", {"a.txt": ARABIC, "b.txt": ARABIC * 2})
    args = ["batch", str(inp), "--out", str(tmp_path / "out"), "--mt-model", str(marian_dir)]
    args += ["--sum-model", str(bart_dir), "--sum-beams", "1", "--beams", "1"]
    args += ["--max-words", "8", "--threads", "1", "--device", "cpu", "--backend", "transformers"]
    args += ["--cache-dir", str(space.path), *(["-q"] if quiet else [])]
    # Another process has the cache open (its -wal and -shm files exist), as when several share
    # it; then the disk fills.
    with open_cache(space.path):
        space.fill(0)
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("mtsum: warning:")]
    expected = [
        f"mtsum: warning: translation cache {space.path / 'translations.sqlite3'} cannot be used "
        "(database or disk is full); going on without it"
    ]
    assert warnings == ([] if quiet else expected)
    assert "error" not in result.stderr and (result.stderr == "" or not quiet)
