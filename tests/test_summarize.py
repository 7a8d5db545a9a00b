"""Summarization: model defaults, length options, and map-reduce chunking that never truncates."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from bart_fixture import english_lines
from recorders import Recording

import mtsum
from mtsum.backends.base import FunctionModel, GenerateOptions, Seq2Seq
from mtsum.errors import InputError, ModelError
from mtsum.summarize import Chunk, Chunking, SummarizeOptions, summarize
from mtsum.textprep import split_sentences


def first_words(n: int) -> Callable[[list[str]], list[str]]:
    return lambda texts: [" ".join(t.split()[:n]).rstrip(".") + "." for t in texts]


def sentences_of(paragraphs: Sequence[str]) -> set[tuple[int, int, int, int]]:
    """Every (paragraph, sentence, start, end) of a round's input."""
    return {
        (i, k, s, e)
        for i, p in enumerate(paragraphs)
        for k, (s, e) in enumerate(split_sentences(p))
    }


def check_rounds(chunking: Chunking, source: Sequence[str], model: Seq2Seq, limit: int) -> None:
    """Each round covers its input's sentences exactly once, whole, within the limit."""
    inputs = list(source)
    for number, rnd in enumerate(chunking.rounds):
        spans = [(s.paragraph, s.sentence, s.start, s.end) for c in rnd.chunks for s in c.spans]
        assert len(spans) == len(set(spans)), f"round {number}: a sentence is in two chunks"
        assert set(spans) == sentences_of(inputs), f"round {number}: coverage"
        assert spans == sorted(spans), f"round {number}: chunks keep document order"
        assert not any(s.cut for c in rnd.chunks for s in c.spans)
        assert all(c.tokens <= limit for c in rnd.chunks)
        # A round has one chunk exactly when its joined input fits: then it is the last one.
        joined = " ".join(" ".join(p.split()) for p in inputs if p.strip())
        (tokens,) = model.count_tokens([joined])
        last = number == len(chunking.rounds) - 1
        assert (tokens <= limit) is last is (len(rnd.chunks) == 1)
        inputs = [c.summary for c in rnd.chunks]


def chunk_text(source: Sequence[str], chunk: Chunk) -> str:
    """The text a chunk gave the model, rebuilt from its spans over the round's input."""
    return " ".join(" ".join(source[s.paragraph][s.start : s.end].split()) for s in chunk.spans)


def round_texts(chunking: Chunking, source: Sequence[str]) -> list[list[str]]:
    """Each round's chunk texts, as the model must have read them."""
    texts, inputs = [], list(source)
    for rnd in chunking.rounds:
        texts.append([chunk_text(inputs, c) for c in rnd.chunks])
        inputs = [c.summary for c in rnd.chunks]
    return texts


# --- the tiny BART, loaded through the public path ---------------------------------------------


def test_bart_loads_with_its_config_defaults(bart) -> None:
    from transformers import BartForConditionalGeneration

    assert isinstance(bart.model, BartForConditionalGeneration)
    assert bart.info.max_input_tokens == 256
    assert bart.info.prefix == ""
    # task_specific_params.summarization: 4 beams, lp 2.0, trigram blocking, 5-30 tokens with
    # the decoder start token, so 4-29 new ones.
    assert bart.defaults == GenerateOptions(
        num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, min_new_tokens=4, max_new_tokens=29
    )
    assert bart.tokenizer.convert_ids_to_tokens([0, 1, 2, 3, 4]) == [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        "<mask>",
    ]


def test_bart_summarizes_short_text_in_one_round(bart) -> None:
    paragraphs = english_lines()[4:6]
    [summary] = summarize([paragraphs], bart)
    assert summary.text and summary.text == summary.text.strip()
    spans = split_sentences(summary.text)
    assert summary.sentences == tuple(summary.text[s:e] for s, e in spans) != ()
    [rnd] = summary.chunking.rounds
    [chunk] = rnd.chunks
    assert chunk.paragraphs == (0, 1) and chunk.summary == summary.text
    assert (rnd.min_new_tokens, rnd.max_new_tokens) == (4, 29)
    fields = dict(summary.signature)
    assert fields["sum"] == f"{bart.info.name}@{bart.info.revision}"
    assert fields["backend"] == "transformers" and fields["ct"] == "float32"
    assert (fields["beams"], fields["lp"], fields["nrng"]) == ("4", "2.0", "3")
    assert fields["len"] == "4-29tok" and fields["chunk"] == "232"
    assert fields["mtsum"] == mtsum.__version__
    json.dumps(asdict(summary))  # records serialize without glue


def test_bart_map_reduce_over_the_seed_article(bart, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    original = bart.generate

    def recording(
        texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        calls.append(list(texts))
        return original(texts, options, max_new_tokens=max_new_tokens)

    monkeypatch.setattr(bart, "generate", recording)
    source = english_lines()
    [summary] = summarize([source], bart)
    chunking = summary.chunking
    assert chunking.limit == 256 - 24
    # ~2,660 tokens: 15 chunks of at most 232, their summaries need more chunks, the last one.
    counts = [len(r.chunks) for r in chunking.rounds]
    assert counts[0] == 15 and counts[-1] == 1 and len(counts) >= 2
    check_rounds(chunking, source, bart, chunking.limit)
    # The record is what happened: per round, as few batches as 8 a batch allows, holding
    # exactly its chunks.
    done = iter(calls)
    for texts in round_texts(chunking, source):
        batches = [next(done) for _ in range((len(texts) + 7) // 8)]
        assert max(len(b) for b in batches) <= 8
        assert sorted(t for b in batches for t in b) == sorted(texts)
    assert next(done, None) is None
    assert chunking.cut_sentences == 0
    assert summary.text == chunking.rounds[-1].chunks[0].summary
    for rnd in chunking.rounds:
        assert (rnd.min_new_tokens, rnd.max_new_tokens) == (4, 29)


def test_bart_forced_small_limit_and_batching_match(bart) -> None:
    source = english_lines()[:12]
    small = SummarizeOptions(max_input_tokens=120, margin=0)
    [one] = summarize([source], bart, options=small)
    check_rounds(one.chunking, source, bart, 120)
    assert len(one.chunking.rounds) >= 2
    # The map rounds' bound leaves room for two summaries per chunk: (120 - 2) // 2 = 59 > 29.
    assert one.chunking.rounds[0].max_new_tokens == 29
    # Alone or next to another document, batched by 3: the same chunks and summaries.
    batched = replace(small, batch_size=3)
    [two, _] = summarize([source, english_lines()[12:]], bart, options=batched)
    assert two.chunking == one.chunking


def test_prefix_from_config_is_counted_in_chunks(bart, bart_dir: Path, tmp_path: Path) -> None:
    t5_style = shutil.copytree(bart_dir, tmp_path / "prefixed")
    config = json.loads((t5_style / "config.json").read_text())
    config["task_specific_params"]["summarization"]["prefix"] = "summarize: "
    (t5_style / "config.json").write_text(json.dumps(config))
    prefixed = mtsum.load_summarizer(str(t5_style), device="cpu", threads=1)
    assert prefixed.info.prefix == "summarize: "
    paragraphs = english_lines()[4:6]
    [plain] = summarize([paragraphs], bart)
    [with_prefix] = summarize([paragraphs], prefixed)
    [chunk] = with_prefix.chunking.rounds[0].chunks
    text = chunk_text(paragraphs, chunk)
    # The limit is checked against what the model reads: the prefix and the text.
    assert chunk.tokens == bart.count_tokens(["summarize: " + text])[0]
    assert plain.chunking.rounds[0].chunks[0].tokens == bart.count_tokens([text])[0]
    assert chunk.tokens > plain.chunking.rounds[0].chunks[0].tokens
    assert with_prefix.signature != plain.signature  # another config, another revision


# --- map-reduce with a function model (tokens are words, +1 for the end) -----------------------


def test_forced_chunks_cover_every_sentence_once() -> None:
    source = english_lines()
    model = Recording(first_words(12))
    [summary] = summarize([source], model, options=SummarizeOptions(max_input_tokens=120, margin=0))
    chunking = summary.chunking
    check_rounds(chunking, source, model, 120)
    assert [len(r.chunks) for r in chunking.rounds] == [11, 2, 1]
    # 11 chunks in two batches (at most 8 each), evened: the 5 longest, then 6; then 2, then 1.
    assert [len(texts) for texts, _, _ in model.seen] == [5, 6, 2, 1]
    # The model read exactly the recorded chunks: every word of the source once, in order.
    first = chunking.rounds[0].chunks
    assert sorted(t for texts, _, _ in model.seen[:2] for t in texts) == sorted(
        chunk_text(source, c) for c in first
    )
    assert " ".join(chunk_text(source, c) for c in first).split() == " ".join(source).split()
    # Round 2 read the round-1 summaries as its paragraphs; the summary is the last output.
    second = chunking.rounds[1].chunks
    assert [p for c in second for p in c.paragraphs] == list(range(11))
    assert summary.text == first_words(12)(model.seen[-1][0])[0]


def filled_batches(longest_first: list[int], budget: int, size: int) -> int:
    """How many batches filling each one up, in order, makes (the fewest a run of the order
    allows)."""
    count, rows, width = 0, 0, 0
    for n in longest_first:
        if count and rows < size and width * (rows + 1) <= budget:
            rows += 1
        else:
            count, rows, width = count + 1, 1, n
    return count


@pytest.mark.parametrize("budget", [240, 300, 400, 10_000])
def test_batches_keep_to_the_token_budget(budget: int) -> None:
    source = english_lines()
    model = Recording(first_words(12))
    options = SummarizeOptions(max_input_tokens=120, margin=0, batch_tokens=budget)
    [summary] = summarize([source], model, options=options)
    held = [model.count_tokens(texts) for texts, _, _ in model.seen]
    # Padded tokens, as for translation: the longest chunk times the chunks.
    assert all(max(n) * len(n) <= budget for n in held), held
    # Round 1 (11 chunks): longest first, in as few batches as filling each one up would make.
    assert len(summary.chunking.rounds[0].chunks) == 11
    ends = list(itertools.accumulate(len(n) for n in held))
    first = held[: ends.index(11) + 1]
    flat = [n for batch in first for n in batch]
    assert flat == sorted(flat, reverse=True)
    assert len(first) == filled_batches(flat, budget, 8)
    if budget == 10_000:  # only the size limits: 11 chunks in two batches, evened
        assert [len(n) for n in held] == [5, 6, 2, 1]
    # Batching changes nothing: one chunk at a time gives the same chunks and summary.
    alone = Recording(first_words(12))
    [single] = summarize([source], alone, options=replace(options, batch_size=1))
    assert single.text == summary.text and single.chunking == summary.chunking


def test_a_chunk_over_the_budget_goes_alone() -> None:
    model = Recording(first_words(3))
    options = SummarizeOptions(max_input_tokens=120, margin=0, batch_tokens=5)
    summarize([english_lines()[:6]], model, options=options)
    assert {len(texts) for texts, _, _ in model.seen} == {1}


@pytest.mark.parametrize(
    ("paragraphs", "limit", "chunks"),
    [
        # Paragraphs of 8 words: 9 tokens alone with the end token, 17 for two.
        (["a b c d e f g h.", "i j k l m n o p.", "q r s t u v w x."], 100, [[0, 1, 2]]),
        (["a b c d e f g h.", "i j k l m n o p.", "q r s t u v w x."], 17, [[0, 1], [2]]),
        (["a b c d e f g h.", "i j k l m n o p.", "q r s t u v w x."], 16, [[0], [1], [2]]),
        # A paragraph too long alone (13) is cut between sentences, which pack with neighbours.
        (["Aa bb cc dd. Ee ff gg hh. Ii jj kk ll.", "Mm nn oo pp."], 10, [[0], [0, 1]]),
        # Blank paragraphs keep their index and add nothing.
        (["a b.", "  ", "c d."], 100, [[0, 2]]),
    ],
)
def test_chunk_boundaries(paragraphs: list[str], limit: int, chunks: list[list[int]]) -> None:
    model = FunctionModel(first_words(1))
    options = SummarizeOptions(max_input_tokens=limit, margin=0)
    [summary] = summarize([paragraphs], model, options=options)
    assert [list(c.paragraphs) for c in summary.chunking.rounds[0].chunks] == chunks
    check_rounds(summary.chunking, paragraphs, model, limit)


def test_sentence_longer_than_a_chunk_is_cut_at_words_and_recorded() -> None:
    words = [f"w{i}" for i in range(25)]
    paragraphs = ["Short one here.", " ".join(words) + ".", "Last words."]
    model = Recording(first_words(1))
    options = SummarizeOptions(max_input_tokens=10, margin=0)
    [summary] = summarize([paragraphs], model, options=options)
    first = summary.chunking.rounds[0].chunks
    assert [list(c.paragraphs) for c in first] == [[0], [1], [1], [1, 2]]
    assert summary.chunking.cut_sentences == 1
    cut = [s for c in first for s in c.spans if s.cut]
    # 25 words in windows of at most 9 words (10 tokens with the end token), in order.
    assert [(s.paragraph, s.sentence) for s in cut] == [(1, 0)] * 3
    pieces = [paragraphs[1][s.start : s.end] for s in cut]
    assert " ".join(pieces).split() == paragraphs[1].split()
    assert [len(p.split()) for p in pieces] == [9, 9, 7]
    assert all(c.tokens <= 10 for c in first)


def test_map_rounds_leave_room_for_two_summaries_per_chunk() -> None:
    model = Recording(first_words(3))
    options = SummarizeOptions(max_input_tokens=40, margin=0, num_beams=2)
    [summary] = summarize([english_lines()[:8]], model, options=options)
    *maps, last = summary.chunking.rounds
    # (40 - 1) // 2 = 19 tokens for a chunk summary; the final round gets the full 256.
    assert maps and all(r.max_new_tokens == 19 for r in maps)
    assert last.max_new_tokens == 256 and len(last.chunks) == 1
    assert [o.max_new_tokens for _, o, _ in model.seen] == [19] * (len(model.seen) - 1) + [256]
    assert all(bounds == [o.max_new_tokens] * len(t) for t, o, bounds in model.seen)
    assert {o.num_beams for _, o, _ in model.seen} == {2}


def test_documents_share_batches_and_keep_their_order() -> None:
    docs = [["Alpha one two three four.", "Alpha five six seven."], ["Beta one two."], ["Gamma x."]]
    model = Recording(first_words(2))
    summaries = summarize(docs, model, options=SummarizeOptions(max_input_tokens=9, margin=0))
    assert [s.text for s in summaries] == ["Alpha one.", "Beta one.", "Gamma x."]
    # Round 1: alpha's two chunks (map, at most (9 - 1) // 2 = 4 tokens) and the single chunks of
    # beta and gamma (final, 256) run as one call per setting; round 2: alpha's summaries alone.
    assert [(t, o.max_new_tokens) for t, o, _ in model.seen] == [
        (["Alpha one two three four.", "Alpha five six seven."], 4),
        (["Beta one two.", "Gamma x."], 256),
        (["Alpha one. Alpha five."], 256),
    ]
    assert [len(s.chunking.rounds) for s in summaries] == [2, 1, 1]
    assert len({s.signature for s in summaries}) == 1


# --- lengths and options -----------------------------------------------------------------------

DISTILBART = GenerateOptions(
    num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, min_new_tokens=55, max_new_tokens=141
)


@pytest.mark.parametrize(
    ("options", "beams", "low", "high"),
    [
        (SummarizeOptions(), 4, 55, 141),  # the model's own settings
        (SummarizeOptions(num_beams=1), 1, 55, 141),
        (SummarizeOptions(max_words=20), 4, 28, 28),  # 20 * 1.4; the default minimum yields
        (SummarizeOptions(max_words=60), 4, 55, 84),
        (SummarizeOptions(min_words=10, max_words=10), 4, 14, 14),
        (SummarizeOptions(min_words=7, max_words=7), 4, 9, 10),  # 9.8: floor and ceil
        (SummarizeOptions(min_words=30), 4, 42, 141),
        (SummarizeOptions(preset="short"), 4, 28, 70),
        (SummarizeOptions(preset="medium"), 4, 56, 140),
        (SummarizeOptions(preset="long"), 4, 112, 280),
        (SummarizeOptions(preset="long", max_words=100), 4, 112, 140),
        (SummarizeOptions(preset="short", min_words=0), 4, 0, 70),
    ],
)
def test_length_options_reach_the_model(
    options: SummarizeOptions, beams: int, low: int, high: int
) -> None:
    model = Recording(first_words(5), defaults=DISTILBART)
    [summary] = summarize([["One short paragraph of text."]], model, options=options)
    [(_, used, bounds)] = model.seen
    assert (used.num_beams, used.min_new_tokens, used.max_new_tokens) == (beams, low, high)
    assert bounds == [high]
    assert (used.length_penalty, used.no_repeat_ngram_size) == (2.0, 3)  # kept from the model
    assert f"|beams:{beams}|lp:2.0|nrng:3|rp:1.0|len:{low}-{high}tok|" in str(summary.signature)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"preset": "tiny"}, "preset 'tiny' is not one of short, medium, long"),
        ({"max_words": 0}, "max words must be at least 1, got 0"),
        ({"max_words": -5}, "max words must be at least 1, got -5"),
        ({"min_words": -1}, "min words must be at least 0, got -1"),
        ({"max_words": 10**20}, "max words must be at most 10,000, got 100000000000000000000"),
        ({"min_words": 2**64}, f"min words must be at most 10,000, got {2**64}"),
        ({"num_beams": 65}, "beams must be at most 64, got 65"),
        ({"num_beams": 2**31 - 1}, "beams must be at most 64, got 2147483647"),
        ({"min_words": 50, "max_words": 20}, "min words 50 exceeds max words 20"),
        ({"preset": "long", "max_words": 30}, "min words 80 (preset long) exceeds max words 30"),
        ({"num_beams": 0}, "beams must be at least 1, got 0"),
        ({"margin": -1}, "margin must be 0 or more tokens, got -1"),
        ({"max_input_tokens": 0}, "max input tokens must be at least 1, got 0"),
        ({"batch_size": 0}, "batch size must be at least 1, got 0"),
        ({"batch_tokens": 0}, "batch tokens must be at least 1, got 0"),
    ],
)
def test_invalid_options(fields: dict, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        SummarizeOptions(**fields)


@pytest.mark.parametrize(
    ("documents", "options", "message"),
    [
        ([["Text."]], SummarizeOptions(min_words=150), "min words 150 (~210 tokens) exceeds"),
        ([["Text."]], SummarizeOptions(max_input_tokens=30), "chunk limit of 6 tokens"),
        (["A text."], SummarizeOptions(), "document 0 is a string"),
        ([["Text."], ["", "  "]], SummarizeOptions(), "document 1 has no text"),
        ([["Text."], []], SummarizeOptions(), "document 1 has no text"),
    ],
)
def test_unusable_input(documents: list, options: SummarizeOptions, message: str) -> None:
    model = Recording(first_words(5), defaults=DISTILBART)
    with pytest.raises(InputError, match=re.escape(message)):
        summarize(documents, model, options=options)
    assert model.seen == []


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda texts: list(texts), "not shorter than"),  # an echo never converges
        (lambda texts: [""] * len(texts), "empty summary for all 2 chunks of round 1"),
    ],
)
def test_map_reduce_that_cannot_finish_raises(
    fn: Callable[[list[str]], list[str]], message: str
) -> None:
    model = FunctionModel(fn)
    paragraphs = ["a b c d e f g h.", "i j k l m n o p."]
    with pytest.raises(ModelError, match=re.escape(message)):
        summarize([paragraphs], model, options=SummarizeOptions(max_input_tokens=16, margin=0))


def test_a_word_longer_than_a_chunk_is_cut_at_characters_not_dropped() -> None:
    # FunctionModel counts whitespace words, so give it a model that counts characters.
    class CharCounting(FunctionModel):
        def count_tokens(self, texts: Sequence[str]) -> list[int]:
            return [len(t) + 1 for t in texts]

    seen: list[str] = []

    def first_chars(texts: list[str]) -> list[str]:
        seen.extend(texts)
        return [t[:5] + "." for t in texts]

    model = CharCounting(first_chars, max_input_tokens=64)
    word = "0123456789" * 30  # no two of its cuts alike (identical chunks would go once)
    [result] = summarize([[f"Short start. {word} end."]], model, options=SummarizeOptions(margin=0))
    first_round = result.chunking.rounds[0]
    seen_first = "".join(seen[: len(first_round.chunks)])
    assert sum(seen_first.count(digit) for digit in "0123456789") == 300
    assert result.chunking.cut_sentences == 1
    assert all(c.tokens <= 64 for c in first_round.chunks)
