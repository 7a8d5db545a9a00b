"""`mtsum batch`: outputs, report, resume, force, failures, lock, crash recovery, exit codes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from batch_runs import done_ids, wait_for, write_docs
from markupsafe import escape
from typer.testing import CliRunner

from mtsum.backends.base import FunctionModel, GenerateOptions, Seq2Seq
from mtsum.backends.cache import open_cache
from mtsum.batch import (
    OUTPUT_FILES,
    BatchReport,
    BatchSettings,
    LazyModel,
    run_batch,
    settings_signature,
)
from mtsum.batch.document import Models, run_document
from mtsum.batch.inputs import scan_folder
from mtsum.batch.lock import LOCK_FILE, RunLock
from mtsum.batch.state import STATE_FILE, RunState
from mtsum.cli import app
from mtsum.errors import BusyError, InputError, ModelError
from mtsum.generation import beam_bound
from mtsum.htmlpage import document_html
from mtsum.score import join_sentences
from mtsum.signature import Signature
from mtsum.summarize import SummarizeOptions
from mtsum.textprep import segment
from mtsum.translate import TranslateOptions

SIG = Signature.of(("settings", "test"))

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

ARABIC = {
    "a": "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n",
    "b": "أعلنت الحكومة خطة جديدة للطاقة.\n\nوستبدأ الخطة في عام 2024.\n",
    "c": "ارتفعت أسعار النفط أمس بعد قرار أوبك.\n",
}
REF1 = "The foreign minister visited Cairo on Wednesday.\nHe said the talks were fruitful.\n"
REF2 = "A minister visited Cairo.\n"
# Two lines for a's two paragraphs.
REF_TRANSLATION = "The foreign minister visited Cairo on Wednesday.\nHe said the talks went well.\n"


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTSUM_CACHE_DIR", str(tmp_path / "user-cache"))


@dataclass
class Counting(FunctionModel):
    """A FunctionModel that also counts count_tokens calls: any use of the model at all."""

    token_calls: int = 0

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        self.token_calls += 1
        return super().count_tokens(texts)

    @property
    def used(self) -> int:
        return self.calls + self.token_calls


def translator(name: str = "fn-mt") -> Counting:
    return Counting(lambda xs: [f"Report with {len(x.split())} words." for x in xs], name=name)


def summarizer(name: str = "fn-sum") -> Counting:
    return Counting(lambda xs: [" ".join(x.split()[:6]) + "." for x in xs], name=name)


@dataclass
class Loader:
    """A zero-argument loader that counts how often it is called."""

    model: Seq2Seq
    loads: int = 0

    def __call__(self) -> Seq2Seq:
        self.loads += 1
        return self.model


@dataclass
class Folder:
    """A batch input folder and its output folder."""

    input: Path
    out: Path
    models: dict[str, Counting] = field(default_factory=dict)

    def run(self, **kwargs: object) -> BatchReport:
        kwargs.setdefault("translator", self.models["mt"])
        kwargs.setdefault("summarizer", self.models["sum"])
        return run_batch(self.input, self.out, **kwargs)  # type: ignore[arg-type]

    def outputs(self) -> dict[str, bytes]:
        """Every per-document output file, by path relative to OUT_DIR."""
        return {
            p.relative_to(self.out).as_posix(): p.read_bytes() for p in sorted(self.out.glob("*/*"))
        }


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    write_docs(
        tmp_path / "in",
        {
            **{f"{k}.txt": v for k, v in ARABIC.items()},
            "a.summary.ref1.en.txt": REF1,
            "a.summary.ref2.en.txt": REF2,
            "a.translation.ref.en.txt": REF_TRANSLATION,
        },
    )
    return Folder(tmp_path / "in", tmp_path / "out", {"mt": translator(), "sum": summarizer()})


def statuses(report: BatchReport) -> dict[str, str]:
    return {row.id: row.status for row in report.documents}


# --- outputs and report -------------------------------------------------------------------------


def test_outputs_report_and_scores(folder: Folder) -> None:
    seen: list[tuple[int, int]] = []
    report = folder.run(progress=lambda done, total: seen.append((done, total)))
    assert statuses(report) == {"a": "ok", "b": "ok", "c": "ok"}
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    for doc in ARABIC:
        assert sorted(p.name for p in (folder.out / doc).iterdir()) == sorted(OUTPUT_FILES)
    result = json.loads((folder.out / "a" / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "ok" and result["lang"] == "ar"
    assert set(result["timings"]) == {"translate", "summarize", "align", "score", "total"}
    segments = [(s["paragraph"], s["source"], s["text"]) for s in result["translation"]["segments"]]
    assert segments == [
        (0, "زار وزير الخارجية القاهرة يوم الأربعاء.", "Report with 6 words."),
        (1, "وقال إن المحادثات كانت مثمرة.", "Report with 5 words."),
    ]
    # The summarizer keeps the first 6 words of the English text; summary.txt has a sentence a line.
    sentences = [s["text"] for s in result["check"]["sentences"]]
    assert sentences == ["Report with 6 words.", "Report with."]
    summary = (folder.out / "a" / "summary.txt").read_text(encoding="utf-8")
    assert summary == "Report with 6 words.\nReport with.\n"
    # 2 paragraphs "Report with 6 words." / "Report with 5 words." against the two lines above.
    translation = (folder.out / "a" / "translation.txt").read_text(encoding="utf-8")
    assert translation == "Report with 6 words.\n\nReport with 5 words.\n"
    scores = result["scores"]
    assert scores["references"] == ["a.summary.ref1.en.txt", "a.summary.ref2.en.txt"]
    assert scores["rouge"]["n_refs"] == 2 and "refs:2" in scores["rouge"]["signature"]
    assert scores["translation"]["n_segments"] == 2
    assert scores["translation"]["bleu_signature"].startswith("nrefs:1|")
    # b and c have no references: no scores, no errors.
    b = json.loads((folder.out / "b" / "result.json").read_text(encoding="utf-8"))
    assert b["scores"]["rouge"] is None and b["scores"]["translation"] is None
    assert b["scores"]["rouge_error"] is None and b["scores"]["translation_error"] is None
    assert report.corpus.rouge is not None and report.corpus.rouge.n_docs == 1
    assert report.corpus.translation is not None and report.corpus.translation.n_segments == 2
    on_disk = json.loads((folder.out / "report.json").read_text(encoding="utf-8"))
    assert on_disk["counts"] == {"ok": 3, "skipped": 0, "failed": 0}
    assert [d["id"] for d in on_disk["documents"]] == ["a", "b", "c"]
    rows = list(csv.DictReader(io.StringIO((folder.out / "report.csv").read_text())))
    assert [r["status"] for r in rows] == ["ok", "ok", "ok"]
    assert float(rows[0]["rouge1"]) == round(scores["rouge"]["scores"]["rouge1"]["fmeasure"], 4)
    assert rows[1]["rouge1"] == "" and rows[0]["n_paragraphs"] == "2"
    markdown = (folder.out / "report.md").read_text(encoding="utf-8")
    assert "| a | ok | 2 |" in markdown and str(report.corpus.rouge.signature) in markdown
    assert "## Scores" in (folder.out / "a" / "report.md").read_text(encoding="utf-8")


def _index_rows(index: str) -> dict[str, tuple[str, str | None]]:
    """{id: (status cell text, link)} of the rows of an index.html."""
    rows = {}
    for match in re.finditer(r'<tr class="doc (\w+)" data-id="([^"]*)">(.*?)</tr>', index, re.S):
        link = re.search(r'<a href="([^"]*)">', match.group(3))
        rows[match.group(2)] = (match.group(1), link.group(1) if link else None)
    return rows


def test_html_page_per_document_and_an_index(folder: Folder) -> None:
    write_docs(folder.input, {"bad.txt": "نص".encode() + b"\xff rest"})
    report = folder.run()
    assert statuses(report) == {"a": "ok", "b": "ok", "bad": "failed", "c": "ok"}
    for doc in ARABIC:
        result = json.loads((folder.out / doc / "result.json").read_text(encoding="utf-8"))
        page = (folder.out / doc / "report.html").read_text(encoding="utf-8")
        assert page == document_html(result)
    page = (folder.out / "a" / "report.html").read_text(encoding="utf-8")
    assert '<section id="scores"' in page and "a.summary.ref1.en.txt" in page
    assert not (folder.out / "bad" / "report.html").exists()
    index = (folder.out / "index.html").read_text(encoding="utf-8")
    assert _index_rows(index) == {
        "a": ("ok", "a/report.html"),
        "b": ("ok", "b/report.html"),
        "bad": ("failed", None),
        "c": ("ok", "c/report.html"),
    }
    bad = next(row for row in report.documents if row.id == "bad")
    assert bad.error and escape(bad.error) in index
    f1 = report.documents[0].scores.rouge.scores["rouge1"].fmeasure  # type: ignore[union-attr]
    assert f'<td class="n">{f1:.4f}</td>' in index and "ROUGE-1 F1" in index
    # A rerun skips the finished documents and links their pages, written by the first run.
    before = (folder.out / "a" / "report.html").read_bytes()
    assert statuses(folder.run())["a"] == "skipped"
    rows = _index_rows((folder.out / "index.html").read_text(encoding="utf-8"))
    assert rows["a"] == ("skipped", "a/report.html")
    assert (folder.out / "a" / "report.html").read_bytes() == before


def test_document_finished_by_an_older_mtsum_gets_its_page(folder: Folder) -> None:
    folder.run()
    # What an older mtsum left: no report.html, and none recorded among the outputs.
    with RunState(folder.out) as state:
        for doc in ARABIC:
            record = state.get(doc)
            assert record is not None
            kept = [f for f in record.outputs if not f.path.endswith("/report.html")]
            assert len(kept) == len(record.outputs) - 1
            state.mark_done(doc, record.content_hash, record.settings, outputs=kept)
            (folder.out / doc / "report.html").unlink()
    report = folder.run()
    assert statuses(report) == {"a": "ok", "b": "ok", "c": "ok"}
    result = json.loads((folder.out / "a" / "result.json").read_text(encoding="utf-8"))
    assert result["notes"] == ["redone: report.html not written by the last run"]
    assert (folder.out / "a" / "report.html").is_file()
    assert statuses(folder.run()) == {"a": "skipped", "b": "skipped", "c": "skipped"}


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("bad.txt", "نص".encode() + b"\xff rest", "not valid UTF-8 at byte 4"),
        ("empty.txt", b"", "empty"),
        ("big.txt", ("كلمة " * 400).encode(), "over the limit of 1,000"),
    ],
)
def test_bad_document_fails_alone(folder: Folder, name: str, content: bytes, error: str) -> None:
    write_docs(folder.input, {name: content})
    doc = Path(name).stem
    report = folder.run(settings=BatchSettings(max_bytes=1000))
    assert statuses(report) == {"a": "ok", "b": "ok", doc: "failed", "c": "ok"}
    [row] = [r for r in report.documents if r.status == "failed"]
    assert error in (row.error or "") and report.failed == 1
    result = json.loads((folder.out / doc / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "failed" and error in result["error"]
    assert [p.name for p in (folder.out / doc).iterdir()] == ["result.json"]
    with RunState(folder.out) as state:
        assert {r.doc_id: r.status for r in state.records()}[doc] == "failed"


def test_document_named_like_the_report_gets_its_own_id(folder: Folder) -> None:
    write_docs(folder.input, {"report.json.txt": "نص قصير.", "Report.MD.txt": "نص آخر."})
    report = folder.run()
    ids = [row.id for row in report.documents]
    assert [re.sub(r"-[0-9a-f]{8}$", "-#", i) for i in ids] == [
        "Report.MD-#",
        "a",
        "b",
        "c",
        "report.json-#",
    ]
    assert statuses(report) == dict.fromkeys(ids, "ok")
    assert (folder.out / ids[-1] / "result.json").is_file()
    on_disk = json.loads((folder.out / "report.json").read_text(encoding="utf-8"))
    assert on_disk["counts"] == {"ok": 5, "skipped": 0, "failed": 0}


def test_model_error_in_one_document_keeps_the_others(folder: Folder) -> None:
    def fussy(texts: list[str]) -> list[str]:
        if any("6 words" in t for t in texts):  # only a's first paragraph
            raise ModelError("fussy: cannot summarize this")
        return ["Short summary." for _ in texts]

    report = folder.run(summarizer=FunctionModel(fussy))
    assert statuses(report) == {"a": "failed", "b": "ok", "c": "ok"}
    assert report.documents[0].error == "fussy: cannot summarize this"


def test_bug_in_one_document_is_a_failed_row_with_traceback(folder: Folder) -> None:
    report = folder.run(summarizer=FunctionModel(lambda xs: 1 / 0))  # type: ignore[arg-type,return-value]
    assert report.failed == 3
    assert report.documents[0].error == "internal error: ZeroDivisionError: division by zero"
    result = json.loads((folder.out / "a" / "result.json").read_text(encoding="utf-8"))
    assert "ZeroDivisionError" in result["traceback"]


def test_failure_removes_outputs_of_an_earlier_input(folder: Folder) -> None:
    folder.run()
    (folder.input / "b.txt").write_bytes(b"\xff\xfe\xff")  # now undecodable
    report = folder.run()
    assert statuses(report)["b"] == "failed"
    assert [p.name for p in (folder.out / "b").iterdir()] == ["result.json"]


def test_translation_reference_mismatch_is_recorded_not_raised(folder: Folder) -> None:
    write_docs(folder.input, {"b.translation.ref.en.txt": "Only one line.\n"})
    report = folder.run()
    b = report.documents[1]
    assert b.status == "ok" and b.scores is not None and b.scores.translation is None
    assert b.scores.translation_error == (
        "b.translation.ref.en.txt: 2 hypothesis paragraphs but 1 reference paragraphs; "
        "align them one to one"
    )
    # The corpus score keeps only the documents whose paragraphs pair up.
    assert report.corpus.translation is not None and report.corpus.translation_docs == 1


def test_english_documents_need_no_translator(tmp_path: Path) -> None:
    write_docs(tmp_path / "in", {"e.txt": "The minister spoke on Wednesday.\n\nMarkets closed.\n"})
    load = Loader(translator())
    mt = LazyModel(name="no/such-model-needed", role="translation", load=load)
    report = run_batch(tmp_path / "in", tmp_path / "out", translator=mt, summarizer=summarizer())
    assert statuses(report) == {"e": "ok"} and load.loads == 0
    assert report.documents[0].lang == "en" and not report.settings[0].startswith("mt:")


def test_run_document_alone(tmp_path: Path) -> None:
    """The one call a distributed engine would make per document: files, record and state."""
    write_docs(tmp_path / "in", {"a.txt": ARABIC["a"]})
    [doc] = scan_folder(tmp_path / "in", max_bytes=1_000)
    models = Models(translator=translator(), summarizer=summarizer())
    with RunState(tmp_path / "out") as state:
        record = run_document(doc, SIG, models, BatchSettings(), state, note="why")
        assert (record["status"], record["id"], record["settings"]) == ("ok", "a", str(SIG))
        assert record["notes"] == ["why"] and state.is_done("a", doc.input_hash, SIG.key())
        folder = tmp_path / "out" / "a"
        assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)
        on_disk = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        assert on_disk == json.loads(json.dumps(record))
        # Without models it fails, and the outputs of its earlier run go with it.
        failed = run_document(doc, SIG, None, BatchSettings(), state)
        assert failed["error"] == "no model was loaded for this document"
        assert [p.name for p in folder.iterdir()] == ["result.json"]
        assert not state.is_done("a", doc.input_hash, SIG.key())
        assert state.get("a").error == failed["error"]  # type: ignore[union-attr]


# --- resume -------------------------------------------------------------------------------------


def test_rerun_loads_no_model(folder: Folder, marian_dir: Path, bart_dir: Path) -> None:
    def lazy() -> tuple[LazyModel, LazyModel, Loader, Loader]:
        loads = Loader(translator()), Loader(summarizer())
        mt = LazyModel(name=str(marian_dir), role="translation", load=loads[0])
        sm = LazyModel(name=str(bart_dir), role="summarization", load=loads[1])
        return mt, sm, *loads

    mt, sm, mt_load, sum_load = lazy()
    first = folder.run(translator=mt, summarizer=sm)
    assert set(statuses(first).values()) == {"ok"} and (mt_load.loads, sum_load.loads) == (1, 1)
    before = folder.outputs()
    mt, sm, mt_load, sum_load = lazy()
    report = folder.run(translator=mt, summarizer=sm)
    assert statuses(report) == {"a": "skipped", "b": "skipped", "c": "skipped"}
    assert (mt_load.loads, sum_load.loads) == (0, 0)
    assert folder.outputs() == before
    # Skipped rows carry the scores of the run that made them.
    assert [r.scores for r in report.documents] == [r.scores for r in first.documents]


def test_rerun_calls_no_injected_model(folder: Folder) -> None:
    folder.run()
    before = folder.outputs()
    mt, sm = translator(), summarizer()
    report = folder.run(translator=mt, summarizer=sm)
    assert statuses(report) == {"a": "skipped", "b": "skipped", "c": "skipped"}
    assert mt.used == sm.used == 0
    assert folder.outputs() == before


def test_changed_document_is_the_only_one_redone(folder: Folder) -> None:
    folder.run()
    before = folder.outputs()
    (folder.input / "b.txt").write_text(ARABIC["b"] + "\nفقرة جديدة.\n", encoding="utf-8")
    mt, sm = translator(), summarizer()
    report = folder.run(translator=mt, summarizer=sm)
    assert statuses(report) == {"a": "skipped", "b": "ok", "c": "skipped"}
    # Only b is redone: its three one-sentence paragraphs (15 tokens as FunctionModel counts
    # them) fit one translation budget, but with beams a batch holds one output bound only, so
    # one call per distinct bound; its three short English sentences are one summarizer chunk.
    texts = [s.text for s in segment(ARABIC["b"] + "\nفقرة جديدة.\n")]
    beams = GenerateOptions(num_beams=4)
    bounds = {beam_bound(2 * n + 10, beams) for n in mt.count_tokens(texts)}
    assert (mt.calls, sm.calls) == (len(bounds), 1)
    after = folder.outputs()
    assert {k for k in after if after[k] != before.get(k)} >= {"b/result.json", "b/translation.txt"}
    assert all(after[k] == before[k] for k in before if not k.startswith("b/"))


@pytest.mark.parametrize(
    ("change", "redone"),
    [
        ({"settings": BatchSettings(top_k=2)}, True),
        ({"settings": BatchSettings(source_lang="ar")}, True),
        ({"settings": BatchSettings(translate=TranslateOptions(num_beams=1))}, True),
        ({"settings": BatchSettings(summarize=SummarizeOptions(max_words=5))}, True),
        ({"translator": translator("other-mt")}, True),
        ({"summarizer": summarizer("other-sum")}, True),
        ({"settings": BatchSettings(max_bytes=10_000)}, False),  # refuses, changes no output
        ({"force": True}, True),
    ],
)
def test_changed_settings_redo_every_document(
    folder: Folder, change: dict[str, object], redone: bool
) -> None:
    folder.run()
    report = folder.run(**change)
    assert set(statuses(report).values()) == ({"ok"} if redone else {"skipped"})


def test_changed_or_new_reference_redoes_its_document(folder: Folder) -> None:
    folder.run()
    write_docs(
        folder.input,
        {"c.summary.ref10.en.txt": "Oil rose.\n", "c.summary.ref2.en.txt": "Prices rose.\n"},
    )
    report = folder.run()
    assert statuses(report) == {"a": "skipped", "b": "skipped", "c": "ok"}
    scores = report.documents[2].scores
    assert scores is not None and scores.rouge is not None and scores.rouge.n_refs == 2
    assert scores.references == ("c.summary.ref2.en.txt", "c.summary.ref10.en.txt")
    (folder.input / "c.summary.ref2.en.txt").write_text("Prices fell.\n", encoding="utf-8")
    assert statuses(folder.run()) == {"a": "skipped", "b": "skipped", "c": "ok"}


def test_deleted_output_is_made_again(folder: Folder) -> None:
    folder.run()
    (folder.out / "c" / "summary.txt").unlink()
    report = folder.run()
    assert statuses(report) == {"a": "skipped", "b": "skipped", "c": "ok"}
    assert (folder.out / "c" / "summary.txt").is_file()


def test_force_translates_nothing_already_cached(folder: Folder) -> None:
    with open_cache() as cache:
        first = folder.run(cache=cache)
    assert first.cache_misses > 0 and first.cache_hits == 0
    mt = translator()
    with open_cache() as cache:
        report = folder.run(translator=mt, force=True, cache=cache)
    assert set(statuses(report).values()) == {"ok"}
    assert mt.calls == 0 and report.cache_misses == 0 and report.cache_hits == first.cache_misses


def test_document_interrupted_during_force_is_redone(folder: Folder) -> None:
    """A force run stopped inside c: c's earlier record must not let the next run skip it."""
    folder.run()

    def interrupted(texts: list[str]) -> list[str]:
        if any("7 words" in t for t in texts):  # c's only paragraph
            raise KeyboardInterrupt
        return ["Short summary." for _ in texts]

    # The same name as the first run's summarizer: the same settings signature.
    with pytest.raises(KeyboardInterrupt):
        folder.run(summarizer=FunctionModel(interrupted, name="fn-sum"), force=True)
    assert statuses(folder.run()) == {"a": "skipped", "b": "skipped", "c": "ok"}


def _out_forms() -> dict[str, Callable[[Path], str]]:
    """Ways a user names the output folder, from the working directory `tmp_path`."""

    def linked(root: Path) -> str:
        (root / "real-out").mkdir()
        (root / "linked-out").symlink_to("real-out")
        return "linked-out"

    def dotted(root: Path) -> str:
        (root / "work").mkdir()
        return "work/../out"

    return {
        "relative": lambda root: "out",
        "trailing slash": lambda root: "out/",
        "dot-dot": dotted,
        "absolute": lambda root: str(root / "out"),
        "symlinked folder": linked,
    }


@pytest.mark.parametrize("form", list(_out_forms()))
def test_out_folder_in_any_form_runs_and_resumes(
    folder: Folder, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `mtsum batch seeds/ --out outputs/` once failed every document: paths in the resume state
    # were joined to a relative OUT_DIR twice.
    root = folder.input.parent
    monkeypatch.chdir(root)
    out = _out_forms()[form](root)
    report = run_batch("in", out, translator=folder.models["mt"], summarizer=folder.models["sum"])
    assert statuses(report) == {"a": "ok", "b": "ok", "c": "ok"}
    written = Path(out).resolve()
    assert sorted(p.name for p in (written / "a").iterdir()) == sorted(OUTPUT_FILES)
    with RunState(out) as state:
        recorded = [f.path for r in state.records() for f in r.outputs]
    assert sorted(recorded) == sorted(f"{d}/{n}" for d in "abc" for n in OUTPUT_FILES)
    used = folder.models["mt"].used + folder.models["sum"].used
    again = run_batch("in", out, translator=folder.models["mt"], summarizer=folder.models["sum"])
    assert statuses(again) == {"a": "skipped", "b": "skipped", "c": "skipped"}
    assert folder.models["mt"].used + folder.models["sum"].used == used


# --- what stops a run ---------------------------------------------------------------------------


def test_lock_held_refuses_and_changes_nothing(folder: Folder) -> None:
    folder.run()
    (folder.input / "a.txt").write_text(ARABIC["a"] + "\nإضافة.\n", encoding="utf-8")
    before = folder.outputs()
    state = (folder.out / STATE_FILE).read_bytes()
    with RunLock(folder.out), pytest.raises(BusyError, match="in use by another mtsum batch"):
        folder.run()
    assert folder.outputs() == before and (folder.out / STATE_FILE).read_bytes() == state


def test_model_that_cannot_load_writes_nothing(folder: Folder, marian_dir: Path) -> None:
    def broken() -> Seq2Seq:
        raise ModelError("translation model x could not be loaded")

    mt = LazyModel(name=str(marian_dir), role="translation", load=broken)
    with pytest.raises(ModelError, match="could not be loaded"):
        folder.run(translator=mt)
    assert not folder.out.exists()


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        (None, "no such directory"),
        ({}, "no <id>.txt documents"),
        ({"a.summary.ref1.en.txt": REF1}, "no <id>.txt documents"),
        ({"a.txt": ARABIC["a"], "out": "a file"}, "is not a folder"),
    ],
)
def test_input_dir_without_documents(
    tmp_path: Path, docs: dict[str, str | bytes] | None, message: str
) -> None:
    if docs is not None:
        write_docs(tmp_path / "in", docs)
    out = tmp_path / "in" / "out"
    with pytest.raises(InputError, match=message):
        run_batch(tmp_path / "in", out, translator=translator(), summarizer=summarizer())
    assert not out.exists() or out.is_file()


# --- signatures --------------------------------------------------------------------------------


MODELS = {"summarizer": "sum@1", "translator": "mt@1"}


@pytest.mark.parametrize(
    ("settings", "models", "same"),
    [
        (BatchSettings(), MODELS, True),
        (BatchSettings(max_bytes=5), MODELS, True),  # decides refusals, not outputs
        (BatchSettings(top_k=4), MODELS, False),
        (BatchSettings(threshold=0.5), MODELS, False),
        (BatchSettings(source_lang="ar"), MODELS, False),
        (BatchSettings(translate=TranslateOptions(length_slack=5)), MODELS, False),
        (BatchSettings(summarize=SummarizeOptions(preset="short")), MODELS, False),
        (BatchSettings(), {**MODELS, "summarizer": "sum@2"}, False),
        (BatchSettings(), {**MODELS, "translator": "mt@2"}, False),
        (BatchSettings(), {**MODELS, "translator": None}, False),
    ],
)
def test_settings_signature_table(
    settings: BatchSettings, models: dict[str, str | None], same: bool
) -> None:
    ours = settings_signature(settings, **models)  # type: ignore[arg-type]
    assert (ours == settings_signature(BatchSettings(), **MODELS)) is same


def test_settings_signature_of_english_has_no_translator() -> None:
    sig = str(settings_signature(BatchSettings(), summarizer="s@1", translator=None))
    assert sig.startswith("sum:s@1|sum-opts:preset=None,") and "mt:" not in sig
    assert sig.endswith("|top:3|thr:0.74|mtsum:0.1.0")


# --- the command --------------------------------------------------------------------------------


def cli_args(inp: Path, out: Path, marian_dir: Path, bart_dir: Path) -> list[str]:
    models = ["--mt-model", str(marian_dir), "--sum-model", str(bart_dir)]
    fast = [
        "--beams",
        "1",
        "--sum-beams",
        "1",
        "--max-words",
        "8",
        "--threads",
        "1",
        "--device",
        "cpu",
        "-q",
    ]
    return ["batch", str(inp), "--out", str(out), *models, *fast]


def test_cli_batch_on_tiny_models(tmp_path: Path, marian_dir: Path, bart_dir: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    write_docs(
        inp,
        {
            "a.txt": ARABIC["a"],
            "a.summary.ref1.en.txt": REF1,
            "a.summary.ref2.en.txt": REF2,
            "a.translation.ref.en.txt": REF_TRANSLATION,
            "b.txt": ARABIC["b"],
            "b.translation.ref.en.txt": "One line for two paragraphs.\n",
            "c.txt": "نص".encode() + b"\xff rest",
        },
    )
    args = cli_args(inp, out, marian_dir, bart_dir)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        f"mtsum: error: 1 failed of 3 documents (2 ok, 0 skipped, 1 failed); report in "
        f"{out / 'report.md'} and {out / 'index.html'}"
    )
    for doc in ("a", "b"):
        result_json = json.loads((out / doc / "result.json").read_text(encoding="utf-8"))
        assert result_json["status"] == "ok" and f"mt:{marian_dir}" in result_json["signature"]
        # Random weights write gibberish, but summary.txt is the checked summary, a sentence a line.
        sentences = [s["text"] for s in result_json["check"]["sentences"]]
        summary = (out / doc / "summary.txt").read_text(encoding="utf-8")
        assert sentences and summary == join_sentences(sentences) + "\n"
        assert len((out / doc / "translation.txt").read_text().strip().split("\n\n")) == 2
        assert (
            (out / doc / "report.md").read_text(encoding="utf-8").startswith(f"# Summary of {doc}")
        )
    failed = json.loads((out / "c" / "result.json").read_text(encoding="utf-8"))
    assert failed["status"] == "failed" and "not valid UTF-8 at byte 4" in failed["error"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"ok": 2, "skipped": 0, "failed": 1}
    a, b, c = report["documents"]
    assert a["scores"]["rouge"] is not None and a["scores"]["translation"]["n_segments"] == 2
    assert b["scores"]["translation_error"].startswith("b.translation.ref.en.txt: 2 hypothesis")
    assert c["status"] == "failed" and "not valid UTF-8" in c["error"]
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert [(r["id"], r["status"]) for r in rows] == [("a", "ok"), ("b", "ok"), ("c", "failed")]
    assert "| c | failed |" in (out / "report.md").read_text(encoding="utf-8")
    # `mtsum score` on the written summary reproduces the batch's ROUGE.
    refs = [
        "--ref",
        str(inp / "a.summary.ref1.en.txt"),
        "--ref",
        str(inp / "a.summary.ref2.en.txt"),
    ]
    scored = runner.invoke(
        app, ["score", "--hyp", str(out / "a" / "summary.txt"), *refs, "--format", "json"]
    )
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["scores"] == a["scores"]["rouge"]["scores"]
    # The rerun skips both finished documents and leaves their files alone.
    before = {p: p.read_bytes() for p in sorted(out.glob("[ab]/*"))}
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [d["status"] for d in report["documents"]] == ["skipped", "skipped", "failed"]
    assert {p: p.read_bytes() for p in sorted(out.glob("[ab]/*"))} == before


def test_cli_batch_of_the_seeds_as_make_run_writes_it(
    tmp_path: Path, marian_dir: Path, bart_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `mtsum batch seeds/ --out outputs/`, relative paths as the Makefile has them.
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    args = cli_args(Path("seeds"), Path("outputs"), marian_dir, bart_dir)
    args[1:4] = ["seeds/", "--out", "outputs/"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    seed = "000_91e72526449f324a"
    record = json.loads((tmp_path / "outputs" / seed / "result.json").read_text(encoding="utf-8"))
    page = (tmp_path / "outputs" / seed / "report.html").read_text(encoding="utf-8")
    assert page == document_html(record)
    index = (tmp_path / "outputs" / "index.html").read_text(encoding="utf-8")
    assert _index_rows(index) == {seed: ("ok", f"{seed}/report.html")}
    assert "<dd><bdi>seeds</bdi></dd>" in index and "<dd><bdi>outputs</bdi></dd>" in index


def test_cli_batch_all_ok_exits_0_and_caches(
    tmp_path: Path, marian_dir: Path, bart_dir: Path
) -> None:
    write_docs(tmp_path / "in", {"c.txt": ARABIC["c"]})
    args = cli_args(tmp_path / "in", tmp_path / "out", marian_dir, bart_dir)
    args.remove("-q")
    result = runner.invoke(app, [*args, "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(
        "mtsum: 1 documents (1 ok, 0 skipped, 0 failed); report in "
        f"{tmp_path / 'out' / 'report.md'} and {tmp_path / 'out' / 'index.html'}\n"
    )
    # --no-cache skips the translation cache; converted models are kept there all the same.
    assert not (tmp_path / "user-cache" / "translations.sqlite3").exists()
    result = runner.invoke(app, [*args, "--force", "--cache-dir", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "translations.sqlite3").is_file()
    assert not (tmp_path / "user-cache" / "translations.sqlite3").exists()


@pytest.mark.parametrize("option", ["--mt-model", "--sum-model"])
def test_cli_model_unavailable_exit_4_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marian_dir: Path, bart_dir: Path, option: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    write_docs(tmp_path / "in", {"a.txt": ARABIC["a"]})
    args = cli_args(tmp_path / "in", tmp_path / "out", marian_dir, bart_dir)
    args[args.index(option) + 1] = "mtsum-test/no-such-model"
    result = runner.invoke(app, args)
    assert result.exit_code == 4
    assert "mtsum-test/no-such-model" in result.stderr and f"{option} PATH" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("make", [False, True])
def test_cli_input_dir_errors_exit_3(tmp_path: Path, make: bool) -> None:
    if make:  # a folder with references but no document
        write_docs(tmp_path / "in", {"x.summary.ref1.en.txt": REF1})
    result = runner.invoke(app, ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert not (tmp_path / "out").exists()
    assert str(tmp_path / "in") in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_lock_held_exit_5(tmp_path: Path, marian_dir: Path, bart_dir: Path) -> None:
    write_docs(tmp_path / "in", {"c.txt": ARABIC["c"]})
    (tmp_path / "out").mkdir()
    args = cli_args(tmp_path / "in", tmp_path / "out", marian_dir, bart_dir)
    with RunLock(tmp_path / "out"):
        result = runner.invoke(app, args)
    assert result.exit_code == 5
    assert "in use by another mtsum batch (pid" in result.stderr
    # Nothing but the lock file its holder left.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [LOCK_FILE]


# --- crash and resume ---------------------------------------------------------------------------


def start_batch(
    tmp_path: Path, marian_dir: Path, bart_dir: Path, stderr_fd: int | None = None
) -> tuple[subprocess.Popen[bytes], list[str], list[str], Path]:
    """`mtsum batch` over ten documents in a subprocess: the process, the document ids, the
    command's arguments, and the file its stderr goes to (unless `stderr_fd` is given)."""
    inp, out = tmp_path / "in", tmp_path / "out"
    texts = list(ARABIC.values())
    ids = [f"d{i:02d}" for i in range(10)]
    write_docs(inp, {f"{d}.txt": texts[i % 3] + f"\nالفقرة رقم {i}.\n" for i, d in enumerate(ids)})
    args = cli_args(inp, out, marian_dir, bart_dir)
    env = {**os.environ, "MTSUM_CACHE_DIR": str(tmp_path / "user-cache")}
    log = tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "mtsum", *args]
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr if stderr_fd is None else stderr_fd,
        )
    return proc, ids, args, log


def rerun_resumes(args: list[str], out: Path, ids: list[str], done: Mapping[str, object]) -> None:
    """Run the batch again: the `done` documents are skipped, their files untouched byte for
    byte, and every other one of `ids` is finished."""
    kept = {p: p.read_bytes() for d in done for p in (out / d).iterdir()}
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    status = {d["id"]: d["status"] for d in report["documents"]}
    assert status == {d: "skipped" if d in done else "ok" for d in ids}
    assert {p: p.read_bytes() for p in kept} == kept


def test_kill_9_then_rerun_finishes_the_rest(
    tmp_path: Path, marian_dir: Path, bart_dir: Path
) -> None:
    proc, ids, args, log = start_batch(tmp_path, marian_dir, bart_dir)
    out = tmp_path / "out"
    try:
        # While it runs, a second batch on the same folder is refused, not interleaved.
        wait_for(proc, lambda: (out / STATE_FILE).exists(), "it took the lock", log)
        second = runner.invoke(app, args)
        assert second.exit_code == 5, second.output
        assert f"pid {proc.pid}" in second.stderr
        wait_for(proc, lambda: bool(done_ids(out)), "a document was finished", log)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = done_ids(out)
    assert 0 < len(done) < len(ids), "the kill came too late to test anything"
    assert not (out / "report.json").exists()
    rerun_resumes(args, out, ids, done)
    assert {k: v for k, v in done_ids(out).items() if k in done} == done
    for d in ids:
        assert sorted(p.name for p in (out / d).iterdir()) == sorted(OUTPUT_FILES)
        json.loads((out / d / "result.json").read_text(encoding="utf-8"))
    assert not list(out.rglob("*.tmp"))


@contextlib.contextmanager
def state_held(out: Path) -> Iterator[None]:
    """The resume state's write lock, held by another connection: the batch stops at its next
    record until it is released (SQLite waits 30 s for it)."""
    db = sqlite3.connect(out / STATE_FILE, timeout=10, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
        db.execute("COMMIT")
    finally:
        db.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=str)
def test_signal_says_how_far_it_got_reports_it_and_resumes(
    tmp_path: Path, marian_dir: Path, bart_dir: Path, signum: signal.Signals
) -> None:
    proc, ids, args, log = start_batch(tmp_path, marian_dir, bart_dir)
    out = tmp_path / "out"
    try:
        wait_for(proc, lambda: bool(done_ids(out)), "a document was finished", log)
        # Sent while the batch cannot record another document, so that it is always caught
        # mid-run however fast it goes; it stops at most one document later.
        with state_held(out):
            proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = log.read_text(encoding="utf-8")
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    found = re.fullmatch(
        r"mtsum: interrupted: (\d+) of 10 documents finished; rerun the same command to resume",
        stderr.strip().splitlines()[-1],
    )
    assert found is not None, stderr
    done = done_ids(out)
    assert int(found[1]) == len(done) and 1 <= len(done) < len(ids)
    # The run report says what finished, and that the run was stopped.
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {d["id"]: d["status"] for d in report["documents"]} == dict.fromkeys(done, "ok")
    assert (
        f"interrupted: {len(done)} of 10 documents finished; rerun the same command to resume"
        in (report["warnings"])
    )
    rerun_resumes(args, out, ids, done)
    assert not list(out.rglob("*.tmp"))


def test_sighup_from_a_terminal_that_hung_up_still_stops_cleanly(
    tmp_path: Path, marian_dir: Path, bart_dir: Path
) -> None:
    # stderr on a terminal whose other end is gone, as after a hangup: every write to it fails
    # (EIO). The lines are lost, but the outcome is not: exit 129, the report written.
    master, slave = os.openpty()
    try:
        proc, _, _, log = start_batch(tmp_path, marian_dir, bart_dir, stderr_fd=slave)
    finally:
        os.close(slave)
    out = tmp_path / "out"
    try:
        wait_for(proc, lambda: bool(done_ids(out)), "a document was finished", log)
        with state_held(out):
            os.close(master)  # the hangup: writes to the terminal now fail
            proc.send_signal(signal.SIGHUP)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGHUP
    done = done_ids(out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {d["id"]: d["status"] for d in report["documents"]} == dict.fromkeys(done, "ok")
    assert any(w.startswith("interrupted: ") for w in report["warnings"])


@pytest.mark.parametrize("where", ["under a file", "a file"])
def test_unusable_out_is_a_usage_error(
    folder: Folder, marian_dir: Path, bart_dir: Path, where: str
) -> None:
    blocker = folder.input.parent / "plain-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    out = blocker / "out" if where == "under a file" else blocker
    result = runner.invoke(app, cli_args(folder.input, out, marian_dir, bart_dir))
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(f"mtsum: error: {out}: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"
