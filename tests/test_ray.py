"""`mtsum batch --engine ray`: the same outputs, resume and isolation as the local engine.

One local Ray (``ray.init(num_cpus=2)``) serves the whole module: the command runs in-process
through `CliRunner` (the engine uses the Ray this process joined) or as a subprocess given its
address. Without Ray these tests skip, except under ``CI=true``, where they fail and name the
install command. The actor's own code (`DocumentWorker`) is also tested without Ray, in-process.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from batch_runs import done_ids, needs_ray, wait_for, write_docs
from typer.testing import CliRunner

from mtsum.backends.base import FunctionModel
from mtsum.batch import MAX_BYTES, BatchSettings, lazy_summarizer, lazy_translator, run_batch
from mtsum.batch.document import document_result
from mtsum.batch.inputs import scan_folder
from mtsum.batch.outputs import OUTPUT_FILES
from mtsum.batch.ray_engine import (
    INSTALL,
    RETRIES,
    DocumentWorker,
    RayEngine,
    WorkerResult,
    _Job,
)
from mtsum.batch.state import STATE_FILE
from mtsum.cli import app
from mtsum.errors import ModelError
from mtsum.summarize import SummarizeOptions
from mtsum.translate import TranslateOptions

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

ARABIC = [
    "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n",
    "أعلنت الحكومة خطة جديدة للطاقة.\n\nوستبدأ الخطة في عام 2024.\n",
    "ارتفعت أسعار النفط أمس بعد قرار أوبك.\n",
]
ENGLISH = "The minister visited Cairo on Wednesday. He said the talks were fruitful.\n"
BAD = "نص".encode() + b"\xff rest"  # not UTF-8 at byte 4


@pytest.fixture(scope="module")
def ray_address(mtsum_cache: Path) -> Iterator[str]:
    """A local Ray with 2 CPUs for the module; its address, for a subprocess to join."""
    needs_ray("the ray engine tests")
    import ray

    # The actors inherit the environment Ray starts with: the session's mtsum cache, no network.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MTSUM_CACHE_DIR", str(mtsum_cache))
        env.setenv("HF_HUB_OFFLINE", "1")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def six_and_a_bad_one(folder: Path) -> Path:
    """Six documents (five Arabic, one English; one with references) and an invalid UTF-8 one."""
    docs: dict[str, str | bytes] = {
        f"ar{i}.txt": ARABIC[i % 3] + f"\nالفقرة {i}.\n" for i in range(5)
    }
    docs |= {
        "en.txt": ENGLISH,
        "bad.txt": BAD,
        "ar0.summary.ref1.en.txt": "The foreign minister visited Cairo.\n",
        "ar0.translation.ref.en.txt": "The minister visited Cairo.\nHe spoke.\nParagraph 0.\n",
    }
    return write_docs(folder, docs)


def many(folder: Path, n: int = 16) -> list[str]:
    """`n` Arabic documents of a dozen paragraphs each, slow enough to be caught mid-run."""
    ids = [f"d{i:02d}" for i in range(n)]
    body = "".join(ARABIC) * 4
    write_docs(folder, {f"{d}.txt": body + f"\nالفقرة رقم {i}.\n" for i, d in enumerate(ids)})
    return ids


def cli_args(inp: Path, out: Path, marian_dir: Path, bart_dir: Path, cache: Path) -> list[str]:
    return [
        "batch",
        str(inp),
        "--out",
        str(out),
        *("--mt-model", str(marian_dir), "--sum-model", str(bart_dir)),
        *("--beams", "1", "--sum-beams", "1", "--max-words", "8", "--threads", "1"),
        *("--device", "cpu", "--compute-type", "float32", "--cache-dir", str(cache), "-q"),
    ]


def outputs(out: Path) -> dict[str, bytes]:
    """Every per-document output file, by path relative to OUT_DIR."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.glob("*/*"))}


def without_timings(record: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if k != "timings"}


def report_rows(out: Path) -> list[dict[str, str]]:
    """report.csv's rows without the seconds each document took."""
    text = (out / "report.csv").read_text(encoding="utf-8")
    return [
        {k: v for k, v in row.items() if k != "seconds"}
        for row in csv.DictReader(io.StringIO(text))
    ]


def statuses(out: Path) -> dict[str, str]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {d["id"]: d["status"] for d in report["documents"]}


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "mtsum", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=60)


# --- two nodes, one lost ------------------------------------------------------------------------


OTHER_NODE = "MTSUM_TEST_NODE"  # set in the other node's raylet, so in its actors


def held_on_the_other_node(held: Path, starts: Path) -> Callable[[list[str]], list[str]]:
    """A summarizer (a document's tag, ``[d3]``, and its first words) for the two-node test.

    Each start of a document is logged to `starts` (node, pid, tag). On the other node (its
    actors see `OTHER_NODE`) the document is held: the process writes its pid and the tag to
    `held` and waits to be killed. Elsewhere a document waits until `held` exists, so that the
    head cannot finish every document before the other node holds one. Every wait is bounded.
    """

    def summarize(texts: list[str]) -> list[str]:
        found = re.search(r"\[(d\d+)\]", " ".join(texts))
        tag = found.group(1) if found else "?"
        node = os.environ.get(OTHER_NODE, "head")
        with starts.open("a", encoding="utf-8") as log:
            log.write(f"{node} {os.getpid()} {tag}\n")
        deadline = time.monotonic() + 120
        if node == "other":
            held.with_suffix(".tmp").write_text(f"{os.getpid()} {tag}", encoding="utf-8")
            held.with_suffix(".tmp").replace(held)
            while time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError(f"{tag} was held on the other node and never killed")
        while not held.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return [f"[{tag}] " + " ".join(text.split()[:6]) + "." for text in texts]

    return summarize


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds actors through /proc")
def test_two_nodes_one_lost_every_document_once_as_local(tmp_path: Path) -> None:
    # Before the module's own Ray starts (this test comes first): a cluster of two nodes on this
    # machine, the driver (this process) on the head. The other node's raylet is killed, with
    # its actor, while that actor runs a document; the document is tried again on the head.
    needs_ray("the two-node test")
    import ray
    from ray.cluster_utils import Cluster

    assert not ray.is_initialized(), "the two-node test must run before any other Ray test"
    ids = [f"d{i}" for i in range(6)]
    inp = write_docs(
        tmp_path / "in",
        {f"{d}.txt": ARABIC[i % 3] + f"\n[{d}] الفقرة.\n" for i, d in enumerate(ids)},
    )
    held, starts = tmp_path / "held", tmp_path / "starts"
    models = {
        "translator": FunctionModel(lambda xs: [f"{x} (in English)" for x in xs]),
        "summarizer": FunctionModel(held_on_the_other_node(held, starts)),  # sent as it is
    }
    fast_death = {"health_check_period_ms": 500, "health_check_failure_threshold": 2}
    # One CPU a node for the two actors (Ray Data spreads them), one more on the head for the
    # actor that replaces the lost one.
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "include_dashboard": False, "_system_config": fast_death},
    )
    killed: list[tuple[int, str]] = []

    def kill_the_other_node(done: int, total: int) -> None:
        # The head finished a document, so the other node holds one (or the head waited 2 min).
        if killed:
            return
        assert held.exists(), "no document was held on the other node"
        pid, tag = held.read_text(encoding="utf-8").split()
        lost = actor_pids(raylet.pid)
        assert int(pid) in lost, (pid, lost)
        raylet.kill()  # SIGKILL: the node is lost, and what ran there with it
        for actor in lost:
            os.kill(actor, signal.SIGKILL)
        killed.append((int(pid), tag))

    try:
        other = cluster.add_node(num_cpus=1, env_vars={OTHER_NODE: "other"})
        cluster.wait_for_nodes()
        raylet = other.all_processes["raylet"][0].process
        try:
            report = run_batch(
                inp,
                tmp_path / "out",
                **models,
                progress=kill_the_other_node,
                engine=RayEngine(address=cluster.address, workers=2, cache_dir=tmp_path / "cache"),
            )
        finally:
            ray.shutdown()
    finally:
        cluster.shutdown()
    assert killed, "the run ended before the other node was killed"
    [(pid, tag)] = killed
    assert [row.id for row in report.documents] == ids  # each once
    assert {row.id: row.status for row in report.documents} == dict.fromkeys(ids, "ok")
    # The held document was started on the other node, then once more, on the head.
    runs = [line.split() for line in starts.read_text(encoding="utf-8").splitlines()]
    tries = [(node, int(p)) for node, p, t in runs if t == tag]
    assert tries[0] == ("other", pid) and [node for node, _ in tries[1:]] == ["head"], runs

    local = tmp_path / "local"
    run_batch(inp, local, **models)
    ray_files, local_files = outputs(tmp_path / "out"), outputs(local)
    assert ray_files.keys() == local_files.keys()
    assert f"{tag}/summary.txt" in local_files
    for path, data in local_files.items():
        if path.endswith("result.json"):
            assert without_timings(json.loads(data)) == without_timings(json.loads(ray_files[path]))
        else:  # translation.txt, summary.txt, the reports: byte for byte
            assert data == ray_files[path], path


# --- the same outputs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory, ray_address: str, marian_dir: Path, bart_dir: Path
) -> dict[str, Path]:
    """One folder run by each engine, each with its own cache, so that Ray's actors translate."""
    tmp = tmp_path_factory.mktemp("engines")
    inp = six_and_a_bad_one(tmp / "in")
    for engine in ("local", "ray"):
        args = cli_args(inp, tmp / engine, marian_dir, bart_dir, tmp / f"cache-{engine}")
        result = runner.invoke(app, [*args, "--engine", engine])
        assert result.exit_code == 1, result.output
        assert "1 failed of 7 documents (6 ok, 0 skipped, 1 failed)" in result.stderr
    return {"in": inp, "local": tmp / "local", "ray": tmp / "ray"}


def test_ray_writes_what_local_writes(both: dict[str, Path]) -> None:
    local, ray = outputs(both["local"]), outputs(both["ray"])
    assert local.keys() == ray.keys()
    assert {p.split("/")[0] for p in local} == {"ar0", "ar1", "ar2", "ar3", "ar4", "en", "bad"}
    for path, data in local.items():
        if path.endswith("result.json"):
            assert without_timings(json.loads(data)) == without_timings(json.loads(ray[path]))
        else:  # translations, summaries, reports: byte for byte
            assert data == ray[path], path
    assert report_rows(both["local"]) == report_rows(both["ray"])
    bad = json.loads((both["ray"] / "bad" / "result.json").read_text(encoding="utf-8"))
    assert bad["status"] == "failed" and "not valid UTF-8 at byte 4" in bad["error"]
    # The actors translated (into their own cache), and the report counts what they did.
    cache = json.loads((both["ray"] / "report.json").read_text(encoding="utf-8"))["cache"]
    local_cache = json.loads((both["local"] / "report.json").read_text(encoding="utf-8"))["cache"]
    assert cache["misses"] > 0 and sum(cache.values()) == sum(local_cache.values())
    assert (both["in"].parent / "cache-ray" / "translations.sqlite3").is_file()


def test_resume_across_engines_runs_no_model(
    both: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    marian_dir: Path,
    bart_dir: Path,
    tmp_path: Path,
) -> None:
    import mtsum.batch.ray_engine
    import mtsum.batch.settings

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model or Ray was started for a finished run")

    # Ray is never joined, no model is ever loaded, here or on an actor.
    monkeypatch.setattr(mtsum.batch.ray_engine, "_ray", never)
    monkeypatch.setattr(mtsum.batch.settings, "load_translator", never)
    monkeypatch.setattr(mtsum.batch.settings, "load_summarizer", never)
    for engine, out in (("ray", both["local"]), ("local", both["ray"])):
        before = outputs(out)
        args = cli_args(both["in"], out, marian_dir, bart_dir, tmp_path / "cache")
        result = runner.invoke(app, [*args, "--engine", engine])
        assert result.exit_code == 1, result.output
        assert set(statuses(out).values()) == {"skipped", "failed"}
        assert statuses(out)["bad"] == "failed"
        assert outputs(out) == before


# --- crashes ------------------------------------------------------------------------------------


def test_driver_killed_then_rerun_redoes_only_the_rest(
    tmp_path: Path, ray_address: str, marian_dir: Path, bart_dir: Path
) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    ids = many(inp)
    args = cli_args(inp, out, marian_dir, bart_dir, tmp_path / "cache")
    log = tmp_path / "stderr.txt"
    proc = start([*args, "--engine", "ray", "--ray-address", ray_address], {}, log)
    try:
        wait_for(proc, lambda: (out / STATE_FILE).exists(), "it took the lock", log)
        # While the ray batch runs, a local one on the same folder is refused.
        second = runner.invoke(app, [*args, "--engine", "local"])
        assert second.exit_code == 5, second.output
        assert f"pid {proc.pid}" in second.stderr
        wait_for(proc, lambda: bool(done_ids(out)), "a document was finished", log)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop(proc)
    assert proc.returncode == -signal.SIGKILL
    done = done_ids(out)
    assert 0 < len(done) < len(ids), "the kill came too late to test anything"
    kept = {p: p.read_bytes() for d in done for p in (out / d).iterdir()}

    result = runner.invoke(app, [*args, "--engine", "ray"])
    assert result.exit_code == 0, result.output
    assert statuses(out) == {d: "skipped" if d in done else "ok" for d in ids}
    assert {p: p.read_bytes() for p in kept} == kept
    assert {k: v for k, v in done_ids(out).items() if k in done} == done
    for d in ids:
        assert sorted(p.name for p in (out / d).iterdir()) == sorted(OUTPUT_FILES)
    assert not list(out.rglob("*.tmp"))


def actor_pids(root: int | None = None) -> list[int]:
    """The processes of Ray actors that run `DocumentWorker` below `root` (default: this
    process, which started the module's local Ray), found in /proc by their process title."""
    root = os.getpid() if root is None else root
    parents, titles = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            titles[int(entry.name)] = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue

    def ours(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    return [pid for pid, title in titles.items() if b"DocumentWorker" in title and ours(pid)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds actors through /proc")
def test_actor_killed_mid_run_every_document_finishes(
    tmp_path: Path, ray_address: str, marian_dir: Path, bart_dir: Path
) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    ids = many(inp)
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if done == 2 and not killed:
            pids = actor_pids()
            assert pids, "no actor process found"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    runtime = {"device": "cpu", "compute_type": "float32", "cache_dir": tmp_path / "cache"}
    settings = BatchSettings(
        translate=TranslateOptions(num_beams=1),
        summarize=SummarizeOptions(max_words=8, num_beams=1),
    )
    report = run_batch(
        inp,
        out,
        translator=lazy_translator(str(marian_dir), **runtime),
        summarizer=lazy_summarizer(str(bart_dir), **runtime),
        settings=settings,
        progress=kill_one,
        engine=RayEngine(workers=2, cache_dir=tmp_path / "cache"),
    )
    assert killed, "the run ended before an actor could be killed"
    assert {row.id: row.status for row in report.documents} == dict.fromkeys(ids, "ok")
    for d in ids:
        assert sorted(p.name for p in (out / d).iterdir()) == sorted(OUTPUT_FILES)


def test_document_that_kills_its_actor_fails_alone(tmp_path: Path, ray_address: str) -> None:
    inp = write_docs(tmp_path / "in", {"a.txt": ENGLISH, "b.txt": "POISON " + ENGLISH})

    def summarize(texts: list[str]) -> list[str]:
        if any("POISON" in text for text in texts):
            os._exit(1)  # the actor's process dies, as on a segfault or the OOM killer
        return [" ".join(text.split()[:5]) + "." for text in texts]

    report = run_batch(
        inp,
        tmp_path / "out",
        translator=FunctionModel(lambda xs: xs),
        summarizer=FunctionModel(summarize),  # sent to the actors as it is
        engine=RayEngine(workers=1),
    )
    rows = {row.id: row for row in report.documents}
    assert rows["a"].status == "ok" and rows["b"].status == "failed"
    assert rows["b"].error == (
        f"its Ray worker died on each of {RETRIES + 1} tries (killed, out of memory, or its "
        "node lost); rerun to try again"
    )


# --- the lock, and errors -----------------------------------------------------------------------


def test_ray_batch_refused_while_a_local_one_runs(
    tmp_path: Path, ray_address: str, marian_dir: Path, bart_dir: Path
) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    many(inp)
    args = cli_args(inp, out, marian_dir, bart_dir, tmp_path / "cache")
    log = tmp_path / "stderr.txt"
    proc = start([*args, "--engine", "local"], {}, log)
    try:
        wait_for(proc, lambda: (out / STATE_FILE).exists(), "it took the lock", log)
        second = runner.invoke(app, [*args, "--engine", "ray"])
        assert second.exit_code == 5, second.output
        assert f"pid {proc.pid}" in second.stderr
    finally:
        stop(proc)


def test_model_the_actors_cannot_load_exits_4_and_writes_nothing(
    tmp_path: Path, ray_address: str, marian_dir: Path, bart_dir: Path
) -> None:
    from functools import partial

    from mtsum import load_summarizer
    from mtsum.batch import LazyModel
    from mtsum.errors import ModelError

    inp = write_docs(tmp_path / "in", {"en.txt": ENGLISH})
    # Known to the driver by name (it resolves), but its loader fails on the actor.
    broken = LazyModel(
        name=str(bart_dir),
        role="summarization",
        load=partial(load_summarizer, str(tmp_path / "no-such-model")),
    )
    with pytest.raises(ModelError, match="no-such-model"):
        run_batch(
            inp,
            tmp_path / "out",
            translator=lazy_translator(str(marian_dir)),
            summarizer=broken,
            engine=RayEngine(workers=1),
        )
    assert not (tmp_path / "out").exists()


def test_engine_ray_without_ray_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marian_dir: Path, bart_dir: Path
) -> None:
    import mtsum.batch.ray_engine

    monkeypatch.setattr(mtsum.batch.ray_engine, "ray_available", lambda: False)
    inp = write_docs(tmp_path / "in", {"en.txt": ENGLISH})
    args = cli_args(inp, tmp_path / "out", marian_dir, bart_dir, tmp_path / "cache")
    result = runner.invoke(app, [*args, "--engine", "ray"])
    assert result.exit_code == 2
    assert result.stderr == f"mtsum: error: --engine ray needs Ray: {INSTALL}\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", [["--workers", "2"], ["--ray-address", "auto"]])
def test_ray_options_need_the_ray_engine(tmp_path: Path, option: list[str]) -> None:
    result = runner.invoke(app, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), *option])
    assert result.exit_code == 2
    assert result.stderr == f"mtsum: error: {option[0]} needs --engine ray\n"


# --- the actor, without Ray ---------------------------------------------------------------------


def job(**changes: object) -> _Job:
    fields: dict[str, object] = {
        "translator": FunctionModel(lambda xs: [f"Text of {len(x)} letters." for x in xs]),
        "summarizer": FunctionModel(lambda xs: [" ".join(x.split()[:4]) + "." for x in xs]),
        "identities": ("function@none", "function@none"),
        "settings": BatchSettings(),
        "threads": 1,
        "cache": False,
        "cache_dir": None,
    }
    return _Job(**{**fields, **changes})  # type: ignore[arg-type]


def call(worker: DocumentWorker, doc: object, signature: object = None) -> WorkerResult:
    [payload] = worker({"task": [pickle.dumps((doc, signature, None))]})["result"]
    result = pickle.loads(payload)
    assert isinstance(result, WorkerResult)
    return result


def test_worker_runs_document_result(tmp_path: Path) -> None:
    inp = write_docs(tmp_path / "in", {"a.txt": ARABIC[0], "bad.txt": BAD})
    docs = {d.id: d for d in scan_folder(inp, max_bytes=MAX_BYTES)}
    good, bad = docs["a"], docs["bad"]
    worker = DocumentWorker(job(cache=True, cache_dir=tmp_path / "cache"))
    first = call(worker, good)
    assert first.error is None and first.result is not None and first.result.ok
    expected = document_result(good, None, worker.models, BatchSettings())  # type: ignore[arg-type]
    assert first.result.files[:2] == expected.files[:2]  # the translation and the summary
    assert (first.cache_hits, first.cache_misses) == (0, 2)
    again = call(worker, good)
    assert (again.cache_hits, again.cache_misses) == (2, 0)
    failed = call(worker, bad)
    assert failed.result is not None and "not valid UTF-8" in failed.result.record["error"]


def test_worker_refuses_another_revision_than_the_driver_planned(tmp_path: Path) -> None:
    doc = scan_folder(write_docs(tmp_path / "in", {"a.txt": ARABIC[0]}), max_bytes=MAX_BYTES)[0]
    worker = DocumentWorker(job(identities=("function@none", "function@other")))
    result = call(worker, doc)
    assert result.result is None and isinstance(result.error, ModelError)
    planned = "model here is function@none, but the run was planned with function@other"
    assert planned in str(result.error)
