"""The interface every stage sees, and the records that describe a model.

A stage never touches torch or transformers: it takes a `Seq2Seq`, something that counts tokens and
generates text for a batch of strings. `mtsum.backends.load_translator` and `load_summarizer` build
one from a hub name or a local directory; tests and users may pass any object with the same three
members (see `FunctionModel`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mtsum.errors import InputError, ModelError

__all__ = [
    "DEFAULT_MT_MODEL",
    "DEFAULT_SUM_MODEL",
    "FunctionModel",
    "GenerateOptions",
    "ModelInfo",
    "Seq2Seq",
    "within_positions",
]

DEFAULT_MT_MODEL = "Helsinki-NLP/opus-mt-ar-en"
DEFAULT_SUM_MODEL = "sshleifer/distilbart-cnn-12-6"


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
    """A text-to-text model as the stages see it.

    A model may also offer ``workers`` (how many batches it runs at once) and
    ``generate_batches(texts, options, *, max_new_tokens, batches, done=None)``, which takes a
    whole workload already cut into batches; `mtsum.generation.generate` then hands it every
    batch in one call (the CTranslate2 backend, and the translation cache in front of it, do).
    """

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
        if isinstance(outputs, str) or not isinstance(outputs, Sequence):
            raise ModelError(
                f"{self.name}: returned {type(outputs).__name__}, not a list of outputs"
            )
        if len(outputs) != len(texts):
            raise ModelError(
                f"{self.name}: returned {len(outputs)} outputs for {len(texts)} inputs"
            )
        return outputs
