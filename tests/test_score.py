"""Tests of mtsum.score: ROUGE by hand and against rouge-score, Arabic, bootstrap, BLEU/chrF."""

from __future__ import annotations

import json
import random
import tracemalloc
from dataclasses import asdict, astuple

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU, CHRF

from mtsum import lcs
from mtsum.errors import InputError
from mtsum.score import (
    ROUGE_TYPES,
    Score,
    arabic_tokenize,
    join_sentences,
    rouge,
    rouge_corpus,
    rouge_many,
    translation_scores,
)

ARABIC = "قالت الحكومة إنّ الأمطار ستستمر.\nوأغلقت المدارسُ أبوابها يوم ٢٠ مارس."


def fmeasures(result: object) -> dict[str, float]:
    return {k: v.fmeasure for k, v in result.scores.items()}  # type: ignore[attr-defined]


def test_hand_worked_cat_on_mat() -> None:
    # hyp: the cat sat on the mat   ref: the cat lay on the mat   (no word > 3 letters: no stems)
    # R1: unigrams the,the,cat,on,mat shared = 5 of 6 each side  -> P = R = F = 5/6
    # R2: bigrams "the cat", "on the", "the mat" shared = 3 of 5 -> P = R = F = 3/5
    # RL: LCS "the cat on the mat" = 5 of 6                       -> P = R = F = 5/6
    # RLsum: one line each, so the same as RL                     -> 5/6
    result = rouge("the cat sat on the mat", ["the cat lay on the mat"])
    expected = {"rouge1": 5 / 6, "rouge2": 3 / 5, "rougeL": 5 / 6, "rougeLsum": 5 / 6}
    for key, value in expected.items():
        assert result.scores[key] == Score(
            pytest.approx(value), pytest.approx(value), pytest.approx(value)
        )


def test_rougelsum_uses_newline_sentences() -> None:
    # ref: "the cat sat" / "a dog ran"; hyp has the two sentences swapped.
    # RL over the whole text: LCS is one sentence, 3 of 6 tokens -> 0.5.
    # RLsum: each reference sentence is fully covered by some hyp sentence -> 6/6 = 1.0.
    ref = join_sentences(["the cat sat", "a dog ran"])
    hyp = join_sentences(["a dog ran", "the cat sat"])
    assert ref == "the cat sat\na dog ran"
    result = rouge(hyp, [ref])
    assert result.scores["rougeL"].fmeasure == pytest.approx(0.5)
    assert result.scores["rougeLsum"].fmeasure == pytest.approx(1.0)


def test_join_sentences_keeps_each_sentence_on_one_line() -> None:
    assert join_sentences(["One.", "Two\nlines  here."]) == "One.\nTwo lines here."
    with pytest.raises(InputError):
        join_sentences("One. Two.")


@pytest.mark.parametrize(
    ("hypothesis", "references"),
    [
        ("The markets were running higher on Tuesday.", ["Markets ran higher Tuesday."]),
        (
            "Officials said the storms continued.\nSchools closed on Monday.",
            ["Schools were closed Monday.\nStorms continue, officials said.", "Storms."],
        ),
        ("Prices rose 3.5% in 2024", ["Inflation: prices rose 3.5 percent in 2024!"]),
    ],
)
def test_english_equals_rouge_score_directly(hypothesis: str, references: list[str]) -> None:
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    expected = scorer.score_multi(references, hypothesis)
    result = rouge(hypothesis, references)
    assert result.tokenizer == "en-porter"
    for key in ROUGE_TYPES:
        assert asdict(result.scores[key]) == pytest.approx(expected[key]._asdict())


def test_best_reference_is_chosen_per_metric() -> None:
    # hyp "red fox ran far"; ref A has the same words reversed, ref B shares "red fox" in order.
    #   R1: A 4/4 = 1.0, B 2/4 = 0.5      -> A
    #   R2: A 0,         B 1/3 ("red fox") -> B
    #   RL: A 1/4,       B 2/4            -> B
    result = rouge("red fox ran far", ["far ran fox red", "red fox was hit"])
    assert fmeasures(result) == pytest.approx(
        {"rouge1": 1.0, "rouge2": 1 / 3, "rougeL": 0.5, "rougeLsum": 0.5}
    )


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("مَدْرَسَةٌ", ["مدرسه"]),  # harakat dropped, taa marbuta -> ha
        ("أحمد إلى آخر", ["احمد", "الي", "اخر"]),  # hamza/madda alef -> alef, alef maqsura -> ya
        ("ٱلكتاب", ["الكتاب"]),  # alef wasla
        ("هٰذا القُرْآن", ["هذا", "القران"]),  # dagger alef U+0670
        ("جمـــيل", ["جميل"]),  # tatweel
        ("عام ٢٠٢٤ و۱۲", ["عام", "2024", "و12"]),  # Arabic-Indic and Persian digits
        ("قال: «مرحبا»، ثم؟", ["قال", "مرحبا", "ثم"]),  # Arabic punctuation separates
        ("BBC News في", ["bbc", "news", "في"]),  # Latin lowercased
        ("\ufefb", ["لا"]),  # presentation-form ligature, via NFKC
        ("", []),
    ],
)
def test_arabic_tokenize(text: str, tokens: list[str]) -> None:
    assert arabic_tokenize(text) == tokens


def test_arabic_identical_scores_one_while_default_tokenizer_scores_zero() -> None:
    result = rouge(ARABIC, [ARABIC])
    assert result.tokenizer == "ar-norm"
    for key in ROUGE_TYPES:
        assert result.scores[key] == Score(1.0, 1.0, 1.0)
    # The reason for the custom tokenizer: rouge-score's default drops every Arabic letter.
    assert set(fmeasures(rouge(ARABIC, [ARABIC], lang="en")).values()) == {0.0}


def test_arabic_diacritics_and_alef_forms_do_not_matter() -> None:
    plain = "قالت الحكومه ان الامطار ستستمر\nواغلقت المدارس ابوابها يوم 20 مارس"
    assert set(fmeasures(rouge(plain, [ARABIC])).values()) == {1.0}


@pytest.mark.parametrize(
    ("references", "lang", "tokenizer"),
    [
        ([ARABIC], "auto", "ar-norm"),
        (["أعلنت شركة BBC عن برنامج جديد"], "auto", "ar-norm"),  # a Latin acronym in Arabic
        (["The BBC announced a new programme."], "auto", "en-porter"),
        (["The BBC announced a new programme."], "ar", "ar-norm"),
        ([ARABIC], "en", "en-porter"),
    ],
)
def test_language_choice(references: list[str], lang: str, tokenizer: str) -> None:
    assert rouge("x", references, lang=lang).tokenizer == tokenizer


def test_empty_hypothesis_scores_zero() -> None:
    result = rouge("", ["the cat lay on the mat"])
    assert all(score == Score(0.0, 0.0, 0.0) for score in result.scores.values())
    assert all(isinstance(score.fmeasure, float) for score in result.scores.values())


@pytest.mark.parametrize(
    ("hypotheses", "references", "lang"),
    [
        (["a"], [[]], "auto"),  # no references
        (["a"], ["a"], "auto"),  # a str, not a list of references
        ("a", [["a"]], "auto"),  # a str, not a list of hypotheses
        (["a", "b"], [["a"]], "auto"),  # counts differ
        (["a"], [["a"]], "fr"),  # unknown lang
    ],
)
def test_rouge_many_rejects_bad_input(hypotheses: object, references: object, lang: str) -> None:
    with pytest.raises(InputError):
        rouge_many(hypotheses, references, lang=lang)  # type: ignore[arg-type]


def test_signatures_exact() -> None:
    result = rouge("the cat sat", ["the cat lay", "a cat sat"])
    assert str(result.signature) == "rouge:1,2,L,Lsum|tok:en-porter|refs:2|multi:max|mtsum:0.1.0"
    corpus = rouge_corpus([result])
    assert str(corpus.signature) == (
        "rouge:1,2,L,Lsum|tok:en-porter|refs:2|multi:max|bs:1000|seed:12345|mtsum:0.1.0"
    )
    arabic = rouge_corpus(rouge_many([ARABIC, ARABIC], [[ARABIC], [ARABIC, "نص"]]), seed=7)
    assert str(arabic.signature) == (
        "rouge:1,2,L,Lsum|tok:ar-norm|refs:var|multi:max|bs:1000|seed:7|mtsum:0.1.0"
    )


def _docs() -> list:
    pairs = [
        ("the cat sat on the mat", "the cat lay on the mat"),
        ("a dog ran", "a dog ran"),
        ("rain fell all day", "it rained all day"),
        ("x", "y"),
        ("markets rose sharply on monday", "stocks rose on monday"),
        ("the minister resigned after the vote", "after the vote the minister quit"),
        ("floods hit three northern towns", "three towns in the north were flooded"),
        ("talks will resume next week in cairo", "talks resume in cairo next week"),
    ]
    return rouge_many([h for h, _ in pairs], [[r] for _, r in pairs])


def test_bootstrap_is_deterministic_and_brackets_the_mean() -> None:
    docs = _docs()
    first, second = rouge_corpus(docs), rouge_corpus(docs)
    assert first == second
    assert first.n_docs == 8
    for field in (first.precision, first.recall, first.fmeasure):
        for interval in field.values():
            assert interval.low <= interval.mean <= interval.high
    values = [d.scores["rouge1"].fmeasure for d in docs]
    assert first.fmeasure["rouge1"].mean == pytest.approx(sum(values) / len(values))
    assert first.fmeasure["rouge1"].low < first.fmeasure["rouge1"].high
    # The seed is used: another seed moves the interval.
    assert rouge_corpus(docs, seed=1).fmeasure != first.fmeasure
    json.dumps(asdict(first))


def test_bootstrap_follows_the_documented_recipe() -> None:
    docs = _docs()
    values = np.array([d.scores["rouge2"].recall for d in docs])
    index = np.random.default_rng(12345).integers(0, len(docs), size=(1000, len(docs)))
    low, high = np.percentile(values[index].mean(axis=1), [2.5, 97.5])
    interval = rouge_corpus(docs).recall["rouge2"]
    assert (interval.low, interval.high) == (pytest.approx(low), pytest.approx(high))


def test_bootstrap_two_documents_by_hand() -> None:
    # F1 values 1 and 0: each resample mean is 0, 0.5 or 1, with 0 and 1 each a quarter of the
    # time, so the 2.5th and 97.5th percentiles of 1,000 resample means are 0 and 1.
    docs = rouge_many(["a b c", "a b c"], [["a b c"], ["x y z"]])
    interval = rouge_corpus(docs).fmeasure["rouge1"]
    assert (interval.mean, interval.low, interval.high) == (0.5, 0.0, 1.0)


def test_one_document_corpus_has_a_point_interval() -> None:
    corpus = rouge_corpus([rouge("the cat sat on the mat", ["the cat lay on the mat"])])
    for key in ROUGE_TYPES:
        interval = corpus.fmeasure[key]
        assert interval.low == interval.mean == interval.high


def test_rouge_corpus_rejects_bad_input() -> None:
    with pytest.raises(InputError):
        rouge_corpus([])
    with pytest.raises(InputError):
        rouge_corpus(_docs(), resamples=0)
    mixed = [rouge("a", ["a"], lang="en"), rouge("a", ["a"], lang="ar")]
    with pytest.raises(InputError, match="ar-norm, en-porter"):
        rouge_corpus(mixed)


def test_results_serialize_to_json() -> None:
    result = rouge(ARABIC, [ARABIC, "نص آخر"])
    data = json.loads(json.dumps(asdict(result)))
    assert data["scores"]["rougeLsum"]["fmeasure"] == 1.0
    assert data["n_refs"] == 2


HYPS = [
    "The government said the rains would continue.",
    "Schools closed their doors on March 20.",
    "Officials expect flooding in the north.",
]
REFS = [
    "The government said that the rain will continue.",
    "Schools shut their doors on 20 March.",
    "Officials expect floods in northern areas.",
]


def test_translation_scores_equal_sacrebleu() -> None:
    scores = translation_scores(HYPS, REFS)
    assert scores.n_segments == 3
    assert scores.bleu == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)
    assert scores.chrf == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)
    assert 0 < scores.bleu < 100 and 0 < scores.chrf < 100
    bleu, chrf = BLEU(), CHRF()
    bleu.corpus_score(HYPS, [REFS])
    chrf.corpus_score(HYPS, [REFS])
    assert str(scores.bleu_signature) == str(bleu.get_signature())
    assert str(scores.bleu_signature).startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|")
    assert str(scores.chrf_signature) == str(chrf.get_signature())
    assert translation_scores(REFS, REFS).bleu == pytest.approx(100.0)


def test_translation_scores_reject_mismatched_or_empty() -> None:
    with pytest.raises(InputError, match="3 hypothesis paragraphs but 2 reference"):
        translation_scores(HYPS, REFS[:2])
    with pytest.raises(InputError):
        translation_scores([], [])
    with pytest.raises(InputError):
        translation_scores("one paragraph", "one paragraph")  # type: ignore[arg-type]


class _Arabic:
    """rouge-score's tokenizer interface over mtsum's Arabic tokenizer."""

    def tokenize(self, text: str) -> list[str]:
        return arabic_tokenize(text)


def _random_summary(rng: random.Random, words: list[str], lines: int) -> str:
    return "\n".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(0, 12))) for _ in range(lines)
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_scores_equal_rouge_score_on_random_texts(lang: str) -> None:
    # Few distinct words, so LCS ties are everywhere: ROUGE-Lsum's union depends on which LCS
    # the backtrack picks, and mtsum must pick rouge-score's.
    words = (
        ["cat", "sat", "mat", "the", "running", "ran", "a"]
        if lang == "en"
        else ["قال", "في", "من", "الحكومة", "مدرسة"]
    )
    rng = random.Random(7)
    if lang == "en":
        scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    else:
        scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=_Arabic())
    for _ in range(150):
        hypothesis = _random_summary(rng, words, rng.randint(1, 4))
        references = [
            _random_summary(rng, words, rng.randint(1, 4)) for _ in range(rng.randint(1, 3))
        ]
        expected = scorer.score_multi(references, hypothesis)
        result = rouge(hypothesis, references, lang=lang)
        for key in ROUGE_TYPES:
            assert astuple(result.scores[key]) == tuple(expected[key]), (hypothesis, references)


@pytest.mark.parametrize("whole_cells", [1, 7, 50, lcs._WHOLE_CELLS])
def test_blocked_lcs_backtrack_equals_rouge_score(
    whole_cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tables larger than _WHOLE_CELLS are backtracked a block of rows at a time; the real
    # threshold (2**26 cells) is too big for a test, so lower it: every table here then takes
    # the blocked path (but for the default case), with blocks of sqrt(rows) + 1 rows and
    # ragged last blocks. Three words, so ties are everywhere and the picked LCS matters.
    monkeypatch.setattr(lcs, "_WHOLE_CELLS", whole_cells)
    rng = random.Random(whole_cells)
    words = ["a", "b", "c"]
    for _ in range(300):
        a = rng.choices(words, k=rng.randint(0, 30))
        b = rng.choices(words, k=rng.randint(0, 30))
        assert lcs.lcs_indices(a, b) == rouge_scorer.lcs_ind(a, b), (a, b)
    # And through the scorer: many sentences each side, so Lsum's union of LCSs is exercised.
    scorer = rouge_scorer.RougeScorer(["rougeLsum"], tokenizer=_Arabic())
    for _ in range(20):
        hypothesis = _random_summary(rng, words, rng.randint(5, 12))
        reference = _random_summary(rng, words, rng.randint(5, 12))
        expected = scorer.score(reference, hypothesis)["rougeLsum"]
        result = rouge(hypothesis, [reference], lang="ar").scores["rougeLsum"]
        assert astuple(result) == tuple(expected), (hypothesis, reference)


def test_rouge_l_of_long_texts_needs_little_memory() -> None:
    # Two one-line texts of 4,000 words: rouge-score's LCS table has 16 million cells (about
    # 128 MB of list slots; 60,000 words each need 29 GB). mtsum keeps a few rows' bits.
    # (lang="ar": no stemming, which tracemalloc makes slow.)
    rng = random.Random(3)
    words = [f"w{i}" for i in range(300)]
    hypothesis, reference = (" ".join(rng.choices(words, k=4000)) for _ in range(2))
    tracemalloc.start()
    try:
        result = rouge(hypothesis, [reference], lang="ar")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000, f"{peak:,} bytes"
    assert 0 < result.scores["rougeL"].fmeasure < 1
    assert result.scores["rougeLsum"] == result.scores["rougeL"]  # one line each
