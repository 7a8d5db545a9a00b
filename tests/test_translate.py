"""Translation invariants on a tiny random MarianMT loaded through the public path."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from recorders import Recording

import mtsum
from mtsum.backends.base import FunctionModel
from mtsum.translate import TranslateOptions, is_repetitive

GREEDY = TranslateOptions(num_beams=1, length_ratio=0.2, length_slack=3, retry_no_repeat_ngram=0)


def test_loads_real_marian_classes(marian) -> None:
    from transformers import MarianMTModel, MarianTokenizer

    assert isinstance(marian.model, MarianMTModel)
    assert isinstance(marian.tokenizer, MarianTokenizer)
    assert marian.info.backend == "transformers"
    assert marian.info.revision.startswith("local-")
    assert marian.defaults.num_beams == 4  # from the checkpoint's generation config


def test_every_segment_translated_once_in_order(marian, seed_text: str) -> None:
    [doc] = mtsum.translate([seed_text], marian, options=GREEDY)
    segments = mtsum.segment(seed_text)
    assert [s.source for s in doc.segments] == [s.text for s in segments]
    assert [(s.paragraph, s.sentence) for s in doc.segments] == [
        (s.paragraph, s.sentence) for s in segments
    ]
    assert all(s.text for s in doc.segments)
    paragraphs = [line for line in seed_text.splitlines() if line.strip()]
    assert len(doc.paragraphs) == len(doc.source_paragraphs) == len(paragraphs)


def test_batched_greedy_equals_one_by_one(marian, seed_text: str) -> None:
    sentences = [s.text for s in mtsum.segment(seed_text)][:12]
    [batched] = mtsum.translate(["\n".join(sentences)], marian, options=GREEDY)
    singles = [mtsum.translate([s], marian, options=GREEDY)[0].segments[0].text for s in sentences]
    assert [s.text for s in batched.segments] == singles


@pytest.mark.parametrize("backend", ["transformers", "ctranslate2"])
def test_beam_translation_of_a_text_does_not_depend_on_its_batch(
    backend: str, marian_dir: Path, mtsum_cache: Path, seed_text: str
) -> None:
    # Beam search with a longer limit can pick another hypothesis: a short sentence batched
    # beside long ones used to come out differently than alone (same for the cache, --threads
    # and the batch engine, which all change who shares a batch).
    model = mtsum.load_translator(
        str(marian_dir), device="cpu", threads=1, backend=backend, cache_dir=mtsum_cache
    )
    beams = mtsum.TranslateOptions(num_beams=4)
    sentences = [s.text for s in mtsum.segment(seed_text)][:8]
    [together] = mtsum.translate(["\n".join(sentences)], model, options=beams)
    alone = [mtsum.translate([s], model, options=beams)[0].segments[0].text for s in sentences]
    assert [s.text for s in together.segments] == alone


def test_token_budget_bounds_batches(marian, seed_text: str) -> None:
    calls: list[int] = []
    original = marian.generate

    def counting(texts, options, *, max_new_tokens):
        calls.append(max(marian.count_tokens(texts)) * len(texts))
        return original(texts, options, max_new_tokens=max_new_tokens)

    marian.generate = counting
    try:
        opts = TranslateOptions(
            num_beams=1, length_ratio=0.2, length_slack=1, batch_tokens=300, retry_no_repeat_ngram=0
        )
        mtsum.translate([seed_text], marian, options=opts)
    finally:
        del marian.generate
    assert len(calls) > 1
    assert max(calls) <= 300


@pytest.mark.parametrize(("beams", "budget"), [(1, 6144), (2, 3072), (4, 1536), (32, 200)])
def test_default_budget_is_6144_padded_tokens_over_the_beams(beams: int, budget: int) -> None:
    widths: list[int] = []

    def echo(texts: list[str]) -> list[str]:
        widths.append(max(model.count_tokens(texts)) * len(texts))
        return texts

    model = FunctionModel(echo)
    # 130 distinct segments of 100 tokens (99 words and the end token), one per line.
    text = "\n".join(" ".join([f"s{i}", *(f"w{j}" for j in range(98))]) + "." for i in range(130))
    options = TranslateOptions(num_beams=beams, retry_no_repeat_ngram=0)
    mtsum.translate([text], model, options=options)
    # As few batches as the budget allows, each within it; never below the segment limit
    # (200), so that a segment always fits a batch.
    assert len(widths) == math.ceil(130 / (budget // 100)) and max(widths) <= budget


def test_long_paragraph_split_within_limit_and_all_translated(marian) -> None:
    # In a seeded random order, so that no two pieces are the same (those would go once).
    pick = random.Random(0).choice
    words = [pick(["روسيا", "إيران", "طهران", "موسكو", "العقوبات"]) for _ in range(5000)]
    opts = TranslateOptions(
        num_beams=1,
        length_ratio=0.1,
        length_slack=1,
        max_segment_tokens=128,
        retry_no_repeat_ngram=0,
    )
    seen: list[str] = []
    original = marian.generate

    def recording(texts, options, *, max_new_tokens):
        seen.extend(texts)
        return original(texts, options, max_new_tokens=max_new_tokens)

    marian.generate = recording
    try:
        [doc] = mtsum.translate([" ".join(words)], marian, options=opts)
    finally:
        del marian.generate
    [seg] = doc.segments
    assert seg.pieces == len(seen) == len(set(seen)) > 1
    assert max(marian.count_tokens(seen)) <= 128
    # Every word went into exactly one piece, in order: nothing was cut (the model sees the
    # pieces longest first).
    text = " ".join(words)
    assert " ".join(sorted(seen, key=text.index)).split() == words


def test_split_prefers_clause_punctuation() -> None:
    model = FunctionModel(lambda xs: [f"<{x}>" for x in xs], max_input_tokens=512)
    clause = "كلمة " * 10
    text = "، ".join([clause.strip()] * 4) + "."
    opts = TranslateOptions(max_segment_tokens=25)
    [doc] = mtsum.translate([text], model, options=opts)
    [seg] = doc.segments
    assert seg.pieces == 2
    assert seg.text.count("<") == 2 and "،>" in seg.text


@pytest.mark.parametrize(
    ("output", "tokens", "expected"),
    [
        ("Russia and Iran signed a deal.", 8, False),
        ("the the the the", 4, True),
        ("very very very good", 4, False),
        ("in the city in the city in the city", 9, True),
        ("word " * 40, 5, True),
        ("a long but honest sentence with many different words in it", 4, False),
    ],
)
def test_repetition_detector(output: str, tokens: int, expected: bool) -> None:
    assert is_repetitive(output, tokens) is expected


def test_repetition_retried_once_and_both_kept() -> None:
    calls: list[int] = []

    def looping(texts: list[str]) -> list[str]:
        calls.append(len(texts))
        return ["he said he said he said" if len(calls) == 1 else "he said so" for _ in texts]

    [doc] = mtsum.translate(["قال ذلك."], FunctionModel(looping))
    [seg] = doc.segments
    assert calls == [1, 1]
    assert seg.text == "he said so"
    assert seg.first_output == "he said he said he said"
    assert seg.retry == "no_repeat_ngram_size=3"
    assert seg.flags == ("repetition",)


def test_untranslated_flag_and_non_arabic_warning() -> None:
    echo = FunctionModel(lambda xs: list(xs))
    [doc] = mtsum.translate(["قال الوزير إن المحادثات مستمرة."], echo)
    assert "untranslated" in doc.segments[0].flags
    [english] = mtsum.translate(["The minister said talks go on."], echo)
    assert "untranslated" not in english.segments[0].flags
    assert english.warnings and "0%" in english.warnings[0]


def test_results_keep_order_across_documents() -> None:
    model = FunctionModel(lambda xs: [f"EN({x})" for x in xs])
    docs = mtsum.translate(["أ ب ج.\nد.", "ه و ز ح ط ي.", "ك."], model)
    assert [[s.text for s in d.segments] for d in docs] == [
        ["EN(أ ب ج.)", "EN(د.)"],
        ["EN(ه و ز ح ط ي.)"],
        ["EN(ك.)"],
    ]


def test_identical_documents_are_translated_once(seed_text: str) -> None:
    # `mtsum translate` of 40 copies of one article took 40 times one article's model time.
    model = Recording(lambda xs: [f"EN({x})" for x in xs])
    sentences = [s.text for s in mtsum.segment(seed_text)]
    text = "\n".join([*sentences, sentences[0]])  # a sentence repeated within the article too
    docs = mtsum.translate([text] * 40, model)
    inputs = [t for texts, _, _ in model.seen for t in texts]
    assert sorted(inputs) == sorted(set(sentences))
    [alone] = mtsum.translate([text], FunctionModel(lambda xs: [f"EN({x})" for x in xs]))
    assert all(doc == alone for doc in docs)


def test_empty_document_is_an_input_error() -> None:
    with pytest.raises(mtsum.InputError, match="document 1"):
        mtsum.translate(["نص.", "  \n "], FunctionModel(lambda xs: xs))


def test_signature_records_model_and_settings(marian, marian_dir: Path) -> None:
    [doc] = mtsum.translate(["نص قصير."], marian, options=GREEDY)
    assert str(doc.signature).startswith(f"mt:{marian_dir}@local-")
    for part in ("backend:transformers", "ct:float32", "beams:1", "len:0.2x+3", "mtsum:0.1.0"):
        assert part in str(doc.signature)
