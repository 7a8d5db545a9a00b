"""Conversion of a transformers checkpoint for CTranslate2, into the mtsum cache.

Converted models live in ``<cache>/ct2/<name>--<revision>--<compute type>``. A conversion writes
into a temporary folder beside it and renames it into place, so a crash never leaves half a model
under the final name and two processes racing to convert end with one good copy. Beside the
weights it records (in `METADATA`) what running needs: the tokenizer (see `mtsum.backends.tokens`),
the generation defaults, the input and output limits, so `mtsum.backends.ct2` runs a converted
model without importing transformers or torch.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mtsum.backends.resolve import (
    ResolvedModel,
    check_checkpoint,
    read_json_object,
    repair_advice,
)
from mtsum.backends.tokens import describe as describe_tokenizer
from mtsum.errors import InputError, ModelError

__all__ = [
    "COMPUTE_TYPES",
    "METADATA",
    "SUPPORTED_MODEL_TYPES",
    "can_convert",
    "check_compute_type",
    "convert",
    "converted_path",
    "read_metadata",
    "remove_orphans",
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


def can_convert(resolved: ResolvedModel) -> bool:
    """True when the checkpoint's model type is one this backend runs (see SUPPORTED_MODEL_TYPES)
    and its tokenizer is one `mtsum.backends.tokens` rebuilds (not a Marian with separate
    vocabularies).

    Reads only ``config.json`` and ``tokenizer_config.json``; no model library is imported.
    """
    if _model_type(resolved) not in SUPPORTED_MODEL_TYPES:
        return False
    return not read_json_object(resolved.path / "tokenizer_config.json").get(
        "separate_vocabs", False
    )


def _model_type(resolved: ResolvedModel) -> str:
    return str(read_json_object(resolved.path / "config.json").get("model_type", ""))


def _config_readable(resolved: ResolvedModel) -> bool:
    # A damaged config.json says "type unknown": `check_checkpoint` names the damage instead.
    try:
        return isinstance(json.loads((resolved.path / "config.json").read_bytes()), dict)
    except (OSError, ValueError):
        return False


def check_compute_type(compute_type: str) -> str:
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
    return cache / "ct2" / f"{safe}--{revision}--{check_compute_type(compute_type)}"


def convert(resolved: ResolvedModel, *, compute_type: str, cache: Path) -> Path:
    """Convert a checkpoint with CTranslate2's Transformers converter, once, atomically.

    Args:
        resolved: The checkpoint on disk (see `mtsum.backends.resolve_model`).
        compute_type: Weight quantization, one of `COMPUTE_TYPES` (``int8`` on CPU).
        cache: The mtsum cache folder (see `mtsum.paths.cache_dir`).

    Returns:
        The converted model folder; an existing one is returned without converting.

    Raises:
        InputError: Unknown compute type.
        ModelError: The model type is not supported or the conversion failed.

    Example::

        opus = resolve_model("Helsinki-NLP/opus-mt-ar-en", role="translation", option="--mt-model")
        convert(opus, compute_type="int8", cache=cache_dir())
    """
    final = converted_path(resolved, compute_type=compute_type, cache=cache)
    if final.is_dir():
        if "runtime" not in read_metadata(final):
            _add_runtime(resolved, final)
        return final
    model_type = _model_type(resolved)
    if model_type not in SUPPORTED_MODEL_TYPES and _config_readable(resolved):
        raise ModelError(
            f"model {resolved.name} (type {model_type or 'unknown'}) cannot run on CTranslate2 "
            f"here (supported: {', '.join(sorted(SUPPORTED_MODEL_TYPES))}): use the "
            "transformers backend"
        )
    check_checkpoint(resolved)
    root = final.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_orphans(root)
        work = Path(
            tempfile.mkdtemp(dir=root, prefix=f".{final.name}.{os.getpid()}.", suffix=_TEMP_SUFFIX)
        )
    except OSError as exc:
        raise _unwritable(resolved, root, exc) from exc
    try:
        staged = work / "model"
        try:
            _convert_into(resolved.path, staged, compute_type)
            runtime = _runtime_record(resolved.path, staged, files=staged)
        except _Unreadable as exc:
            cause = exc.__cause__
            raise ModelError(
                f"model {resolved.name} at {resolved.path} could not be read "
                f"({type(cause).__name__}: {cause}): a file of it may be damaged: "
                f"{repair_advice(resolved)}"
            ) from cause
        except OSError as exc:
            if exc.errno in _CANNOT_WRITE:
                raise _unwritable(resolved, root, exc) from exc
            raise _not_converted(resolved, exc) from exc
        except (ValueError, RuntimeError, KeyError, AttributeError) as exc:
            raise _not_converted(resolved, exc) from exc
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


# A write that failed for want of room or permission: the cache folder, not the model, is at fault.
_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def _unwritable(resolved: ResolvedModel, root: Path, exc: OSError) -> ModelError:
    return ModelError(
        f"model {resolved.name} must be converted for CTranslate2, but the cache folder {root} "
        f"cannot be written ({exc.strerror or exc}): pass --cache-dir (or set MTSUM_CACHE_DIR) "
        "to a writable folder, or use --backend transformers, which converts nothing"
    )


def _not_converted(resolved: ResolvedModel, exc: Exception) -> ModelError:
    return ModelError(
        f"model {resolved.name} at {resolved.path} could not be converted to "
        f"CTranslate2 ({type(exc).__name__}: {exc}): use the transformers backend"
    )


class _Unreadable(Exception):
    """Transformers could not load the checkpoint for the converter (the cause is chained): the
    transformers backend would fail the same way."""


def _convert_into(source: Path, out: Path, compute_type: str) -> None:
    """Run the CTranslate2 converter from `source` into the new folder `out`."""
    import ctranslate2

    from mtsum.backends.hf import sacremoses_notice_hidden

    class Converter(ctranslate2.converters.TransformersConverter):
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            try:
                model = super().load_model(model_class, model_name_or_path, **kwargs)
            except Exception as exc:  # safetensors and sentencepiece raise their own types
                raise _Unreadable() from exc
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
            try:
                with sacremoses_notice_hidden():
                    return super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
            except Exception as exc:
                raise _Unreadable() from exc

    Converter(str(source)).convert(str(out), quantization=compute_type)


def _runtime_record(source: Path, converted: Path, *, files: Path) -> dict[str, Any]:
    """What loading needs besides the weights, worked out once with transformers.

    Loading then reads this record and the tokenizer files, which go into `files` (see
    `mtsum.backends.tokens`), so a converted model runs without importing transformers or torch.
    `converted` is the converted model (its target vocabulary decides what can be banned).
    """
    from transformers import AutoConfig, GenerationConfig

    from mtsum.backends.hf import (
        input_limit,
        load_hf_tokenizer,
        model_defaults,
        output_limit,
        task_prefix,
    )

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


def read_metadata(path: Path) -> dict[str, Any]:
    return read_json_object(path / METADATA)


def _add_runtime(resolved: ResolvedModel, final: Path) -> None:
    """Complete a conversion made by an older mtsum, whose record lacks the runtime part.

    The tokenizer files are written aside and renamed in, then the record, so a reader (who
    looks at the files only once the record has its runtime part) never sees half a file; two
    processes doing this at once rename the same bytes.
    """
    check_checkpoint(resolved)
    try:
        staging = Path(
            tempfile.mkdtemp(dir=final, prefix=f".runtime.{os.getpid()}.", suffix=".tmp")
        )
    except OSError as exc:
        raise _unwritable(resolved, final, exc) from exc
    try:
        try:
            runtime = _runtime_record(resolved.path, final, files=staging)
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
            json.dumps({**read_metadata(final), "runtime": runtime}, indent=2), encoding="utf-8"
        )
        os.replace(record, final / METADATA)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_orphans(root: Path) -> None:
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
