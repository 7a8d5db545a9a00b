"""Backends: where models come from and what runs them.

    base       the `Seq2Seq` protocol the stages see, `ModelInfo`, `GenerateOptions`,
               `FunctionModel`
    resolve    a name or folder -> a checkpoint on disk with its revision
    hf         transformers (PyTorch) models
    convert    CTranslate2 conversion into the mtsum cache
    ct2        running converted CTranslate2 models
    tokens     tokenizers for CTranslate2 without transformers
    store      the models on disk (`mtsum models`)
    cache      the sqlite translation cache

`load_translator` and `load_summarizer` (here) are the one loading path, and this package is the
only place that imports both backends.
"""

from __future__ import annotations

from pathlib import Path

from mtsum.backends.base import DEFAULT_MT_MODEL, DEFAULT_SUM_MODEL, Seq2Seq
from mtsum.backends.resolve import resolve_model
from mtsum.errors import InputError
from mtsum.limits import MAX_THREADS, check_range

__all__ = ["BACKENDS", "DEVICES", "load_summarizer", "load_translator"]

BACKENDS = ("auto", "ctranslate2", "transformers")
DEVICES = ("auto", "cpu", "cuda")


def _check_device(device: str) -> str:
    if device not in DEVICES:
        raise InputError(f"device {device!r} is not one of {', '.join(DEVICES)}")
    return device


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

    from mtsum.backends import convert, ct2
    from mtsum.paths import cache_dir as mtsum_cache

    if backend not in BACKENDS:
        raise InputError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    device = _check_device(device)
    check_range("threads", threads, 1, MAX_THREADS)
    cache = mtsum_cache(cache_dir)
    resolved = resolve_model(name_or_path, role=task, option=option, cache=cache)
    if backend == "ctranslate2" or (backend == "auto" and convert.can_convert(resolved)):
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
    from mtsum.backends.hf import load_hf

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
        threads: CPU threads for inference, 1 to `mtsum.limits.MAX_THREADS`; None uses every
            available core.
        backend: ``auto`` (CTranslate2 for the model types it runs, else transformers),
            ``ctranslate2`` or ``transformers``.
        compute_type: CTranslate2 weight type (`mtsum.backends.convert.COMPUTE_TYPES`);
            default ``int8`` on CPU, ``int8_float16`` on CUDA.
        cache_dir: Where converted models are kept (see `mtsum.paths.cache_dir`).

    Returns:
        A `Seq2Seq` ready for `mtsum.translate`.

    Raises:
        InputError: Unknown device, backend or compute type.
        ModelError: The model cannot be found, converted or loaded; the message says how to
            supply it.

    Example::

        mt = load_translator("Helsinki-NLP/opus-mt-ar-en")
        [doc] = mtsum.translate(["مرحبا بكم."], mt)
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
