"""Whole-command measurements for `bench/speed.py`: peak RSS, ``--help``, batch reruns.

Each runs the installed ``mtsum`` console script as a child process, with the environment that
`bench/speed.py` prepares (its own HF_HOME, in which the default model names resolve to the
random real-shape checkpoints, and its own MTSUM_CACHE_DIR holding their conversions), so the
commands are exactly the ones a user types: no ``--mt-model`` or ``--sum-model``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from checkpoints import ROOT, SEED
from speed_systems import flores_articles

MTSUM = str(Path(sys.executable).parent / "mtsum")


def timed(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds, exit code and peak RSS (of this child alone, via wait4) of a command."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return {
        "seconds": round(wall, 3),
        "exit_code": proc.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stderr_tail": stderr[-500:],
    }


def pipeline_rss(work: Path, env: dict[str, str]) -> dict[str, Any]:
    """``mtsum summarize`` of the seed article, all defaults (CTranslate2 int8 for both models)."""
    out = work / "summary.json"
    command = [MTSUM, "summarize", str(SEED), "-q", "--format", "json", "-o", str(out)]
    result = timed(command, env)
    if out.is_file():
        doc = json.loads(out.read_text(encoding="utf-8"))["documents"][0]
        result["signature"] = doc["signature"]
        result["summary_rounds"] = [len(r["chunks"]) for r in doc["chunking"]["rounds"]]
    result["command"] = f"mtsum summarize {SEED.relative_to(ROOT)} -q --format json -o OUT"
    return result


def help_time(runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Median wall time of ``mtsum --help``: as this environment runs it, and with bytecode.

    This machine sets PYTHONDONTWRITEBYTECODE=1, so every run compiles mtsum's modules from
    source; a normal install caches bytecode. The second variant caches it, outside the tree.
    """
    figures: dict[str, Any] = {"PYTHONDONTWRITEBYTECODE": env.get("PYTHONDONTWRITEBYTECODE")}
    with tempfile.TemporaryDirectory() as prefix:
        variants = {
            "as_is": env,
            "bytecode_cached": {
                **{k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
                "PYTHONPYCACHEPREFIX": prefix,
            },
        }
        for name, run_env in variants.items():
            times = []
            for i in range(runs + 1):
                start = time.perf_counter()
                subprocess.run([MTSUM, "--help"], env=run_env, capture_output=True, check=True)
                if i > 0:  # the first run fills the page cache (and the bytecode cache)
                    times.append(time.perf_counter() - start)
            figures[name] = {
                "median_seconds": round(statistics.median(times), 3),
                "runs": [round(t, 3) for t in times],
            }
    return figures


def _batch_folder(folder: Path) -> list[str]:
    """The seed (with its references) and two FLORES Arabic articles, one paragraph a line."""
    folder.mkdir(parents=True)
    for path in (ROOT / "seeds").glob(f"{SEED.stem}*.txt"):
        shutil.copy(path, folder / path.name)
    for i, lines in enumerate(flores_articles("arb_Arab", 2)):
        (folder / f"flores_{i:02d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return sorted(p.stem for p in folder.glob("*.txt") if p.name.count(".") == 1)


def batch_rerun(work: Path, env: dict[str, str], ct2: Path) -> dict[str, Any]:
    """``mtsum batch IN --out OUT`` twice: cold (fresh OUT and translation cache), then warm.

    The fresh cache folder links to the bench's converted models (`ct2`): converting is a one-off
    cost of installing a model (``mtsum models pull``), not part of a batch run.
    """
    inputs, out, cache = work / "in", work / "out", work / "cache"
    docs = _batch_folder(inputs)
    cache.mkdir()
    (cache / "ct2").symlink_to(ct2, target_is_directory=True)
    command = [MTSUM, "batch", str(inputs), "--out", str(out), "-q"]
    run_env = {**env, "MTSUM_CACHE_DIR": str(cache)}
    cold = timed(command, run_env)
    cold_report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    warm = timed(command, run_env)
    warm_report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    timings = {}
    for doc in docs:
        record = out / doc / "result.json"
        if record.is_file():
            timings[doc] = json.loads(record.read_text(encoding="utf-8"))["timings"]
    return {
        "documents": docs,
        "cold": cold,
        "warm": warm,
        "cold_over_warm": round(cold["seconds"] / warm["seconds"], 1),
        "cold_statuses": [d["status"] for d in cold_report["documents"]],
        "warm_statuses": [d["status"] for d in warm_report["documents"]],
        "cold_document_timings": timings,
        "command": "mtsum batch IN --out OUT -q (MTSUM_CACHE_DIR: a fresh folder)",
    }


def resolve_local(folders: list[Path]) -> dict[str, Any]:
    """Seconds `resolve_model` takes for local checkpoint folders (it hashes them)."""
    from mtsum.backends.resolve import resolve_model

    figures = {}
    for folder in folders:
        start = time.perf_counter()
        resolve_model(str(folder), role="bench", option="-")
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        figures[folder.name] = {
            "seconds": round(time.perf_counter() - start, 3),
            "megabytes": round(size / 2**20),
        }
    return figures


def dedup(work: Path, env: dict[str, str], copies: int = 40) -> dict[str, Any]:
    """``mtsum translate`` of the seed article, then of a folder of `copies` copies of it.

    Identical segments within one call are translated once (`mtsum.generation.generate`), so
    the copies should cost one article's model time plus reading, segmenting and writing each
    copy: the ratio of the two wall times says how close that is (it was about `copies` before).
    """
    one, many = work / "one", work / "many"
    one.mkdir(parents=True)
    many.mkdir()
    shutil.copy(SEED, one / "a00.txt")
    for i in range(copies):
        shutil.copy(SEED, many / f"a{i:02d}.txt")
    runs = {}
    for name, folder in (("one", one), ("copies", many)):
        out = work / f"{name}.json"
        command = [MTSUM, "translate", str(folder), "-q", "--format", "json", "-o", str(out)]
        runs[name] = timed(command, env)
        runs[name]["command"] = f"mtsum translate {name.upper()}/ -q --format json -o OUT"
    first, *rest = json.loads((work / "copies.json").read_text(encoding="utf-8"))["documents"]
    alone = json.loads((work / "one.json").read_text(encoding="utf-8"))["documents"][0]
    same = all(d["paragraphs"] == alone["paragraphs"] for d in (first, *rest))
    return {
        "copies": copies,
        "one": runs["one"],
        "copies_run": runs["copies"],
        "copies_over_one": round(runs["copies"]["seconds"] / runs["one"]["seconds"], 2),
        "every_copy_as_alone": same,
    }
