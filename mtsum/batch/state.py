"""What `mtsum batch` has finished in an output folder: the resume state.

`RunState` keeps one row per document in ``OUT_DIR/.mtsum-state.sqlite3``: its id, the hash of its
input bytes, the settings signature it ran under, "ok" or "failed", the error, when it finished,
how long it took, and the output files written (with their sha256). A rerun skips a document only
when `RunState.is_done` says so; ``--force`` is the caller ignoring it. One writer at a time is
`mtsum.batch.lock`'s job.

A state file that cannot be used (damaged, empty, a link, not a regular file, another program's
database) is refused, and the message says how to go on: ``--force``, whose `RunState` is made
with ``move_aside``, which renames the file to ``.mtsum-state.sqlite3.damaged-<UTC time>`` (never
deleting or following it) and starts a new state. A state that cannot be written (a full disk) is
an `InputError` saying so; what was recorded before stays recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from mtsum.batch.outputs import content_hash, read_below, unusable_folder
from mtsum.errors import InputError
from mtsum.sources import display_path

__all__ = [
    "STATE_FILE",
    "DocRecord",
    "OutputFile",
    "RunState",
    "content_hash",
]

STATE_FILE = ".mtsum-state.sqlite3"
_RECOVERY = "rerun with --force to move it aside and redo every document"
_COLUMNS = "doc_id, content_hash, settings, status, error, finished, duration_s, outputs"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT,
    finished REAL NOT NULL, duration_s REAL NOT NULL, outputs TEXT NOT NULL
)"""


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

    Args:
        out_dir: The output folder (created if missing).
        move_aside: A state file that cannot be used is renamed to
            ``.mtsum-state.sqlite3.damaged-<UTC time>`` and a new state started, instead of
            refused; ``moved`` then says so (a warning for the run report).

    Raises:
        InputError: The folder or the state cannot be created or written (e.g. a full disk), or,
            without `move_aside`, the state file is damaged, empty, a symlink, not a regular file,
            or some other SQLite database.
    """

    def __init__(self, out_dir: str | Path, *, move_aside: bool = False) -> None:
        # Absolute once, here: output paths are recorded relative to this folder, so a relative
        # OUT_DIR must not be joined to them a second time, whatever the working directory.
        self.out_dir = Path(out_dir).absolute()
        self.path = self.out_dir / STATE_FILE
        self.moved: str | None = None
        self._shown = display_path(Path(out_dir) / STATE_FILE)  # as the caller named it
        try:
            self._db = self._open()
        except _Unusable as exc:
            if not move_aside:
                raise InputError(f"{self._shown}: {exc}; {_RECOVERY}") from None
            aside = self._move_aside()
            self.moved = f"{self._shown} {exc}: moved it to {aside.name} and started a new one"
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            _check_state_file(self.path)
            if not os.path.lexists(self.path):
                self._create()
            # Rollback journal, not WAL: the lock keeps writers single, and OUT_DIR stays free of
            # -wal/-shm files between runs.
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except OSError as exc:
            raise unusable_folder(self.out_dir, exc) from None
        except sqlite3.Error as exc:  # a full disk, a read-only folder: not damage
            raise self._unwritable(exc) from exc
        try:
            _open_schema(db)
        except sqlite3.OperationalError as exc:  # a full disk, a read-only file: not damage
            db.close()
            raise self._unwritable(exc) from exc
        except sqlite3.DatabaseError as exc:
            db.close()
            raise _Unusable(f"is a damaged resume state ({exc})") from exc
        except BaseException:
            db.close()
            raise
        return db

    def _create(self) -> None:
        """Make a new, empty state: built in a temporary file beside it and renamed into place,
        so that a run killed meanwhile (Ctrl-C, SIGTERM, a full disk) leaves no empty or
        half-made state file for the rerun to refuse. The lock keeps creators single."""
        fd, temporary = tempfile.mkstemp(prefix=f"{STATE_FILE}.new-", dir=self.out_dir)
        os.close(fd)
        try:
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                _open_schema(db)
            finally:
                db.close()
            os.replace(temporary, self.path)
        except BaseException:
            for suffix in ("-journal", ""):
                with contextlib.suppress(OSError):
                    os.unlink(f"{temporary}{suffix}")
            raise

    def _move_aside(self) -> Path:
        """Rename the state file (and any journal beside it) to a free ``.damaged-<time>``."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{STATE_FILE}.damaged-{stamp}")
        n = 0
        while any(os.path.lexists(f"{aside}{s}") for s in ("", "-journal", "-wal", "-shm")):
            n += 1
            aside = self.path.with_name(f"{STATE_FILE}.damaged-{stamp}-{n}")
        try:
            for suffix in ("-journal", "-wal", "-shm", ""):  # the database last
                if os.path.lexists(f"{self.path}{suffix}"):
                    os.rename(f"{self.path}{suffix}", f"{aside}{suffix}")
        except OSError as exc:
            raise unusable_folder(self.out_dir, exc) from None
        return aside

    def _unwritable(self, exc: sqlite3.Error) -> InputError:
        return InputError(
            f"{self._shown}: cannot be written ({exc}); make room there (or fix its permissions) "
            "and rerun the same command to resume"
        )

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """sqlite's errors in use as `InputError`s: the state cannot be written, or is damaged."""
        try:
            yield
        except sqlite3.OperationalError as exc:  # "database or disk is full", "disk I/O error"
            raise self._unwritable(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{self._shown}: is a damaged resume state ({exc}); {_RECOVERY}"
            ) from exc

    def _record(self, row: tuple[Any, ...]) -> DocRecord:
        """The record in `row`; a row damaged since the state was opened is an `InputError`."""
        try:
            return _decode(row)
        except ValueError as exc:
            raise InputError(
                f"{self._shown}: is a damaged resume state ({exc}); {_RECOVERY}"
            ) from None

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
            data = read_below(self.out_dir, output.path)
            if data is None or content_hash(data) != output.sha256:
                changed.append(output)
        return changed

    def unchanged_outputs(self, doc_id: str) -> list[Path]:
        """The files the last run of `doc_id` wrote that still hold what it wrote (absolute)."""
        record = self.get(doc_id)
        if record is None:
            return []
        changed = set(self.changed_outputs(record))
        return [self.out_dir / f.path for f in record.outputs if f not in changed]

    def mark_done(
        self,
        doc_id: str,
        content_hash: str,
        settings: str,
        *,
        outputs: Sequence[str | Path | OutputFile] = (),
        duration_s: float = 0.0,
    ) -> None:
        """Record that `doc_id` finished and wrote `outputs` (files in OUT_DIR, each given as an
        absolute path or relative to OUT_DIR, recorded relative to it with their sha256; or as
        an `OutputFile` whose sha256 the caller computed when it wrote the file).

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
        with self._guard():
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)
            ).fetchone()
        return None if row is None else self._record(row)

    def records(self) -> list[DocRecord]:
        """Every record, sorted by document id."""
        with self._guard():
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM documents ORDER BY doc_id").fetchall()
        return [self._record(r) for r in rows]

    def forget(self, doc_id: str) -> None:
        """Drop the record of `doc_id`, as if it had never run."""
        with self._guard():
            self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def forget_all(self) -> None:
        """Drop every record, so that every document runs again."""
        with self._guard():
            self._db.execute("DELETE FROM documents")

    def _output(self, path: str | Path | OutputFile) -> OutputFile:
        if isinstance(path, OutputFile):
            return path
        # A relative path is relative to OUT_DIR, as the recorded ones are.
        full = self.out_dir / path
        data = None
        try:
            relative = full.resolve().relative_to(self.out_dir.resolve()).as_posix()
            data = read_below(self.out_dir, relative)
        except (ValueError, OSError):
            pass
        if data is None:
            raise InputError(
                f"output {display_path(path)} is not a file in {display_path(self.out_dir)}"
            )
        return OutputFile(path=relative, sha256=content_hash(data))

    def _put(self, row: tuple[Any, ...]) -> None:
        with self._guard():
            self._db.execute(
                f"INSERT OR REPLACE INTO documents ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
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


class _Unusable(Exception):
    """The state file is there but is no usable mtsum resume state (the message says why)."""


def _check_state_file(path: Path) -> None:
    """Refuse a state path that sqlite would follow elsewhere, cannot hold a database, or that
    is empty (sqlite would take it for a new state, and every folder for someone else's)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _Unusable("is a symlink, not an mtsum resume state")
    if not stat.S_ISREG(info.st_mode):
        raise _Unusable("is not a regular file, not an mtsum resume state")
    if info.st_size == 0:
        raise _Unusable("is empty, not an mtsum resume state")


def _open_schema(db: sqlite3.Connection) -> None:
    """Create the table in a new state; refuse a database that holds anything else or whose
    pages are damaged.

    Raises:
        _Unusable: Another program's database, or a row whose cells mtsum did not write.
        sqlite3.DatabaseError: A damaged one (OperationalError: one that cannot be written).
    """
    not_ours = _Unusable("is not an mtsum resume state")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables - {"documents"}:
        raise not_ours
    # Damage past the first page (a truncated or overwritten file) shows here, before any model
    # loads; the state holds one short row per document, so the check is quick.
    problems = [r[0] for r in db.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise sqlite3.DatabaseError("; ".join(map(str, problems[:3])))
    db.execute(_SCHEMA)
    columns = [r[1] for r in db.execute("PRAGMA table_info(documents)")]
    if columns != [c.strip() for c in _COLUMNS.split(",")]:
        raise not_ours
    # quick_check reads the pages, not what the cells hold: decode every row once, so that a
    # cell damaged inside is refused here, with --force's way out, not met in the middle of a run.
    try:
        for row in db.execute(f"SELECT {_COLUMNS} FROM documents"):
            _decode(row)
    except ValueError as exc:
        raise _Unusable(f"is a damaged resume state ({exc})") from None


def _decode(row: tuple[Any, ...]) -> DocRecord:
    """The record in one row.

    Raises:
        ValueError: A cell that mtsum did not write: a wrong type, a status other than "ok" or
            "failed", outputs that are not a JSON list of [path, sha256] pairs.
    """
    try:
        doc_id, digest, settings, status, error, finished, duration_s, outputs = row
        texts = (doc_id, digest, settings, outputs)
        if not all(isinstance(t, str) for t in texts) or not isinstance(error, str | None):
            raise ValueError("a text cell holds something else")
        if status not in ("ok", "failed"):
            raise ValueError(f"status {status!r}")
        if not all(isinstance(n, int | float) for n in (finished, duration_s)):
            raise ValueError("a time cell holds something else")
        pairs = json.loads(outputs)
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in pairs
        ):
            raise ValueError("outputs is not a list of [path, sha256] pairs")
    except (ValueError, TypeError) as exc:  # json's errors are ValueErrors
        name = row[0] if row and isinstance(row[0], str) else "?"
        raise ValueError(f"the row of {name!r}: {exc}") from exc
    return DocRecord(
        doc_id=doc_id,
        content_hash=digest,
        settings=settings,
        status=status,
        error=error,
        finished=float(finished),
        duration_s=float(duration_s),
        outputs=tuple(OutputFile(path=p, sha256=h) for p, h in pairs),
    )
