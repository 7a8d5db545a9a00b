"""Plain mistakes get a one-line error and a documented exit code, never exit 70 or a traceback.

Each row of `CASES` is a command a user might type in a scratch folder (relative paths, the tiny
checkpoints as --mt-model/--sum-model), the exit code it must end with, and a fragment of its
one-line message. Sentinel files beside the work must survive byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import missing

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


def test_damaged_resume_state_advice_works(tmp_path: Path, bart_dir: Path) -> None:
    """A damaged state is refused with advice; following it (as a user reads it) redoes every
    document, keeps the damaged file aside, and the next run resumes."""
    cwd = tmp_path / "work"
    (cwd / "docs").mkdir(parents=True)
    for name in ("one", "two"):
        (cwd / "docs" / f"{name}.txt").write_text(f"The {name} river rose. Schools closed.\n")
    env = {**os.environ, "MTSUM_CACHE_DIR": str(tmp_path / "cache")}
    args = ["batch", "docs", "--out", "out", "--sum-model", str(bart_dir), "--sum-beams", "1"]
    args += ["--max-words", "8", "--threads", "1", "--backend", "transformers"]

    def batch(*more: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "mtsum", *args, *more]
        return subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )

    assert batch().returncode == 0
    state = cwd / "out" / ".mtsum-state.sqlite3"
    state.write_bytes(b"overwritten by something else\n" * 200)
    report = (cwd / "out" / "report.md").read_bytes()
    refused = batch()
    assert refused.returncode == 3 and refused.stderr == (
        "mtsum: error: out/.mtsum-state.sqlite3: is a damaged resume state (file is not a "
        "database); rerun with --force to move it aside and redo every document\n"
    )
    assert (cwd / "out" / "report.md").read_bytes() == report
    forced = batch("--force")
    assert forced.returncode == 0, forced.stderr
    [warning, done] = forced.stderr.splitlines()
    assert warning.startswith("mtsum: warning: out/.mtsum-state.sqlite3 is a damaged resume state")
    assert "moved it to .mtsum-state.sqlite3.damaged-" in warning
    assert done.startswith("mtsum: 2 documents (2 ok, 0 skipped, 0 failed)")
    assert len(list((cwd / "out").glob(".mtsum-state.sqlite3.damaged-*"))) == 1
    again = batch()
    assert again.returncode == 0 and "(0 ok, 2 skipped, 0 failed)" in again.stderr


def _catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (its SigCgt mask in /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) >> (signum - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads SigCgt from /proc")
@pytest.mark.parametrize("command", ["translate", "summarize"])
def test_sigterm_ends_a_command_cleanly(tmp_path: Path, command: str) -> None:
    # Waiting on stdin, inside the command (its handler is set): stopped there, nothing written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "mtsum", command, "-", "-o", "out.txt"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # a bound on the wait, not on the command's speed
        while proc.poll() is None and time.monotonic() < deadline:
            if _catches(proc.pid, signal.SIGTERM):
                break
            time.sleep(0.02)
        assert proc.poll() is None and _catches(proc.pid, signal.SIGTERM), "no SIGTERM handler"
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143
    assert (stdout, stderr) == (b"", b"mtsum: interrupted\n")
    assert list(tmp_path.iterdir()) == []


# --- Outputs that would destroy what a user has -------------------------------------------------
#
# Each row: the command, a shell redirection (or none), the exit code, a fragment of the one line
# on stderr. Nothing in the scratch folder may change, byte for byte: a refusal writes nothing.
# A row without `models` names models that do not exist: the refusal comes before any loads
# (were a model looked for, it would be exit 4).

IS_INPUT = "is an input"


@dataclass(frozen=True)
class Refusal:
    args: tuple[str, ...]
    code: int
    message: str
    shell: str = ""  # appended to the command line: a redirection such as ">&-"
    models: bool = False  # whether the command gets the tiny models (it must run them)


REFUSALS = {
    "translate -o the input": Refusal(
        ("translate", "a.txt", "-o", "a.txt"), 3, f"-o a.txt {IS_INPUT}; writing there would"
    ),
    "translate -o a symlink to the input": Refusal(
        ("translate", "a.txt", "-o", "link.txt"), 3, f"-o link.txt {IS_INPUT} (a.txt)"
    ),
    "translate of a symlink -o its file": Refusal(
        ("translate", "link.txt", "-o", "a.txt"), 3, f"-o a.txt {IS_INPUT} (link.txt)"
    ),
    "translate -o a hard link to the input": Refusal(
        ("translate", "a.txt", "-o", "hard.txt"), 3, f"-o hard.txt {IS_INPUT} (a.txt)"
    ),
    "translate -o the input by another name": Refusal(
        ("translate", "a.txt", "-o", "./docs/../a.txt"), 3, f"-o ./docs/../a.txt {IS_INPUT}"
    ),
    "translate a folder -o a document in it": Refusal(
        ("translate", "docs", "-o", "docs/one.txt"), 3, f"-o docs/one.txt {IS_INPUT}"
    ),
    "translate stdin -o the file it came from": Refusal(
        ("translate", "-", "-o", "a.txt"), 3, f"-o a.txt {IS_INPUT} (stdin)", shell="< a.txt"
    ),
    "summarize -o the input": Refusal(
        ("summarize", "a.txt", "--format", "markdown", "-o", "a.txt"), 3, f"-o a.txt {IS_INPUT}"
    ),
    "summarize --format html -o the input": Refusal(
        ("summarize", "a.txt", "--format", "html", "-o", "a.txt"), 3, f"-o a.txt {IS_INPUT}"
    ),
    "check -o the summary": Refusal(
        ("check", "a.txt", "--summary", "s.txt", "-o", "s.txt"), 3, f"-o s.txt {IS_INPUT}"
    ),
    "check -o the article": Refusal(
        ("check", "a.txt", "--summary", "s.txt", "-o", "a.txt"), 3, f"-o a.txt {IS_INPUT}"
    ),
    "score -o --hyp": Refusal(
        ("score", "--hyp", "s.txt", "--ref", "a.txt", "-o", "s.txt"), 3, f"-o s.txt {IS_INPUT}"
    ),
    "score -o --ref": Refusal(
        ("score", "--hyp", "s.txt", "--ref", "s.txt", "--ref", "a.txt", "-o", "link.txt"),
        3,
        f"-o link.txt {IS_INPUT} (a.txt)",
    ),
    **{
        f"batch: a user's OUT/{name}": Refusal(
            ("batch", "docs", "--out", f"out-{name}"),
            3,
            f"out-{name}/{name} exists and was not written by mtsum; move it or pass another --out",
        )
        for name in ("report.md", "report.csv", "report.json", "index.html")
    },
    "summarize html: a user's FOLDER/index.html": Refusal(
        ("summarize", "docs", "--format", "html", "-o", "pages"),
        3,
        "pages/index.html exists and was not written by mtsum; move it or pass another -o",
    ),
    "summarize html: a user's FOLDER/<id>/report.html": Refusal(
        ("summarize", "docs", "--format", "html", "-o", "own-pages/"),
        3,
        "own-pages/two/report.html exists and was not written by mtsum; move it or pass",
    ),
    **{
        f"{command} with stdout closed": Refusal(
            args, 3, "stdout is closed; pass -o FILE, or redirect stdout to a file", shell=">&-"
        )
        for command, args in {
            "translate": ("translate", "a.txt"),
            "summarize": ("summarize", "a.txt", "--format", "json"),
            "check": ("check", "a.txt", "--summary", "s.txt"),
            "score": ("score", "--hyp", "s.txt", "--ref", "a.txt"),
        }.items()
    },
    **{
        f"score -o {name} with stdout closed": Refusal(
            ("score", "--hyp", "s.txt", "--ref", "s.txt", "-o", name),
            3,
            "stdout is closed; pass -o FILE, or redirect stdout to a file",
            shell=">&-",
        )
        for name in ("/dev/stdout", "/dev/fd/1")
    },
    "score > /dev/full": Refusal(
        ("score", "--hyp", "s.txt", "--ref", "s.txt"),  # one language: no warning
        3,
        "stdout: cannot be written (No space left on device)",
        shell="> /dev/full",
    ),
    "models list > /dev/full": Refusal(
        ("models", "list"),
        3,
        "stdout: cannot be written (No space left on device)",
        shell="> /dev/full",
    ),
    "models convert with stdout closed": Refusal(
        ("models", "convert", "no-such-folder"), 3, "stdout is closed; pass -o FILE", shell=">&-"
    ),
    "models list with stdout closed": Refusal(
        ("models", "list"), 3, "stdout is closed; pass -o FILE, or redirect", shell=">&-"
    ),
    "translate > /dev/full": Refusal(
        ("translate", "a.txt"),
        3,
        "stdout: cannot be written (No space left on device)",
        shell="> /dev/full",
        models=True,
    ),
}


@pytest.fixture
def users_files(scratch: Path) -> Path:
    """The scratch folder, with links to a.txt and a user's own files where mtsum writes."""
    (scratch / "link.txt").symlink_to("a.txt")
    os.link(scratch / "a.txt", scratch / "hard.txt")
    for name in ("report.md", "report.csv", "report.json", "index.html"):
        (scratch / f"out-{name}").mkdir()
        (scratch / f"out-{name}" / name).write_text(f"my own {name}\n", encoding="utf-8")
    (scratch / "pages").mkdir()
    (scratch / "pages" / "index.html").write_text("<p>my page</p>\n", encoding="utf-8")
    (scratch / "own-pages" / "two").mkdir(parents=True)
    (scratch / "own-pages" / "two" / "report.html").write_text("<p>mine</p>\n", encoding="utf-8")
    return scratch


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry below `folder`: a file's bytes, a link's target (links not followed)."""
    return {
        p.relative_to(folder).as_posix(): os.readlink(p)
        if p.is_symlink()
        else (p.read_bytes() if p.is_file() else "folder")
        for p in sorted(folder.rglob("*"))
    }


def _mtsum(
    args: Sequence[str], cwd: Path, shell: str = "", timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m mtsum ARGS SHELL`` run by bash in `cwd` (no stdin unless `shell` gives one)."""
    command = f"{shlex.join([sys.executable, '-m', 'mtsum', *args])} {shell}"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
    )


@pytest.mark.parametrize("name", list(REFUSALS))
def test_outputs_never_replace_what_a_user_has(
    name: str, users_files: Path, marian_dir: Path, bart_dir: Path
) -> None:
    case = REFUSALS[name]
    if "/dev/full" in case.shell and not Path("/dev/full").exists():
        missing("no /dev/full here")
    command = case.args[0]
    mt: tuple[str, ...] = ("--mt-model", "no-such-mt")
    sm: tuple[str, ...] = ("--sum-model", "no-such-sum")
    if case.models:
        mt = ("--mt-model", str(marian_dir), "--threads", "1", "-q")
        sm = ("--sum-model", str(bart_dir), "--max-words", "8", "--sum-beams", "1")
    models = {"score": (), "models": (), "translate": mt, "check": mt}.get(command, (*mt, *sm))
    before = _tree(users_files)
    run = _mtsum([*case.args, *models], users_files, case.shell)
    assert run.returncode == case.code, run.stderr
    [line] = run.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("mtsum: error: ") and case.message in line, line
    assert _tree(users_files) == before


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs, filled to the last byte."""
    if os.geteuid() != 0:
        missing("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode:
        missing(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        with open(mount / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("command", ["translate", "score"])
def test_stdout_to_a_full_disk_is_a_clear_error(
    command: str, scratch: Path, full_disk: Path, marian_dir: Path
) -> None:
    args = {
        "translate": ("translate", "a.txt", "--mt-model", str(marian_dir), "--threads", "1", "-q"),
        "score": ("score", "--hyp", "s.txt", "--ref", "s.txt"),
    }[command]
    run = _mtsum(args, scratch, f"> {shlex.quote(str(full_disk / 'out.txt'))}")
    assert run.returncode == 3, run.stderr
    assert run.stderr == "mtsum: error: stdout: cannot be written (No space left on device)\n"


def test_closed_standard_descriptors_are_never_given_to_a_file(tmp_path: Path) -> None:
    # With stdout closed (`>&-`) the next file opened would get descriptor 1, and native code
    # writing to "stdout" would write into it; main() puts the null device there first.
    code = (
        "from mtsum.cli import _standard_descriptors; _standard_descriptors(); "
        "import os, sys; print(os.open('state', os.O_WRONLY | os.O_CREAT), file=sys.stderr)"
    )
    run = subprocess.run(
        ["bash", "-c", f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} <&- >&-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert int(run.stderr) > 2


@pytest.mark.parametrize("quiet", [False, True], ids=["warns", "-q"])
def test_a_translation_cache_that_cannot_be_opened_fails_no_batch(
    scratch: Path, marian_dir: Path, bart_dir: Path, quiet: bool
) -> None:
    """The cache folder under a regular file (as root, a read-only folder is no obstacle; this
    is): one warning, the run goes on without the cache, and every document is done."""
    args = ["batch", "docs", "--out", "out", "--cache-dir", "plain/cache", "--threads", "1"]
    args += ["--mt-model", str(marian_dir), "--sum-model", str(bart_dir), "--sum-beams", "1"]
    args += ["--beams", "1", "--max-words", "8", "--backend", "transformers", "--device", "cpu"]
    before = _sentinels(scratch)
    run = subprocess.run(
        [sys.executable, "-m", "mtsum", *args, *(["-q"] if quiet else [])],
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    warning = (
        "translation cache plain/cache/translations.sqlite3 cannot be used ([Errno 20] Not a "
        "directory: 'plain/cache'); going on without it"
    )
    lines = run.stderr.splitlines()
    if quiet:
        assert lines == []
    else:
        assert lines[:-1] == [f"mtsum: warning: {warning}"]
        assert lines[-1].startswith("mtsum: 2 documents (2 ok, 0 skipped, 0 failed)")
    report = json.loads((scratch / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["warnings"] == [warning]
    assert [d["status"] for d in report["documents"]] == ["ok", "ok"]
    assert _sentinels(scratch) == before
