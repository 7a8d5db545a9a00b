"""Model resolution: a name or a folder becomes a checkpoint on local disk, with its revision.

Resolution order for a name: a local directory of that name; the Hugging Face cache (no network);
then the hub, with a short connection timeout so an offline machine fails in seconds with a
`ModelError` that says how to supply the model, not after huggingface_hub's long retries.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtsum.atomic import write_text
from mtsum.errors import ModelError

__all__ = [
    "REVISION_MEMO",
    "ResolvedModel",
    "check_checkpoint",
    "read_json_object",
    "repair_advice",
    "resolve_model",
]

HUB_TIMEOUT_S = 10.0
_SUPPORT_FILES = ["*.json", "*.spm", "*.model", "*.txt", "*.vocab"]


@dataclass(frozen=True, kw_only=True)
class ResolvedModel:
    """A checkpoint on local disk, with the name and revision it came from."""

    name: str
    path: Path
    revision: str


def resolve_model(
    name_or_path: str, *, role: str, option: str, cache: Path | None = None
) -> ResolvedModel:
    """Find a checkpoint on disk: a local directory, the HF cache, or a download from the hub.

    Args:
        name_or_path: A hub name such as ``Helsinki-NLP/opus-mt-ar-en`` or a local directory.
        role: What the model is for, used in messages ("translation", "summarization").
        option: The CLI option that supplies it, used in messages ("--mt-model").
        cache: The mtsum cache folder; when given, a local directory's content hash is
            remembered there against its files' sizes and times, so reruns skip the hashing.

    Returns:
        The local directory with the checkpoint, its name and revision.

    Raises:
        ModelError: The model is neither local, cached nor downloadable.
    """
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelError(
                f"{role} model directory {local} has no config.json: pass a directory saved with "
                "save_pretrained()"
            )
        memo = None if cache is None else cache / REVISION_MEMO
        revision = _local_revision(local, memo=memo)
        return ResolvedModel(name=str(local), path=local.resolve(), revision=revision)
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise ModelError(f"{role} model directory {name_or_path} does not exist ({option} PATH)")
    cached = _from_cache(name_or_path, role=role)
    if cached is not None:
        return cached
    return _download(name_or_path, role=role, option=option)


# What a load reads: the support files a download fetches, and PyTorch/CTranslate2 weights.
_CHECKPOINT_FILES = (*_SUPPORT_FILES, "*.safetensors", "*.bin")
REVISION_MEMO = "local-revisions.json"  # in the mtsum cache folder
_MEMO_ENTRIES = 64
_RACY_S = 2.0


def _local_revision(path: Path, *, memo: Path | None = None) -> str:
    """A content hash of a local checkpoint, so caches keyed on the revision (converted models,
    the translation cache, batch resume) notice any changed file: weights, generation settings
    or tokenizer. With `memo`, a hash already computed for the same files (path, size, mtime,
    inode) is reused: hashing distilbart's weights takes over a second."""
    files = sorted({f for pattern in _CHECKPOINT_FILES for f in path.glob(pattern) if f.is_file()})
    stats = [(f.name, f.stat()) for f in files]
    stamp = json.dumps(
        [str(path.resolve()), [(n, s.st_size, s.st_mtime_ns, s.st_ino) for n, s in stats]]
    )
    key = hashlib.sha256(stamp.encode()).hexdigest()[:32]
    known = _read_memo(memo)
    if key in known:
        return known[key]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    revision = "local-" + digest.hexdigest()[:12]
    # A file written in the last seconds may change again within its mtime's resolution without
    # changing its size (as git's "racy" index entries): hash it again next time.
    settled = all(s.st_mtime < time.time() - _RACY_S for _, s in stats)
    if memo is not None and settled:
        kept = dict(list(known.items())[-(_MEMO_ENTRIES - 1) :])
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            write_text(memo, json.dumps({**kept, key: revision}, indent=0))
        except OSError:  # a read-only cache only costs the hash next time
            pass
    return revision


def _read_memo(memo: Path | None) -> dict[str, str]:
    known = read_json_object(memo) if memo is not None else {}
    return {k: v for k, v in known.items() if isinstance(v, str)}


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, or ``{}`` when the file is missing, unreadable or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _from_cache(repo_id: str, *, role: str) -> ResolvedModel | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None
    found = ResolvedModel(name=repo_id, path=path, revision=path.name)
    if not (path / "config.json").is_file():
        if _offline():  # online, the download below fetches what is missing
            raise ModelError(
                f"{role} model {repo_id}: config.json is missing from its Hugging Face "
                f"snapshot {path}: {repair_advice(found)}"
            )
        return None
    return found


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


# What each model type's tokenizer reads: any one complete set will do.
_TOKENIZER_FILES = {
    "marian": (("source.spm", "target.spm", "vocab.json"),),
    "bart": (("tokenizer.json",), ("vocab.json", "merges.txt")),
}
_WEIGHTS = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)


def check_checkpoint(resolved: ResolvedModel, *, role: str = "") -> None:
    """Refuse a checkpoint a load would fail on, or (a BART without its tokenizer.json) load
    wrongly, naming the file: a link whose file is gone (a Hugging Face snapshot whose blob was
    deleted), a config.json that is no JSON object, no weights, or a tokenizer file missing.

    Only names and sizes are looked at (and config.json read), so it costs no load; a file cut
    short is found by the load itself (see `repair_advice`).

    Raises:
        ModelError: The first problem found, and how to get the checkpoint back.
    """
    problem = _damage(resolved.path)
    if problem is not None:
        what = f"{role} model" if role else "model"
        raise ModelError(
            f"{what} {resolved.name}: {problem} in {resolved.path}: {repair_advice(resolved)}"
        )


def _damage(path: Path) -> str | None:
    for entry in sorted(path.rglob("*")):
        if entry.is_symlink() and not entry.exists():
            return f"{entry.relative_to(path)} is a link to a file that is gone"
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    if not isinstance(config, dict):
        return "config.json is not a JSON object (damaged)"
    if not any((path / name).is_file() for name in _WEIGHTS):
        return f"the weights are missing (no {' or '.join(_WEIGHTS[:2])})"
    choices = _TOKENIZER_FILES.get(str(config.get("model_type", "")), ())
    if choices and not any(all((path / f).is_file() for f in files) for files in choices):
        first = next(f for f in choices[0] if not (path / f).is_file())
        return f"the tokenizer file {first} is missing"
    return None


def repair_advice(resolved: ResolvedModel) -> str:
    """How to get a damaged checkpoint back: for a Hugging Face snapshot, delete the model's
    folder in the cache and download it again; for a local folder, save it again."""
    repo = resolved.path.parent.parent
    if resolved.path.parent.name == "snapshots" and repo.name.startswith("models--"):
        return (
            f"delete {repo} and download the model again (`hf download {resolved.name}`, or any "
            "mtsum command while online; offline, `mtsum models import` an archive of it)"
        )
    return "save the checkpoint there again with save_pretrained()"


def _download(repo_id: str, *, role: str, option: str) -> ResolvedModel:
    from huggingface_hub import HfApi, snapshot_download

    how = (
        f"use {option} PATH with a local copy (save_pretrained), or run `mtsum` once on a "
        "connected machine and copy its Hugging Face cache (~/.cache/huggingface/hub)"
    )
    if _offline():
        raise ModelError(f"{role} model {repo_id} is not cached and HF_HUB_OFFLINE is set: {how}")
    try:
        info = HfApi().model_info(repo_id, timeout=HUB_TIMEOUT_S, files_metadata=False)
    except Exception as exc:
        reason = type(exc).__name__
        raise ModelError(
            f"{role} model {repo_id} is not cached and the hub cannot be reached ({reason}): {how}"
        ) from exc
    files = {s.rfilename for s in info.siblings or []}
    weights = "model.safetensors" if "model.safetensors" in files else "pytorch_model.bin"
    try:
        path = Path(
            snapshot_download(repo_id, revision=info.sha, allow_patterns=[*_SUPPORT_FILES, weights])
        )
    except Exception as exc:
        raise ModelError(f"{role} model {repo_id} could not be downloaded ({exc}): {how}") from exc
    return ResolvedModel(name=repo_id, path=path, revision=info.sha or path.name)
