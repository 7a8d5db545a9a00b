"""What reaches stderr: nothing with -q, only mtsum's own warnings without it, all with --verbose.

The libraries mtsum runs chatter while they load, convert and generate (transformers' loading
bars and generation notices, MarianTokenizer's sacremoses recommendation). The subprocess tests
run commands as a user types them, in a fresh process with an empty mtsum cache, so a first run's
conversion to CTranslate2 happens too; the tiny models keep each run to a few seconds.
"""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import ROOT, seed_lines
from recorders import LogRecords
from typer.testing import CliRunner

from mtsum.backends.base import GenerateOptions
from mtsum.backends.hf import HFSeq2Seq, generate_kwargs
from mtsum.cli import app

NOT_ARABIC = "0% of the letters are Arabic"
# One thread: other processes share the two cores, and torch would oversubscribe them.
THREADS = ["--threads", "1"]


def _mtsum(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MTSUM_CACHE_DIR": str(cache),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "mtsum", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=600,
        check=False,
    )


@pytest.fixture
def article(tmp_path: Path) -> Path:
    """Four Arabic paragraphs of the seed: short enough for the transformers backend."""
    path = tmp_path / "article.txt"
    path.write_text("\n\n".join(seed_lines()[4:8]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["ctranslate2", "transformers"])
def test_quiet_first_run_prints_nothing_on_stderr(
    marian_dir: Path, bart_dir: Path, article: Path, tmp_path: Path, backend: str
) -> None:
    cache = tmp_path / "cache"
    models = ["--mt-model", str(marian_dir), "--sum-model", str(bart_dir)]
    result = _mtsum(
        "summarize", article.name, *models, "--backend", backend, *THREADS, "-q",
        cwd=tmp_path, cache=cache,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    # -q silences stderr only: the same command without it prints the same summary.
    loud = _mtsum(
        "summarize", article.name, *models, "--backend", backend, *THREADS,
        cwd=tmp_path, cache=cache,
    )  # fmt: skip
    assert loud.returncode == 0, loud.stderr
    assert result.stdout == loud.stdout and "(support " in result.stdout
    # A first run: the CTranslate2 backend converted both models into the fresh cache.
    converted = sorted((cache / "ct2").iterdir()) if backend == "ctranslate2" else []
    assert len(converted) == (2 if backend == "ctranslate2" else 0)


# Several commands in one process, each on its own empty cache: every one is a first run, and
# the later ones also show that an earlier command left nothing switched off or on.
DRIVER = """
import sys
from mtsum.cli import app
for line in sys.argv[1:]:
    try:
        app(line.split("\\t"), prog_name="mtsum")
    except SystemExit as exit:
        if exit.code:
            raise
"""


def test_quiet_translate_check_and_convert_print_nothing_on_stderr(
    marian_dir: Path, bart_dir: Path, article: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.txt"
    summary.write_text("Patrushev began a visit to Tehran on Wednesday.\n", encoding="utf-8")
    mt = ["--mt-model", str(marian_dir), *THREADS, "-q"]
    commands = [
        ["translate", article.name, *mt, "--cache-dir", "c1"],
        ["check", article.name, "--summary", summary.name, *mt, "--backend", "transformers"],
        ["models", "convert", str(bart_dir), "--cache-dir", "c2", "-q"],
        ["models", "convert", str(marian_dir), "--cache-dir", "c3", "-q"],
    ]
    env = {**os.environ, "MTSUM_CACHE_DIR": str(tmp_path / "c0"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, *("\t".join(c) for c in commands)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=600,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert all(any((tmp_path / c / "ct2").iterdir()) for c in ("c1", "c2", "c3"))
    assert "\tctranslate2\tint8\t" in result.stdout  # the lines `models convert` prints


def test_without_quiet_only_mtsum_warnings_show_once_and_verbose_adds_the_libraries(
    marian_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "en.txt").write_text("The minister spoke on Wednesday.\n", encoding="utf-8")
    mt = ["--mt-model", str(marian_dir), *THREADS]
    # transformers: generation notices on every batch, before their cause was fixed.
    plain = _mtsum(
        "translate", "en.txt", *mt, "--backend", "transformers", cwd=tmp_path, cache=tmp_path / "a"
    )
    assert plain.returncode == 0
    [line] = plain.stderr.splitlines()
    assert line.startswith("mtsum: warning: en.txt: ") and NOT_ARABIC in line
    # auto: a first run converts the model, and --verbose shows what the libraries said.
    verbose = _mtsum("--verbose", "translate", "en.txt", *mt, cwd=tmp_path, cache=tmp_path / "b")
    assert verbose.returncode == 0
    assert verbose.stderr.count(NOT_ARABIC) == 1
    assert "Loading weights" in verbose.stderr


@pytest.mark.parametrize(
    "options",
    [
        GenerateOptions(),
        GenerateOptions(num_beams=1, min_new_tokens=0, max_new_tokens=1),
        GenerateOptions(num_beams=4, min_new_tokens=55, max_new_tokens=141, length_penalty=2.0),
    ],
)
def test_generate_kwargs_give_each_length_bound_in_one_form(options: GenerateOptions) -> None:
    kwargs = generate_kwargs(options, max_new_tokens=options.max_new_tokens)
    assert kwargs["min_new_tokens"] == options.min_new_tokens
    assert kwargs["max_new_tokens"] == options.max_new_tokens
    assert not {"min_length", "max_length"} & set(kwargs)


def test_transformers_generation_sees_no_contradicting_lengths(bart: HFSeq2Seq) -> None:
    # The checkpoint's own lengths (task settings 5-30 tokens) are cleared on load, as
    # min_new_tokens/max_new_tokens are passed instead.
    assert bart.model.generation_config.min_length is None
    assert bart.model.generation_config.max_length is None
    pact = "Iran and Russia signed a pact."
    records = LogRecords()
    logger = logging.getLogger("transformers")  # does not propagate: no caplog
    logger.addHandler(records)
    try:
        options = GenerateOptions(num_beams=1, min_new_tokens=3, max_new_tokens=6)
        [summary] = bart.generate([pact], options, max_new_tokens=[6])
    finally:
        logger.removeHandler(records)
    # The random model never ends early, so the bound is the length: transformers gives the
    # decoder's start token and exactly 6 new tokens (not 6 in all, as max_length would), and the
    # summary is those 6 decoded.
    batch = bart.tokenizer([pact], return_tensors="pt")
    [ids] = bart.model.generate(**batch, **generate_kwargs(options, max_new_tokens=6)).tolist()
    assert len(ids) == 1 + 6
    assert summary == bart.tokenizer.decode(ids[1:], skip_special_tokens=True)
    assert not [m for m in records.messages if "seem to have been set" in m]


def _global_state() -> tuple[object, ...]:
    """What a command must put back: warnings filters, logging, library progress bars, stdout."""
    from transformers.utils import logging as hf_logging

    hub = importlib.import_module("huggingface_hub.utils.tqdm")
    return (
        list(warnings.filters),
        logging.root.manager.disable,
        dict(hub.progress_bar_states),
        hf_logging.is_progress_bar_enabled(),
        sys.stdout,
    )


def test_library_and_cli_leave_global_state_as_they_found_it(
    marian_dir: Path, tmp_path: Path
) -> None:
    from transformers.utils import logging as hf_logging

    import mtsum

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()
    try:
        before = _global_state()
        # The library: a transformers load, and a CTranslate2 conversion into a new cache.
        mtsum.load_translator(str(marian_dir), device="cpu", threads=1, backend="transformers")
        mtsum.load_translator(str(marian_dir), device="cpu", threads=1, cache_dir=tmp_path / "c")
        assert _global_state() == before
        # The CLI, quiet and not.
        doc = tmp_path / "doc.txt"
        doc.write_text("نص قصير للترجمة.\n", encoding="utf-8")
        for quiet in (["-q"], []):
            args = ["translate", str(doc), "--mt-model", str(marian_dir), *THREADS, *quiet]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
            assert _global_state() == before
    finally:
        (hf_logging.enable_progress_bar if was_on else hf_logging.disable_progress_bar)()
