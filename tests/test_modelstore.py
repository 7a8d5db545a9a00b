"""`mtsum models pull|convert|list`: the library calls and the Typer sub-app (CliRunner)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mtsum.backends.store import StoredModel, convert_local, list_models, pull
from mtsum.cli.models import models_app as app
from mtsum.errors import InputError, ModelError

runner = CliRunner()
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _fake_hub_cache(root: Path, repo: str = "org/tiny-model") -> Path:
    """The on-disk layout huggingface_hub writes: blobs, a snapshot of symlinks, a ref."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "blobs").mkdir(parents=True)
    (folder / "blobs" / "b1").write_text('{"model_type": "marian"}', encoding="utf-8")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    snapshot = folder / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").symlink_to(Path("..", "..", "blobs", "b1"))
    return root


def test_convert_local_then_list(marian_dir: Path, tmp_path: Path) -> None:
    record = convert_local(marian_dir, compute_type="int8", cache=tmp_path)
    assert record.kind == "ctranslate2" and record.compute_type == "int8"
    assert record.name == str(marian_dir.resolve()) and record.revision.startswith("local-")
    assert record.size_bytes > 0 and (Path(record.path) / "model.bin").is_file()
    assert list_models(tmp_path, hub=False) == [record]
    # Converting again finds the same copy.
    assert convert_local(marian_dir, compute_type="int8", cache=tmp_path) == record


def test_pull_a_local_directory_converts_it(marian_dir: Path, tmp_path: Path) -> None:
    record = pull(str(marian_dir), compute_type="float32", cache=tmp_path)
    assert record.compute_type == "float32" and record.size_bytes > 0
    assert asdict(record) == json.loads(json.dumps(asdict(record)))


def test_list_ignores_conversions_in_progress(tmp_path: Path) -> None:
    (tmp_path / "ct2" / ".x--r--int8.123.abc.tmp" / "model").mkdir(parents=True)
    assert list_models(tmp_path, hub=False) == []
    assert list_models(tmp_path / "empty", hub=False) == []


def test_list_includes_hub_snapshots(tmp_path: Path) -> None:
    hub = _fake_hub_cache(tmp_path / "hub")
    [model] = list_models(tmp_path / "mtsum", hub_cache=hub)
    assert model == StoredModel(
        kind="huggingface",
        name="org/tiny-model",
        revision=COMMIT,
        compute_type="",
        size_bytes=len('{"model_type": "marian"}'),
        path=str(hub / "models--org--tiny-model" / "snapshots" / COMMIT),
    )
    assert list_models(tmp_path / "mtsum", hub_cache=tmp_path / "no-hub") == []


def test_convert_local_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nowhere is not a directory"):
        convert_local(tmp_path / "nowhere", cache=tmp_path)


def test_unsupported_model_type_is_a_model_error(tmp_path: Path) -> None:
    checkpoint = tmp_path / "t5"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"model_type": "t5"}', encoding="utf-8")
    with pytest.raises(ModelError, match="type t5"):
        convert_local(checkpoint, cache=tmp_path / "cache")


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_convert_and_list(marian_dir: Path, tmp_path: Path) -> None:
    cache = ["--cache-dir", str(tmp_path)]
    result = runner.invoke(app, ["convert", str(marian_dir), "--compute-type", "int8", *cache])
    assert result.exit_code == 0, result.output
    assert "\tctranslate2\tint8\t" in result.stdout

    result = runner.invoke(app, ["list", "--format", "json", *cache])
    assert result.exit_code == 0, result.output
    entries = [e for e in json.loads(result.stdout) if e["kind"] == "ctranslate2"]
    [entry] = entries
    assert entry["compute_type"] == "int8" and entry["size_bytes"] > 0
    assert entry["name"] == str(marian_dir.resolve())

    result = runner.invoke(app, ["list", *cache])
    assert result.exit_code == 0
    assert f"{marian_dir.resolve()}@{entry['revision']}\tctranslate2\tint8\t" in result.stdout


def test_cli_list_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mtsum.backends.store._hub_models", lambda hub_cache: [])
    result = runner.invoke(app, ["list", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0 and result.stdout.strip() == "no models cached"


@pytest.mark.parametrize("offline", ["1", ""])
def test_cli_pull_unknown_name_offline_fails_fast(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    start = time.monotonic()
    result = runner.invoke(app, ["pull", "mtsum-test/not-a-model", "--cache-dir", str(tmp_path)])
    assert time.monotonic() - start < 15
    assert result.exit_code == 4, result.output
    assert "mtsum-test/not-a-model" in result.output and "mtsum models convert" in result.output
    assert not (tmp_path / "ct2").exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["convert", "{missing}"], 3, "is not a directory"),
        (["convert", "{t5}"], 4, "type t5"),
        (["convert", "{t5}", "--compute-type", "int4"], 2, "int4"),
    ],
)
def test_cli_error_exit_codes(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    t5 = tmp_path / "t5"
    t5.mkdir()
    (t5 / "config.json").write_text('{"model_type": "t5"}', encoding="utf-8")
    paths = {"missing": str(tmp_path / "missing"), "t5": str(t5)}
    argv = [a.format(**paths) for a in args] + ["--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(app, argv)
    assert result.exit_code == code, result.output
    assert message in result.output
