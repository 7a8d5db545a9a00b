"""The one loading path: local directories, the cache, and fast, clear failures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

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
