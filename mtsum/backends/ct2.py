"""The CTranslate2 backend: a `Seq2Seq` over a converted copy of a transformers checkpoint
(see `mtsum.backends.convert`).

Tokenization uses the checkpoint's own tokenizer, rebuilt without transformers
(`mtsum.backends.tokens`), so token counts, splitting and decoding are exactly those of the
transformers backend; only the network runs in CTranslate2. Tokens, not ids, cross the boundary:
the Marian converter drops ``<pad>`` from the vocabulary, which shifts no ids that matter as long
as both sides speak tokens.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mtsum.backends.base import GenerateOptions, ModelInfo, within_positions
from mtsum.backends.convert import check_compute_type, convert, read_metadata
from mtsum.backends.resolve import ResolvedModel, read_json_object
from mtsum.backends.tokens import TokenizerSpec, Tokens
from mtsum.backends.tokens import load as load_tokenizer
from mtsum.errors import InputError, ModelError
from mtsum.heap import trim_heap

__all__ = ["CT2Seq2Seq", "load_ct2", "thread_split"]


class CT2Seq2Seq:
    """Batch generation with `ctranslate2.Translator.translate_batch`, the checkpoint's tokenizer
    (rebuilt without transformers, see `mtsum.backends.tokens`) around it.

    Greedy outputs equal the transformers backend's token for token (float32; tests compare Marian
    and BART, with min length, n-gram bans, banned words and a forced BOS). Two known differences:
    transformers' repetition penalty also hits the decoder start token, which for BART is EOS;
    and with beams, n-gram bans and the repetition penalty can pick another hypothesis, because
    CTranslate2 scores the banned tokens out before normalizing while transformers' beam search
    does it after.

    Besides ``generate`` (one batch, cut into one part per worker) it has ``generate_batches``:
    a stage hands it a whole workload cut into token-budget batches for its ``workers``
    (`mtsum.generation.generate`), and every batch is queued at once, so a worker that finishes
    takes the next batch instead of waiting for the other to end the call. Each batch decodes to
    its own longest bound: one ``translate_batch`` over all of them (``batch_type="tokens"``)
    would run every row that does not stop by itself to the longest bound of the whole workload.
    """

    def __init__(
        self,
        translator: Any,
        tokenizer: Tokens,
        *,
        info: ModelInfo,
        defaults: GenerateOptions,
        target_prefix: Sequence[str] = (),
        suppress: Sequence[Sequence[str]] = (),
        workers: int = 1,
    ) -> None:
        self.translator = translator
        self.tokenizer = tokenizer
        self.info = info
        self.defaults = defaults
        self.target_prefix = list(target_prefix)
        self.suppress = [list(s) for s in suppress]
        self.workers = workers

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(row) for row in self.tokenizer.encode([self.info.prefix + t for t in texts])]

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        """One batch, cut into one part per worker (longest first), the parts run at once."""
        source, bounds = self._encode(texts, max_new_tokens)
        order = sorted(range(len(source)), key=lambda i: -len(source[i]))
        size = max(1, math.ceil(len(order) / self.workers))
        parts = [order[k : k + size] for k in range(0, len(order), size)]
        return self._run(source, bounds, options, parts, None)

    def generate_batches(
        self,
        texts: Sequence[str],
        options: GenerateOptions,
        *,
        max_new_tokens: Sequence[int],
        batches: Sequence[Sequence[int]],
        done: Callable[[Sequence[int]], None] | None = None,
    ) -> list[str]:
        """A whole workload already cut into batches (`mtsum.generation.generate` cuts it for
        `workers`): every batch is queued at once, each decoding to its own longest bound.

        Args:
            texts, options, max_new_tokens: As for `generate`.
            batches: The indices of the texts in each batch; every text in exactly one.
            done: Called with each batch's indices as it finishes, in the order given.

        Raises:
            InputError: A text is in no batch or in two.
            ModelError: CTranslate2 failed.
        """
        source, bounds = self._encode(texts, max_new_tokens)
        if sorted(i for batch in batches for i in batch) != list(range(len(texts))):
            raise InputError(f"the batches must hold each of the {len(texts)} texts once")
        return self._run(source, bounds, options, batches, done)

    def _encode(
        self, texts: Sequence[str], max_new_tokens: Sequence[int]
    ) -> tuple[list[list[str]], list[int]]:
        """The texts' source tokens and their bounds, checked (`within_positions`)."""
        if len(max_new_tokens) != len(texts):
            raise InputError(f"{len(texts)} texts but {len(max_new_tokens)} length bounds")
        if texts and min(max_new_tokens) < 1:
            raise InputError(f"length bounds must be at least 1, got {min(max_new_tokens)}")
        source = self.tokenizer.encode([self.info.prefix + t for t in texts])
        return source, within_positions(self.info, [len(s) for s in source], max_new_tokens)

    def _run(
        self,
        source: list[list[str]],
        bounds: list[int],
        options: GenerateOptions,
        parts: Sequence[Sequence[int]],
        done: Callable[[Sequence[int]], None] | None,
    ) -> list[str]:
        """Queue every batch at once (`translate_batch(asynchronous=True)`), each decoding to its
        own longest bound; the workers take them in turn, so none idles while batches wait."""
        if not source:
            return []
        try:
            queued = [(part, self._queue(source, bounds, options, part)) for part in parts]
            rows: list[list[str]] = [[] for _ in source]
            for part, results in queued:
                for i, result in zip(part, results, strict=True):
                    # A batch decodes to its longest bound; each row is cut to its own, so an
                    # output never depends on its neighbours (greedy decoding is prefix-stable).
                    rows[i] = result.result().hypotheses[0][: bounds[i]]
                if done is not None:
                    done(part)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{self.info.name}: CTranslate2 generation failed: {exc}") from exc
        return self.tokenizer.decode(rows)

    def _queue(
        self,
        source: list[list[str]],
        bounds: list[int],
        options: GenerateOptions,
        part: Sequence[int],
    ) -> list[Any]:
        longest = max(bounds[i] for i in part)
        prefix = [self.target_prefix] * len(part) if self.target_prefix else None
        return self.translator.translate_batch(
            [source[i] for i in part],
            prefix,
            asynchronous=True,
            beam_size=options.num_beams,
            # HF stops once num_beams hypotheses are finished (early_stopping); so does
            # CTranslate2 with patience 1.
            patience=1.0,
            length_penalty=options.length_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            repetition_penalty=options.repetition_penalty,
            # Both count generated tokens without the decoder start and with a forced BOS
            # (the target prefix), and stop before the EOS; the tests check it.
            min_decoding_length=min(options.min_new_tokens, longest),
            max_decoding_length=longest,
            max_input_length=0,
            suppress_sequences=self.suppress or None,
            return_scores=False,
            return_end_token=False,
        )


def thread_split(total: int) -> tuple[int, int]:
    """(inter_threads, intra_threads) for `total` CPU threads.

    One intra-op thread per worker and one worker per thread: a lone int8 worker keeps only ~1.3
    of 2 cores busy, two single-threaded workers fed one sub-batch each doubled throughput (974
    vs 417 tokens/s on a 2-core AMD machine). Above 4 threads, workers get 2 threads each so a
    batch is not cut into slivers.

    Example:
        >>> thread_split(2), thread_split(16)
        ((2, 1), (8, 2))
    """
    if total < 1:
        raise InputError(f"threads must be at least 1, got {total}")
    intra = 1 if total <= 4 else 2
    return max(1, total // intra), intra


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def load_ct2(
    resolved: ResolvedModel,
    *,
    task: str,
    device: str,
    threads: int | None,
    compute_type: str | None,
    cache: Path,
) -> CT2Seq2Seq:
    """Load (converting once if needed) a checkpoint for CTranslate2.

    Args:
        resolved: The checkpoint on disk.
        task: ``translation`` or ``summarization``: picks the generation defaults and prefix.
        device: ``auto``, ``cpu`` or ``cuda``.
        threads: CPU threads in all (default: every available core); see `thread_split`.
        compute_type: One of `COMPUTE_TYPES`; default ``int8`` on CPU, ``int8_float16`` on CUDA.
        cache: The mtsum cache folder; converted models go to ``<cache>/ct2/``.

    Returns:
        A `CT2Seq2Seq` whose info says backend ``ctranslate2`` and the compute type.

    Raises:
        InputError: Unknown compute type or bad thread count.
        ModelError: Unsupported model type, failed conversion, or CTranslate2 cannot load it.
    """
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = _pick_compute_type(ctranslate2, device, compute_type)
    if device == "cuda":
        inter, intra = 1, 0
    else:
        inter, intra = thread_split(threads if threads is not None else _cpu_count())
    path = convert(resolved, compute_type=compute_type, cache=cache)
    runtime = read_metadata(path).get("runtime") or {}
    try:
        spec = TokenizerSpec.from_json(runtime["tokenizer"])
        settings = runtime["tasks"][task]
        defaults = GenerateOptions(**settings["defaults"])
        tokenizer = load_tokenizer(spec, path)
        translator = ctranslate2.Translator(
            str(path),
            device=device,
            compute_type=compute_type,
            inter_threads=inter,
            intra_threads=intra,
        )
        trim_heap()
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{task} model {resolved.name} could not be loaded with CTranslate2 from {path} "
            f"({type(exc).__name__}: {exc}): delete that folder to convert again, or use the "
            "transformers backend"
        ) from exc
    info = ModelInfo(
        name=resolved.name,
        revision=resolved.revision,
        path=str(resolved.path),
        backend="ctranslate2",
        compute_type=compute_type,
        max_input_tokens=int(runtime["max_input_tokens"]),
        prefix=str(settings["prefix"]),
        max_output_tokens=_output_limit(runtime, resolved),
    )
    return CT2Seq2Seq(
        translator,
        tokenizer,
        info=info,
        defaults=defaults,
        target_prefix=runtime["target_prefix"],
        suppress=runtime["suppress"],
        workers=inter,
    )


def _output_limit(runtime: dict[str, Any], resolved: ResolvedModel) -> int | None:
    """The runtime record's output limit; a record from an older mtsum lacks it, and then the
    checkpoint's config.json says (read as JSON: no transformers import)."""
    if "max_output_tokens" in runtime:
        found = runtime["max_output_tokens"]
        return None if found is None else int(found)
    from types import SimpleNamespace

    from mtsum.backends.hf import output_limit

    config = read_json_object(resolved.path / "config.json")
    return output_limit(SimpleNamespace(**config))


def _pick_compute_type(ctranslate2: Any, device: str, requested: str | None) -> str:
    """The requested compute type if the device runs it, else the device's preferred one.

    Checked before converting, so an unusable choice costs no conversion.
    """
    try:
        supported = set(ctranslate2.get_supported_compute_types(device))
    except (RuntimeError, ValueError) as exc:
        raise ModelError(
            f"CTranslate2 cannot use device {device} ({exc}): try --device cpu"
        ) from exc
    if requested is not None:
        if check_compute_type(requested) not in supported:
            raise InputError(
                f"compute type {requested} is not supported on {device}: use one of "
                f"{', '.join(sorted(supported))}"
            )
        return requested
    preferred = ["int8_float16", "float16", "int8", "float32"] if device == "cuda" else ["int8"]
    return next((c for c in preferred if c in supported), "float32")
