"""Absurd numbers are usage errors (exit 2) before anything is read or loaded (`mtsum.limits`).

Every command gets a missing input and a missing model folder: a value that got past the
options would end in exit 3 (the input) or 4 (the model), so exit 2 shows nothing was touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from recorders import Recording
from typer.testing import CliRunner

from mtsum.backends.base import GenerateOptions
from mtsum.batch import BatchSettings
from mtsum.batch.ray_engine import RayEngine
from mtsum.cli import app
from mtsum.errors import OptionError
from mtsum.summarize import SummarizeOptions, beam_budget, summarize
from mtsum.translate import TranslateOptions

runner = CliRunner()
ABSURD = ["99999999999999999999", "-1", "0", str(2**31 - 1), str(2**64)]
NUMBERS = {
    "translate": ["--beams", "--threads", "--max-bytes"],
    "summarize": [
        "--beams",
        "--sum-beams",
        "--threads",
        "--top-k",
        "--max-words",
        "--min-words",
        "--max-bytes",
    ],
    "check": ["--top-k", "--threads", "--max-bytes"],
    "batch": [
        "--beams",
        "--sum-beams",
        "--threads",
        "--top-k",
        "--max-words",
        "--min-words",
        "--max-bytes",
        "--workers",
    ],
    "score": ["--max-bytes"],
}
COMMANDS = {
    "translate": ["translate", "missing.txt", "--mt-model", "no-such-model"],
    "summarize": ["summarize", "missing.txt", "--mt-model", "no-such-model"],
    "check": ["check", "missing.txt", "--summary", "missing.txt", "--mt-model", "no-such-model"],
    "batch": ["batch", "missing", "--out", "out", "--mt-model", "no-such-model"],
    "score": ["score", "--hyp", "missing.txt", "--ref", "missing.txt"],
}
MATRIX = [
    (command, option, value)
    for command, options in NUMBERS.items()
    for option in options
    for value in ABSURD
    if not (option == "--min-words" and value == "0")  # a real minimum
]


@pytest.mark.parametrize(("command", "option", "value"), MATRIX)
def test_absurd_numbers_are_usage_errors(
    command: str, option: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*COMMANDS[command], option, value])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in " ".join(result.output.split()).replace("│ ", "")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beams", "99999999999999999999"], "'--beams'"),
        (["--threads", "100000"], "'--threads'"),
    ],
)
def test_absurd_numbers_from_a_shell(args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("مرحبا بكم.\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "mtsum", "translate", "a.txt", "--mt-model", "none", *args],
        cwd=tmp_path,
        env={**os.environ, "MTSUM_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("summarize", ["--min-words", "80", "--max-words", "50"], "min words 80 exceeds max"),
        ("summarize", ["--length", "short", "--min-words", "60"], "exceeds max words 50 (pre"),
        ("batch", ["--min-words", "80", "--max-words", "50"], "min words 80 exceeds max"),
    ],
)
def test_clashing_options_are_one_line_usage_errors(
    command: str, args: list[str], message: str, tmp_path: Path
) -> None:
    # The input exists and is fine: what is refused is the combination, as a usage error (2),
    # not as a bad file (3), and before any model is looked for.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("One fact.\n", encoding="utf-8")
    where = ["docs/a.txt"] if command == "summarize" else ["docs", "--out", "out"]
    run = subprocess.run(
        [sys.executable, "-m", "mtsum", command, *where, "--sum-model", "none", *args],
        cwd=tmp_path,
        env={**os.environ, "MTSUM_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    [line] = run.stderr.strip().splitlines()
    assert run.returncode == 2 and line.startswith("mtsum: error: ") and message in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TranslateOptions(num_beams=65), "beams must be at most 64, got 65"),
        (lambda: TranslateOptions(num_beams=2**64), f"beams must be at most 64, got {2**64}"),
        (lambda: TranslateOptions(num_beams=-3), "beams must be at least 1, got -3"),
        (lambda: SummarizeOptions(num_beams=10**20), "beams must be at most 64"),
        (lambda: SummarizeOptions(max_words=10_001), "max words must be at most 10,000, got"),
        (lambda: SummarizeOptions(min_words=20, max_words=10), "min words 20 exceeds max words"),
        (lambda: BatchSettings(top_k=101), "top-k must be at most 100, got 101"),
        (lambda: RayEngine(threads=100_000), "threads must be at most 256, got 100000"),
        (lambda: RayEngine(workers=2**31 - 1), "workers must be at most 1,024, got 2147483647"),
    ],
)
def test_option_records_refuse_values_out_of_range(make: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("load", ["load_translator", "load_summarizer"])
def test_loaders_refuse_absurd_threads_before_looking_for_the_model(load: str) -> None:
    import mtsum

    # A model that does not exist: the threads are refused first, so no ModelError.
    with pytest.raises(OptionError, match="threads must be at most 256, got 100000"):
        getattr(mtsum, load)("no/such-model", threads=100_000, device="cpu")


def test_summary_batches_shrink_as_beams_grow() -> None:
    # Six one-chunk documents of 11 tokens: at 4 beams a 70-token budget holds six a batch
    # (66 padded tokens); at 8 beams half the budget (35) holds three, at 64 beams one.
    documents = [[f"document {i} has these few words in it ok"] for i in range(6)]
    assert beam_budget(70, 4) == 70 and beam_budget(70, 8) == 35 and beam_budget(70, 64) == 4
    for beams, calls in ((4, 1), (8, 2), (64, 6)):
        model = Recording(lambda xs: ["A summary."] * len(xs), defaults=GenerateOptions())
        options = SummarizeOptions(num_beams=beams, batch_tokens=70, max_words=5)
        summarize(documents, model, options=options)
        assert len(model.seen) == calls, beams
