"""How fast mtsum refuses input it must not read, and what a large input costs.

Runs the CLI as a user would (a subprocess in a scratch folder) and times, in the same run:

- ``mtsum --version``: Python's start and mtsum's imports, the floor of every command;
- ``mtsum translate big.txt`` on a 10 MB single-line file: refused (exit 3) after reading at
  most ``--max-bytes`` + 1 bytes;
- ``mtsum translate /dev/zero``: refused the same way, where an unbounded read once ran to
  ~24 GB and was killed;
- ``mtsum translate one_mb.txt``: a 1 MB single-line Arabic input (the seed's sentences
  repeated) translated whole with the tiny random MarianMT of the tests (``tests/conftest.py``),
  so the figure is mtsum's own work (segmenting, splitting, batching, caching), not a real
  model's.

    .venv/bin/python bench/limits.py   # ~1-3 min on 2 cores; writes bench/results/limits.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
SEED = ROOT / "seeds" / "000_91e72526449f324a.txt"
RESULTS = ROOT / "bench" / "results" / "limits.json"


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, object]:
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "mtsum", *args], cwd=cwd, env=env, capture_output=True
    )
    seconds = time.perf_counter() - start
    stderr = run.stderr.decode("utf-8", "replace").strip().splitlines()
    return {
        "command": "mtsum " + " ".join(args),
        "exit": run.returncode,
        "seconds": round(seconds, 3),
        "stdout_bytes": len(run.stdout),
        "stderr_last": stderr[-1] if stderr else "",
    }


def one_line_arabic(size: int) -> str:
    """The seed's sentences, repeated on one line up to `size` bytes of UTF-8."""
    sentences = " ".join(
        line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()
    )
    text = ""
    while len(text.encode()) < size:
        text += sentences + " "
    return text.encode()[:size].decode("utf-8", "ignore").rstrip() + "\n"


def main() -> None:
    from conftest import build_marian

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        marian = build_marian(work / "marian")
        env = {**os.environ, "MTSUM_CACHE_DIR": str(work / "cache")}
        (work / "big.txt").write_text(one_line_arabic(10_000_000), encoding="utf-8")
        (work / "one_mb.txt").write_text(one_line_arabic(999_000), encoding="utf-8")
        model = ["--mt-model", str(marian), "-q"]
        rows = {
            "startup": timed(["--version"], work, env),
            "refuse_10mb": timed(["translate", "big.txt", *model], work, env),
            "refuse_dev_zero": timed(["translate", "/dev/zero", *model], work, env),
            "translate_1mb": timed(["translate", "one_mb.txt", "-o", "out.txt", *model], work, env),
        }
        out = (work / "out.txt").read_text(encoding="utf-8") if (work / "out.txt").exists() else ""
        rows["translate_1mb"]["output_chars"] = len(out)
    base = rows["startup"]["seconds"]
    for row in rows.values():
        row["x_startup"] = round(float(row["seconds"]) / float(base), 2)  # type: ignore[arg-type]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("| what | command | exit | seconds | x startup |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, row in rows.items():
        command = str(row["command"]).replace(str(marian), "TINY")
        print(f"| {name} | `{command}` | {row['exit']} | {row['seconds']} | {row['x_startup']} |")


if __name__ == "__main__":
    main()
