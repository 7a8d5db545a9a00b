"""Plain mistakes get a one-line error and a documented exit code, never exit 70 or a traceback.

Each row of `CASES` is a command a user might type in a scratch folder (relative paths, the tiny
checkpoints as --mt-model/--sum-model), the exit code it must end with, and a fragment of its
one-line message. Sentinel files beside the work must survive byte for byte.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_91e72526449f324a.txt"
SUMMARY = "Patrushev visited Tehran.\n"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int
    message: str  # a fragment of the one line on stderr ("" for a success)
    stdin: bytes | None = None


CASES = {
    "-o a folder": Case(("translate", "a.txt", "-o", "folder"), 3, "folder: is a folder"),
    "-o under a file": Case(
        ("translate", "a.txt", "-o", "plain/out.txt"), 3, "(plain is a file, not a folder)"
    ),
    "-o empty": Case(("translate", "a.txt", "-o", ""), 3, "the output path is empty"),
    "-o 300-character name": Case(
        ("translate", "a.txt", "-o", "x" * 300), 3, "cannot be written (File name too long)"
    ),
    "-o - is stdout": Case(("translate", "a.txt", "-o", "-", "--format", "json"), 0, ""),
    "/dev/zero": Case(("translate", "/dev/zero"), 3, "/dev/zero: over the limit of 1,000,000"),
    "--max-bytes": Case(("translate", "a.txt", "--max-bytes", "100"), 3, "over the limit of 100"),
    "stdin over --max-bytes": Case(
        ("summarize", "-", "--max-bytes", "100"), 3, "stdin: over the limit of 100", b"x" * 200
    ),
    "score --max-bytes": Case(
        ("score", "--hyp", "s.txt", "--ref", "a.txt", "--max-bytes", "50"), 3, "a.txt: over the"
    ),
    "check a folder": Case(
        ("check", "docs", "--summary", "s.txt"), 3, "docs: is a folder; mtsum check takes one"
    ),
    "cuda without CUDA": Case(
        ("translate", "a.txt", "--device", "cuda", "--backend", "transformers"),
        4,
        "--device cuda, but PyTorch sees no CUDA device here",
    ),
    "Windows-1256 named": Case(("translate", "legacy.txt"), 3, "looks like Windows-1256"),
    "--encoding cp1256": Case(("translate", "legacy.txt", "--encoding", "cp1256"), 0, ""),
    "--encoding no codec": Case(
        ("batch", "docs", "--out", "out", "--encoding", "nope"), 3, "'nope' is not a codec"
    ),
    "--encoding undefined": Case(
        ("translate", "a.txt", "--encoding", "undefined"), 3, "cannot be decoded as undefined"
    ),
    # The largest --max-bytes (1 GiB, mtsum.limits) allocates nothing up front.
    "largest --max-bytes": Case(
        ("score", "--hyp", "s.txt", "--ref", "s.txt", "--max-bytes", str(1 << 30)), 0, ""
    ),
    "escape codes in a name": Case(
        ("translate", "\x1b]0;owned\x07\x1b[2J.txt"),
        3,
        "\ufffd]0;owned\ufffd\ufffd[2J.txt: no such",
    ),
    "undecodable names in JSON": Case(
        ("score", "--hyp", "h\udcff.txt", "--ref", "s.txt", "--format", "json", "-o", "sj.json"),
        0,
        "",
    ),
    "batch: hostile names": Case(("batch", "hostile", "--out", "out"), 0, ""),
    "batch: --out under a file": Case(
        ("batch", "docs", "--out", "plain/out"), 3, "cannot be used as the output folder"
    ),
}
MODEL_FREE = {"score"}


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    cwd = tmp_path / "work"
    (cwd / "folder").mkdir(parents=True)
    (cwd / "docs").mkdir()
    (cwd / "hostile").mkdir()
    shutil.copy(SEED, cwd / "a.txt")
    shutil.copy(SEED, cwd / "docs" / "one.txt")
    shutil.copy(SEED, cwd / "docs" / "two.txt")
    (cwd / "s.txt").write_text(SUMMARY, encoding="utf-8")
    (cwd / os.fsdecode(b"h\xff.txt")).write_text(SUMMARY, encoding="utf-8")
    (cwd / "plain").write_text("a file, not a folder\n", encoding="utf-8")
    legacy = "قال الوزير إن المحادثات كانت مثمرة.\nوأضاف أنه سيعود غداً.\n"
    (cwd / "legacy.txt").write_bytes(legacy.encode("cp1256"))
    short = "قصير. نص قصير للاختبار.\n"
    for name in ("...txt", "..txt", ".mtsum-state.sqlite3.txt", ".mtsum.lock.txt"):
        (cwd / "hostile" / name).write_text(short, encoding="utf-8")
    (cwd / "hostile" / ("ع" * 119 + ".txt")).write_text(short, encoding="utf-8")  # 242 bytes
    return cwd


def _sentinels(cwd: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (cwd / "plain", cwd / "a.txt", cwd / "s.txt")}


@pytest.mark.parametrize("name", list(CASES))
def test_plain_mistakes_get_clear_errors(
    name: str, scratch: Path, marian_dir: Path, bart_dir: Path, tmp_path: Path
) -> None:
    case = CASES[name]
    command, *rest = case.args
    models = []
    if command not in MODEL_FREE:
        models = ["--mt-model", str(marian_dir), "--threads", "1"]
        if command in ("summarize", "batch"):
            models += ["--sum-model", str(bart_dir), "--max-words", "8", "--sum-beams", "1"]
    before = _sentinels(scratch)
    env = {**os.environ, "MTSUM_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-m", "mtsum", command, *rest, *models],
        cwd=scratch,
        env=env,
        input=case.stdin or b"",
        capture_output=True,
        timeout=300,
    )
    stderr = run.stderr.decode("utf-8", "replace")
    assert run.returncode == case.code, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    if case.code:
        [line] = stderr.strip().splitlines()  # one line
        assert line.startswith("mtsum: error: ") and case.message in line, line
    assert _sentinels(scratch) == before
    if name == "-o - is stdout":
        assert run.stdout.startswith(b'{\n  "mtsum"') and not (scratch / "-").exists()


def test_closed_stdin_is_a_clear_error(tmp_path: Path) -> None:
    run = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m mtsum translate - <&-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 3
    assert run.stderr == "mtsum: error: stdin is closed; pipe a document in, or name a file\n"
