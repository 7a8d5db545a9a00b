"""Translate segmented documents: length-sorted token-budget batches, splitting, flags.

Nothing is cut: a segment above the safety limit (in the model's own tokens) is split at clause
punctuation, then between words, then between characters inside a "word" longer than the limit
(see `mtsum.pieces`), and every piece is translated and joined back. Output bounds never pass
what the model's decoder can position (`mtsum.backends.within_positions`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mtsum._version import __version__
from mtsum.arabic import arabic_share
from mtsum.backends.base import GenerateOptions, Seq2Seq
from mtsum.errors import InputError
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


@dataclass(frozen=True, kw_only=True)
class TranslateOptions:
    """Translation settings; every field is recorded in the output signature.

    num_beams None means the model's own default (4 for opus-mt). Output length is bounded at
    ``length_ratio * input_tokens + length_slack`` tokens per segment.
    """

    num_beams: int | None = None
    batch_tokens: int = 1024
    max_segment_tokens: int = 200
    length_ratio: float = 2.0
    length_slack: int = 10
    untranslated_share: float = 0.1
    repetition_ratio: float = 3.0
    retry_no_repeat_ngram: int = 3

    def __post_init__(self) -> None:
        if self.num_beams is not None and self.num_beams < 1:
            raise InputError(f"beams must be at least 1, got {self.num_beams}")
        if self.max_segment_tokens < 8:
            raise InputError(
                f"max segment tokens must be at least 8, got {self.max_segment_tokens}"
            )
        if self.batch_tokens < self.max_segment_tokens:
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


@dataclass(frozen=True)
class _Piece:
    doc: int
    seg: int
    text: str
    tokens: int


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
        InputError: A document has no text.

    Example:
        >>> [doc] = translate(["مرحبا بكم."], load_translator())  # doctest: +SKIP
        >>> doc.paragraphs  # doctest: +SKIP
        ['Welcome.']
    """
    documents = []
    for i, text in enumerate(texts):
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
    """Translate already segmented documents; `translate` without the segmenting."""
    options = options or TranslateOptions()
    limit = min(options.max_segment_tokens, model.info.max_input_tokens)
    pieces = [
        _Piece(d, s, text, tokens)
        for d, segments in enumerate(documents)
        for s, seg in enumerate(segments)
        for text, tokens in _split(seg.text, model, limit)
    ]
    outputs = _run_batches(pieces, model, options, progress)
    first = _retry_repetitions(pieces, outputs, model, options)
    signature = translation_signature(model, options)
    results = []
    for d, segments in enumerate(documents):
        mine = [
            (p, out, first.get(i))
            for i, (p, out) in enumerate(zip(pieces, outputs, strict=True))
            if p.doc == d
        ]
        translated = [
            _assemble(seg, [item for item in mine if item[0].seg == s], options)
            for s, seg in enumerate(segments)
        ]
        results.append(
            DocumentTranslation(
                segments=tuple(translated),
                warnings=_document_warnings(segments),
                signature=signature,
            )
        )
    return results


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


def _run_batches(
    pieces: Sequence[_Piece],
    model: Seq2Seq,
    options: TranslateOptions,
    progress: Callable[[int, int], None] | None,
) -> list[str]:
    order = sorted(range(len(pieces)), key=lambda i: -pieces[i].tokens)
    total = sum(p.tokens for p in pieces)
    done = 0
    generate = replace(model.defaults, num_beams=options.num_beams or model.defaults.num_beams)
    outputs = [""] * len(pieces)
    for batch in _batches(order, pieces, options.batch_tokens):
        texts = [pieces[i].text for i in batch]
        bounds = [_bound(pieces[i].tokens, options) for i in batch]
        for i, out in zip(batch, _generate(model, texts, generate, bounds), strict=True):
            outputs[i] = out
        done += sum(pieces[i].tokens for i in batch)
        if progress is not None:
            progress(done, total)
    return outputs


def _retry_repetitions(
    pieces: Sequence[_Piece], outputs: list[str], model: Seq2Seq, options: TranslateOptions
) -> dict[int, str]:
    """Retranslate looping pieces once with no_repeat_ngram_size; returns their first outputs."""
    looping = [i for i, p in enumerate(pieces) if is_repetitive(outputs[i], p.tokens)]
    looping.sort(key=lambda i: -pieces[i].tokens)
    if not looping or options.retry_no_repeat_ngram <= 0:
        return {}
    settings = replace(
        model.defaults,
        num_beams=options.num_beams or model.defaults.num_beams,
        no_repeat_ngram_size=options.retry_no_repeat_ngram,
    )
    first = {i: outputs[i] for i in looping}
    for batch in _batches(looping, pieces, options.batch_tokens):
        texts = [pieces[i].text for i in batch]
        bounds = [_bound(pieces[i].tokens, options) for i in batch]
        for i, out in zip(batch, _generate(model, texts, settings, bounds), strict=True):
            outputs[i] = out
    return first


def _generate(
    model: Seq2Seq, texts: list[str], options: GenerateOptions, bounds: list[int]
) -> list[str]:
    capped = replace(options, min_new_tokens=0, max_new_tokens=max(bounds))
    return model.generate(texts, capped, max_new_tokens=bounds)


def _batches(order: list[int], pieces: Sequence[_Piece], budget: int) -> list[list[int]]:
    """Consecutive runs of the length-sorted order whose padded size fits the token budget."""
    batches: list[list[int]] = []
    for i in order:
        # Sorted longest first, so the first piece of a batch sets its padded width.
        if batches and pieces[batches[-1][0]].tokens * (len(batches[-1]) + 1) <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _assemble(
    seg: Segment, parts: list[tuple[_Piece, str, str | None]], options: TranslateOptions
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
