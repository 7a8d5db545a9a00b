"""One loading path for every model mtsum runs, and the small interface stages see.

A stage never touches torch or transformers: it takes a `Seq2Seq`, something that counts tokens and
generates text for a batch of strings. `load_translator` and `load_summarizer` build one from a hub
name or a local directory; tests and users may pass any object with the same three members (see
`FunctionModel`).

Resolution order for a name: a local directory of that name; the Hugging Face cache (no network);
then the hub, with a short connection timeout so an offline machine fails in seconds with a
`ModelError` that says how to supply the model, not after huggingface_hub's long retries.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mtsum.atomic import write_text
from mtsum.errors import InputError, ModelError

__all__ = [
    "DEFAULT_MT_MODEL",
    "DEFAULT_SUM_MODEL",
    "FunctionModel",
    "GenerateOptions",
    "ModelInfo",
    "ResolvedModel",
    "Seq2Seq",
    "load_summarizer",
    "load_translator",
    "resolve_model",
    "within_positions",
]

DEFAULT_MT_MODEL = "Helsinki-NLP/opus-mt-ar-en"
DEFAULT_SUM_MODEL = "sshleifer/distilbart-cnn-12-6"
HUB_TIMEOUT_S = 10.0
# Files a checkpoint needs; weights are chosen separately so safetensors wins over pickles.
_SUPPORT_FILES = ["*.json", "*.spm", "*.model", "*.txt", "*.vocab"]


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """What produced an output: recorded in every signature."""

    name: str
    revision: str
    path: str
    backend: str
    compute_type: str
    max_input_tokens: int
    prefix: str = ""
    # The longest output the decoder can position: its positions less the decoder start token.
    # None where nothing bounds it (relative positions, or a plain function).
    max_output_tokens: int | None = None


@dataclass(frozen=True, kw_only=True)
class GenerateOptions:
    """Decoding settings shared by every backend."""

    num_beams: int = 4
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    min_new_tokens: int = 0
    max_new_tokens: int = 256


class Seq2Seq(Protocol):
    """A text-to-text model as the stages see it."""

    info: ModelInfo
    defaults: GenerateOptions

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Input length of each text in the model's own tokens, special tokens included."""
        ...

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        """One output per text; output i has at most max_new_tokens[i] tokens (and never more
        than ``info.max_output_tokens``)."""
        ...


def within_positions(
    info: ModelInfo, input_tokens: Sequence[int], bounds: Sequence[int]
) -> list[int]:
    """Check that every input fits the model's positions; lower output bounds to what its
    decoder can position (``info.max_output_tokens``).

    Both backends call this before generating: past its positions a model fails (transformers:
    ``IndexError``; CTranslate2: "No position encodings are defined for positions >= 512"). A
    bound is only ever an upper limit, so lowering it is safe; the stages keep within it
    themselves (`mtsum.summarize` says so when it lowers a requested length), and this guards
    every other caller.

    Args:
        info: The model's limits.
        input_tokens: Each input's length in the model's tokens, special tokens included.
        bounds: Each output's requested ``max_new_tokens``.

    Returns:
        The bounds, each at most ``info.max_output_tokens``.

    Raises:
        InputError: An input is longer than ``info.max_input_tokens``; it must be split first
            (`mtsum.translate` and `mtsum.summarize` split what they send).

    Example:
        >>> info = ModelInfo(name="m", revision="r", path="", backend="b", compute_type="c",
        ...                  max_input_tokens=512, max_output_tokens=511)
        >>> within_positions(info, [7, 30], [24, 1200])
        [24, 511]
    """
    longest = max(input_tokens, default=0)
    if longest > info.max_input_tokens:
        raise InputError(
            f"{info.name}: an input of {longest} tokens is longer than the model's limit of "
            f"{info.max_input_tokens}; split it first (mtsum.translate and mtsum.summarize do)"
        )
    limit = info.max_output_tokens
    return [min(b, limit) for b in bounds] if limit is not None else list(bounds)


@dataclass
class FunctionModel:
    """A `Seq2Seq` over a plain function, for tests and custom pipelines (cf. httpx MockTransport).

    Tokens are whitespace-separated words. `calls` counts generate calls.

    Example:
        >>> m = FunctionModel(lambda xs: [x.upper() for x in xs])
        >>> m.generate(["a b"], m.defaults, max_new_tokens=[5])
        ['A B']
    """

    fn: Callable[[list[str]], list[str]]
    name: str = "function"
    max_input_tokens: int = 512
    max_output_tokens: int | None = None
    defaults: GenerateOptions = field(default_factory=GenerateOptions)
    calls: int = 0
    info: ModelInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = ModelInfo(
            name=self.name,
            revision="none",
            path="",
            backend="function",
            compute_type="none",
            max_input_tokens=self.max_input_tokens,
            max_output_tokens=self.max_output_tokens,
        )

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) + 1 for t in texts]

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        # Held to the same limits as a real model, so a test sees a stage that sends too much.
        within_positions(self.info, self.count_tokens(texts), max_new_tokens)
        self.calls += 1
        outputs = self.fn(list(texts))
        if len(outputs) != len(texts):
            raise ModelError(
                f"{self.name}: returned {len(outputs)} outputs for {len(texts)} inputs"
            )
        return outputs


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
    cached = _from_cache(name_or_path)
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


def _from_cache(repo_id: str) -> ResolvedModel | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None
    if not (path / "config.json").is_file():
        return None
    return ResolvedModel(name=repo_id, path=path, revision=path.name)


def _download(repo_id: str, *, role: str, option: str) -> ResolvedModel:
    from huggingface_hub import HfApi, snapshot_download

    how = (
        f"use {option} PATH with a local copy (save_pretrained), or run `mtsum` once on a "
        "connected machine and copy its Hugging Face cache (~/.cache/huggingface/hub)"
    )
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
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


def _check_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise InputError(f"device {device!r} is not one of auto, cpu, cuda")
    return device


BACKENDS = ("auto", "ctranslate2", "transformers")


def _load(
    name_or_path: str,
    *,
    task: str,
    option: str,
    device: str,
    threads: int | None,
    backend: str,
    compute_type: str | None,
    cache_dir: str | Path | None,
) -> Seq2Seq:
    """Resolve, then load with CTranslate2 (auto: when it runs the model type) or transformers."""
    from dataclasses import replace

    from mtsum import ct2
    from mtsum.paths import cache_dir as mtsum_cache

    if backend not in BACKENDS:
        raise InputError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    device = _check_device(device)
    cache = mtsum_cache(cache_dir)
    resolved = resolve_model(name_or_path, role=task, option=option, cache=cache)
    if backend == "ctranslate2" or (backend == "auto" and ct2.can_convert(resolved)):
        return ct2.load_ct2(
            resolved,
            task=task,
            device=device,
            threads=threads,
            compute_type=compute_type,
            cache=cache,
        )
    if compute_type is not None:
        raise InputError(
            f"compute type {compute_type} needs the ctranslate2 backend, which does not run "
            f"{resolved.name}: leave --compute-type out"
        )
    from mtsum.hf import load_hf

    model = load_hf(resolved, task=task, device=device, threads=threads)
    if backend == "auto":
        # The signature says that auto fell back, so a reader knows CTranslate2 was not used.
        model.info = replace(model.info, backend="transformers(auto)")
    return model


def load_translator(
    name_or_path: str = DEFAULT_MT_MODEL,
    *,
    device: str = "auto",
    threads: int | None = None,
    backend: str = "auto",
    compute_type: str | None = None,
    cache_dir: str | Path | None = None,
) -> Seq2Seq:
    """Load a MarianMT (or any seq2seq) translation model by hub name or local directory.

    Args:
        name_or_path: Hub name or local directory. Default ``Helsinki-NLP/opus-mt-ar-en``.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        threads: CPU threads for inference; None uses every available core.
        backend: ``auto`` (CTranslate2 for the model types it runs, else transformers),
            ``ctranslate2`` or ``transformers``.
        compute_type: CTranslate2 weight type (`mtsum.ct2.COMPUTE_TYPES`); default ``int8`` on
            CPU, ``int8_float16`` on CUDA.
        cache_dir: Where converted models are kept (see `mtsum.paths.cache_dir`).

    Returns:
        A `Seq2Seq` ready for `mtsum.translate`.

    Raises:
        InputError: Unknown device, backend or compute type.
        ModelError: The model cannot be found, converted or loaded; the message says how to
            supply it.

    Example:
        >>> mt = load_translator("Helsinki-NLP/opus-mt-ar-en")  # doctest: +SKIP
    """
    return _load(
        name_or_path,
        task="translation",
        option="--mt-model",
        device=device,
        threads=threads,
        backend=backend,
        compute_type=compute_type,
        cache_dir=cache_dir,
    )


def load_summarizer(
    name_or_path: str = DEFAULT_SUM_MODEL,
    *,
    device: str = "auto",
    threads: int | None = None,
    backend: str = "auto",
    compute_type: str | None = None,
    cache_dir: str | Path | None = None,
) -> Seq2Seq:
    """Load a seq2seq summarizer (BART, PEGASUS, T5, ...) by hub name or local directory.

    Generation defaults (beams, length penalty, no-repeat n-gram, min/max length) and a T5-style
    ``summarize: `` prefix come from the model's own config. Options as for `load_translator`.

    Raises:
        InputError: Unknown device, backend or compute type.
        ModelError: The model cannot be found, converted or loaded; the message says how to
            supply it.
    """
    return _load(
        name_or_path,
        task="summarization",
        option="--sum-model",
        device=device,
        threads=threads,
        backend=backend,
        compute_type=compute_type,
        cache_dir=cache_dir,
    )
