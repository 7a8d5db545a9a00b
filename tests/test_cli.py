"""The CLI through Typer's CliRunner: formats, inputs, exit codes."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mtsum.cli import app
from mtsum.markup import one_line

runner = CliRunner()
FAST = ["--beams", "1", "-q"]


def test_help_lists_commands_and_imports_no_model_library() -> None:
    code = (
        "import sys\n"
        "from mtsum.cli import app\n"
        "for args in (['--help'], ['models', '--help'], ['summarize', '--help'],\n"
        "             ['batch', '--help'], ['models', 'list', '--help']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "translate" in result.output


def _flat(text: str) -> str:
    """Help or an error box as one line: Rich's frames and line breaks dropped."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


@pytest.mark.parametrize(
    "command",
    [
        ["translate", "x.txt"],
        ["summarize", "x.txt"],
        ["check", "x.txt", "--summary", "s.txt"],
        ["batch", "docs", "--out", "out"],
        ["models", "pull", "org/model"],
        ["models", "convert", "model"],
    ],
)
def test_compute_type_is_one_choice_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--compute-type", "int4"])
    assert result.exit_code == 2
    assert "'int4' is not one of 'int8', 'int8_float32'" in _flat(result.output)


def test_compute_type_reaches_the_command(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    result = runner.invoke(app, ["translate", missing, "--compute-type", "float32", "-q"])
    assert result.exit_code == 3 and "nope.txt" in result.stderr


def test_batch_cache_dir_help_names_what_it_holds() -> None:
    result = runner.invoke(app, ["batch", "--help"])
    assert result.exit_code == 0
    assert "mtsum cache folder, for converted models and translations" in _flat(result.output)


def test_translate_text(marian_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("الفقرة الأولى. جملة ثانية.\n\nالفقرة الثانية.\n", encoding="utf-8")
    args = ["translate", str(doc), "--mt-model", str(marian_dir), *FAST]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    as_json = runner.invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    [record] = json.loads(as_json.stdout)["documents"]
    # The text format is the JSON's English paragraphs, each on one line, a blank line between.
    first, second = (one_line(p) for p in record["paragraphs"])
    assert first and second
    assert result.stdout == f"{first}\n\n{second}\n"


def test_translate_json_schema(marian_dir: Path, tmp_path: Path, seed_text: str) -> None:
    doc = tmp_path / "000_seed.txt"
    doc.write_text(seed_text, encoding="utf-8")
    out = tmp_path / "out.json"
    args = [
        "translate",
        str(doc),
        "--format",
        "json",
        "-o",
        str(out),
        "--mt-model",
        str(marian_dir),
    ]
    result = runner.invoke(app, [*args, *FAST])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    [record] = data["documents"]
    assert record["id"] == "000_seed"
    assert "beams:1" in record["signature"] and str(marian_dir) in record["signature"]
    seg = record["segments"][0]
    assert set(seg) >= {"source", "text", "paragraph", "sentence", "start", "end", "flags"}
    assert seg["source"] == "علاقات » روسي"
    assert len(record["paragraphs"]) == len([ln for ln in seed_text.splitlines() if ln.strip()])


def test_translate_stdin_and_directory(marian_dir: Path, tmp_path: Path) -> None:
    text = "مرحبا بكم.\n\nشكرا جزيلا.\n"
    same = tmp_path / "same.txt"
    same.write_text(text, encoding="utf-8")
    outputs = {}
    for name, fmt in itertools.product(("-", str(same)), ("text", "json")):
        args = ["translate", name, "--format", fmt, "--mt-model", str(marian_dir), *FAST]
        result = runner.invoke(app, args, input=text)
        assert result.exit_code == 0, result.output
        outputs[name, fmt] = result.stdout
    # The same document from stdin or from a file: the same output, but for its name.
    assert outputs["-", "text"] == outputs[str(same), "text"]
    [piped] = json.loads(outputs["-", "json"])["documents"]
    [filed] = json.loads(outputs[str(same), "json"])["documents"]
    assert (piped.pop("id"), piped.pop("path")) == ("stdin", "-")
    assert (filed.pop("id"), filed.pop("path")) == ("same", str(same))
    assert piped == filed
    assert outputs["-", "text"] == "\n\n".join(map(one_line, piped["paragraphs"])) + "\n"
    assert len(piped["paragraphs"]) == 2
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "b.txt").write_text("نص ثان.", encoding="utf-8")
    (folder / "a.txt").write_text("نص أول.", encoding="utf-8")
    (folder / "a.summary.ref1.en.txt").write_text("A reference, not a document.", encoding="utf-8")
    result = runner.invoke(
        app, ["translate", str(folder), "--format", "json", "--mt-model", str(marian_dir), *FAST]
    )
    assert result.exit_code == 0, result.output
    assert [d["id"] for d in json.loads(result.stdout)["documents"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\t\n", "whitespace"),
        (b"abc\x00def", "NUL"),
        ("نص".encode() + b"\xff\xfe rest", "byte 4"),
    ],
)
def test_bad_input_exit_3(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    result = runner.invoke(app, ["translate", str(bad), "--mt-model", "unused/model", "-q"])
    assert result.exit_code == 3
    assert "bad.txt" in result.stderr and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_exit_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["translate", str(tmp_path / "nope.txt")])
    assert result.exit_code == 3


def test_usage_error_exit_2() -> None:
    assert runner.invoke(app, ["translate", "x.txt", "--beams", "0"]).exit_code == 2
    assert runner.invoke(app, ["translate", "x.txt", "--format", "xml"]).exit_code == 2


def test_model_unavailable_is_fast_and_named(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("نص قصير.", encoding="utf-8")
    env_free_name = "mtsum-test/no-such-model"
    start = time.monotonic()
    result = runner.invoke(app, ["translate", str(doc), "--mt-model", env_free_name, "-q"])
    assert time.monotonic() - start < 15
    assert result.exit_code == 4
    assert env_free_name in result.stderr and "--mt-model PATH" in result.stderr


def test_model_directory_without_config_exit_4(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("نص قصير.", encoding="utf-8")
    empty = tmp_path / "model"
    empty.mkdir()
    result = runner.invoke(app, ["translate", str(doc), "--mt-model", str(empty)])
    assert result.exit_code == 4
    assert "config.json" in result.stderr


def test_english_input_warns_but_translates(marian_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "en.txt"
    doc.write_text("The minister spoke on Wednesday.", encoding="utf-8")
    result = runner.invoke(
        app, ["translate", str(doc), "--mt-model", str(marian_dir), "--beams", "1"]
    )
    assert result.exit_code == 0
    assert "warning" in result.stderr and "0% of the letters are Arabic" in result.stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_internal_error_is_exit_70_with_traceback_only_when_verbose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, verbose: bool
) -> None:
    import mtsum.sources

    def broken(inputs: object, **options: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(mtsum.sources, "read_sources", broken)
    args = ["--verbose"] if verbose else []
    result = runner.invoke(app, [*args, "translate", str(tmp_path / "doc.txt"), "-q"])
    assert result.exit_code == 70
    assert "mtsum: internal error: RuntimeError: a bug (rerun with --verbose)" in result.stderr
    assert ("Traceback" in result.stderr) is verbose
    # The next run without --verbose is quiet again: nothing is left in global state.
    again = runner.invoke(app, ["translate", str(tmp_path / "doc.txt"), "-q"])
    assert again.exit_code == 70 and "Traceback" not in again.stderr
