"""`mtsum score`: ROUGE of any summary file against reference files, hand-checked numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mtsum.cli import app

runner = CliRunner()


def files(tmp_path: Path, hyp: str | bytes, refs: list[str | bytes]) -> list[str]:
    """Write the hypothesis and references; the --hyp/--ref arguments that name them."""
    paths = [tmp_path / "hyp.txt", *(tmp_path / f"ref{i}.txt" for i in range(1, len(refs) + 1))]
    for path, content in zip(paths, [hyp, *refs], strict=True):
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    args = ["score", "--hyp", str(paths[0])]
    for path in paths[1:]:
        args += ["--ref", str(path)]
    return args


@pytest.mark.parametrize(
    ("hyp", "refs", "metric", "p", "r", "f"),
    [
        # 5 of 6 words shared; LCS "the cat on the mat" is 5 long.
        ("the cat sat on the mat", ["the cat lay on the mat"], "rouge1", 5 / 6, 5 / 6, 5 / 6),
        # Bigrams shared: the-cat, on-the, the-mat: 3 of 5 on each side.
        ("the cat sat on the mat", ["the cat lay on the mat"], "rouge2", 0.6, 0.6, 0.6),
        # Per metric, the best reference counts.
        ("the cat sat on the mat", ["a dog", "the cat sat on the mat"], "rouge2", 1.0, 1.0, 1.0),
        # "fell cairo" is no reference bigram: 2 of 3 hypothesis bigrams, 2 of 4 reference ones.
        (
            "Rain fell. Cairo flooded.",
            ["Cairo flooded after rain fell."],
            "rouge2",
            2 / 3,
            0.5,
            4 / 7,
        ),
        # LCS over the whole text keeps one of the two reversed sentences ...
        (
            "Rain fell. Cairo flooded.",
            ["Cairo flooded after rain fell."],
            "rougeL",
            0.5,
            0.4,
            4 / 9,
        ),
        # ... Lsum, with the summary split into its sentences, keeps both.
        (
            "Rain fell. Cairo flooded.",
            ["Cairo flooded after rain fell."],
            "rougeLsum",
            1.0,
            0.8,
            8 / 9,
        ),
        # Arabic: alef forms and diacritics are normalized, so the texts match exactly.
        ("ذهب الولد إلى المدرسة", ["ذهب الولد الى المدرسةِ"], "rouge2", 1.0, 1.0, 1.0),
    ],
)
def test_score_json_numbers(
    tmp_path: Path, hyp: str, refs: list[str], metric: str, p: float, r: float, f: float
) -> None:
    result = runner.invoke(app, [*files(tmp_path, hyp, refs), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    score = data["scores"][metric]
    assert (score["precision"], score["recall"], score["fmeasure"]) == pytest.approx((p, r, f))
    assert data["n_refs"] == len(refs) and data["references"][0].endswith("ref1.txt")
    assert data["hypothesis"].endswith("hyp.txt")
    assert data["signature"] == (
        f"rouge:1,2,L,Lsum|tok:{data['tokenizer']}|refs:{len(refs)}|multi:max|mtsum:0.1.0"
    )


@pytest.mark.parametrize(
    ("hyp", "refs", "lang", "tokenizer"),
    [
        ("the cat", ["the cat"], "auto", "en-porter"),
        ("ذهب الولد", ["ذهب الولد"], "auto", "ar-norm"),
        ("ذهب الولد", ["ذهب الولد"], "en", "en-porter"),
        ("the cat", ["the cat"], "ar", "ar-norm"),
    ],
)
def test_score_lang_picks_tokenizer(
    tmp_path: Path, hyp: str, refs: list[str], lang: str, tokenizer: str
) -> None:
    result = runner.invoke(app, [*files(tmp_path, hyp, refs), "--lang", lang, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tokenizer"] == tokenizer


def test_score_text_table(tmp_path: Path) -> None:
    args = files(tmp_path, "the cat sat on the mat", ["the cat lay on the mat"])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "                 P       R      F1\n"
        "rouge1      0.8333  0.8333  0.8333\n"
        "rouge2      0.6000  0.6000  0.6000\n"
        "rougeL      0.8333  0.8333  0.8333\n"
        "rougeLsum   0.8333  0.8333  0.8333\n"
        "rouge:1,2,L,Lsum|tok:en-porter|refs:1|multi:max|mtsum:0.1.0\n"
    )
    out = tmp_path / "scores" / "s.txt"
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("                 P       R      F1\n")


@pytest.mark.parametrize(
    ("hyp", "refs", "extra", "code", "message"),
    [
        ("the cat", [b"the cat\xff"], [], 3, "ref1.txt: not valid UTF-8 at byte 7"),
        (b"", ["the cat"], [], 3, "hyp.txt: the file is empty"),
        ("the cat", [], [], 2, "--ref"),
        ("the cat", ["the cat"], ["--lang", "fr"], 2, "--lang"),
        ("the cat", ["the cat"], ["--format", "xml"], 2, "--format"),
    ],
)
def test_score_errors(
    tmp_path: Path,
    hyp: str | bytes,
    refs: list[str | bytes],
    extra: list[str],
    code: int,
    message: str,
) -> None:
    result = runner.invoke(app, [*files(tmp_path, hyp, refs), *extra])
    assert result.exit_code == code
    assert message in result.stderr


def test_score_missing_file_exit_3(tmp_path: Path) -> None:
    (tmp_path / "ref.txt").write_text("the cat", encoding="utf-8")
    args = ["score", "--hyp", str(tmp_path / "nope.txt"), "--ref", str(tmp_path / "ref.txt")]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "nope.txt: no such file" in result.stderr


@pytest.mark.parametrize(
    ("hyp", "refs", "warned"),
    [
        ("The government announced a plan.", ["أعلنت الحكومة خطة جديدة."], True),
        ("أعلنت الحكومة خطة.", ["The government announced a plan."], True),
        ("The government announced a plan.", ["The government has a plan."], False),
        ("2024", ["أعلنت الحكومة خطة جديدة."], False),  # no letters: nothing to compare
    ],
)
def test_a_summary_in_another_language_than_its_references_is_warned(
    hyp: str, refs: list[str], warned: bool, tmp_path: Path
) -> None:
    result = runner.invoke(app, files(tmp_path, hyp, refs))
    assert result.exit_code == 0, result.output
    warning = "mtsum: warning: the summary is"
    assert (warning in result.stderr) is warned, result.stderr
    if warned:
        assert "score against references in the summary's language" in result.stderr
