"""`mtsum batch` on the local engine against Ray with 1 and 2 actors, on the same folder.

The folder: the first `--docs` FLORES-200 devtest articles (``../shared/data``; skipped cleanly
without it), one sentence a paragraph, each with its English reference translation beside it.
Two model sets: the tests' tiny random checkpoints, and random checkpoints with the real shapes
of opus-mt-ar-en and distilbart-cnn-12-6 (`bench/checkpoints.py`, built once into
``bench/.models``). Every run is the command a user types, as a child process, with
``--no-cache`` (a translation cache would answer the later runs) and a fresh OUT_DIR; the
conversions to CTranslate2 are made once, by an untimed warm-up, into ``bench/.models/cache``.

Runs, each on the whole folder:

- ``local``: ``mtsum batch IN --out OUT`` (all cores: CTranslate2's one worker per core);
- ``local-1t``: the same with ``--threads 1``, the compute of one Ray actor;
- ``ray-1``, ``ray-2``: ``--engine ray --workers N --threads 1`` (a local Ray started for the
  run, as a user's first ``--engine ray`` starts it).

``local-1t`` and ``ray-1`` run the first ``--overhead-docs`` documents (20) only: at real shapes
one thread makes them the slowest runs, and they serve only to measure the overhead.

From the resume state (each document's ``finished`` time) and result.json (its model seconds):

- ``docs/s``: documents over the command's wall time, start-up included;
- ``steady docs/s``: documents after the first over the time between the first and the last to
  finish, i.e. without start-up;
- ``start-up s``: from the command's start to the first document finished, less that document's
  own seconds (imports, model loading; for Ray also starting Ray and its actors);
- ``model s/doc``: mean seconds in the two models per document (result.json timings);
- ``gap s/doc``: ``steady`` time per document less the mean of the documents' own seconds:
  writing and recording, and for Ray the trip to an actor and back.

Ray's per-document overhead is the gap of ``ray-1`` less that of ``local-1t`` (the same compute,
one document at a time), as a share of the model seconds.

    .venv/bin/python bench/engine.py                     # both model sets, 60 documents
    .venv/bin/python bench/engine.py --models tiny --docs 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from checkpoints import ROOT, ensure_checkpoints
from speed_systems import flores_articles

MTSUM = [sys.executable, "-m", "mtsum"]
MODELS = ROOT / "bench" / ".models"
RESULTS = ROOT / "bench" / "results" / "engine.json"
RUNS: dict[str, list[str]] = {
    "local": [],
    "local-1t": ["--threads", "1"],
    "ray-1": ["--engine", "ray", "--workers", "1", "--threads", "1"],
    "ray-2": ["--engine", "ray", "--workers", "2", "--threads", "1"],
}
ONE_THREAD = ("local-1t", "ray-1")  # on the first --overhead-docs documents only


def flores_folder(folder: Path, count: int) -> int:
    """Write `count` FLORES articles as documents with their reference translations; how many
    there were (0 without the data)."""
    arabic = flores_articles("arb_Arab", count)
    english = flores_articles("eng_Latn", count)
    folder.mkdir(parents=True, exist_ok=True)
    for i, (ar, en) in enumerate(zip(arabic, english, strict=True)):
        (folder / f"flores{i:03d}.txt").write_text("\n\n".join(ar) + "\n", encoding="utf-8")
        ref = folder / f"flores{i:03d}.translation.ref.en.txt"
        ref.write_text("\n".join(en) + "\n", encoding="utf-8")
    return len(arabic)


def tiny_models() -> dict[str, Path]:
    """The tests' tiny random checkpoints, built once into bench/.models/tiny."""
    sys.path.insert(0, str(ROOT / "tests"))
    from bart_fixture import build_bart
    from conftest import build_marian

    found = {}
    for name, build in (("marian", build_marian), ("bart", build_bart)):
        final = MODELS / "tiny" / name
        if not (final / "config.json").is_file():
            work = MODELS / "tiny" / f".{name}.tmp"
            shutil.rmtree(work, ignore_errors=True)
            build(work)
            shutil.rmtree(final, ignore_errors=True)
            work.rename(final)
        found[name] = final
    return found


def real_models() -> dict[str, Path]:
    found = ensure_checkpoints(MODELS)
    return {"marian": found["opus-mt-ar-en-random"], "bart": found["distilbart-cnn-12-6-random"]}


def snapshot(work: Path) -> Path:
    """A copy of the mtsum package as it is now, for every run to import: others may change the
    working tree while the bench runs, and the runs must compare one code. Run from the copy's
    folder, with it first on PYTHONPATH (Ray's workers inherit both)."""
    src = work / "src"
    shutil.copytree(ROOT / "mtsum", src / "mtsum", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Start time (epoch), wall seconds, exit code and stderr's tail of ``mtsum batch ARGS``."""
    started, clock = time.time(), time.perf_counter()
    cwd = env["PYTHONPATH"].split(os.pathsep)[0]
    proc = subprocess.run(
        [*MTSUM, "batch", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    return started, time.perf_counter() - clock, proc.returncode, proc.stderr[-800:]


def measure(out: Path, started: float, wall: float) -> dict[str, Any]:
    """What a finished run's state and result.json say, as the module docstring defines it."""
    db = sqlite3.connect(out / ".mtsum-state.sqlite3")
    try:
        rows = db.execute(
            "SELECT doc_id, finished, duration_s FROM documents WHERE status = 'ok'"
        ).fetchall()
    finally:
        db.close()
    rows.sort(key=lambda r: r[1])
    n = len(rows)
    model, total = [], []
    for doc_id, _, _ in rows:
        timings = json.loads((out / doc_id / "result.json").read_text(encoding="utf-8"))["timings"]
        model.append(timings["translate"] + timings["summarize"])
        total.append(timings["total"])
    span = rows[-1][1] - rows[0][1]
    return {
        "docs": n,
        "wall_s": round(wall, 2),
        "docs_per_s": round(n / wall, 3),
        "steady_docs_per_s": round((n - 1) / span, 3) if n > 1 and span > 0 else None,
        "steady_s_per_doc": round(span / (n - 1), 4) if n > 1 else None,
        "startup_s": round(rows[0][1] - started - total[0], 2),
        "model_s_per_doc": round(statistics.mean(model), 4),
        "total_s_per_doc": round(statistics.mean(total), 4),
        # What a document costs beyond its own run: writing, recording, and for Ray the trip
        # to an actor and back (with one actor, documents queue behind each other).
        "gap_s_per_doc": round(span / (n - 1) - statistics.mean(total[1:]), 4) if n > 1 else None,
    }


def same_outputs(a: Path, b: Path) -> dict[str, int]:
    """How many documents have the same translation and summary in two runs (int8 by default:
    thread counts may change results)."""
    same = differ = 0
    both = {p.name for p in a.iterdir() if (p / "result.json").is_file()}
    both &= {p.name for p in b.iterdir() if (p / "result.json").is_file()}
    for doc in sorted(both):
        files = ("translation.txt", "summary.txt")
        if all((a / doc / f).read_bytes() == (b / doc / f).read_bytes() for f in files):
            same += 1
        else:
            differ += 1
    return {"same": same, "differ": differ}


def subset(docs: Path, folder: Path, count: int) -> Path:
    """The first `count` documents of `docs` (with their references) copied into `folder`."""
    folder.mkdir()
    for i in range(count):
        for path in docs.glob(f"flores{i:03d}.*"):
            shutil.copy(path, folder / path.name)
    return folder


def bench(
    name: str, models: dict[str, Path], docs: Path, work: Path, overhead_docs: int
) -> dict[str, Any]:
    # Conversions are kept between bench runs (bench/.models is git-ignored).
    env = {**os.environ, "MTSUM_CACHE_DIR": str(MODELS / "cache"), "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(work / "src"), env.get("PYTHONPATH", "")])
    env.pop("RAY_ADDRESS", None)
    common = ["--mt-model", str(models["marian"]), "--sum-model", str(models["bart"])]
    common += ["--no-cache", "-q"]
    one = subset(docs, work / f"one-{name}", 1)
    few = subset(docs, work / f"few-{name}", overhead_docs)
    # Untimed: converts both models into the shared cache.
    _, warm, code, err = run([str(one), "--out", str(work / f"warm-{name}"), *common], env)
    print(f"[{name}] warm-up (conversions) {warm:.1f} s, exit {code} {err.strip()}", flush=True)
    results: dict[str, Any] = {"runs": {}, "startup_one_doc": {}}
    for label, extra in RUNS.items():
        out = work / f"out-{name}-{label}"
        folder = few if label in ONE_THREAD else docs
        started, wall, code, err = run([str(folder), "--out", str(out), *common, *extra], env)
        if code != 0:
            raise SystemExit(f"[{name}] {label}: exit {code}: {err}")
        results["runs"][label] = measure(out, started, wall)
        print(f"[{name}] {label}: {json.dumps(results['runs'][label])}", flush=True)
    for label in ("local", "ray-2"):
        out = work / f"one-out-{name}-{label}"
        started, wall, code, err = run([str(one), "--out", str(out), *common, *RUNS[label]], env)
        results["startup_one_doc"][label] = measure(out, started, wall) | {"exit": code}
    runs = results["runs"]
    # Ray's own cost per document: ray-1's gap less local-1t's (each within its own run, so
    # the load of other processes, which moves the model seconds, mostly cancels).
    overhead = runs["ray-1"]["gap_s_per_doc"] - runs["local-1t"]["gap_s_per_doc"]
    results["ray_overhead_s_per_doc"] = round(overhead, 4)
    results["ray_overhead_share_of_model_s"] = round(overhead / runs["ray-1"]["model_s_per_doc"], 4)
    # int8: a thread count can change outputs (how CTranslate2 splits a batch between workers).
    # (on the documents both ran)
    pairs = (("local", "local-1t"), ("local-1t", "ray-1"), ("local", "ray-2"), ("ray-1", "ray-2"))
    results["same_outputs"] = {
        f"{a} vs {b}": same_outputs(work / f"out-{name}-{a}", work / f"out-{name}-{b}")
        for a, b in pairs
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--models", default="tiny,real", help="tiny, real, or both (comma)")
    parser.add_argument(
        "--overhead-docs", type=int, default=20, help="documents of the one-thread runs"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    try:
        import ray
    except ImportError:
        raise SystemExit('the ray engine needs Ray: pip install "mtsum[ray]"') from None
    with tempfile.TemporaryDirectory(prefix="mtsum-engine-") as tmp:
        work = Path(tmp)
        count = flores_folder(work / "in", options.docs)
        if count == 0:
            print("skipped: ../shared/data/flores200-devtest is not there")
            return
        snapshot(work)
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        load = os.getloadavg()
        from mtsum import __version__

        report: dict[str, Any] = {
            "mtsum": f"{__version__} ({commit})",
            "ray": ray.__version__,
            "docs": count,
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load],
            "models": {},
        }
        for name in options.models.split(","):
            models = tiny_models() if name == "tiny" else real_models()
            report["models"][name] = bench(
                name, models, work / "in", work, min(options.overhead_docs, count)
            )
        report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
