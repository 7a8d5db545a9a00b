"""`mtsum summarize` and `mtsum check` end to end on tiny random checkpoints, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bart_fixture import english_lines
from typer.testing import CliRunner

from mtsum.cli import app

runner = CliRunner()
FAST = ["--beams", "1", "--sum-beams", "1", "--max-words", "12", "-q"]


@pytest.fixture(scope="module")
def english_doc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("en") / "english.txt"
    path.write_text("\n\n".join(english_lines()[4:12]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_json(
    marian_dir: Path, bart_dir: Path, mtsum_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    seed = Path(__file__).resolve().parents[1] / "seeds" / "000_91e72526449f324a.txt"
    out = tmp_path_factory.mktemp("sum") / "seed.json"
    args = ["summarize", str(seed), "--format", "json", "-o", str(out)]
    # The cache folder by name: a module fixture is set up before the autouse one sets
    # MTSUM_CACHE_DIR, and the models would otherwise be converted into the user's cache.
    models = ["--mt-model", str(marian_dir), "--sum-model", str(bart_dir)]
    models += ["--cache-dir", str(mtsum_cache)]
    result = runner.invoke(app, [*args, *models, *FAST])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def test_seed_end_to_end_json(seed_json: dict) -> None:
    [doc] = seed_json["documents"]
    assert doc["id"] == "000_91e72526449f324a" and doc["lang"] == "ar"
    assert doc["summary"].strip()
    n_paragraphs = len(doc["paragraphs"])
    assert n_paragraphs == len(doc["translation"]["paragraphs"]) == 36
    for sentence in doc["check"]["sentences"]:
        assert 0.0 <= sentence["support"] <= 1.0
        assert len(sentence["alignments"]) <= 3
        for alignment in sentence["alignments"]:
            for i, original in zip(alignment["paragraphs"], alignment["original"], strict=True):
                assert doc["paragraphs"][i]["original"] == original
    # The seed (~2,600 tokens) is over the tiny BART's 256-token limit: map-reduce ran.
    assert len(doc["chunking"]["rounds"]) >= 2
    for part in ("mt:", "sum:", "align:lexical", "beams:1", "mtsum:0.1.0"):
        assert part in doc["signature"]


def test_english_text_skips_translation(english_doc: Path, bart_dir: Path) -> None:
    args = ["summarize", str(english_doc), "--format", "json", "--sum-model", str(bart_dir)]
    # The translation model does not exist: an English input must never need it.
    result = runner.invoke(app, [*args, "--mt-model", "mtsum-test/absent", *FAST])
    assert result.exit_code == 0, result.output
    [doc] = json.loads(result.stdout)["documents"]
    assert doc["lang"] == "en" and doc["translation"] is None
    assert not doc["signature"].startswith("mt:")


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown_formats(english_doc: Path, bart_dir: Path, fmt: str) -> None:
    args = ["summarize", str(english_doc), "--format", fmt, "--sum-model", str(bart_dir), *FAST]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "support" in result.stdout.lower()
    if fmt == "markdown":
        assert result.stdout.startswith("# Summary of english")
        assert "## Supporting paragraphs" in result.stdout


def test_check_command_on_a_given_summary(english_doc: Path, tmp_path: Path) -> None:
    lines = english_lines()[4:12]
    summary = tmp_path / "summary.txt"
    copied = lines[2]
    summary.write_text(f"{copied}\nMartians landed on the roof of the Kremlin.\n", encoding="utf-8")
    result = runner.invoke(
        app, ["check", str(english_doc), "--summary", str(summary), "--format", "json", "-q"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first, invented = data["check"]["sentences"]
    assert first["alignments"][0]["paragraphs"] == [2] and first["flags"] == []
    assert "unsupported" in invented["flags"]
    text = runner.invoke(app, ["check", str(english_doc), "--summary", str(summary), "-q"])
    assert text.exit_code == 0 and "¶3" in text.stdout and "!unsupported" in text.stdout


def test_check_exit_codes(english_doc: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["check", str(english_doc), "--summary", str(empty)])
    assert result.exit_code == 3 and "empty.txt" in result.stderr
    missing = runner.invoke(app, ["check", str(english_doc)])
    assert missing.exit_code == 2


def test_summarize_exit_codes(english_doc: Path, bart_dir: Path, tmp_path: Path) -> None:
    absent = runner.invoke(app, ["summarize", str(english_doc), "--sum-model", "mtsum-test/absent"])
    assert absent.exit_code == 4 and "mtsum-test/absent" in absent.stderr
    assert "--sum-model PATH" in absent.stderr
    bad = runner.invoke(
        app,
        [
            "summarize",
            str(english_doc),
            "--sum-model",
            str(bart_dir),
            "--min-words",
            "50",
            "--max-words",
            "10",
        ],
    )
    assert bad.exit_code == 3 and "min words 50" in bad.stderr
    assert runner.invoke(app, ["summarize", str(english_doc), "--top-k", "0"]).exit_code == 2
