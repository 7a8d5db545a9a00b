"""Summarize English documents; map-reduce over chunks when one is too long for the model.

Nothing is truncated. A document longer than the model's input limit (in the model's own tokens,
less a margin) is cut into chunks at paragraph boundaries, at sentence boundaries inside a paragraph
that alone is too long, and only inside a sentence that alone is too long at clause punctuation,
words, then characters (`mtsum.pieces`, which translation uses too). Each chunk is summarized; the
chunk summaries, each taken as a paragraph, are chunked and summarized again until one input holds
them all::

    round 1   paragraphs of the document ──chunk──▶ c0 c1 c2 ──generate──▶ s0 s1 s2
    round 2   s0 s1 s2 as paragraphs     ──chunk──▶ c0       ──generate──▶ the summary

The `Chunking` record of every `Summary` lists each round's chunks: the sentences they hold (by
paragraph and sentence index, with character offsets), their token counts and their summaries.

Lengths stay within what the model can write and map-reduce always ends:

- a requested length above the decoder's positions (``max_output_tokens``, 1,023 tokens for
  BART) is lowered to it, with a warning in `Chunking.warnings` that names the limit;
- a map round's summaries get at most half a chunk each, so two fit in one chunk of the next
  round; a round whose summaries still come to as many tokens as they summarize (a model that
  writes long, or text that tokenizes longer when read back) runs again with half that bound,
  noted in the warnings, until the summaries shrink.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mtsum._version import __version__
from mtsum.backends.base import GenerateOptions, Seq2Seq
from mtsum.errors import InputError, ModelError, OptionError
from mtsum.generation import Request, generate
from mtsum.limits import MAX_BEAMS, MAX_WORDS, check_range
from mtsum.pieces import pack, split_to_fit
from mtsum.signature import Signature
from mtsum.textprep import split_sentences

__all__ = [
    "LEVEL_BEAMS",
    "PRESETS",
    "TOKENS_PER_WORD",
    "Chunk",
    "Chunking",
    "Round",
    "Span",
    "SummarizeOptions",
    "Summary",
    "beam_budget",
    "generation_settings",
    "summarize",
    "summary_signature",
]

# Word bounds are turned into token bounds with this factor: BART's byte-level BPE spends about
# 1.3-1.4 tokens per word of English news (distilbart-cnn's 56-142 tokens are ~40-100 words).
TOKENS_PER_WORD = 1.4
# Summarization's batch budget holds for up to this many beams, and shrinks in proportion above.
LEVEL_BEAMS = 4
# (min words, max words); "medium" is about distilbart-cnn's own 56-142 tokens.
PRESETS: dict[str, tuple[int, int]] = {"short": (20, 50), "medium": (40, 100), "long": (80, 200)}


@dataclass(frozen=True, kw_only=True)
class SummarizeOptions:
    """Summary length, beams and chunking; those that change outputs are in the output signature
    (batching only decides which inputs share a call).

    Lengths: ``preset`` gives word bounds (see `PRESETS`), ``min_words``/``max_words`` override
    it, and whatever is left unset comes from the model's config. Words become tokens at
    `TOKENS_PER_WORD`, so word bounds are approximate (at most `MAX_WORDS`; a minimum above the
    maximum is an `OptionError`). ``num_beams`` None keeps the model's default; at most
    `MAX_BEAMS`.

    Chunking: a chunk holds at most ``max_input_tokens`` (None: the model's limit) minus
    ``margin`` tokens. Raising ``max_input_tokens`` above the model's limit only suits models with
    relative positions (T5); BART has 1,024 positions.

    Batching: a batch holds at most ``batch_size`` chunks and ``batch_tokens`` padded tokens,
    its longest chunk times its number of chunks (`mtsum.generation`, as for translation); a
    chunk over the budget goes alone. Memory grows with the tokens in flight times the beams,
    and CTranslate2 runs a batch on each of its workers at once (peak memory of a whole
    ``mtsum summarize``: bench/README.md, Speed). The default, 2,560, holds two chunks of
    BART's full length or three ~500-word news articles (~700 tokens; 3 is raw CTranslate2's
    fastest batch in ``bench/speed.py``). At 3,072 the seed's nine chunks of 880-990 tokens
    (random weights) ran three a batch, and the summarizing step alone peaked at about 1.0 GB.
    The budget is for up to `LEVEL_BEAMS` beams; above that it shrinks in proportion (at 8 beams
    half of it), so the tokens in flight times the beams stay level, as in translation.
    """

    preset: str | None = None
    min_words: int | None = None
    max_words: int | None = None
    num_beams: int | None = None
    margin: int = 24
    max_input_tokens: int | None = None
    batch_size: int = 8
    batch_tokens: int = 2560

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in PRESETS:
            raise InputError(f"length preset {self.preset!r} is not one of {', '.join(PRESETS)}")
        check_range("max words", self.max_words, 1, MAX_WORDS)
        check_range("min words", self.min_words, 0, MAX_WORDS)
        low, high = self.word_bounds
        if low is not None and high is not None and low > high:
            raise OptionError(
                f"min words {low}{self._source('min_words')} exceeds max words "
                f"{high}{self._source('max_words')}; lower the minimum or raise the maximum"
            )
        check_range("beams", self.num_beams, 1, MAX_BEAMS)
        if self.margin < 0:
            raise InputError(f"margin must be 0 or more tokens, got {self.margin}")
        if self.max_input_tokens is not None and self.max_input_tokens < 1:
            raise InputError(f"max input tokens must be at least 1, got {self.max_input_tokens}")
        if self.batch_size < 1:
            raise InputError(f"batch size must be at least 1, got {self.batch_size}")
        if self.batch_tokens < 1:
            raise InputError(f"batch tokens must be at least 1, got {self.batch_tokens}")

    @property
    def word_bounds(self) -> tuple[int | None, int | None]:
        """(min words, max words) from the preset and the explicit fields; None where unset."""
        low, high = PRESETS[self.preset] if self.preset is not None else (None, None)
        low = self.min_words if self.min_words is not None else low
        high = self.max_words if self.max_words is not None else high
        return low, high

    def _source(self, name: str) -> str:
        return f" (preset {self.preset})" if getattr(self, name) is None else ""


@dataclass(frozen=True, kw_only=True)
class Span:
    """A sentence of one round's input, or a piece of it when it alone is too long.

    ``paragraph`` indexes the round's input paragraphs: the document's paragraphs in round 1, the
    previous round's chunks after that. ``start``/``end`` are character offsets into it.
    """

    paragraph: int
    sentence: int
    start: int
    end: int
    cut: bool = False  # a piece of a sentence cut inside (see `mtsum.pieces`), a last resort


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """One model input: consecutive sentences (whole paragraphs where they fit) and its output."""

    paragraphs: tuple[int, ...]
    spans: tuple[Span, ...]
    tokens: int
    summary: str


@dataclass(frozen=True, kw_only=True)
class Round:
    """One pass of the model over a document's chunks, with the length bounds it ran under."""

    chunks: tuple[Chunk, ...]
    min_new_tokens: int
    max_new_tokens: int


@dataclass(frozen=True, kw_only=True)
class Chunking:
    """How a document was summarized: one round when it fit, more when it needed map-reduce."""

    limit: int
    rounds: tuple[Round, ...]
    # What a reader should know: a length lowered to the model's limit, a round run again.
    warnings: tuple[str, ...] = ()

    @property
    def cut_sentences(self) -> int:
        """How many sentences were cut inside (0 unless a sentence alone exceeds the limit)."""
        return len({(r, s.paragraph, s.sentence) for r, s in self._spans() if s.cut})

    def _spans(self) -> list[tuple[int, Span]]:
        return [(r, s) for r, rnd in enumerate(self.rounds) for c in rnd.chunks for s in c.spans]


@dataclass(frozen=True, kw_only=True)
class Summary:
    """A document's summary, its English sentences, how it was chunked, and what made it."""

    text: str
    sentences: tuple[str, ...]
    chunking: Chunking
    signature: Signature

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the summary's reader should know (see `Chunking.warnings`)."""
        return self.chunking.warnings


@dataclass(frozen=True)
class _Input:
    """A chunk as the model reads it: its text and tokens, and the spans it holds."""

    text: str
    tokens: int
    spans: tuple[Span, ...]


def generation_settings(model: Seq2Seq, options: SummarizeOptions) -> GenerateOptions:
    """The model's generation defaults with the options' beams and length bounds applied.

    Lengths above what the model can write (``model.info.max_output_tokens``) are lowered to it;
    `summarize` records a warning when they are.

    Raises:
        InputError: A minimum set alone exceeds the model's own maximum length.
    """
    return _lengths(model, options)[0]


def _lengths(model: Seq2Seq, options: SummarizeOptions) -> tuple[GenerateOptions, tuple[str, ...]]:
    """`generation_settings`, and a warning when a length was lowered to the model's limit."""
    defaults = model.defaults
    low, high = options.word_bounds
    # Rounding apart keeps min <= max when both come from the same number of words.
    high_tokens = math.ceil(high * TOKENS_PER_WORD) if high is not None else defaults.max_new_tokens
    if low is None:
        low_tokens = min(defaults.min_new_tokens, high_tokens)
    else:
        low_tokens = math.floor(low * TOKENS_PER_WORD)
        if low_tokens > high_tokens:
            raise OptionError(
                f"min words {low} (~{low_tokens} tokens) exceeds the model's maximum summary "
                f"length of {high_tokens} tokens; pass max words as well"
            )
    warnings: tuple[str, ...] = ()
    most = model.info.max_output_tokens
    if most is not None and high_tokens > most:
        # Past its positions a decoder fails; a shorter summary is what the request can get.
        asked = (
            f"max words {high} (~{high_tokens} tokens)"
            if high is not None
            else f"the model's maximum summary length of {high_tokens} tokens"
        )
        lowered = f"; min words {low} (~{low_tokens} tokens) too" if low_tokens > most else ""
        warnings = (
            f"{asked} is more than {model.info.name} can write: at most {most} tokens "
            f"(~{math.floor(most / TOKENS_PER_WORD)} words), so summaries are held to "
            f"{most} tokens{lowered}",
        )
        high_tokens, low_tokens = most, min(low_tokens, most)
    settings = replace(
        defaults,
        num_beams=options.num_beams or defaults.num_beams,
        min_new_tokens=low_tokens,
        max_new_tokens=high_tokens,
    )
    return settings, warnings


def _chunk_limit(model: Seq2Seq, options: SummarizeOptions) -> int:
    return (options.max_input_tokens or model.info.max_input_tokens) - options.margin


def summary_signature(model: Seq2Seq, options: SummarizeOptions) -> Signature:
    """Everything that decides a summary, as a `Signature`."""
    info = model.info
    g = generation_settings(model, options)
    return Signature.of(
        ("sum", f"{info.name}@{info.revision}"),
        ("backend", info.backend),
        ("ct", info.compute_type),
        ("beams", g.num_beams),
        ("lp", g.length_penalty),
        ("nrng", g.no_repeat_ngram_size),
        ("rp", g.repetition_penalty),
        ("len", f"{g.min_new_tokens}-{g.max_new_tokens}tok"),
        ("chunk", _chunk_limit(model, options)),
        ("mtsum", __version__),
    )


def summarize(
    documents: Sequence[Sequence[str]],
    model: Seq2Seq,
    *,
    options: SummarizeOptions | None = None,
) -> list[Summary]:
    """Summarize English documents, each given as its paragraphs, batched across documents.

    All chunks of one round, across documents, go to the model together (longest first, in
    batches within ``options.batch_size`` and ``options.batch_tokens``). A document stops when
    its round had a single chunk.

    Args:
        documents: Each document's English paragraphs, in order; blank paragraphs are skipped
            but keep their index.
        model: A summarization `Seq2Seq` (see `mtsum.load_summarizer`).
        options: Length, beams and chunking settings.

    Returns:
        One `Summary` per document, in input order.

    Raises:
        InputError: A document is a plain string or has no text, or an option is unusable.
        ModelError: A summary, or all chunk summaries of a round, come back empty, or they do
            not get shorter even when held to one token each (a model that ignores its length
            bound).

    Example:
        A stand-in model that keeps each input's first sentence, and chunks of at most 20 of its
        tokens (a text's words, plus one): each paragraph is summarized alone, then the two
        summaries together.

        >>> from mtsum.backends.base import FunctionModel
        >>> lead = FunctionModel(lambda xs: [x.split(". ")[0].rstrip(".") + "." for x in xs])
        >>> paragraphs = ["The river rose two metres on Monday. Roads were shut.",
        ...               "Schools closed for the week. Parents were told by text."]
        >>> options = SummarizeOptions(max_input_tokens=20, margin=0)
        >>> [s] = summarize([paragraphs], lead, options=options)
        >>> for r in s.chunking.rounds:
        ...     print([c.summary for c in r.chunks])
        ['The river rose two metres on Monday.', 'Schools closed for the week.']
        ['The river rose two metres on Monday.']
        >>> s.sentences
        ('The river rose two metres on Monday.',)
    """
    options = options or SummarizeOptions()
    final, notes = _lengths(model, options)
    limit = _chunk_limit(model, options)
    (overhead,) = model.count_tokens([""])
    if limit < overhead + 8:
        raise InputError(
            f"chunk limit of {limit} tokens (input limit less a margin of {options.margin}) "
            "leaves no room for text; lower the margin or raise the input limit"
        )
    inputs = [_paragraphs_of(d, doc) for d, doc in enumerate(documents)]
    rounds: list[list[Round]] = [[] for _ in inputs]
    warnings = [list(notes) for _ in inputs]
    # A map round's summaries must shrink: two of them must fit in one chunk, or a round could
    # produce as many chunks as it read and never finish. Halved per document when a round's
    # summaries still do not shrink (see `_shrinks`).
    bounds = [min(final.max_new_tokens, (limit - overhead) // 2)] * len(inputs)
    plans = {d: _plan(d, 1, inputs[d], model, limit, overhead) for d in range(len(inputs))}
    active = list(range(len(inputs)))
    while active:
        # A document whose input fits in one chunk gets its final summary in this round.
        settings = {d: final if len(plans[d]) == 1 else _bounded(final, bounds[d]) for d in active}
        outputs = _run_round({d: plans[d] for d in active}, settings, model, options)
        going = []
        for d in active:
            number = len(rounds[d]) + 1
            summaries = [outputs[d, c].strip() for c in range(len(plans[d]))]
            following = None
            if len(plans[d]) > 1:
                following = _plan(d, number, summaries, model, limit, overhead)
                note = _shrinks(d, number, plans[d], following, bounds[d])
                if note is not None:
                    warnings[d].append(note)
                    bounds[d] //= 2
                    going.append(d)  # the same round again, under the lower bound
                    continue
            chunks = tuple(_record(p, s) for p, s in zip(plans[d], summaries, strict=True))
            low, high = settings[d].min_new_tokens, settings[d].max_new_tokens
            rounds[d].append(Round(chunks=chunks, min_new_tokens=low, max_new_tokens=high))
            if following is not None:
                plans[d] = following
                going.append(d)
        active = going
    signature = summary_signature(model, options)
    results = []
    for d in range(len(inputs)):
        text = rounds[d][-1].chunks[0].summary
        sentences = tuple(text[s:e] for s, e in split_sentences(text))
        if not sentences:
            # As `mtsum check` refuses an empty summary: nothing in it can be checked or scored.
            raise ModelError(
                f"document {d}: the model returned an empty summary ({text!r}); check the "
                "summarization model"
            )
        chunking = Chunking(limit=limit, rounds=tuple(rounds[d]), warnings=tuple(warnings[d]))
        results.append(
            Summary(text=text, sentences=sentences, chunking=chunking, signature=signature)
        )
    return results


def beam_budget(batch_tokens: int, beams: int) -> int:
    """A batch's padded-token budget at `beams` beams: `batch_tokens` up to `LEVEL_BEAMS`,
    less in proportion above (never below 1: a chunk over the budget goes alone).

    Example:
        >>> beam_budget(2560, 4), beam_budget(2560, 8), beam_budget(2560, 64)
        (2560, 1280, 160)
    """
    return max(1, batch_tokens * LEVEL_BEAMS // max(beams, LEVEL_BEAMS))


def _bounded(final: GenerateOptions, bound: int) -> GenerateOptions:
    """A map round's settings: the final ones held to `bound` tokens."""
    return replace(
        final,
        min_new_tokens=min(final.min_new_tokens, bound),
        max_new_tokens=min(final.max_new_tokens, bound),
    )


def _shrinks(
    doc: int, number: int, plan: list[_Input], following: list[_Input], bound: int
) -> str | None:
    """None when round `number`'s summaries (chunked as `following`) are shorter than its input
    or fit in one chunk; else why the round runs again at half the bound.

    Raises:
        ModelError: Not even one-token summaries shrink: the model ignores its length bound.
    """
    before = sum(p.tokens for p in plan)
    after = sum(p.tokens for p in following)
    if len(following) == 1 or after < before:
        return None
    if bound <= 1:
        raise ModelError(
            f"document {doc}: round {number} chunk summaries are {after} tokens, not shorter "
            f"than the {before} tokens they summarize, even at 1 token a summary; the model "
            "does not keep to its length bound"
        )
    return (
        f"round {number} chunk summaries of at most {bound} tokens came to {after} tokens, not "
        f"fewer than the {before} tokens they summarize; ran the round again at {bound // 2}"
    )


def _paragraphs_of(index: int, document: Sequence[str]) -> list[str]:
    if isinstance(document, str):
        raise InputError(
            f"document {index} is a string, not a sequence of paragraphs; pass [[text]] for one"
        )
    paragraphs = list(document)
    if not any(p.strip() for p in paragraphs):
        raise InputError(f"document {index} has no text to summarize")
    return paragraphs


def _plan(
    doc: int, number: int, paragraphs: list[str], model: Seq2Seq, limit: int, overhead: int
) -> list[_Input]:
    """Chunk a round's input: what round `number` wrote (named in the error when it wrote
    nothing), or the document's own paragraphs, which are never empty."""
    chunks = _chunk(paragraphs, model, limit, overhead)
    if not chunks:
        raise ModelError(
            f"document {doc}: the model returned an empty summary for all {len(paragraphs)} "
            f"chunks of round {number}; check the summarization model"
        )
    return chunks


def _chunk(paragraphs: Sequence[str], model: Seq2Seq, limit: int, overhead: int) -> list[_Input]:
    """Whole paragraphs where they fit, else their sentences, else pieces of a sentence (see
    `mtsum.pieces`); then packed."""
    found = [(i, p, split_sentences(p)) for i, p in enumerate(paragraphs)]
    found = [(i, p, spans) for i, p, spans in found if spans]
    texts = [" ".join(_clean(p, s, e) for s, e in spans) for _, p, spans in found]
    pieces: list[_Input] = []
    for (i, p, spans), text, tokens in zip(found, texts, _count(model, texts), strict=True):
        if tokens <= limit:
            parts = tuple(
                Span(paragraph=i, sentence=k, start=s, end=e) for k, (s, e) in enumerate(spans)
            )
            pieces.append(_Input(text, tokens, parts))
            continue
        sentences = [_clean(p, s, e) for s, e in spans]
        for k, ((s, e), sentence, n) in enumerate(
            zip(spans, sentences, _count(model, sentences), strict=True)
        ):
            if n <= limit:
                pieces.append(_Input(sentence, n, (Span(paragraph=i, sentence=k, start=s, end=e),)))
            else:
                pieces.extend(_windows(p, i, k, s, e, model, limit))
    return [_merge(group, tokens) for group, tokens in _pack(pieces, model, limit, overhead)]


def _windows(
    paragraph: str, index: int, sentence: int, start: int, end: int, model: Seq2Seq, limit: int
) -> list[_Input]:
    """Cut one over-long sentence into pieces within the limit (see `mtsum.pieces`)."""
    return [
        _Input(
            p.text,
            p.tokens,
            (Span(paragraph=index, sentence=sentence, start=p.start, end=p.end, cut=True),),
        )
        for p in split_to_fit(paragraph, model.count_tokens, limit, start=start, end=end)
    ]


def _pack(
    pieces: Sequence[_Input], model: Seq2Seq, limit: int, overhead: int
) -> list[tuple[list[_Input], int]]:
    """Greedily group consecutive pieces while the re-measured join stays within the limit."""

    def measure(i: int, j: int) -> int:
        return model.count_tokens([_join(pieces[i:j])])[0]

    groups = pack([p.tokens for p in pieces], measure, limit, overhead)
    return [(list(pieces[i:j]), tokens) for i, j, tokens in groups]


def _merge(group: list[_Input], tokens: int) -> _Input:
    return _Input(_join(group), tokens, tuple(s for p in group for s in p.spans))


def _join(pieces: Sequence[_Input]) -> str:
    # Paragraphs are joined by a space, as in the CNN/DailyMail articles BART summarizers saw.
    return " ".join(p.text for p in pieces)


def _clean(paragraph: str, start: int, end: int) -> str:
    return " ".join(paragraph[start:end].split())


def _count(model: Seq2Seq, texts: list[str]) -> list[int]:
    return model.count_tokens(texts) if texts else []


def _record(piece: _Input, summary: str) -> Chunk:
    paragraphs = tuple(dict.fromkeys(s.paragraph for s in piece.spans))
    return Chunk(paragraphs=paragraphs, spans=piece.spans, tokens=piece.tokens, summary=summary)


def _run_round(
    plans: dict[int, list[_Input]],
    settings: dict[int, GenerateOptions],
    model: Seq2Seq,
    options: SummarizeOptions,
) -> dict[tuple[int, int], str]:
    """Run one round's chunks, keyed (document, chunk): all chunks of a setting together."""
    outputs: dict[tuple[int, int], str] = {}
    for setting in dict.fromkeys(settings.values()):
        jobs = [
            (d, c) for d, plan in plans.items() if settings[d] == setting for c in range(len(plan))
        ]
        requests = [
            Request(text=plans[d][c].text, tokens=plans[d][c].tokens, bound=setting.max_new_tokens)
            for d, c in jobs
        ]
        texts = generate(
            model,
            requests,
            setting,
            batch_tokens=beam_budget(options.batch_tokens, setting.num_beams),
            batch_size=options.batch_size,
        )
        outputs.update(zip(jobs, texts, strict=True))
    return outputs
