"""Helpers shared by the batch tests of both engines (test_batch, test_ray): input folders, and
watching a batch that runs in another process."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from conftest import missing

from mtsum.batch.ray_engine import INSTALL, ray_available
from mtsum.batch.state import STATE_FILE


def needs_ray(what: str) -> None:
    """Skip `what` without Ray, or fail it in CI, which installs it (make install: the ray
    extra)."""
    if not ray_available():
        missing(f"Ray is not installed, and {what} needs it: {INSTALL}")


def write_docs(folder: Path, docs: dict[str, str | bytes]) -> Path:
    """`folder` (made if missing) with each document written: text as UTF-8, bytes as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in docs.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def done_ids(out: Path) -> dict[str, float]:
    """Finished documents and when, read as another process would while the batch runs."""
    path = out / STATE_FILE
    if not path.exists():
        return {}
    db = sqlite3.connect(path, timeout=10)
    try:
        rows = db.execute("SELECT doc_id, finished FROM documents WHERE status = 'ok'").fetchall()
    except sqlite3.OperationalError:  # the table is not created yet
        return {}
    finally:
        db.close()
    return dict(rows)


def wait_for(proc: subprocess.Popen[bytes], test: Callable[[], bool], what: str, log: Path) -> None:
    """Wait until `test()` holds; fail, with the batch's stderr from `log`, if it exits first or
    two minutes pass."""
    deadline = time.monotonic() + 120
    while not test():
        if proc.poll() is not None:
            stderr = log.read_text(encoding="utf-8", errors="replace")
            raise AssertionError(f"the batch exited ({proc.returncode}) before {what}: {stderr}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)
