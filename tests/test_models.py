"""The one loading path: local directories, the cache, and fast, clear failures."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import missing
from hub_cache import build_hub_cache, machine, user_run

import mtsum
from mtsum.backends.resolve import resolve_model


def test_local_directory_resolves_with_content_revision(marian_dir: Path) -> None:
    first = resolve_model(str(marian_dir), role="translation", option="--mt-model")
    again = resolve_model(str(marian_dir), role="translation", option="--mt-model")
    assert first.path == marian_dir.resolve()
    assert first.revision == again.revision and first.revision.startswith("local-")


@pytest.mark.parametrize("offline", ["1", ""])
def test_uncached_hub_name_fails_fast_naming_model_and_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    start = time.monotonic()
    with pytest.raises(mtsum.ModelError) as info:
        mtsum.load_translator("mtsum-test/not-a-model")
    assert time.monotonic() - start < 15
    message = str(info.value)
    assert "mtsum-test/not-a-model" in message
    assert "--mt-model PATH" in message and "cache" in message


def test_missing_local_path_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(mtsum.ModelError, match="does not exist"):
        mtsum.load_summarizer(str(tmp_path / "nowhere"))


def test_bad_device_is_an_input_error(marian_dir: Path) -> None:
    with pytest.raises(mtsum.InputError, match="device"):
        mtsum.load_translator(str(marian_dir), device="tpu")


@pytest.mark.parametrize(
    "name", ["generation_config.json", "tokenizer_config.json", "source.spm", "model.safetensors"]
)
def test_local_revision_follows_every_file_a_load_reads(
    marian_dir: Path, tmp_path: Path, name: str
) -> None:
    import shutil

    copy = shutil.copytree(marian_dir, tmp_path / "copy")
    before = resolve_model(str(copy), role="translation", option="--mt-model").revision
    assert before == resolve_model(str(marian_dir), role="t", option="--mt-model").revision
    with (copy / name).open("ab") as handle:
        handle.write(b" ")
    after = resolve_model(str(copy), role="translation", option="--mt-model").revision
    assert after != before


def test_local_revision_is_remembered_until_a_file_changes(
    marian_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import os
    import shutil

    from mtsum.backends import resolve as models

    copy = shutil.copytree(marian_dir, tmp_path / "copy")
    old = time.time() - 60  # settled files: older than the racy window
    for file in copy.iterdir():
        os.utime(file, (old, old))
    cache = tmp_path / "cache"
    first = resolve_model(str(copy), role="t", option="--mt-model", cache=cache)
    assert (cache / models.REVISION_MEMO).is_file()

    hashed: list[int] = []
    real = hashlib.sha256

    def counting(*args: object) -> object:
        hashed.append(1)
        return real(*args)

    monkeypatch.setattr(models.hashlib, "sha256", counting)
    again = resolve_model(str(copy), role="t", option="--mt-model", cache=cache)
    assert again.revision == first.revision
    assert len(hashed) == 1  # the key of the files' stats only; no file was read

    (copy / "generation_config.json").write_text("{}", encoding="utf-8")
    changed = resolve_model(str(copy), role="t", option="--mt-model", cache=cache)
    assert changed.revision != first.revision
    # Just written, so within the racy window: not remembered, hashed again next time.
    hashed.clear()
    assert resolve_model(str(copy), role="t", option="--mt-model", cache=cache) == changed
    assert len(hashed) == 2


def test_a_broken_revision_memo_is_ignored(marian_dir: Path, tmp_path: Path) -> None:
    from mtsum.backends import resolve as models

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / models.REVISION_MEMO).write_text("not json", encoding="utf-8")
    found = resolve_model(str(marian_dir), role="t", option="--mt-model", cache=cache)
    assert found.revision == resolve_model(str(marian_dir), role="t", option="--mt-model").revision


# --- a damaged Hugging Face snapshot, cold mtsum cache -------------------------------------------

MT, SUM = "Helsinki-NLP/opus-mt-ar-en", "sshleifer/distilbart-cnn-12-6"


def _break(snapshot: Path, name: str, damage: str) -> None:
    link = snapshot / name
    if damage == "deleted":
        link.unlink()
    elif damage == "blob deleted":  # the snapshot's link dangles
        link.resolve().unlink()
    else:
        blob = link.resolve()
        blob.write_bytes(blob.read_bytes()[:50])


# (model, file, damage, what the message says about it)
SNAPSHOT_DAMAGE = [
    (MT, "source.spm", "deleted", "the tokenizer file source.spm is missing"),
    (MT, "target.spm", "deleted", "the tokenizer file target.spm is missing"),
    (MT, "vocab.json", "deleted", "the tokenizer file vocab.json is missing"),
    (MT, "source.spm", "blob deleted", "source.spm is a link to a file that is gone"),
    (MT, "model.safetensors", "blob deleted", "model.safetensors is a link to a file that is gone"),
    (MT, "model.safetensors", "deleted", "the weights are missing"),
    (MT, "model.safetensors", "truncated", "SafetensorError"),
    (MT, "source.spm", "truncated", "could not parse ModelProto"),
    (MT, "vocab.json", "truncated", "JSONDecodeError"),
    (MT, "config.json", "truncated", "config.json is not a JSON object"),
    (MT, "config.json", "deleted", "config.json is missing"),
    # transformers built a 5-token BART tokenizer without it and summarized gibberish, exit 0.
    (SUM, "tokenizer.json", "deleted", "the tokenizer file tokenizer.json is missing"),
    (SUM, "tokenizer.json", "truncated", "JSONDecodeError"),
]


@pytest.mark.parametrize("backend", ["ctranslate2", "transformers"])
@pytest.mark.parametrize(("name", "file", "damage", "says"), SNAPSHOT_DAMAGE)
def test_a_damaged_snapshot_names_the_file_and_a_fix_that_works(
    marian_dir: Path,
    bart_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    file: str,
    damage: str,
    says: str,
    backend: str,
) -> None:
    # A missing source.spm or vocab.json was exit 70 (TypeError) on both backends; a missing or
    # dangling weights file advised the transformers backend, which failed the same way.
    from huggingface_hub import constants

    hub = build_hub_cache(tmp_path / "hf-home", {name: marian_dir if name == MT else bart_dir})
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    [repo] = (hub / "hub").iterdir()
    [snapshot] = (repo / "snapshots").iterdir()
    _break(snapshot, file, damage)
    load = mtsum.load_translator if name == MT else mtsum.load_summarizer
    options = {"device": "cpu", "threads": 1, "backend": backend, "cache_dir": tmp_path / "c"}
    with pytest.raises(mtsum.ModelError) as info:
        load(name, **options)
    message = str(info.value)
    assert "\n" not in message and name in message and says in message
    assert f"delete {repo} and download the model again (`hf download {name}`" in message
    assert "transformers backend" not in message
    # Following the advice: the folder deleted, the model downloaded again (laid out as here).
    shutil.rmtree(repo)
    build_hub_cache(hub, {name: marian_dir if name == MT else bart_dir})
    assert load(name, **options).info.name == name


def test_a_damaged_local_checkpoint_says_save_it_again(marian_dir: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(marian_dir, tmp_path / "opus")
    (copy / "source.spm").unlink()
    with pytest.raises(mtsum.ModelError, match=r"source.spm is missing in .*save_pretrained"):
        mtsum.load_translator(str(copy), backend="transformers", cache_dir=tmp_path / "c")


def test_a_damaged_snapshot_is_exit_4_on_one_line(marian_dir: Path, tmp_path: Path) -> None:
    build_hub_cache(tmp_path / "hf-home", {MT: marian_dir})
    next((tmp_path / "hf-home").rglob("snapshots/*/source.spm")).unlink()
    (tmp_path / "a.txt").write_text("مرحبا بكم.\n", encoding="utf-8")
    run = user_run("mtsum translate a.txt -q", tmp_path, machine(tmp_path))
    assert run.returncode == 4 and run.stdout == "", run.stderr
    assert run.stderr.startswith(f"mtsum: error: model {MT}: the tokenizer file source.spm")
    assert len(run.stderr.splitlines()) == 1


# --- a cache folder that cannot be written ------------------------------------------------------


@pytest.fixture
def read_only_cache(tmp_path: Path) -> Iterator[Path]:
    """An empty, read-only tmpfs: root ignores permission bits, a read-only mount it does not."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root (CI runs as root)")
    folder = tmp_path / "ro-cache"
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)]
    done = subprocess.run(mount, capture_output=True, text=True)
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_cache_names_the_folder_and_fixes_that_work(
    marian_dir: Path, tmp_path: Path, read_only_cache: Path
) -> None:
    # Exit 70 (OSError: [Errno 30] Read-only file system) with no hint before.
    build_hub_cache(tmp_path / "hf-home", {MT: marian_dir})
    (tmp_path / "a.txt").write_text("مرحبا بكم.\n", encoding="utf-8")
    env = machine(tmp_path) | {"MTSUM_CACHE_DIR": str(read_only_cache)}
    run = user_run("mtsum translate a.txt -q", tmp_path, env)
    assert run.returncode == 4 and run.stdout == "", run.stderr
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    assert f"the cache folder {read_only_cache / 'ct2'} cannot be written" in run.stderr
    assert "--cache-dir" in run.stderr and "--backend transformers" in run.stderr
    for fix in ["--backend transformers", "--cache-dir elsewhere"]:
        run = user_run(f"mtsum translate a.txt -q {fix}", tmp_path, env)
        assert run.returncode == 0 and run.stdout.strip() and run.stderr == "", run.stderr
    assert list(read_only_cache.iterdir()) == []
