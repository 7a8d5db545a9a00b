"""What decides a batch's outputs: the options (`BatchSettings`), the models, and the signature of
both that a finished document is recorded under.

A model comes in loaded (any `Seq2Seq`) or as a `LazyModel`: a name whose identity (checkpoint and
revision, found on disk by `mtsum.backends.resolve_model`) is known at once and whose weights are
loaded only when some document needs them, so a rerun that has nothing to do loads none.
`settings_signature` puts the identities and every option into one string; a document is redone
when its signature changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import Any

from mtsum._version import __version__
from mtsum.align import DEFAULT_THRESHOLD, Aligner, LexicalAligner
from mtsum.arabic import LANGUAGES
from mtsum.backends import load_summarizer, load_translator
from mtsum.backends.base import DEFAULT_MT_MODEL, DEFAULT_SUM_MODEL, Seq2Seq
from mtsum.backends.resolve import resolve_model
from mtsum.errors import InputError
from mtsum.limits import MAX_TOP_K, check_range
from mtsum.paths import cache_dir as mtsum_cache
from mtsum.signature import Signature
from mtsum.sources import MAX_BYTES
from mtsum.summarize import SummarizeOptions
from mtsum.textprep import check_encoding
from mtsum.translate import TranslateOptions

__all__ = [
    "BatchSettings",
    "LazyModel",
    "identity",
    "lazy_summarizer",
    "lazy_translator",
    "load",
    "settings_signature",
]

_OPTIONS = {"translation": "--mt-model", "summarization": "--sum-model"}


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    """Everything but the models that decides a batch's outputs (and ``max_bytes``, which only
    decides which documents are refused)."""

    source_lang: str = "auto"
    translate: TranslateOptions = field(default_factory=TranslateOptions)
    summarize: SummarizeOptions = field(default_factory=SummarizeOptions)
    aligner: Aligner = field(default_factory=LexicalAligner)  # any `mtsum.align.Aligner`
    top_k: int = 3
    threshold: float = DEFAULT_THRESHOLD
    max_bytes: int = MAX_BYTES
    encoding: str | None = None  # a Python codec for the inputs; None: UTF-8 (UTF-16 with a BOM)

    def __post_init__(self) -> None:
        if self.source_lang not in LANGUAGES:
            raise InputError(
                f"source language {self.source_lang!r} is not one of {', '.join(LANGUAGES)}"
            )
        check_range("top-k", self.top_k, 1, MAX_TOP_K)
        if not 0.0 <= self.threshold <= 1.0:
            raise InputError(f"support threshold must be in [0, 1], got {self.threshold}")
        if self.max_bytes < 1:
            raise InputError(f"max bytes must be at least 1, got {self.max_bytes}")
        if self.encoding is not None:
            check_encoding(self.encoding)


@dataclass(frozen=True, kw_only=True)
class LazyModel:
    """A model known by name now and loaded by `load` only when some document needs it.

    Its identity (name and revision, for the settings signature) comes from
    `mtsum.backends.resolve_model`, which finds the checkpoint on disk without loading it.
    """

    name: str
    role: str
    load: Callable[[], Seq2Seq]
    runtime: str = ""  # backend and compute type asked for: they change outputs too
    cache: Path | None = None  # the mtsum cache, where local checkpoints' hashes are remembered

    def __post_init__(self) -> None:
        if self.role not in _OPTIONS:
            raise InputError(f"model role {self.role!r} is not one of {', '.join(_OPTIONS)}")

    def identity(self) -> str:
        """``name@revision`` of the checkpoint.

        Raises:
            ModelError: The model is neither local, cached nor downloadable.
        """
        found = resolve_model(
            self.name, role=self.role, option=_OPTIONS[self.role], cache=self.cache
        )
        return f"{found.name}@{found.revision}{self.runtime}"

    def for_worker(self, *, threads: int) -> LazyModel:
        """This model as a worker of a distributed run loads it, on the machine it runs on.

        One made by `lazy_translator` or `lazy_summarizer` gets `threads` CPU threads and, unless
        a cache folder was named, that machine's mtsum cache (its ``MTSUM_CACHE_DIR``) for the
        converted copies and the remembered hashes of local checkpoints; any other loads as it is.
        Call it on the worker.
        """
        load = self.load
        if not (isinstance(load, partial) and {"threads", "cache_dir"} <= load.keywords.keys()):
            return self
        options = {**load.keywords, "threads": threads}
        return replace(
            self,
            load=partial(load.func, *load.args, **options),
            cache=mtsum_cache(options["cache_dir"]),
        )


def lazy_translator(
    name: str = DEFAULT_MT_MODEL,
    *,
    device: str = "auto",
    threads: int | None = None,
    backend: str = "auto",
    compute_type: str | None = None,
    cache_dir: str | Path | None = None,
) -> LazyModel:
    """A `LazyModel` that loads `name` with `mtsum.load_translator` (same options)."""
    runtime = {"device": device, "threads": threads, "backend": backend}
    runtime |= {"compute_type": compute_type, "cache_dir": cache_dir}
    return _lazy(load_translator, name, "translation", runtime)


def lazy_summarizer(
    name: str = DEFAULT_SUM_MODEL,
    *,
    device: str = "auto",
    threads: int | None = None,
    backend: str = "auto",
    compute_type: str | None = None,
    cache_dir: str | Path | None = None,
) -> LazyModel:
    """A `LazyModel` that loads `name` with `mtsum.load_summarizer` (same options)."""
    runtime = {"device": device, "threads": threads, "backend": backend}
    runtime |= {"compute_type": compute_type, "cache_dir": cache_dir}
    return _lazy(load_summarizer, name, "summarization", runtime)


def _lazy(
    loader: Callable[..., Seq2Seq], name: str, role: str, runtime: dict[str, Any]
) -> LazyModel:
    # Backend and compute type change the outputs, so they belong in the model's identity.
    label = f"[{runtime['backend']},{runtime['compute_type'] or 'default'}]"
    return LazyModel(
        name=name,
        role=role,
        load=partial(loader, name, **runtime),
        runtime=label,
        cache=mtsum_cache(runtime["cache_dir"]),
    )


def identity(model: Seq2Seq | LazyModel) -> str:
    """``name@revision`` of a loaded or lazy model, without loading it.

    Raises:
        ModelError: A lazy model is neither local, cached nor downloadable.
    """
    if isinstance(model, LazyModel):
        return model.identity()
    return f"{model.info.name}@{model.info.revision}"


def load(model: Seq2Seq | LazyModel) -> Seq2Seq:
    """The model itself: a lazy one is loaded now (each call loads it again)."""
    return model.load() if isinstance(model, LazyModel) else model


def _options(options: TranslateOptions | SummarizeOptions) -> str:
    return ",".join(f"{f.name}={getattr(options, f.name)!r}" for f in fields(options))


def settings_signature(
    settings: BatchSettings, *, summarizer: str, translator: str | None
) -> Signature:
    """The resume key of a document's settings: a change in any part means redo it.

    Args:
        settings: The batch settings.
        summarizer: ``name@revision`` of the summarization model.
        translator: ``name@revision`` of the translation model, None for an English document
            (its outputs do not depend on the translator).

    Returns:
        A `Signature` of models, options, aligner and mtsum version; a document is recorded
        under its ``key()``.

    Example:
        >>> str(settings_signature(BatchSettings(), summarizer="s@1", translator=None))[:24]
        'sum:s@1|sum-opts:preset='
    """
    return Signature.of(
        ("mt", translator),
        ("mt-opts", None if translator is None else _options(settings.translate)),
        ("sum", summarizer),
        ("sum-opts", _options(settings.summarize)),
        ("lang", settings.source_lang),
        ("align", settings.aligner.name),
        ("top", settings.top_k),
        ("thr", settings.threshold),
        ("enc", settings.encoding),  # only when given
        ("mtsum", __version__),
    )
