"""`mtsum summarize` and `mtsum check` end to end on tiny random checkpoints, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bart_fixture import english_lines
from typer.testing import CliRunner

from mtsum.align import Check, SentenceSupport, check_english
from mtsum.backends.base import FunctionModel
from mtsum.cli import app
from mtsum.markup import markdown_text
from mtsum.pipeline import summary_sentences

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


def rechecked(doc: dict) -> Check:
    """The document's summary sentences checked again against its English paragraphs."""
    english = [p["english"] for p in doc["paragraphs"]]
    return check_english(english, [s["text"] for s in doc["check"]["sentences"]], top_k=3)


def test_seed_end_to_end_json(seed_json: dict) -> None:
    [doc] = seed_json["documents"]
    assert doc["id"] == "000_91e72526449f324a" and doc["lang"] == "ar"
    sentences = doc["check"]["sentences"]
    assert sentences and [s["text"] for s in sentences] == summary_sentences(doc["summary"])
    n_paragraphs = len(doc["paragraphs"])
    assert n_paragraphs == len(doc["translation"]["paragraphs"]) == 36
    # Supports, alignments and flags are those of the summary checked against the translation
    # (translation flags, "source_...", come on top).
    check = rechecked(doc)
    assert doc["check"]["support"] == round(check.support, 4)
    for sentence, expected in zip(sentences, check.sentences, strict=True):
        assert sentence["support"] == round(expected.support, 4)
        assert [(a["paragraphs"], a["score"]) for a in sentence["alignments"]] == [
            (list(a.paragraphs), round(a.score, 4)) for a in expected.alignments
        ]
        assert [f for f in sentence["flags"] if not f.startswith("source_")] == list(expected.flags)
        for alignment in sentence["alignments"]:
            for i, original in zip(alignment["paragraphs"], alignment["original"], strict=True):
                assert doc["paragraphs"][i]["original"] == original
    # The seed (~2,600 tokens) is over the tiny BART's 256-token limit: map-reduce ran.
    assert len(doc["chunking"]["rounds"]) >= 2
    for part in ("mt:", "sum:", "align:lexical", "beams:1", "mtsum:0.1.0"):
        assert part in doc["signature"]


def summarize_english(english_doc: Path, bart_dir: Path, fmt: str, *extra: str) -> str:
    args = ["summarize", str(english_doc), "--format", fmt, "--sum-model", str(bart_dir)]
    # The translation model does not exist: an English input must never need it.
    result = runner.invoke(app, [*args, "--mt-model", "mtsum-test/absent", *FAST, *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def english_json(english_doc: Path, bart_dir: Path, mtsum_cache: Path) -> dict:
    # The cache folder by name, as for seed_json.
    output = summarize_english(english_doc, bart_dir, "json", "--cache-dir", str(mtsum_cache))
    [doc] = json.loads(output)["documents"]
    return doc


def test_english_text_skips_translation(english_json: dict) -> None:
    assert english_json["lang"] == "en" and english_json["translation"] is None
    assert not english_json["signature"].startswith("mt:")


def refs(sentence: SentenceSupport) -> str:
    """Alignments as the text and markdown formats show them: ``¶1+2 0.87, ¶4 0.51``."""
    if not sentence.alignments:
        return "no supporting paragraph"
    return ", ".join(
        "¶" + "+".join(str(i + 1) for i in a.paragraphs) + f" {a.score:.2f}"
        for a in sentence.alignments
    )


def test_text_format_lists_each_sentence_with_its_paragraphs(
    english_doc: Path, bart_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mtsum.backends

    # A summarizer whose summary is known: paragraph 2 of the document copied, and a sentence
    # none of whose words (lion, escap, zoo) is in it.
    copied = english_lines()[4:12][1]
    summary = f"{copied} Lions escaped from a zoo."
    model = FunctionModel(lambda texts: [summary] * len(texts), name="fixed")
    monkeypatch.setattr(mtsum.backends, "load_summarizer", lambda *args, **kwargs: model)
    args = ["summarize", str(english_doc), "--top-k", "1", "-q", "--sum-model", str(bart_dir)]
    result = runner.invoke(app, [*args, "--mt-model", "mtsum-test/absent"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{copied}  [¶2 1.00]\n"
        "Lions escaped from a zoo.  [no supporting paragraph] !unsupported\n"
        "(support 0.50; paragraphs numbered from 1)\n"
    )


def test_markdown_format_lists_each_sentence_with_its_paragraphs(
    english_doc: Path, bart_dir: Path, english_json: dict
) -> None:
    check = rechecked(english_json)
    items = [
        f"{n}. {markdown_text(s.text)} — {refs(s)}"
        + (f" ⚠ **{', '.join(s.flags)}**" if s.flags else "")
        for n, s in enumerate(check.sentences, 1)
    ]
    head = ["# Summary of english", "", f"Support: **{check.support:.2f}** (0 to 1).", ""]
    markdown = summarize_english(english_doc, bart_dir, "markdown").splitlines()
    assert markdown[: len(head) + len(items) + 3] == [
        *head,
        *items,
        "",
        "## Supporting paragraphs",
        "",
    ]
    assert markdown[-2:] == ["", f"`{english_json['signature']}`"]


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
    assert bad.exit_code == 2 and "min words 50" in bad.stderr  # a usage error, not a bad file
    assert runner.invoke(app, ["summarize", str(english_doc), "--top-k", "0"]).exit_code == 2


@pytest.fixture
def fixed_summarizer(english_doc: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`mtsum summarize` with a summarizer whose summary is known: ¶2 copied and an invention."""
    import mtsum.backends

    copied = english_lines()[4:12][1]
    summary = f"{copied} Lions escaped from a zoo."
    model = FunctionModel(lambda texts: [summary] * len(texts), name="fixed")
    monkeypatch.setattr(mtsum.backends, "load_summarizer", lambda *args, **kwargs: model)
    return summary


def summarize_fixed(bart_dir: Path, *args: str) -> str:
    models = ["--sum-model", str(bart_dir), "--mt-model", "mtsum-test/absent", "-q"]
    result = runner.invoke(app, ["summarize", *args, *models])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_html_format_is_the_json_record_as_a_page(
    english_doc: Path, bart_dir: Path, fixed_summarizer: str
) -> None:
    from mtsum.htmlpage import document_html

    [record] = json.loads(summarize_fixed(bart_dir, str(english_doc), "--format", "json"))[
        "documents"
    ]
    page = summarize_fixed(bart_dir, str(english_doc), "--format", "html")
    assert page == document_html(record)
    assert page.startswith("<!DOCTYPE html>") and "Lions escaped from a zoo." in page


def test_html_with_several_inputs_writes_a_page_each_and_an_index(
    english_doc: Path, bart_dir: Path, fixed_summarizer: str, tmp_path: Path
) -> None:
    from mtsum.htmlpage import document_html, index_html, index_row

    second = tmp_path / "second.txt"
    second.write_text("\n\n".join(english_lines()[12:18]) + "\n", encoding="utf-8")
    inputs = [str(english_doc), str(second)]
    records = json.loads(summarize_fixed(bart_dir, *inputs, "--format", "json"))["documents"]
    out = tmp_path / "pages"
    assert summarize_fixed(bart_dir, *inputs, "--format", "html", "-o", str(out)) == ""
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert names == ["english/report.html", "index.html", "second/report.html"]
    for record in records:
        page = (out / record["id"] / "report.html").read_text(encoding="utf-8")
        assert page == document_html(record)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index == index_html([index_row(r) for r in records], title="mtsum summaries")
    # Several pages cannot go to stdout, nor to a file.
    refused = runner.invoke(app, ["summarize", *inputs, "--format", "html", "-q"])
    assert refused.exit_code == 3 and "pass -o FOLDER" in refused.stderr
    a_file = tmp_path / "page.html"
    a_file.write_text("", encoding="utf-8")
    args = ["summarize", *inputs, "--format", "html", "-o", str(a_file), "-q"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 3 and "is not a folder" in refused.stderr
    assert a_file.read_text(encoding="utf-8") == ""


def test_html_folder_refuses_a_document_named_like_the_index_before_any_model(
    english_doc: Path, tmp_path: Path
) -> None:
    # index.html.txt has the id index.html: its page folder would be the index itself.
    clash = tmp_path / "index.html.txt"
    clash.write_text(english_doc.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "pages"
    args = ["summarize", str(english_doc), str(clash), "--format", "html", "-o", str(out), "-q"]
    # No --sum-model: the default model is not cached here, so had a model been loaded first,
    # this would be exit 4 (model unavailable), not the id's exit 3.
    result = runner.invoke(app, args)
    assert result.exit_code == 3 and "would be the folder of the index page" in result.stderr
    assert not out.exists()
    missing = tmp_path / "no" / "such" / "pages"
    args = ["summarize", str(english_doc), str(clash.with_name("x.txt")), "--format", "html"]
    clash.rename(clash.with_name("x.txt"))
    result = runner.invoke(app, [*args, "-o", str(missing), "-q"])
    assert result.exit_code == 3 and "parent folder does not exist" in result.stderr


def test_check_html_is_the_checked_summary_as_a_page(english_doc: Path, tmp_path: Path) -> None:
    from mtsum.htmlpage import checked_html
    from mtsum.pipeline import check_document

    lines = english_lines()[4:12]
    summary = tmp_path / "summary.txt"
    summary.write_text(f"{lines[2]}\nMartians landed on the roof of the Kremlin.\n", "utf-8")
    out = tmp_path / "check.html"
    args = ["check", str(english_doc), "--summary", str(summary), "--format", "html"]
    result = runner.invoke(app, [*args, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    text = english_doc.read_text(encoding="utf-8")
    expected = check_document(text, [lines[2], "Martians landed on the roof of the Kremlin."])
    page = out.read_text(encoding="utf-8")
    assert page == checked_html("english", str(english_doc), str(summary), expected)
    assert f"<h1>Check of {summary}</h1>" in page
