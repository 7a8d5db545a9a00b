"""What `mtsum batch OUT_DIR` has finished, and the lock that keeps two batches out of one folder.

`RunState` keeps one row per document in ``OUT_DIR/.mtsum-state.sqlite3``: its id, the hash of its
input bytes, the settings signature it ran under, "ok" or "failed", the error, when it finished,
how long it took, and the output files written (with their sha256). A rerun skips a document only
when `RunState.is_done` says so; ``--force`` is the caller ignoring it.

`RunLock` holds ``OUT_DIR/.mtsum.lock``. On Linux and macOS it is an ``fcntl.flock`` lock, which
the kernel drops when the process dies, so a batch killed with SIGKILL never blocks the rerun.
Where fcntl is missing (Windows) the lock is a file created with O_EXCL holding the owner's pid;
a file whose pid is no longer running is taken over. That fallback can be fooled by a reused pid,
and two processes taking over the same stale file at the same instant may both succeed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from mtsum.errors import BusyError, InputError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_FILE",
    "STATE_FILE",
    "DocRecord",
    "OutputFile",
    "RunLock",
    "RunState",
    "content_hash",
    "unusable_folder",
]

STATE_FILE = ".mtsum-state.sqlite3"
LOCK_FILE = ".mtsum.lock"
_COLUMNS = "doc_id, content_hash, settings, status, error, finished, duration_s, outputs"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT,
    finished REAL NOT NULL, duration_s REAL NOT NULL, outputs TEXT NOT NULL
)"""


def unusable_folder(folder: Path, exc: OSError) -> InputError:
    """The error for an output folder that cannot be created or written."""
    return InputError(
        f"{folder}: cannot be used as the output folder ({exc.strerror or exc}); pass a folder "
        "you can write to"
    )


def content_hash(data: bytes) -> str:
    """sha256 hex digest of a document's input bytes.

    Example:
        >>> content_hash(b"")[:12]
        'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, kw_only=True)
class OutputFile:
    """One file a document produced, relative to OUT_DIR."""

    path: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class DocRecord:
    """The last run of one document."""

    doc_id: str
    content_hash: str
    settings: str
    status: str
    error: str | None
    finished: float
    duration_s: float
    outputs: tuple[OutputFile, ...]


class RunState:
    """The resume state of one output folder (created on first use).

    Raises:
        InputError: The state file cannot be opened or is damaged.
    """

    def __init__(self, out_dir: str | Path) -> None:
        # Absolute once, here: output paths are recorded relative to this folder, so a relative
        # OUT_DIR must not be joined to them a second time, whatever the working directory.
        self.out_dir = Path(out_dir).absolute()
        self.path = self.out_dir / STATE_FILE
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            # Rollback journal, not WAL: the lock keeps writers single, and OUT_DIR stays free of
            # -wal/-shm files between runs.
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute(_SCHEMA)
        except OSError as exc:
            raise unusable_folder(self.out_dir, exc) from None
        except sqlite3.Error as exc:
            raise InputError(
                f"cannot use resume state {self.path} ({exc}): delete it to redo every document"
            ) from exc

    def is_done(self, doc_id: str, content_hash: str, settings: str) -> bool:
        """Whether `doc_id` can be skipped.

        Args:
            doc_id: The document's id (e.g. its input path).
            content_hash: `content_hash` of its input bytes now.
            settings: The signature of the settings it would run under now.

        Returns:
            True when its last run finished "ok" with the same hash and settings and every output
            it wrote still holds what it wrote (an output deleted or edited since is made again;
            `changed_outputs` says which).
        """
        record = self.get(doc_id)
        return (
            record is not None
            and record.status == "ok"
            and (record.content_hash, record.settings) == (content_hash, settings)
            and not self.changed_outputs(record)
        )

    def changed_outputs(self, record: DocRecord) -> list[OutputFile]:
        """The outputs of `record` that are gone, replaced by a link or a non-file, or whose bytes
        differ from what was recorded."""
        changed = []
        for output in record.outputs:
            path = self.out_dir / output.path
            try:
                linked = path.is_symlink() or path.parent.is_symlink()
                same = not linked and path.is_file()
                same = same and content_hash(path.read_bytes()) == output.sha256
            except OSError:
                same = False
            if not same:
                changed.append(output)
        return changed

    def mark_done(
        self,
        doc_id: str,
        content_hash: str,
        settings: str,
        *,
        outputs: Sequence[str | Path] = (),
        duration_s: float = 0.0,
    ) -> None:
        """Record that `doc_id` finished and wrote `outputs` (files in OUT_DIR, each given as an
        absolute path or relative to OUT_DIR; recorded relative to it with their sha256).

        Raises:
            InputError: An output is missing or outside OUT_DIR.
        """
        files = json.dumps([[f.path, f.sha256] for f in map(self._output, outputs)])
        self._put((doc_id, content_hash, settings, "ok", None, time.time(), duration_s, files))

    def mark_failed(
        self, doc_id: str, content_hash: str, settings: str, *, error: str, duration_s: float = 0.0
    ) -> None:
        """Record that `doc_id` failed with `error`; a rerun tries it again."""
        self._put((doc_id, content_hash, settings, "failed", error, time.time(), duration_s, "[]"))

    def get(self, doc_id: str) -> DocRecord | None:
        """The record of `doc_id`, or None if it never finished."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return None if row is None else _record(row)

    def records(self) -> list[DocRecord]:
        """Every record, sorted by document id."""
        return [
            _record(r)
            for r in self._db.execute(f"SELECT {_COLUMNS} FROM documents ORDER BY doc_id")
        ]

    def forget_all(self) -> None:
        """Drop every record, so that every document runs again."""
        self._db.execute("DELETE FROM documents")

    def _output(self, path: str | Path) -> OutputFile:
        # A relative path is relative to OUT_DIR, as the recorded ones are.
        full = self.out_dir / path
        try:
            relative = full.resolve().relative_to(self.out_dir.resolve())
            data = full.read_bytes()
        except (ValueError, OSError) as exc:
            raise InputError(f"output {path} is not a file in {self.out_dir}") from exc
        return OutputFile(path=relative.as_posix(), sha256=content_hash(data))

    def _put(self, row: tuple[Any, ...]) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO documents ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row
        )

    def close(self) -> None:
        """Close the state file."""
        self._db.close()

    def __enter__(self) -> RunState:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _record(row: tuple[Any, ...]) -> DocRecord:
    doc_id, digest, settings, status, error, finished, duration_s, outputs = row
    return DocRecord(
        doc_id=doc_id,
        content_hash=digest,
        settings=settings,
        status=status,
        error=error,
        finished=finished,
        duration_s=duration_s,
        outputs=tuple(OutputFile(path=p, sha256=h) for p, h in json.loads(outputs)),
    )


class RunLock:
    """Exclusive use of an output folder by one `mtsum batch`; use as a context manager.

    Raises:
        BusyError: On entry, when another process holds the folder.

    Example:
        >>> with RunLock(out_dir):  # doctest: +SKIP
        ...     run_batch(...)
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_FILE
        self._fd: int | None = None  # the flock'd file
        self._held = False

    def acquire(self) -> None:
        """Take the lock or raise `BusyError` naming the holder's pid and start time.

        Raises:
            BusyError: Another process holds the folder.
            InputError: The folder cannot be created or written.
        """
        since = datetime.now().astimezone().isoformat(timespec="seconds")
        me = json.dumps({"pid": os.getpid(), "since": since})
        if fcntl is not None:
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise unusable_folder(self.out_dir, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise BusyError(self._busy_message()) from None
            os.ftruncate(fd, 0)
            os.write(fd, me.encode())
            self._fd, self._held = fd, True
            return
        for _ in range(2):
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                pid = self._holder().get("pid")
                if isinstance(pid, int) and not _pid_alive(pid):
                    self.path.unlink(missing_ok=True)  # left by a process that died
                    continue
                raise BusyError(self._busy_message()) from None
            except OSError as exc:
                raise unusable_folder(self.out_dir, exc) from None
            os.write(fd, me.encode())
            os.close(fd)
            self._held = True
            return
        raise BusyError(self._busy_message())

    def release(self) -> None:
        """Give the lock back (the fcntl lock file stays; deleting it would race a new owner)."""
        if not self._held:
            return
        if self._fd is not None:
            os.close(self._fd)
        elif self._holder().get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self._fd, self._held = None, False

    def _holder(self) -> dict[str, object]:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def _busy_message(self) -> str:
        holder = self._holder()
        pid, since = holder.get("pid", "unknown"), holder.get("since", "unknown")
        return (
            f"{self.out_dir} is in use by another mtsum batch (pid {pid}, since {since}); wait for "
            f"it or remove {self.path} if no mtsum is running"
        )

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        # os.kill(pid, 0) would send CTRL_C_EVENT on Windows; ask the process table instead.
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
