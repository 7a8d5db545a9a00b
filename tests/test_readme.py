"""The README as a test: every command it shows, run the way a user types it.

Each command runs as a subprocess through ``bash``, from a working directory holding the files the
README names (``article.txt``, ``seeds/``, ...), with relative paths and the default model names.
Those names resolve through a Hugging Face cache (``HF_HOME``, hub layout, ``HF_HUB_OFFLINE=1``) in
which ``Helsinki-NLP/opus-mt-ar-en`` and ``sshleifer/distilbart-cnn-12-6`` are the tiny test
checkpoints, so nothing is passed that a user would not pass.

`COMMANDS` is the table to hold against the README: one entry per line of its ``sh`` blocks, with
what the command must do. A README command missing from the table, or a table entry the README no
longer shows, fails `test_table_is_the_readme`. The ``python`` blocks run too, as written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hub_cache
import pytest
from batch_runs import needs_ray
from hub_cache import REVISION, build_hub_cache

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SEED_ID = "000_91e72526449f324a"
SEEDS = ROOT / "seeds"
MT, SUM = "Helsinki-NLP/opus-mt-ar-en", "sshleifer/distilbart-cnn-12-6"
# A summary to score, written by hand from the seed article's reference translation.
SUMMARY = (
    "Nikolai Patrushev visited Tehran to strengthen the alliance between Russia and Iran.\n"
    "He met Iranian officials to discuss security cooperation.\n"
)

Run = hub_cache.Run


@dataclass(frozen=True)
class Case:
    """What one README command must do: exit 0, print no traceback, and pass `check`."""

    check: Callable[[Path, Run], None] | None
    not_run: str = ""  # why a command is not run here (only for commands that cannot be)


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^ *```{language}\n(.*?)^ *```", text, flags=re.M | re.S)


def readme_commands() -> list[str]:
    """Every command line of the README's ``sh`` blocks, comments dropped."""
    commands = []
    for block in _blocks("sh"):
        for line in block.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def lines(text: str) -> list[str]:
    # What a terminal shows as lines: split at "\n" only, as mtsum writes them.
    return [line for line in text.split("\n") if line.strip()]


def seed_paragraphs() -> int:
    return len(lines((SEEDS / f"{SEED_ID}.txt").read_text(encoding="utf-8")))


# --- what each command must do ------------------------------------------------------------------


def english_paragraphs(cwd: Path, run: Run) -> None:
    paragraphs = [p for p in run.stdout.split("\n\n") if p.strip()]
    assert len(paragraphs) == seed_paragraphs()
    assert "==>" not in run.stdout  # one document: no headers


def translation_json(cwd: Path, run: Run) -> None:
    assert run.stdout == ""
    [doc] = json.loads((cwd / "out.json").read_text(encoding="utf-8"))["documents"]
    assert doc["id"] == "article" and doc["path"] == "article.txt"
    assert doc["signature"].startswith(f"mt:{MT}@{REVISION}|")
    assert len(doc["paragraphs"]) == seed_paragraphs()
    assert {s["paragraph"] for s in doc["segments"]} == set(range(seed_paragraphs()))


def same_as_the_file(cwd: Path, run: Run) -> None:
    # stdin and the file give the same English, paragraph for paragraph.
    assert run.stdout == user_run("mtsum translate article.txt", cwd).stdout


def summary_text(cwd: Path, run: Run) -> None:
    *sentences, support = lines(run.stdout)
    assert re.fullmatch(r"\(support \d\.\d\d; paragraphs numbered from 1\)", support)
    # Random weights: a sentence may have no support at all, and says so.
    shown = re.compile(r"  \[(¶\d+ \d\.\d\d.*|no supporting paragraph)\]( !\w+(,\w+)*)?$")
    assert sentences and all(shown.search(s) for s in sentences)


def summary_markdown(cwd: Path, run: Run) -> None:
    assert run.stdout == ""
    markdown = (cwd / "summary.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Summary of article\n") and "Support: **" in markdown
    assert f"sum:{SUM}@{REVISION}" in markdown  # the signature


def summary_html(cwd: Path, run: Run) -> None:
    assert run.stdout == ""
    page = (cwd / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<h1>Summary of article</h1>" in page
    assert page.count('<td class="text ar" lang="ar" dir="rtl">') == seed_paragraphs()
    assert f"sum:{SUM}@{REVISION}" in page  # the signature


def check_text(cwd: Path, run: Run) -> None:
    *sentences, support = lines(run.stdout)
    assert support.startswith("(support ")
    written = lines((cwd / "their_summary.txt").read_text(encoding="utf-8"))
    assert [s.split("  [")[0] for s in sentences] == written


def check_json(cwd: Path, run: Run) -> None:
    record = json.loads(run.stdout)
    keys = ["mtsum", "id", "summary_path", "lang", "arabic_share", "warnings", "signature"]
    assert list(record) == [*keys, "check"]
    assert record["lang"] == "ar" and record["summary_path"] == "their_summary.txt"
    written = lines((cwd / "their_summary.txt").read_text(encoding="utf-8"))
    assert [s["text"] for s in record["check"]["sentences"]] == written


def batch_outputs(cwd: Path, run: Run) -> None:
    out = cwd / "outputs"
    result = json.loads((out / SEED_ID / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "ok" and result["scores"]["rouge"]["n_refs"] == 2
    assert f"mt:{MT}@{REVISION}" in result["settings"]
    assert f"sum:{SUM}@{REVISION}" in result["settings"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"ok": 1, "skipped": 0, "failed": 0}
    page = (out / SEED_ID / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"<h1>Summary of {SEED_ID}</h1>" in page
    assert f'<a href="{SEED_ID}/report.html">' in (out / "index.html").read_text(encoding="utf-8")
    # The README promises a rerun skips finished documents.
    again = user_run("mtsum batch seeds/ --out outputs/", cwd)
    assert again.returncode == 0, again.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"ok": 0, "skipped": 1, "failed": 0}


def rouge_text(cwd: Path, run: Run) -> None:
    assert "rouge:1,2,L,Lsum|tok:en-porter|refs:2|multi:max|mtsum:" in run.stdout
    assert re.search(r"rouge1\b.*\d\.\d", run.stdout)


def rouge_json(cwd: Path, run: Run) -> None:
    record = json.loads(run.stdout)
    assert record["hypothesis"] == "summary.txt"
    assert record["references"] == ["ref1.txt", "ref2.txt"]
    assert "tok:en-porter|refs:2" in record["signature"]


def pulled(cwd: Path, run: Run) -> None:
    listed = user_run("mtsum models list", cwd).stdout
    assert re.search(rf"^{re.escape(MT)}@{REVISION}\tctranslate2\t", listed, flags=re.M)


def converted(cwd: Path, run: Run) -> None:
    listed = user_run("mtsum models list", cwd).stdout
    assert re.search(r"^models/opus-mt-ar-en@local-[0-9a-f]{12}\tctranslate2\t", listed, re.M)


def models_listed(cwd: Path, run: Run) -> None:
    for name in (MT, SUM):
        assert re.search(rf"^{re.escape(name)}@{REVISION}\thuggingface\t", run.stdout, re.M)


def same_as_the_default(cwd: Path, run: Run) -> None:
    # models/opus-mt-ar-en is the default checkpoint saved to a folder: the same English.
    assert run.stdout == user_run("mtsum translate article.txt", cwd).stdout


def example_output(cwd: Path, run: Run) -> None:
    """The Python example prints what the CLI's JSON holds for the same article and summary."""
    summarized = user_run("mtsum summarize article.txt --format json", cwd)
    checked = user_run("mtsum check article.txt --summary their_summary.txt --format json", cwd)
    assert summarized.returncode == 0, summarized.stderr
    assert checked.returncode == 0, checked.stderr
    [record] = json.loads(summarized.stdout)["documents"]
    translation, check = record["translation"], json.loads(checked.stdout)["check"]
    # The English paragraphs, then one line per segment, exactly.
    segments = [
        f"{s['paragraph']} {s['sentence']} {s['source']} -> {s['text']} {tuple(s['flags'])}\n"
        for s in translation["segments"]
    ]
    head = "\n\n".join(translation["paragraphs"]) + "\n" + "".join(segments)
    assert run.stdout.startswith(head)
    *sentences, paragraph_4, last, end = run.stdout[len(head) :].split("\n")
    assert end == ""
    # A summary sentence a line: its text, support (4 places in JSON), flags and paragraphs.
    assert sentences and len(sentences) == len(record["check"]["sentences"])
    for line, s in zip(sentences, record["check"]["sentences"], strict=True):
        shown = f"{tuple(s['flags'])} {[tuple(a['paragraphs']) for a in s['alignments']]}"
        support = re.fullmatch(rf"{re.escape(s['text'])} (\S+) {re.escape(shown)}", line)
        assert support is not None, line
        assert round(float(support[1]), 4) == s["support"]
    paragraph = record["paragraphs"][4]
    assert paragraph_4 == f"{paragraph['original']} {paragraph['english']}"
    said = [(s["text"], tuple(s["flags"])) for s in check["sentences"]]
    support = re.fullmatch(rf"(\S+) {re.escape(str(said))}", last)
    assert support is not None, last
    assert round(float(support[1]), 4) == check["support"]


def archived(cwd: Path, run: Run) -> None:
    with tarfile.open(cwd / "models.tar") as tar:
        handle = tar.extractfile("mtsum-manifest.json")
        assert handle is not None
        models = json.load(handle)["models"]
    checkpoints = [(m["name"], m["revision"]) for m in models if m["kind"] == "huggingface"]
    assert checkpoints == [(MT, REVISION), (SUM, REVISION)]


EXPORT = f"mtsum models export {MT} {SUM} -o models.tar"
CLUSTER = "needs a Ray cluster of several machines; tests/test_ray.py joins one by its address"
IMPORT = "mtsum models import models.tar"

COMMANDS: dict[str, Case] = {
    "make run": Case(None, "run by test_make_run, with make's install step taken as done"),
    "make test": Case(None, "this suite itself; .ci/run runs it (test_ci_runs_make_test)"),
    "mtsum translate article.txt": Case(english_paragraphs),
    "mtsum translate article.txt --format json -o out.json": Case(translation_json),
    "mtsum translate seeds/": Case(english_paragraphs),
    "cat article.txt | mtsum translate -": Case(same_as_the_file),
    "mtsum summarize article.txt": Case(summary_text),
    "mtsum summarize article.txt --format markdown -o summary.md": Case(summary_markdown),
    "mtsum summarize article.txt --format html -o report.html": Case(summary_html),
    "mtsum summarize english.txt": Case(summary_text),
    "mtsum summarize article.txt --length short": Case(summary_text),
    "mtsum check article.txt --summary their_summary.txt": Case(check_text),
    "mtsum check article.txt --summary their_summary.txt --format json": Case(check_json),
    "mtsum batch seeds/ --out outputs/": Case(batch_outputs),
    "mtsum score --hyp summary.txt --ref ref1.txt --ref ref2.txt": Case(rouge_text),
    "mtsum score --hyp summary.txt --ref ref1.txt --ref ref2.txt --lang en --format json": Case(
        rouge_json
    ),
    "mtsum models pull Helsinki-NLP/opus-mt-ar-en": Case(pulled),
    "mtsum models convert models/opus-mt-ar-en": Case(converted),
    "mtsum models list": Case(models_listed),
    "mtsum translate article.txt --mt-model models/opus-mt-ar-en": Case(same_as_the_default),
    EXPORT: Case(archived),
    IMPORT: Case(None, "run by test_import_on_a_machine_without_the_models, after EXPORT"),
    # Resumed by the local engine in batch_outputs: the two engines write the same state.
    "mtsum batch seeds/ --out outputs/ --engine ray": Case(batch_outputs),
    "ray start --head": Case(None, CLUSTER),
    "ray start --address HEAD:6379": Case(None, CLUSTER),
    "mtsum batch seeds/ --out outputs/ --engine ray --ray-address auto": Case(None, CLUSTER),
    "ray job submit --address http://HEAD:8265 -- mtsum batch /data/in --out /data/out "
    "--engine ray": Case(None, CLUSTER),
}


# --- the user's machine -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory, marian_dir: Path, bart_dir: Path) -> Path:
    return build_hub_cache(tmp_path_factory.mktemp("hf-home"), {MT: marian_dir, SUM: bart_dir})


@pytest.fixture(scope="module")
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the module's commands, as a user's cache is: a model is converted once.
    return tmp_path_factory.mktemp("user-cache")


_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _user_env(hf_home: Path, user_cache: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    # The environment's own bin first, as an activated virtual environment puts it.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env |= {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "MTSUM_CACHE_DIR": str(user_cache)}
    _ENV.clear()
    _ENV.update(env)


@pytest.fixture
def workdir(tmp_path: Path, marian_dir: Path) -> Path:
    """A user's folder: the files the README's commands name."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    shutil.copytree(SEEDS, cwd / "seeds")
    shutil.copy(SEEDS / f"{SEED_ID}.txt", cwd / "article.txt")
    shutil.copy(SEEDS / f"{SEED_ID}.translation.ref.en.txt", cwd / "english.txt")
    shutil.copy(SEEDS / f"{SEED_ID}.summary.ref1.en.txt", cwd / "their_summary.txt")
    shutil.copy(SEEDS / f"{SEED_ID}.summary.ref1.en.txt", cwd / "ref1.txt")
    shutil.copy(SEEDS / f"{SEED_ID}.summary.ref2.en.txt", cwd / "ref2.txt")
    (cwd / "summary.txt").write_text(SUMMARY, encoding="utf-8")
    # What the README's save_pretrained example leaves behind (test_python_blocks runs it).
    shutil.copytree(marian_dir, cwd / "models" / "opus-mt-ar-en")
    return cwd


def user_run(command: str, cwd: Path) -> Run:
    return hub_cache.user_run(command, cwd, _ENV)


# --- the tests ----------------------------------------------------------------------------------


def test_table_is_the_readme() -> None:
    shown = readme_commands()
    assert len(shown) == len(set(shown)), "a README command is shown twice"
    assert sorted(set(shown) - set(COMMANDS)) == [], "README commands missing from COMMANDS"
    assert sorted(set(COMMANDS) - set(shown)) == [], "COMMANDS the README no longer shows"


@pytest.mark.parametrize("command", [c for c, case in COMMANDS.items() if case.check is not None])
def test_readme_command(command: str, workdir: Path) -> None:
    if "--engine ray" in command:
        needs_ray("--engine ray")
    run = user_run(command, workdir)
    assert run.returncode == 0, run.stderr
    # Only mtsum's own lines (its warnings, batch's closing line): no library noise.
    assert all(line.startswith("mtsum: ") for line in run.stderr.splitlines()), run.stderr
    check = COMMANDS[command].check
    assert check is not None
    check(workdir, run)


def test_make_run(workdir: Path) -> None:
    # `make run` on a clean clone: the Makefile's own recipe, from a copy of the repository's
    # Makefile and seeds, with the installed environment standing in for `make install`.
    shutil.copy(ROOT / "Makefile", workdir / "Makefile")
    shutil.rmtree(workdir / "outputs", ignore_errors=True)
    bin_dir = Path(sys.executable).parent
    run = user_run(f"make --no-print-directory -o install run BIN={bin_dir}", workdir)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{bin_dir}/mtsum batch seeds/ --out outputs/" in run.stdout
    batch_outputs(workdir, run)


def test_ci_runs_make_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.M)
    assert "make test" in readme_commands()


@pytest.mark.parametrize("block", range(len(_blocks("python"))))
def test_python_blocks(block: int, workdir: Path) -> None:
    code = textwrap.dedent(_blocks("python")[block])  # a block in a list item is indented
    shutil.rmtree(workdir / "models")  # the offline example writes it
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=workdir,
        env=_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    if "save_pretrained" in code:
        saved = workdir / "models" / "opus-mt-ar-en"
        assert (saved / "config.json").is_file() and (saved / "source.spm").is_file()
    else:
        example_output(workdir, run)


@pytest.mark.parametrize("backend", ["auto", "ctranslate2", "transformers"])
def test_quiet_first_run_prints_nothing_on_stderr(
    backend: str, workdir: Path, tmp_path: Path
) -> None:
    # A first run: a fresh mtsum cache, so the models are converted during the command.
    command = f"mtsum summarize article.txt -q --backend {backend}"
    fresh = {**_ENV, "MTSUM_CACHE_DIR": str(tmp_path / "fresh-cache")}
    run = subprocess.run(
        ["bash", "-c", command], cwd=workdir, env=fresh, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0 and run.stderr == ""
    summary_text(workdir, run)
    if backend != "transformers":
        assert list((tmp_path / "fresh-cache" / "ct2").iterdir())  # it did convert


def test_import_on_a_machine_without_the_models(workdir: Path, tmp_path: Path) -> None:
    # The README's two lines on two machines: export here, import where nothing is cached.
    exported = user_run(EXPORT, workdir)
    assert exported.returncode == 0, exported.stderr
    fresh = {**_ENV, "HF_HOME": str(tmp_path / "hf"), "MTSUM_CACHE_DIR": str(tmp_path / "cache")}
    imported = subprocess.run(
        ["bash", "-c", IMPORT], cwd=workdir, env=fresh, capture_output=True, text=True, timeout=300
    )
    assert imported.returncode == 0 and imported.stderr == "", imported.stderr
    translated = subprocess.run(
        ["bash", "-c", "mtsum translate article.txt"],
        cwd=workdir,
        env=fresh,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert translated.returncode == 0, translated.stderr
    assert translated.stdout == user_run("mtsum translate article.txt", workdir).stdout
