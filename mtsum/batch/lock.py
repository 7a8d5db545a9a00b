"""One `mtsum batch` at a time per output folder: the lock on ``OUT_DIR/.mtsum.lock``.

The lock is filelock's `FileLock`: ``flock`` on Linux and macOS, ``msvcrt.locking`` on Windows.
The operating system drops it when the holding process dies, so a batch killed with SIGKILL never
blocks the rerun, and no pid has to be tested for life (a reused pid cannot fool it). The lock
file is left in place on release, since deleting it would race a new owner.

Who holds the lock is written beside it, in ``.mtsum.lock.json`` (pid and start time), for the
message a second batch gets; filelock owns the lock file's bytes. The holder writes it right after
taking the lock and deletes it before giving the lock back, so only a killed run leaves one, and
the next holder replaces it.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from mtsum.atomic import write_text
from mtsum.batch.outputs import unusable_folder
from mtsum.errors import BusyError

if TYPE_CHECKING:
    from filelock import BaseFileLock

__all__ = ["HOLDER_FILE", "LOCK_FILE", "RunLock"]

LOCK_FILE = ".mtsum.lock"
HOLDER_FILE = ".mtsum.lock.json"


class RunLock:
    """Exclusive use of an output folder by one `mtsum batch`; use as a context manager.

    Raises:
        BusyError: On entry, when another process holds the folder.

    Example:
        >>> import tempfile
        >>> out_dir = tempfile.mkdtemp()
        >>> with RunLock(out_dir) as lock:  # doctest: +ELLIPSIS
        ...     RunLock(out_dir).acquire()  # a second batch on the same folder
        Traceback (most recent call last):
        mtsum.errors.BusyError: ... is in use by another mtsum batch (pid ..., since ...); ...
        >>> lock.held, sorted(p.name for p in Path(out_dir).iterdir())  # the lock file stays
        (False, ['.mtsum.lock'])
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_FILE
        self.holder_path = self.out_dir / HOLDER_FILE
        from filelock import FileLock  # here: a batch needs it, `import mtsum` does not

        # Never wait: a second batch is told at once who is working there.
        self._lock: BaseFileLock = FileLock(self.path, timeout=0)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._lock.is_locked

    def acquire(self) -> None:
        """Take the lock (creating OUT_DIR) unless this object holds it already.

        Raises:
            BusyError: Another process holds the folder; the message names its pid and start.
            InputError: The folder cannot be created or written.
        """
        from filelock import Timeout

        if self.held:
            return
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except Timeout:
            raise BusyError(self._busy_message()) from None
        except OSError as exc:
            raise unusable_folder(self.out_dir, exc) from None
        since = datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            write_text(self.holder_path, json.dumps({"pid": os.getpid(), "since": since}) + "\n")
        except OSError as exc:
            self._lock.release()
            raise unusable_folder(self.out_dir, exc) from None

    def release(self) -> None:
        """Give the lock back, if held."""
        if not self.held:
            return
        try:
            # Deleted while still held, so it never removes the next holder's file.
            self.holder_path.unlink(missing_ok=True)
        finally:
            self._lock.release()

    def holder(self) -> dict[str, object]:
        """What the holder wrote about itself (``pid``, ``since``); empty when unknown."""
        try:
            holder = json.loads(self.holder_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def _busy_message(self) -> str:
        holder = self.holder()
        pid, since = holder.get("pid", "unknown"), holder.get("since", "unknown")
        return (
            f"{self.out_dir} is in use by another mtsum batch (pid {pid}, since {since}); wait "
            "for it to finish, or stop it"
        )

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
