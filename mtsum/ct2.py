"""The CTranslate2 backend: a `Seq2Seq` over a converted copy of a transformers checkpoint.

Tokenization stays with the checkpoint's own HF tokenizer, so token counts, splitting and
decoding are exactly those of the transformers backend; only the network runs in CTranslate2.
Tokens, not ids, cross the boundary: the Marian converter drops ``<pad>`` from the vocabulary,
which shifts no ids that matter as long as both sides speak tokens.

Converted models live in ``<cache>/ct2/<name>--<revision>--<compute type>``. A conversion writes
into a temporary folder beside it and renames it into place, so a crash never leaves half a model
under the final name and two processes racing to convert end with one good copy.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mtsum.errors import InputError, ModelError
from mtsum.models import (
    GenerateOptions,
    ModelInfo,
    ResolvedModel,
    read_json_object,
    within_positions,
)
from mtsum.tokens import TokenizerSpec, Tokens
from mtsum.tokens import describe as describe_tokenizer
from mtsum.tokens import load as load_tokenizer

__all__ = [
    "COMPUTE_TYPES",
    "METADATA",
    "SUPPORTED_MODEL_TYPES",
    "CT2Seq2Seq",
    "can_convert",
    "convert",
    "converted_path",
    "load_ct2",
    "thread_split",
]

COMPUTE_TYPES = (
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)
# Model types whose CTranslate2 output is checked token for token against transformers (tests);
# the converter knows more, but an unchecked one is not worth a silent difference.
SUPPORTED_MODEL_TYPES = frozenset({"bart", "marian"})
METADATA = "mtsum-ct2.json"
_TEMP_SUFFIX = ".tmp"


class CT2Seq2Seq:
    """Batch generation with `ctranslate2.Translator.translate_batch`, the checkpoint's tokenizer
    (rebuilt without transformers, see `mtsum.tokens`) around it.

    Greedy outputs equal the transformers backend's token for token (float32; tests compare Marian
    and BART, with min length, n-gram bans, banned words and a forced BOS). Two known differences:
    transformers' repetition penalty also hits the decoder start token, which for BART is EOS;
    and with beams, n-gram bans and the repetition penalty can pick another hypothesis, because
    CTranslate2 scores the banned tokens out before normalizing while transformers' beam search
    does it after.
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
        if len(max_new_tokens) != len(texts):
            raise InputError(f"{len(texts)} texts but {len(max_new_tokens)} length bounds")
        if not texts:
            return []
        if min(max_new_tokens) < 1:
            raise InputError(f"length bounds must be at least 1, got {min(max_new_tokens)}")
        source = self.tokenizer.encode([self.info.prefix + t for t in texts])
        max_new_tokens = within_positions(self.info, [len(s) for s in source], max_new_tokens)
        longest = max(max_new_tokens)
        try:
            results = self._translate(
                source,
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
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{self.info.name}: CTranslate2 generation failed: {exc}") from exc
        # The batch runs to its longest bound; cut each row to its own bound so an output never
        # depends on its batch neighbours (greedy decoding is prefix-stable).
        rows = [
            result.hypotheses[0][:limit]
            for result, limit in zip(results, max_new_tokens, strict=True)
        ]
        return self.tokenizer.decode(rows)

    def _translate(self, source: list[list[str]], **kwargs: Any) -> list[Any]:
        prefix = [self.target_prefix] * len(source) if self.target_prefix else None
        # One sub-batch per worker: CTranslate2 runs the sub-batches of one call in parallel and
        # returns results in input order; a single batch would keep only one worker busy.
        size = math.ceil(len(source) / max(1, self.workers))
        return self.translator.translate_batch(source, prefix, max_batch_size=size, **kwargs)


def can_convert(resolved: ResolvedModel) -> bool:
    """True when the checkpoint's model type is one this backend runs (see SUPPORTED_MODEL_TYPES)
    and its tokenizer is one `mtsum.tokens` rebuilds (not a Marian with separate vocabularies).

    Reads only ``config.json`` and ``tokenizer_config.json``; no model library is imported.
    """
    if _model_type(resolved) not in SUPPORTED_MODEL_TYPES:
        return False
    return not read_json_object(resolved.path / "tokenizer_config.json").get(
        "separate_vocabs", False
    )


def _model_type(resolved: ResolvedModel) -> str:
    return str(read_json_object(resolved.path / "config.json").get("model_type", ""))


def _check_compute_type(compute_type: str) -> str:
    if compute_type not in COMPUTE_TYPES:
        raise InputError(f"compute type {compute_type!r} is not one of {', '.join(COMPUTE_TYPES)}")
    return compute_type


def converted_path(resolved: ResolvedModel, *, compute_type: str, cache: Path) -> Path:
    """Where the converted copy of `resolved` at `compute_type` lives (whether or not it exists).

    Example:
        >>> r = ResolvedModel(name="Helsinki-NLP/opus-mt-ar-en", path=Path("/m"), revision="abc")
        >>> converted_path(r, compute_type="int8", cache=Path("/c")).as_posix()
        '/c/ct2/Helsinki-NLP_opus-mt-ar-en--abc--int8'
    """
    name = resolved.name
    if resolved.revision.startswith("local-"):
        # A local checkpoint's name is its full path; its revision already identifies it.
        name = Path(name).name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    revision = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.revision)
    return cache / "ct2" / f"{safe}--{revision}--{_check_compute_type(compute_type)}"


def convert(resolved: ResolvedModel, *, compute_type: str, cache: Path) -> Path:
    """Convert a checkpoint with CTranslate2's Transformers converter, once, atomically.

    Args:
        resolved: The checkpoint on disk (see `mtsum.models.resolve_model`).
        compute_type: Weight quantization, one of `COMPUTE_TYPES` (``int8`` on CPU).
        cache: The mtsum cache folder (see `mtsum.paths.cache_dir`).

    Returns:
        The converted model folder; an existing one is returned without converting.

    Raises:
        InputError: Unknown compute type.
        ModelError: The model type is not supported or the conversion failed.

    Example:
        >>> convert(resolve_model("m", role="translation", option="--mt-model"),
        ...         compute_type="int8", cache=cache_dir())  # doctest: +SKIP
    """
    final = converted_path(resolved, compute_type=compute_type, cache=cache)
    if final.is_dir():
        if "runtime" not in _metadata(final):
            _add_runtime(resolved, final)
        return final
    model_type = _model_type(resolved)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelError(
            f"model {resolved.name} (type {model_type or 'unknown'}) cannot run on CTranslate2 "
            f"here (supported: {', '.join(sorted(SUPPORTED_MODEL_TYPES))}): use the "
            "transformers backend"
        )
    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    _remove_orphans(root)
    work = Path(
        tempfile.mkdtemp(dir=root, prefix=f".{final.name}.{os.getpid()}.", suffix=_TEMP_SUFFIX)
    )
    try:
        staged = work / "model"
        try:
            _convert_into(resolved.path, staged, compute_type)
            runtime = _runtime(resolved.path, staged, files=staged)
        except (OSError, ValueError, RuntimeError, KeyError, AttributeError) as exc:
            raise ModelError(
                f"model {resolved.name} at {resolved.path} could not be converted to "
                f"CTranslate2 ({type(exc).__name__}: {exc}): use the transformers backend"
            ) from exc
        metadata = {
            "name": resolved.name,
            "revision": resolved.revision,
            "compute_type": compute_type,
            "source": str(resolved.path),
            "model_type": model_type,
            "runtime": runtime,
        }
        (staged / METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        try:
            os.rename(staged, final)
        except OSError:
            # Another process finished the same conversion first: keep its copy.
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _convert_into(source: Path, out: Path, compute_type: str) -> None:
    """Run the CTranslate2 converter from `source` into the new folder `out`."""
    import ctranslate2

    from mtsum.hf import sacremoses_notice_hidden

    class Converter(ctranslate2.converters.TransformersConverter):
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            # transformers 5 no longer keeps BART's legacy layout flags in the config, which the
            # BART loader reads; the layers that exist say what they were.
            encoder = model.get_encoder()
            config = model.config
            if not hasattr(config, "normalize_before"):
                config.normalize_before = getattr(encoder, "layer_norm", None) is not None
            if not hasattr(config, "normalize_embedding"):
                config.normalize_embedding = (
                    getattr(encoder, "layernorm_embedding", None) is not None
                )
            return model

        def load_tokenizer(
            self, tokenizer_class: Any, model_name_or_path: str, **kwargs: Any
        ) -> Any:
            with sacremoses_notice_hidden():
                return super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)

    Converter(str(source)).convert(str(out), quantization=compute_type)


def _runtime(source: Path, converted: Path, *, files: Path) -> dict[str, Any]:
    """What loading needs besides the weights, worked out once with transformers.

    Loading then reads this record and the tokenizer files, which go into `files` (see
    `mtsum.tokens`), so a converted model runs without importing transformers or torch.
    `converted` is the converted model (its target vocabulary decides what can be banned).
    """
    from transformers import AutoConfig, GenerationConfig

    from mtsum.hf import input_limit, load_hf_tokenizer, model_defaults, output_limit, task_prefix

    config = AutoConfig.from_pretrained(source, trust_remote_code=False)
    tokenizer = load_hf_tokenizer(source)
    generation = _generation_config(GenerationConfig, source)
    spec = describe_tokenizer(tokenizer, source, files)
    forced_bos = getattr(generation, "forced_bos_token_id", None)
    return {
        "tokenizer": spec.to_json(),
        "max_input_tokens": input_limit(config, tokenizer),
        "max_output_tokens": output_limit(config),
        "tasks": {
            task: {
                "prefix": task_prefix(config, task),
                "defaults": asdict(model_defaults(config, generation, task=task)),
            }
            for task in ("translation", "summarization")
        },
        # HF forces BOS as the first generated token; for CTranslate2 that is a target prefix.
        "target_prefix": [tokenizer.convert_ids_to_tokens(forced_bos)]
        if forced_bos is not None
        else [],
        "suppress": _suppressed(generation, tokenizer, _target_vocabulary(converted)),
    }


def _metadata(path: Path) -> dict[str, Any]:
    return read_json_object(path / METADATA)


def _add_runtime(resolved: ResolvedModel, final: Path) -> None:
    """Complete a conversion made by an older mtsum, whose record lacks the runtime part.

    The tokenizer files are written aside and renamed in, then the record, so a reader (who
    looks at the files only once the record has its runtime part) never sees half a file; two
    processes doing this at once rename the same bytes.
    """
    staging = Path(tempfile.mkdtemp(dir=final, prefix=f".runtime.{os.getpid()}.", suffix=".tmp"))
    try:
        try:
            runtime = _runtime(resolved.path, final, files=staging)
        except (OSError, ValueError, RuntimeError, KeyError, AttributeError) as exc:
            raise ModelError(
                f"model {resolved.name}: could not read its tokenizer and settings for the "
                f"converted copy at {final} ({type(exc).__name__}: {exc}): delete that folder "
                "to convert again, or use the transformers backend"
            ) from exc
        for file in staging.iterdir():
            os.replace(file, final / file.name)
        record = staging / METADATA
        record.write_text(
            json.dumps({**_metadata(final), "runtime": runtime}, indent=2), encoding="utf-8"
        )
        os.replace(record, final / METADATA)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_orphans(root: Path) -> None:
    """Delete temporary folders left by conversions whose process no longer runs (a crash)."""
    for tmp in root.glob(f".*{_TEMP_SUFFIX}"):
        match = re.search(r"\.(\d+)\.[^.]*\.tmp$", tmp.name)
        if match is None or _alive(int(match.group(1))):
            continue
        shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


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
    runtime = _metadata(path).get("runtime") or {}
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
        _trim_heap()
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

    from mtsum.hf import output_limit

    config = read_json_object(resolved.path / "config.json")
    return output_limit(SimpleNamespace(**config))


def _trim_heap() -> None:
    """Hand memory freed while loading back to the operating system.

    CTranslate2 reads the model file into buffers it frees once the weights are built; after
    other native libraries (tokenizers) have started threads, glibc keeps those pages resident:
    distilbart at real shape was 626 MB resident after loading, 383 MB after the trim, and a
    whole ``mtsum summarize`` peaked at about 1.0 GB instead of 1.15 GB. A no-op where libc has
    no malloc_trim.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return


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
        if _check_compute_type(requested) not in supported:
            raise InputError(
                f"compute type {requested} is not supported on {device}: use one of "
                f"{', '.join(sorted(supported))}"
            )
        return requested
    preferred = ["int8_float16", "float16", "int8", "float32"] if device == "cuda" else ["int8"]
    return next((c for c in preferred if c in supported), "float32")


def _generation_config(cls: Any, path: Path) -> Any:
    # As transformers' from_pretrained does: generation_config.json, else the legacy fields of
    # config.json (BART checkpoints keep forced_bos_token_id and friends there).
    try:
        return cls.from_pretrained(path)
    except OSError:
        return cls.from_pretrained(path, config_file_name="config.json")


def _target_vocabulary(path: Path) -> set[str]:
    for name in ("target_vocabulary.json", "shared_vocabulary.json"):
        file = path / name
        if file.is_file():
            return set(json.loads(file.read_text(encoding="utf-8")))
    return set()


def _suppressed(generation: Any, tokenizer: Any, vocabulary: set[str]) -> list[list[str]]:
    """The generation config's bad_words_ids as token sequences CTranslate2 can suppress.

    Sequences with a token the converted vocabulary lacks are dropped: Marian bans ``<pad>``,
    which the converter already removed.
    """
    sequences = []
    for ids in getattr(generation, "bad_words_ids", None) or []:
        tokens = tokenizer.convert_ids_to_tokens(list(ids))
        if all(t in vocabulary for t in tokens):
            sequences.append(tokens)
    return sequences
