"""The models mtsum keeps on disk: fetch and convert ahead of time, list what is there.

Converted CTranslate2 models live in ``<cache>/ct2/`` (see `mtsum.backends.convert`); the
checkpoints they came from stay in the Hugging Face cache, which `list_models` reports too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mtsum.errors import InputError
from mtsum.paths import cache_dir

__all__ = ["StoredModel", "convert_local", "list_models", "pull"]

_OPTION = "`mtsum models convert`"


@dataclass(frozen=True, kw_only=True)
class StoredModel:
    """One model on disk: a converted CTranslate2 copy or a Hugging Face checkpoint snapshot.

    ``kind`` is ``ctranslate2`` or ``huggingface``; ``compute_type`` is empty for checkpoints.
    """

    kind: str
    name: str
    revision: str
    compute_type: str
    size_bytes: int
    path: str


def pull(name: str, *, compute_type: str = "int8", cache: str | Path | None = None) -> StoredModel:
    """Find or download a checkpoint, then convert it for CTranslate2 (once).

    Args:
        name: Hub name (``Helsinki-NLP/opus-mt-ar-en``) or local checkpoint directory.
        compute_type: Weight quantization, one of `mtsum.backends.convert.COMPUTE_TYPES`.
        cache: The mtsum cache folder (default: `mtsum.paths.cache_dir`).

    Returns:
        The converted model.

    Raises:
        InputError: Unknown compute type.
        ModelError: Not cached and not downloadable (offline), or not convertible.

    Example::

        pull("Helsinki-NLP/opus-mt-ar-en").compute_type  # 'int8'
    """
    from mtsum.backends.convert import convert
    from mtsum.backends.resolve import resolve_model

    resolved = resolve_model(name, role="hub", option=_OPTION, cache=cache_dir(cache))
    return _describe(convert(resolved, compute_type=compute_type, cache=cache_dir(cache)))


def convert_local(
    path: str | Path, *, compute_type: str = "int8", cache: str | Path | None = None
) -> StoredModel:
    """Convert a local checkpoint directory (saved with ``save_pretrained``) for CTranslate2.

    Raises:
        InputError: `path` is not a directory, or an unknown compute type.
        ModelError: The directory is no checkpoint, or the model cannot be converted.
    """
    from mtsum.backends.convert import convert
    from mtsum.backends.resolve import resolve_model

    local = Path(path).expanduser()
    if not local.is_dir():
        raise InputError(
            f"{path} is not a directory: pass a checkpoint saved with save_pretrained()"
        )
    resolved = resolve_model(str(local), role="local", option=_OPTION, cache=cache_dir(cache))
    return _describe(convert(resolved, compute_type=compute_type, cache=cache_dir(cache)))


def list_models(
    cache: str | Path | None = None, *, hub_cache: str | Path | None = None, hub: bool = True
) -> list[StoredModel]:
    """Converted models in ``<cache>/ct2/``, then (with `hub`) the Hugging Face cache's models.

    Args:
        cache: The mtsum cache folder (default: `mtsum.paths.cache_dir`).
        hub_cache: The Hugging Face hub cache (default: huggingface_hub's, ``HF_HUB_CACHE``).
        hub: Include Hugging Face checkpoint snapshots.

    Returns:
        Records sorted by kind, name, revision and compute type.
    """
    models = []
    root = cache_dir(cache) / "ct2"
    if root.is_dir():
        # Dot folders are conversions in progress (or crashed): not models.
        models = [_describe(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if hub:
        models.extend(_hub_models(hub_cache))
    return sorted(models, key=lambda m: (m.kind, m.name, m.revision, m.compute_type))


def _describe(path: Path) -> StoredModel:
    from mtsum.backends.convert import METADATA

    try:
        meta = json.loads((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        # Not written by mtsum: the folder name still says what it is.
        parts = path.name.split("--")
        meta = {"name": parts[0], "revision": "--".join(parts[1:-1]), "compute_type": parts[-1]}
    return StoredModel(
        kind="ctranslate2",
        name=str(meta.get("name", path.name)),
        revision=str(meta.get("revision", "")),
        compute_type=str(meta.get("compute_type", "")),
        size_bytes=sum(f.stat().st_size for f in path.rglob("*") if f.is_file()),
        path=str(path),
    )


def _hub_models(hub_cache: str | Path | None) -> list[StoredModel]:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(hub_cache)
    except (CacheNotFound, ValueError):
        # No hub cache yet, or the path is not a folder: nothing downloaded there.
        return []
    return [
        StoredModel(
            kind="huggingface",
            name=repo.repo_id,
            revision=revision.commit_hash,
            compute_type="",
            size_bytes=revision.size_on_disk,
            path=str(revision.snapshot_path),
        )
        for repo in info.repos
        if repo.repo_type == "model"
        for revision in repo.revisions
    ]
