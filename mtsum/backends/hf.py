"""The transformers backend: a `Seq2Seq` over an HF model and tokenizer (imported lazily).

Nothing here silences a library for good: a loader mutes one known, irrelevant warning while it
runs (`sacremoses_notice_hidden`); the CLI mutes the rest for the length of a command.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mtsum.backends.base import GenerateOptions, ModelInfo, within_positions
from mtsum.backends.resolve import ResolvedModel, check_checkpoint, repair_advice
from mtsum.errors import ModelError

__all__ = [
    "HFSeq2Seq",
    "count_tokens",
    "generate_kwargs",
    "input_limit",
    "load_hf",
    "load_hf_tokenizer",
    "model_defaults",
    "output_limit",
    "sacremoses_notice_hidden",
    "task_prefix",
]


def count_tokens(tokenizer: Any, texts: Sequence[str], *, prefix: str) -> list[int]:
    """Input length of each text in `tokenizer`'s tokens, prefix and special tokens included.

    Both backends measure with the HF tokenizer, so splitting and chunking do not depend on the
    backend.
    """
    prefixed = [prefix + t for t in texts]
    # verbose=False: measuring an over-long text is how it gets split, not an error.
    return [len(ids) for ids in tokenizer(prefixed, verbose=False)["input_ids"]]


class HFSeq2Seq:
    """Batch generation with `model.generate` under `torch.inference_mode`."""

    def __init__(
        self, model: Any, tokenizer: Any, *, info: ModelInfo, defaults: GenerateOptions
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.defaults = defaults

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return count_tokens(self.tokenizer, texts, prefix=self.info.prefix)

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        import torch

        if not texts:
            return []
        batch = self.tokenizer(
            [self.info.prefix + t for t in texts], return_tensors="pt", padding=True
        ).to(self.model.device)
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        max_new_tokens = within_positions(self.info, lengths, max_new_tokens)
        with torch.inference_mode():
            out = self.model.generate(
                **batch, **generate_kwargs(options, max_new_tokens=max(max_new_tokens))
            )
        # The batch runs to its longest bound; cut each row to its own bound so an output never
        # depends on its batch neighbours.
        bounds = zip(out.tolist(), max_new_tokens, strict=True)
        rows = [ids[1 : 1 + limit] for ids, limit in bounds]
        return self.tokenizer.batch_decode(rows, skip_special_tokens=True)


def generate_kwargs(options: GenerateOptions, *, max_new_tokens: int) -> dict[str, Any]:
    """The decoding arguments `model.generate` gets, each length bound in one form only.

    Lengths count generated tokens (``min_new_tokens``/``max_new_tokens``), never
    ``min_length``/``max_length``; `load_hf` clears the model's own pair, so transformers never
    sees both forms (it logs "Both `min_new_tokens` and `min_length` seem to have been set" on
    every batch when it does).

    Example:
        >>> kwargs = generate_kwargs(GenerateOptions(min_new_tokens=4), max_new_tokens=9)
        >>> kwargs["min_new_tokens"], kwargs["max_new_tokens"], "max_length" in kwargs
        (4, 9, False)
    """
    # Beam-only settings passed to greedy search make transformers warn on every batch.
    beam = (
        {"length_penalty": options.length_penalty, "early_stopping": True}
        if options.num_beams > 1
        else {}
    )
    return {
        "num_beams": options.num_beams,
        "no_repeat_ngram_size": options.no_repeat_ngram_size,
        "repetition_penalty": options.repetition_penalty,
        # As CTranslate2's backend does: a minimum never passes the bound.
        "min_new_tokens": min(options.min_new_tokens, max_new_tokens),
        "max_new_tokens": max_new_tokens,
        "do_sample": False,
        **beam,
    }


@contextmanager
def sacremoses_notice_hidden() -> Iterator[None]:
    """Hide MarianTokenizer's "Recommended: pip install sacremoses." while a tokenizer is built.

    The notice is for a Moses punctuation normalizer that MarianTokenizer's tokenizing never
    calls (transformers 5): the tokens are the same with or without sacremoses, so mtsum
    neither needs it nor shows the notice. Only that message is filtered, and only until exit.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
        yield


def load_hf_tokenizer(path: Path) -> Any:
    """The checkpoint's own tokenizer (never remote code), as both backends read it."""
    from transformers import AutoTokenizer

    with sacremoses_notice_hidden():
        return AutoTokenizer.from_pretrained(path, trust_remote_code=False)


def input_limit(config: Any, tokenizer: Any) -> int:
    """The longest input in tokens: the smaller of the model's positions and the tokenizer's
    ``model_max_length`` (which transformers sets to a huge number when it is unknown)."""
    limits = [getattr(config, "max_position_embeddings", None), tokenizer.model_max_length]
    return min(int(v) for v in limits if v is not None and 0 < int(v) < 1_000_000)


def output_limit(config: Any) -> int | None:
    """The longest output in tokens: the decoder's positions less one for its start token (None
    when the config names no positions, as for T5's relative ones).

    Transformers fails with ``IndexError`` and CTranslate2 with "No position encodings are
    defined" one token past the positions; the start token's slot is left as a margin.

    Example:
        >>> from types import SimpleNamespace
        >>> output_limit(SimpleNamespace(max_position_embeddings=1024))
        1023
    """
    positions = getattr(config, "max_position_embeddings", None)
    return int(positions) - 1 if positions is not None and int(positions) > 1 else None


def task_prefix(config: Any, task: str) -> str:
    """A T5-style input prefix from ``task_specific_params`` (``""`` for Marian and BART)."""
    specific = (getattr(config, "task_specific_params", None) or {}).get(task) or {}
    return str(specific.get("prefix") or "")


def model_defaults(config: Any, generation: Any, *, task: str) -> GenerateOptions:
    """The model's own generation settings, task-specific ones (e.g. summarization) first."""
    specific = (getattr(config, "task_specific_params", None) or {}).get(task, {})

    def pick(name: str, fallback: Any) -> Any:
        value = specific.get(name, getattr(generation, name, None))
        return fallback if value is None else value

    max_length = pick("max_length", 512 if task == "translation" else 142)
    min_length = pick("min_length", 0)
    return GenerateOptions(
        num_beams=int(pick("num_beams", 4)),
        length_penalty=float(pick("length_penalty", 1.0)),
        no_repeat_ngram_size=int(pick("no_repeat_ngram_size", 0)),
        repetition_penalty=float(pick("repetition_penalty", 1.0)),
        min_new_tokens=max(0, int(min_length) - 1),
        # max_length counts the decoder start token; max_new_tokens does not.
        max_new_tokens=max(1, int(max_length) - 1),
    )


def load_hf(resolved: ResolvedModel, *, task: str, device: str, threads: int | None) -> HFSeq2Seq:
    """Load tokenizer and model from a resolved local checkpoint (never remote code)."""
    import torch
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    if threads is not None:
        torch.set_num_threads(threads)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            f"{task} model {resolved.name}: --device cuda, but PyTorch sees no CUDA device here; "
            "use --device cpu (or auto)"
        )
    from safetensors import SafetensorError

    check_checkpoint(resolved, role=task)
    try:
        config = AutoConfig.from_pretrained(resolved.path, trust_remote_code=False)
        tokenizer = load_hf_tokenizer(resolved.path)
        model = AutoModelForSeq2SeqLM.from_pretrained(
            resolved.path, trust_remote_code=False, use_safetensors=_has_safetensors(resolved)
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as exc:
        # sentencepiece says RuntimeError for a cut .spm, safetensors its own error for cut weights.
        raise ModelError(
            f"{task} model {resolved.name} at {resolved.path} could not be loaded "
            f"({type(exc).__name__}: {exc}): a file of it may be damaged: "
            f"{repair_advice(resolved)}"
        ) from exc
    model.to(device).eval()
    # Every call passes min_new_tokens and max_new_tokens (see generate_kwargs); the model's own
    # min_length/max_length would contradict them, and transformers warns on every batch about
    # any that is not None (its "unset"), 0 included.
    model.generation_config.max_length = None
    model.generation_config.min_length = None
    # A forced EOS at the length bound depends on the bound of the whole batch, so a row would
    # differ between batched and single runs; rows are cut to their own bound instead.
    model.generation_config.forced_eos_token_id = None
    info = ModelInfo(
        name=resolved.name,
        revision=resolved.revision,
        path=str(resolved.path),
        backend="transformers",
        compute_type=str(model.dtype).removeprefix("torch."),
        max_input_tokens=input_limit(config, tokenizer),
        prefix=task_prefix(config, task),
        max_output_tokens=output_limit(config),
    )
    defaults = model_defaults(config, model.generation_config, task=task)
    return HFSeq2Seq(model, tokenizer, info=info, defaults=defaults)


def _has_safetensors(resolved: ResolvedModel) -> bool | None:
    # None lets transformers pick pickled weights when that is all a checkpoint has.
    return True if any(resolved.path.glob("*.safetensors")) else None
