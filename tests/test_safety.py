"""Safety of `mtsum batch`: no file name or folder entry can make it write, delete or read outside
its input and output folders, and finished work is checked before it is trusted.

Every case runs in a tmp folder holding sentinel files beside OUT (and a victim folder) that must
survive byte for byte. The models are plain functions: what is tested is where files go.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import string
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mtsum.backends.base import FunctionModel
from mtsum.batch import OUTPUT_FILES, BatchReport, outputs, run_batch
from mtsum.batch.inputs import _unique_ids
from mtsum.batch.lock import LOCK_FILE
from mtsum.batch.state import STATE_FILE
from mtsum.cli import app
from mtsum.errors import InputError, ModelError
from mtsum.sources import MAX_ID_BYTES, document_id, is_reference

ARABIC = "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n"
SENTINELS = ("report.md", "translation.txt", "summary.txt", "result.json", "report.json")


def models() -> dict[str, FunctionModel]:
    return {
        "translator": FunctionModel(lambda xs: [f"Report of {len(x)} letters." for x in xs]),
        "summarizer": FunctionModel(lambda xs: [" ".join(x.split()[:5]) + "." for x in xs]),
    }


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (links not followed), by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


class Scene:
    """tmp/in (documents), tmp/w/out (OUT), sentinels in tmp/w and a victim folder tmp/victim."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.input = root / "in"
        self.work = root / "w"
        self.out = self.work / "out"
        self.victim = root / "victim"
        for folder in (self.input, self.work, self.victim):
            folder.mkdir(parents=True)
        for name in SENTINELS:
            (self.work / name).write_text(f"sentinel {name}\n", encoding="utf-8")
            (self.victim / name).write_text(f"victim {name}\n", encoding="utf-8")
        self.before = {**self.outside()}

    def outside(self) -> dict[str, bytes]:
        """What lies outside OUT and the input folder: must never change."""
        files = {f"w/{k}": v for k, v in snapshot(self.work).items() if not k.startswith("out/")}
        return files | {f"victim/{k}": v for k, v in snapshot(self.victim).items()}

    def add(self, name: str, content: str = ARABIC) -> Path:
        path = self.input / name
        path.write_text(content, encoding="utf-8")
        return path

    def run(self, **kwargs: object) -> BatchReport:
        return run_batch(self.input, self.out, **models(), **kwargs)  # type: ignore[arg-type]

    def assert_contained(self) -> None:
        assert self.outside() == self.before
        for path in self.out.rglob("*"):  # links placed by a test stay what they were
            assert path.is_symlink() or path.resolve().is_relative_to(self.out.resolve()), path


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    return Scene(tmp_path)


def rows(report: BatchReport) -> dict[str, tuple[str, str | None]]:
    return {r.id: (r.status, r.error) for r in report.documents}


# --- file names that used to become paths -------------------------------------------------------

HOSTILE_NAMES = [
    "...txt",  # id ".." once: outputs in OUT/.., clean-up deleted the sentinels there
    "..txt",  # id "." once: wrote into OUT itself, over the run report
    ".mtsum-state.sqlite3.txt",  # the resume state's name
    ".mtsum.lock.txt",  # the lock's name
    "report.md.txt",  # a run report's name
    ("ع" * 121) + ".txt",  # 242 bytes of UTF-8 (+4): a long Arabic headline
    "نيوز\u202egnp.txt",  # a bidi override
    "tab\there.txt",
    " .txt",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_hostile_file_names_stay_inside_out(scene: Scene, name: str) -> None:
    scene.add("plain.txt")
    scene.add(name)
    report = scene.run()
    assert [r.status for r in report.documents] == ["ok", "ok"], rows(report)
    ids = [r.id for r in report.documents]
    assert len(set(ids)) == 2
    for doc_id in ids:
        assert doc_id not in (".", "..") and "/" not in doc_id and not doc_id.startswith(".")
        assert len(doc_id.encode()) <= MAX_ID_BYTES
        assert sorted(p.name for p in (scene.out / doc_id).iterdir()) == sorted(OUTPUT_FILES)
    report_json = json.loads((scene.out / "report.json").read_text(encoding="utf-8"))
    assert report_json["counts"] == {"ok": 2, "skipped": 0, "failed": 0}
    assert (scene.out / STATE_FILE).is_file() and (scene.out / LOCK_FILE).is_file()
    scene.assert_contained()
    # A rerun finds everything finished: the ids are stable.
    assert [r.status for r in scene.run().documents] == ["skipped", "skipped"]


def test_failed_document_with_dotted_name_deletes_nothing_outside(scene: Scene) -> None:
    (scene.input / "...txt").write_bytes(b"\xff\xfe\xff")  # fails: not text
    report = scene.run()
    [row] = report.documents
    assert row.status == "failed" and "not valid" in (row.error or "")
    scene.assert_contained()


def test_ids_are_distinct_for_names_that_fold_alike(scene: Scene) -> None:
    for name in ("a_b.txt", "a:b.txt", "a/b"[0] + "_b.txt", "a\x01b.txt"):
        scene.add(name)
    report = scene.run()
    assert len({r.id for r in report.documents}) == len(report.documents) == 3
    scene.assert_contained()


# --- symlinks and entries that are not files ----------------------------------------------------


def test_symlink_out_of_the_input_folder_is_refused(scene: Scene) -> None:
    scene.add("a.txt")
    (scene.victim / "secret.txt").write_text("سر لا يقرأ.\n", encoding="utf-8")
    scene.before = scene.outside()
    (scene.input / "passwd.txt").symlink_to(scene.victim / "secret.txt")
    (scene.input / "inside.txt").symlink_to("a.txt")  # a link within the folder is fine
    report = scene.run()
    assert rows(report)["a"] == ("ok", None) and rows(report)["inside"] == ("ok", None)
    status, error = rows(report)["passwd"]
    assert status == "failed" and "a symlink that leads out of" in (error or "")
    assert "سر" not in "".join(p.read_text(encoding="utf-8") for p in scene.out.rglob("*.json"))
    scene.assert_contained()


def test_fifo_and_folders_in_the_input_folder_get_rows(scene: Scene) -> None:
    scene.add("a.txt")
    os.mkfifo(scene.input / "pipe.txt")  # reading it would block forever
    (scene.input / "folder.txt").mkdir()
    report = scene.run()
    assert rows(report)["a"] == ("ok", None)
    assert "not a regular file" in (rows(report)["pipe"][1] or "")
    assert "a folder" in (rows(report)["folder"][1] or "")
    assert report.failed == 2


def test_document_folder_that_is_a_symlink_is_not_written_through(scene: Scene) -> None:
    scene.add("doc1.txt")
    scene.out.mkdir()
    (scene.out / "doc1").symlink_to(scene.victim)
    report = scene.run()
    status, error = rows(report)["doc1"]
    assert status == "failed" and "is a symlink" in (error or "")
    scene.assert_contained()


# --- resume checks what it trusts ---------------------------------------------------------------


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_resume_redoes_a_document_whose_outputs_changed(scene: Scene, change: str) -> None:
    scene.add("a.txt")
    scene.add("b.txt", ARABIC.replace("القاهرة", "دمشق"))
    scene.run()
    summary = scene.out / "a" / "summary.txt"
    if change == "edit":
        summary.write_text("Edited by hand.\n", encoding="utf-8")
    else:
        summary.unlink()
    report = scene.run()
    assert [r.status for r in report.documents] == ["ok", "skipped"]
    assert report.documents[0].warnings == (
        "redone: summary.txt changed or deleted since the last run",
    )
    assert summary.read_text(encoding="utf-8") != "Edited by hand.\n"
    result = json.loads((scene.out / "a" / "result.json").read_text(encoding="utf-8"))
    assert result["notes"] == ["redone: summary.txt changed or deleted since the last run"]


def test_failure_removes_only_files_mtsum_wrote(scene: Scene) -> None:
    scene.add("a.txt")
    scene.run()
    mine = scene.out / "a" / "translation.txt"
    theirs = scene.out / "a" / "summary.txt"
    theirs.write_text("A note the user keeps here.\n", encoding="utf-8")
    (scene.input / "a.txt").write_bytes(b"\xff\xfe\xff")  # now fails
    report = scene.run()
    assert report.documents[0].status == "failed"
    assert not mine.exists()  # an output of the earlier input would pass for this one's
    assert theirs.read_text(encoding="utf-8") == "A note the user keeps here.\n"


# --- any file name at all -----------------------------------------------------------------------

_NAME_CHARS = st.one_of(
    st.sampled_from([*'./\\:*?"<>| \t\n-_~', "\x01", "\x1b", "\u202e", "\u200b", "\udcff"]),
    st.sampled_from(list(string.ascii_letters + "عربية٣")),
    st.characters(codec="utf-8", exclude_characters="/\x00"),
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(stems=st.lists(st.text(_NAME_CHARS, min_size=0, max_size=140), min_size=1, max_size=4))
def test_any_file_names_stay_inside_their_folders(
    tmp_path_factory: pytest.TempPathFactory, stems: list[str]
) -> None:
    scene = Scene(tmp_path_factory.mktemp("names"))
    made = []
    for stem in stems:
        name = (stem.replace("/", "_") + ".txt").encode("utf-8", "surrogatepass")
        name = name[-250:]  # the file system's limit is 255 bytes a name
        try:
            path = scene.input / os.fsdecode(name)
            path.write_text(ARABIC, encoding="utf-8")
        except (OSError, UnicodeError):
            continue  # a name this file system refuses is no input
        made.append(path)
    if not any(not is_reference(p) for p in made):
        return  # references alone are no documents (a usage error, tested elsewhere)
    report = scene.run()
    ids = [r.id for r in report.documents]
    assert len(ids) == len(set(ids))
    assert all(doc_id not in (".", "..") and "/" not in doc_id for doc_id in ids)
    scene.assert_contained()
    assert (scene.out / "report.json").is_file()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2024-05 news.txt", "2024-05 news"),
        ("خبر عاجل.txt", "خبر عاجل"),
        ("...txt", "__-299a20bb"),
        ("a/b.txt", "a_b-5550000d"),
    ],
)
def test_document_id_examples(name: str, expected: str) -> None:
    assert document_id(name) == expected


# --- what reports show ----------------------------------------------------------------------------

HOSTILE_ENGLISH = (
    "<script>alert(1)</script> Officials met [here](javascript:alert(2)) today.\n\n"
    '<img src=x onerror="alert(3)"> The talks | ended *well* with `code`.\n'
)


def test_reports_show_document_text_as_text(scene: Scene) -> None:
    scene.add("<img src=x onerror=alert(1)>.txt", HOSTILE_ENGLISH)
    scene.add('=HYPERLINK("x").txt', HOSTILE_ENGLISH)
    scene.add("-2+3.txt", HOSTILE_ENGLISH)
    report = scene.run()
    assert report.failed == 0, rows(report)
    markdown = [p.read_text(encoding="utf-8") for p in scene.out.rglob("report.md")]
    assert len(markdown) == 4
    for text in markdown:
        assert "<script" not in text and "<img" not in text
        assert not re.search(r"(?<!\\)\]\(javascript:", text)  # no link: its ] is escaped
    joined = "\n".join(markdown)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined  # shown, not dropped
    assert "\\[here\\](javascript:alert(2))" in joined
    cells = (scene.out / "report.csv").read_text(encoding="utf-8").splitlines()
    firsts = sorted(line.split(",")[0] for line in cells[1:])
    assert all(not cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in firsts), firsts
    assert "\n'=HYPERLINK(_x_)-" in "\n".join(cells)  # the id, '"' folded, quoted


@pytest.mark.parametrize(
    ("function", "text", "shown"),
    [
        ("markdown_text", "<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("markdown_text", "[a](javascript:b)", "\\[a\\](javascript:b)"),
        ("markdown_text", "a|b\nc *d* _e_ `f`", "a\\|b c \\*d\\* \\_e\\_ \\`f\\`"),
        ("markdown_code", "x` <b>", "``x` <b>``"),
        ("csv_cell", "@SUM(A1)", "'@SUM(A1)"),
        ("csv_cell", "+1", "'+1"),
        ("csv_cell", "plain", "plain"),
        ("one_line", "a\x1b[31mb\u2028c", "a\ufffd[31mb c"),
        ("markdown_text", "# Not a heading", "\\# Not a heading"),
        ("markdown_text", "- not a list", "\\- not a list"),
        ("markdown_text", "3. not a list", "3\\. not a list"),
    ],
)
def test_markup_rules(function: str, text: str, shown: str) -> None:
    from mtsum import markup

    assert getattr(markup, function)(text) == shown


# --- OUT_DIR/<id>: only mtsum's own folder, written through the folder it checked --------------


def swapping(scene: Scene, doc_id: str, *, how: str, fail: bool) -> FunctionModel:
    """A summarizer that, while it runs, replaces OUT/<doc_id> with a link to the victim folder
    (as another process could), then answers or fails."""

    def summarize(texts: list[str]) -> list[str]:
        folder = scene.out / doc_id
        if folder.is_dir() and not folder.is_symlink():
            if how == "rename":
                folder.rename(scene.out / "moved-away")
            else:
                shutil.rmtree(folder)
            folder.symlink_to(scene.victim)
        if fail:
            raise RuntimeError("the model broke")
        return [" ".join(t.split()[:5]) + "." for t in texts]

    return FunctionModel(summarize)


@pytest.mark.parametrize("fail", [False, True], ids=["writes", "clean-up"])
@pytest.mark.parametrize("how", ["rename", "rmtree"])
def test_folder_swapped_for_a_link_while_the_models_run(scene: Scene, how: str, fail: bool) -> None:
    scene.add("doc.txt")
    assert rows(scene.run())["doc"] == ("ok", None)
    # Changed input: redone, and a failure's clean-up removes the outputs of the earlier run.
    scene.add("doc.txt", ARABIC.replace("القاهرة", "دمشق"))
    report = run_batch(
        scene.input,
        scene.out,
        translator=models()["translator"],
        summarizer=swapping(scene, "doc", how=how, fail=fail),
    )
    assert (scene.out / "doc").is_symlink()  # the swap happened during the run
    status, error = rows(report)["doc"]
    if fail:
        assert status == "failed" and "the model broke" in (error or "")
    scene.assert_contained()  # the victim holds translation.txt ...: none written or deleted
    if how == "rename":  # what was written went to the folder mtsum had checked
        assert status == "failed" or (scene.out / "moved-away" / "result.json").is_file()


def test_existing_folder_that_mtsum_did_not_make_is_left_alone(scene: Scene) -> None:
    scene.add("a.txt")
    scene.add("b.txt")
    mine = scene.out / "a"
    mine.mkdir(parents=True)
    (mine / "summary.txt").write_text("My own precious document.\n", encoding="utf-8")
    kept = snapshot(mine)
    for _ in range(2):  # a refused folder is not recorded as mtsum's, so not on a rerun either
        report = scene.run()
        assert rows(report)["a"] == (
            "failed",
            f"{mine.absolute()} exists and was not made by mtsum; move it or pass another --out",
        )
        assert rows(report)["b"][0] in ("ok", "skipped")
        assert snapshot(mine) == kept
    scene.assert_contained()


def test_folders_mtsum_made_are_reused(scene: Scene) -> None:
    scene.add("a.txt")
    scene.run()
    scene.add("a.txt", ARABIC.replace("القاهرة", "دمشق"))
    assert rows(scene.run())["a"] == ("ok", None)  # known to the state: rewritten
    assert rows(scene.run(force=True))["a"] == ("ok", None)


def test_input_folder_inside_out_with_a_documents_name(tmp_path: Path) -> None:
    # mtsum batch work/news --out work: the id "news" is the input folder itself.
    work = tmp_path / "work"
    news = work / "news"
    news.mkdir(parents=True)
    (news / "news.txt").write_text("The cat sat on the mat. It was warm.\n", encoding="utf-8")
    (news / "summary.txt").write_text("My own precious document.\n", encoding="utf-8")
    kept = snapshot(news)
    report = run_batch(news, work, **models())  # type: ignore[arg-type]
    status, error = rows(report)["news"]  # (summary.txt is a document too, and gets a folder)
    assert status == "failed" and "was not made by mtsum" in (error or "")
    assert snapshot(news) == kept


def test_out_that_is_the_input_folder_is_refused(scene: Scene) -> None:
    scene.add("a.txt")
    (scene.input / "report.md").write_text("my notes\n", encoding="utf-8")
    (scene.root / "same").symlink_to(scene.input)
    kept = snapshot(scene.input)
    for out in (scene.input, scene.root / "same", scene.input / "." / "."):
        with pytest.raises(InputError, match="is the input folder; pass another --out"):
            run_batch(scene.input, out, **models())  # type: ignore[arg-type]
    assert snapshot(scene.input) == kept and sorted(os.listdir(scene.input)) == [
        "a.txt",
        "report.md",
    ]


def test_empty_out_is_refused(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    scene.add("a.txt")
    monkeypatch.chdir(scene.work)  # "" would be the current folder, with its report.md
    with pytest.raises(InputError, match=r"the output folder is empty; pass --out FOLDER"):
        run_batch(scene.input, "", **models())  # type: ignore[arg-type]
    scene.assert_contained()


def test_empty_out_is_refused_by_the_cli(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    scene.add("a.txt")
    monkeypatch.chdir(scene.work)
    model = ["--mt-model", str(scene.root / "no-mt"), "--sum-model", str(scene.root / "no-sum")]
    result = CliRunner().invoke(app, ["batch", str(scene.input), "--out", "", *model, "-q"])
    assert result.exit_code == 3, result.output
    assert "the output folder is empty" in result.stderr
    scene.assert_contained()


def test_leftovers_are_only_mtsums_own_temporary_files(scene: Scene) -> None:
    scene.add("a.txt")
    scene.run()
    folder = scene.out / "a"
    theirs = [".summary.txt.mynotes.tmp", ".summary.txt.12345678.tmp", ".x.mtsum-0123.tmp"]
    for name in theirs:
        (folder / name).write_text("mine\n", encoding="utf-8")
    leftover = folder / ".summary.txt.mtsum-0123456789abcdef.tmp"  # as a kill leaves it
    leftover.write_text("half a summ", encoding="utf-8")
    assert rows(scene.run(force=True))["a"] == ("ok", None)
    assert not leftover.exists()
    assert all((folder / n).read_text(encoding="utf-8") == "mine\n" for n in theirs)
    assert sorted(os.listdir(folder)) == sorted([*OUTPUT_FILES, *theirs])


def test_by_path_where_the_platform_lacks_dir_fd(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputs, "_DIR_FD", False)
    scene.add("a.txt")
    scene.add("...txt")
    (scene.out / "b").mkdir(parents=True)
    scene.add("b.txt")
    report = scene.run()
    assert [r.status for r in report.documents] == ["ok", "ok", "failed"]  # ...txt, a, b
    assert "was not made by mtsum" in (report.documents[2].error or "")
    (scene.out / "a" / "summary.txt").write_text("edited\n", encoding="utf-8")
    assert [r.status for r in scene.run().documents] == ["skipped", "ok", "failed"]
    scene.assert_contained()


# --- the resume state is mtsum's own file -------------------------------------------------------


def test_state_that_is_a_dangling_link_is_refused(scene: Scene) -> None:
    scene.add("a.txt")
    scene.out.mkdir()
    target = scene.victim / "made-by-sqlite.db"
    (scene.out / STATE_FILE).symlink_to(target)
    with pytest.raises(InputError, match=r"is a symlink, not an mtsum resume state"):
        scene.run()
    assert not target.exists() and not (scene.out / "a").exists()
    scene.assert_contained()


@pytest.mark.parametrize("linked", [True, False], ids=["link", "file"])
def test_state_that_is_another_database_is_refused(scene: Scene, linked: bool) -> None:
    scene.add("a.txt")
    scene.out.mkdir()
    other = scene.victim / "app.sqlite3" if linked else scene.out / STATE_FILE
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO documents (body) VALUES ('keep me')")
    db.commit()
    db.close()
    if linked:
        (scene.out / STATE_FILE).symlink_to(other)
        scene.before = scene.outside()
    kept = other.read_bytes()
    shown = "is a symlink" if linked else "is not an mtsum resume state; rerun with --force to"
    with pytest.raises(InputError, match=shown):
        scene.run()
    assert other.read_bytes() == kept and not (scene.out / "a").exists()
    scene.assert_contained()


def _damage_cells(state: Path) -> None:
    """Sound pages (quick_check passes), a cell mtsum did not write."""
    with contextlib.closing(sqlite3.connect(state)) as db:
        db.execute("UPDATE documents SET outputs = '{junk'")
        db.commit()


def _rewrite(change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    return lambda state: state.write_bytes(change(state.read_bytes()))


STATE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "junk": _rewrite(lambda data: b"garbage, not sqlite\x00" * 100),
    "truncated": _rewrite(lambda data: data[: len(data) // 2]),
    "empty": _rewrite(lambda data: b""),
    "pages": _rewrite(lambda data: data[:4096] + b"\xa5" * (len(data) - 4096)),  # header intact
    "cells": _damage_cells,
}


@pytest.mark.parametrize("how", list(STATE_DAMAGE))
def test_damaged_state_advice_works(scene: Scene, how: str) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        scene.add(name)
    assert [r.status for r in scene.run().documents] == ["ok"] * 3
    state = scene.out / STATE_FILE
    STATE_DAMAGE[how](state)
    before = snapshot(scene.out)
    with pytest.raises(InputError, match="rerun with --force to move it aside and redo every"):
        scene.run()
    assert snapshot(scene.out) == before  # refused before anything: the report is the last one
    report = scene.run(force=True)  # the advice, followed
    assert rows(report) == {doc: ("ok", None) for doc in "abc"}
    [aside] = scene.out.glob(f"{STATE_FILE}.damaged-*")
    assert aside.read_bytes() == before[STATE_FILE]
    assert [w for w in report.warnings if aside.name in w and "moved it to" in w]
    assert [r.status for r in scene.run().documents] == ["skipped"] * 3
    scene.assert_contained()


def test_a_run_interrupted_while_its_state_is_made_is_finished_by_a_plain_rerun(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C or SIGTERM (a KeyboardInterrupt) before the new state holds its table: the rerun,
    without --force, finishes the run (no empty state is left for it to refuse)."""
    from mtsum.batch import state

    def interrupted(db: sqlite3.Connection) -> None:
        raise KeyboardInterrupt

    scene.add("a.txt")
    with monkeypatch.context() as patch:
        patch.setattr(state, "_open_schema", interrupted)
        with pytest.raises(KeyboardInterrupt):
            scene.run()
    assert not any(p.name.startswith(STATE_FILE) for p in scene.out.iterdir())
    assert rows(scene.run()) == {"a": ("ok", None)}
    assert rows(scene.run()) == {"a": ("skipped", None)}
    scene.assert_contained()


def test_deleted_state_then_force_redoes_the_folders_mtsum_left(scene: Scene) -> None:
    scene.add("a.txt")
    scene.add("b.txt")
    scene.run()
    (scene.out / STATE_FILE).unlink()
    mine = scene.out / "c"  # a user's folder, with a file named as mtsum's, is never adopted
    mine.mkdir()
    (mine / "summary.txt").write_text("My own.\n", encoding="utf-8")
    scene.add("c.txt")
    refused = scene.run()
    assert rows(refused)["a"] == (
        "failed",
        f"{scene.out.absolute() / 'a'} holds mtsum's files, but the resume state does not know "
        "it; pass --force to redo it there, or move it away",
    )
    assert "was not made by mtsum" in (rows(refused)["c"][1] or "")
    forced = scene.run(force=True)
    assert [r.status for r in forced.documents] == ["ok", "ok", "failed"]
    assert (mine / "summary.txt").read_text(encoding="utf-8") == "My own.\n"
    assert [r.status for r in scene.run().documents] == ["skipped", "skipped", "failed"]


def test_all_failed_run_says_it_replaced_a_report_with_finished_documents(scene: Scene) -> None:
    scene.add("a.txt")
    scene.add("b.txt")
    scene.run()

    def broken(texts: list[str]) -> list[str]:
        raise ModelError("the summarizer broke")

    report = run_batch(
        scene.input,
        scene.out,
        translator=models()["translator"],
        summarizer=FunctionModel(broken),
        force=True,
    )
    assert report.failed == 2
    note = "every document failed; this report replaces one with 2 documents finished"
    assert note in report.warnings
    assert note in (scene.out / "report.md").read_text(encoding="utf-8")
    again = run_batch(
        scene.input,
        scene.out,
        translator=models()["translator"],
        summarizer=FunctionModel(broken),
    )
    assert again.failed == 2 and not again.warnings  # it replaced an all-failed one: nothing lost


def test_state_with_other_tables_too_is_refused(scene: Scene) -> None:
    scene.add("a.txt")
    scene.run()
    db = sqlite3.connect(scene.out / STATE_FILE)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="is not an mtsum resume state"):
        scene.run()


# --- paths that are not UTF-8 -------------------------------------------------------------------


def test_folders_whose_names_are_not_utf8_make_a_report(scene: Scene) -> None:
    source = scene.root / os.fsdecode(b"in\xff")
    source.mkdir()
    (source / "a.txt").write_text(ARABIC, encoding="utf-8")
    (source / "b.txt").write_text(ARABIC, encoding="utf-8")
    out = scene.out / os.fsdecode(b"out\xff")
    (out / "b").mkdir(parents=True)  # refused, with OUT's name in its error
    report = run_batch(source, out, **models())  # type: ignore[arg-type]
    assert rows(report)["a"] == ("ok", None) and rows(report)["b"][0] == "failed"
    assert report.input_dir.endswith("in\ufffd") and report.out_dir.endswith("out\ufffd")
    written = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert written["out_dir"] == report.out_dir
    assert "out\ufffd" in written["documents"][1]["error"]
    assert "out\ufffd" in (out / "report.md").read_text(encoding="utf-8")
    scene.assert_contained()


# --- many documents ------------------------------------------------------------------------------


def test_ids_of_many_documents_take_linear_time() -> None:
    # A set rebuilt per document took 2 s for 8,000 names, 13 s for 20,000.
    paths = [Path(f"d{i}.txt") for i in range(20_000)] + [Path("D7.txt"), Path("d7.TXT")]
    start = time.perf_counter()
    ids = _unique_ids(paths, ())
    assert time.perf_counter() - start < 2.0
    assert len({i.lower() for i in ids}) == len(ids) == len(paths)
    assert ids[7] == "d7" and ids[-2].startswith("D7-") and ids[-2] != ids[-1]


# --- the run report beside a user's files --------------------------------------------------------


@pytest.mark.parametrize("name", outputs.REPORT_FILES)
def test_a_users_report_file_in_out_is_refused_before_any_model(scene: Scene, name: str) -> None:
    scene.add("a.txt")
    scene.out.mkdir()
    (scene.out / name).write_text("my own notes\n", encoding="utf-8")
    called: list[int] = []
    model = FunctionModel(lambda xs: called.append(len(xs)) or xs)
    with pytest.raises(InputError, match=re.escape(f"out/{name} exists and was not written by")):
        run_batch(scene.input, scene.out, translator=model, summarizer=model)
    assert called == [] and os.listdir(scene.out) == [name]
    assert (scene.out / name).read_text(encoding="utf-8") == "my own notes\n"


def test_a_rerun_replaces_its_own_report_but_not_one_edited_since(scene: Scene) -> None:
    scene.add("a.txt")
    scene.run()
    assert "| a | ok |" in (scene.out / "report.md").read_text(encoding="utf-8")
    scene.run()  # its own report: replaced
    assert "| a | skipped |" in (scene.out / "report.md").read_text(encoding="utf-8")
    (scene.out / "report.md").write_text("my notes on the run\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=re.escape("out/report.md was changed since mtsum wrote it; move")
    ):
        scene.run(force=True)
    assert (scene.out / "report.md").read_text(encoding="utf-8") == "my notes on the run\n"
    (scene.out / "report.md").rename(scene.root / "notes.md")  # as the message says
    assert rows(scene.run()) == {"a": ("skipped", None)}
    scene.assert_contained()


def test_an_out_from_before_the_record_keeps_its_reports_replaceable(scene: Scene) -> None:
    scene.add("a.txt")
    scene.run()
    (scene.out / ".mtsum-written.json").unlink()  # as an older mtsum left it: state, no record
    assert rows(scene.run()) == {"a": ("skipped", None)}
    assert (scene.out / ".mtsum-written.json").is_file()
