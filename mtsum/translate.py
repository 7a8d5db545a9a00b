"""Translate segmented documents: splitting, length-sorted token-budget batches, flags.

Nothing is cut: a segment above the safety limit (in the model's own tokens) is split at clause
punctuation, then between words, then between characters inside a "word" longer than the limit
(see `mtsum.pieces`), and every piece is translated and joined back. The pieces of all documents
go to the model together, longest first, in batches of at most ``batch_tokens`` padded tokens
(`mtsum.generation`, which summarization uses too). Each piece's output is bounded by its own
length (``length_ratio * tokens + length_slack``; with beam search rounded up to a few steps,
so that a piece's output never depends on which pieces share its batch: see
`mtsum.generation.beam_bound`), never past what the model's decoder can position
(`mtsum.backends.base.within_positions`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mtsum._version import __version__
from mtsum.arabic import arabic_share
from mtsum.backends.base import GenerateOptions, Seq2Seq
from mtsum.errors import InputError, texts_arg
from mtsum.generation import Request, beam_bound, generate
from mtsum.limits import MAX_BEAMS, check_range
from mtsum.pieces import split_to_fit
from mtsum.signature import Signature
from mtsum.textprep import Segment, segment

__all__ = [
    "DocumentTranslation",
    "TranslateOptions",
    "TranslatedSegment",
    "translate",
    "translate_segments",
    "translation_signature",
]

# The default batch budget times the beams (see `TranslateOptions`).
_HYPOTHESIS_TOKENS = 6144


@dataclass(frozen=True, kw_only=True)
class TranslateOptions:
    """Translation settings; those that change outputs are recorded in the output signature.

    num_beams None means the model's own default (4 for opus-mt); at most `MAX_BEAMS`. Output
    length is bounded at ``length_ratio * input_tokens + length_slack`` tokens per piece (with
    beams, rounded up to a multiple of 64: `mtsum.generation.beam_bound`). A segment over
    ``max_segment_tokens`` (or the model's input limit) is split into pieces within it.

    ``batch_tokens`` is the most padded tokens a batch holds: its longest piece times its number
    of pieces (`mtsum.generation`); CTranslate2 runs a batch on each of its workers at once.
    None: 6,144 divided by the beams (1,536 at opus-mt's 4 beams, 6,144 greedy), never below
    ``max_segment_tokens``. A batch's memory and decoding work grow with its padded tokens times
    its beams, which the default keeps level whatever the beams. At 4 beams it holds 16
    sentences of up to 96 tokens: raw CTranslate2's fastest batch in ``bench/speed.py`` (of 8,
    16 and 32), and there the 17 longest segments (61-88 tokens, one bound) make one batch
    where 1,024 made two. Greedy decoding runs faster in bigger batches (64 segments in 2
    batches instead of 4 took 0.6 of the time, on 2 cores).
    """

    num_beams: int | None = None
    batch_tokens: int | None = None
    max_segment_tokens: int = 200
    length_ratio: float = 2.0
    length_slack: int = 10
    untranslated_share: float = 0.1
    repetition_ratio: float = 3.0
    retry_no_repeat_ngram: int = 3

    def __post_init__(self) -> None:
        check_range("beams", self.num_beams, 1, MAX_BEAMS)
        if self.max_segment_tokens < 8:
            raise InputError(
                f"max segment tokens must be at least 8, got {self.max_segment_tokens}"
            )
        if self.batch_tokens is not None and self.batch_tokens < self.max_segment_tokens:
            raise InputError(
                f"batch token budget {self.batch_tokens} is below the segment limit "
                f"{self.max_segment_tokens}"
            )


@dataclass(frozen=True, kw_only=True)
class TranslatedSegment:
    """One source sentence and its English translation."""

    source: str
    text: str
    paragraph: int
    sentence: int
    start: int
    end: int
    pieces: int
    flags: tuple[str, ...]
    retry: str | None = None
    first_output: str | None = None


@dataclass(frozen=True, kw_only=True)
class DocumentTranslation:
    """A whole document: its segments in order, warnings, and the signature that made it."""

    segments: tuple[TranslatedSegment, ...]
    warnings: tuple[str, ...]
    signature: Signature

    @property
    def paragraphs(self) -> list[str]:
        """English paragraphs, in source order (a paragraph's sentences joined by a space)."""
        return _join_paragraphs(self.segments, lambda s: s.text)

    @property
    def source_paragraphs(self) -> list[str]:
        """Arabic paragraphs, in the same order and numbering as `paragraphs`."""
        return _join_paragraphs(self.segments, lambda s: s.source)


def _join_paragraphs(
    segments: Sequence[TranslatedSegment], text: Callable[[TranslatedSegment], str]
) -> list[str]:
    paragraphs: dict[int, list[str]] = {}
    for seg in segments:
        paragraphs.setdefault(seg.paragraph, []).append(text(seg))
    return [" ".join(parts) for _, parts in sorted(paragraphs.items())]


def translation_signature(model: Seq2Seq, options: TranslateOptions) -> Signature:
    """Everything that decides a translation, as a `Signature`."""
    info = model.info
    beams = options.num_beams or model.defaults.num_beams
    return Signature.of(
        ("mt", f"{info.name}@{info.revision}"),
        ("backend", info.backend),
        ("ct", info.compute_type),
        ("beams", beams),
        ("len", f"{options.length_ratio}x+{options.length_slack}"),
        ("split", options.max_segment_tokens),
        ("retry-nrng", options.retry_no_repeat_ngram),
        ("mtsum", __version__),
    )


def translate(
    texts: Sequence[str],
    model: Seq2Seq,
    *,
    options: TranslateOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DocumentTranslation]:
    """Segment and translate one or many Arabic documents, batched across documents.

    Args:
        texts: Each document's text (normalized and segmented here, see `mtsum.segment`).
        model: A translation `Seq2Seq` (see `load_translator`).
        options: Batching, splitting, length and flag settings.
        progress: Called after each batch with (source tokens done, source tokens in all).

    Returns:
        One `DocumentTranslation` per document, segments in their original order.

    Raises:
        TypeError: `texts` is a single str (pass ``[text]``), or not a sequence.
        InputError: A document is not a str, or has no text.
        ModelError: The model returned another number of outputs, or one that is not a str.

    Example:
        A plain function stands in for `load_translator()`'s model:

        >>> from mtsum.backends.base import FunctionModel
        >>> mt = FunctionModel(lambda xs: [{"مرحبا بكم.": "Welcome."}[x] for x in xs])
        >>> [doc] = translate(["مرحبا بكم."], mt)
        >>> doc.paragraphs, doc.segments[0].source
        (['Welcome.'], 'مرحبا بكم.')
    """
    documents = []
    for i, text in enumerate(texts_arg(texts, "texts")):
        segments = segment(text)
        if not segments:
            raise InputError(f"document {i} has no text to translate")
        documents.append(segments)
    return translate_segments(documents, model, options=options, progress=progress)


def translate_segments(
    documents: Sequence[Sequence[Segment]],
    model: Seq2Seq,
    *,
    options: TranslateOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DocumentTranslation]:
    """Translate already segmented documents; `translate` without the segmenting.

    Raises:
        TypeError: `documents`, or one of them, is a str: pass ``[mtsum.segment(text)]``.
    """
    for i, segments in enumerate([documents] if isinstance(documents, str) else documents):
        if isinstance(segments, str):
            where = "documents" if segments is documents else f"documents[{i}]"
            raise TypeError(
                f"{where} is a str; pass a list of segmented documents: [segment(text)]"
            )
    options = options or TranslateOptions()
    limit = min(options.max_segment_tokens, model.info.max_input_tokens)
    beams = options.num_beams or model.defaults.num_beams
    settings = replace(model.defaults, num_beams=beams, min_new_tokens=0)
    owners: list[tuple[int, int]] = []  # (document, segment) of each request
    requests: list[Request] = []
    for d, segments in enumerate(documents):
        for s, seg in enumerate(segments):
            for text, tokens in _split(seg.text, model, limit):
                owners.append((d, s))
                bound = beam_bound(_bound(tokens, options), settings)
                requests.append(Request(text=text, tokens=tokens, bound=bound))
    budget = options.batch_tokens or max(_HYPOTHESIS_TOKENS // beams, options.max_segment_tokens)
    outputs = generate(model, requests, settings, batch_tokens=budget, progress=progress)
    first = _retry_repetitions(requests, outputs, model, settings, budget, options)
    parts: dict[tuple[int, int], list[tuple[Request, str, str | None]]] = {}
    for i, (owner, request, out) in enumerate(zip(owners, requests, outputs, strict=True)):
        parts.setdefault(owner, []).append((request, out, first.get(i)))
    signature = translation_signature(model, options)
    return [
        DocumentTranslation(
            segments=tuple(
                _assemble(seg, parts.get((d, s), []), options) for s, seg in enumerate(segments)
            ),
            warnings=_document_warnings(segments),
            signature=signature,
        )
        for d, segments in enumerate(documents)
    ]


def _document_warnings(segments: Sequence[Segment]) -> tuple[str, ...]:
    share = arabic_share(" ".join(s.text for s in segments))
    if share < 0.5:
        return (f"only {share:.0%} of the letters are Arabic; translated anyway",)
    return ()


def _split(text: str, model: Seq2Seq, limit: int) -> list[tuple[str, int]]:
    """Pieces of `text` each within `limit` tokens (see `mtsum.pieces`): the text itself when it
    fits, else cut at clause punctuation, then words, then characters."""
    (tokens,) = model.count_tokens([text])
    if tokens <= limit:
        return [(text, tokens)]
    return [(p.text, p.tokens) for p in split_to_fit(text, model.count_tokens, limit)]


def _bound(tokens: int, options: TranslateOptions) -> int:
    return math.ceil(options.length_ratio * tokens) + options.length_slack


def _retry_repetitions(
    requests: Sequence[Request],
    outputs: list[str],
    model: Seq2Seq,
    settings: GenerateOptions,
    budget: int,
    options: TranslateOptions,
) -> dict[int, str]:
    """Retranslate looping pieces once with no_repeat_ngram_size; returns their first outputs."""
    looping = [i for i, r in enumerate(requests) if is_repetitive(outputs[i], r.tokens)]
    if not looping or options.retry_no_repeat_ngram <= 0:
        return {}
    retry = replace(settings, no_repeat_ngram_size=options.retry_no_repeat_ngram)
    first = {i: outputs[i] for i in looping}
    again = generate(model, [requests[i] for i in looping], retry, batch_tokens=budget)
    for i, out in zip(looping, again, strict=True):
        outputs[i] = out
    return first


def _assemble(
    seg: Segment, parts: list[tuple[Request, str, str | None]], options: TranslateOptions
) -> TranslatedSegment:
    text = " ".join(out.strip() for _, out, _ in parts).strip()
    tokens = sum(p.tokens for p, _, _ in parts)
    retried = any(f is not None for _, _, f in parts)
    flags = list(_flags(seg.text, text, tokens, options))
    if retried:
        # Keep both facts: the first attempt looped, and whether the retry still does.
        if "repetition" in flags:
            flags[flags.index("repetition")] = "repetition_after_retry"
        flags.insert(0, "repetition")
    first_output = " ".join((f if f is not None else out).strip() for _, out, f in parts)
    return TranslatedSegment(
        source=seg.text,
        text=text,
        paragraph=seg.paragraph,
        sentence=seg.sentence,
        start=seg.start,
        end=seg.end,
        pieces=len(parts),
        flags=tuple(flags),
        retry=f"no_repeat_ngram_size={options.retry_no_repeat_ngram}" if retried else None,
        first_output=first_output.strip() if retried else None,
    )


def _flags(
    source: str, output: str, source_tokens: int, options: TranslateOptions
) -> tuple[str, ...]:
    flags = []
    if arabic_share(source) > 0 and arabic_share(output) > options.untranslated_share:
        flags.append("untranslated")
    if is_repetitive(output, source_tokens, ratio=options.repetition_ratio):
        flags.append("repetition")
    return tuple(flags)


def is_repetitive(output: str, source_tokens: int, *, ratio: float = 3.0) -> bool:
    """True when an n-gram (n <= 4) loops three times in a row, or the output is far too long."""
    words = output.split()
    if len(words) > ratio * max(source_tokens, 1) + 10:
        return True
    for n in range(1, 5):
        for i in range(len(words) - 2 * n):
            gram = words[i : i + n]
            # "very very very" happens in real prose; single words must loop four times.
            repeats = 3 if n > 1 else 4
            if all(words[i + k * n : i + (k + 1) * n] == gram for k in range(1, repeats)):
                return True
    return False
