"""The one loading path: local directories, the cache, and fast, clear failures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import mtsum
from mtsum.models import resolve_model


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
