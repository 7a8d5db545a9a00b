"""Score summaries with ROUGE and translations with BLEU/chrF, each with a signature.

ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum score exactly as google's rouge-score does (its
tokenizer, its formulas; the tests compare them on random texts), but ROUGE-L and -Lsum in linear
memory (`mtsum.lcs`): rouge-score's table of two 60,000-word texts needs about 29 GB. With several
references a document keeps, for each metric, the reference with the best F1
(``RougeScorer.score_multi``). ROUGE-Lsum splits summaries on newlines, so give it one sentence
per line (``join_sentences``).

rouge-score's default tokenizer keeps only ``[a-z0-9]`` and would score any Arabic text 0, so
Arabic references get ``arabic_tokenize`` (normalized letters, no stemming); English keeps the
default tokenizer with the Porter stemmer. Corpus scores are the mean over documents with a seeded
95% percentile-bootstrap interval, as sacrebleu reports them.

Example::

    >>> docs = rouge_many(["the cat sat on the mat"], [["the cat lay on the mat"]])
    >>> round(docs[0].scores["rouge2"].fmeasure, 2)
    0.6
    >>> str(rouge_corpus(docs).signature)
    'rouge:1,2,L,Lsum|tok:en-porter|refs:1|multi:max|bs:1000|seed:12345|mtsum:0.1.0'
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mtsum._version import __version__
from mtsum.arabic import DIGITS, LANGUAGES, LETTERS, detect_language
from mtsum.errors import InputError, text_arg
from mtsum.lcs import rouge_l, rouge_lsum
from mtsum.signature import Signature

__all__ = [
    "ROUGE_TYPES",
    "CorpusRouge",
    "Interval",
    "MTScore",
    "RougeResult",
    "Score",
    "arabic_tokenize",
    "join_sentences",
    "language_mismatch",
    "rouge",
    "rouge_corpus",
    "rouge_many",
    "translation_scores",
]

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_TOKENIZER_NAMES = {"ar": "ar-norm", "en": "en-porter"}

_DIACRITICS_RE = re.compile("[\u064b-\u0652\u0670\u0640]")  # harakat, dagger alef, tatweel
# Tatweel is dropped with the diacritics before this splits tokens.
_NOT_TOKEN_RE = re.compile(f"[^a-z0-9{LETTERS}]+")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"} | DIGITS)


@dataclass(frozen=True)
class Score:
    """Precision, recall and F1 of one ROUGE metric."""

    precision: float
    recall: float
    fmeasure: float


@dataclass(frozen=True)
class RougeResult:
    """ROUGE of one document; ``scores`` has the keys of ``ROUGE_TYPES``."""

    scores: dict[str, Score]
    tokenizer: str
    n_refs: int
    signature: Signature


@dataclass(frozen=True)
class Interval:
    """A corpus mean and its 95% bootstrap confidence interval."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class CorpusRouge:
    """ROUGE over documents: one ``Interval`` per metric for each of P, R and F1."""

    n_docs: int
    precision: dict[str, Interval]
    recall: dict[str, Interval]
    fmeasure: dict[str, Interval]
    signature: Signature


@dataclass(frozen=True)
class MTScore:
    """Corpus BLEU and chrF of a translation, with sacrebleu's signatures."""

    n_segments: int
    bleu: float
    chrf: float
    bleu_signature: Signature
    chrf_signature: Signature


def _signature(tokenizer: str, refs: str, bootstrap: tuple[int, int] | None = None) -> Signature:
    # A single document has no bootstrap, so its signature leaves out bs/seed.
    resamples, seed = bootstrap if bootstrap is not None else (None, None)
    return Signature.of(
        ("rouge", "1,2,L,Lsum"),
        ("tok", tokenizer),
        ("refs", refs),
        ("multi", "max"),
        ("bs", resamples),
        ("seed", seed),
        ("mtsum", __version__),
    )


def arabic_tokenize(text: str) -> list[str]:
    """Split Arabic (or mixed) text into normalized ROUGE tokens.

    NFKC folds presentation forms and ligatures; then diacritics and tatweel are dropped, alef
    forms become ا, ة becomes ه, ى becomes ي, Arabic-Indic digits become ASCII and Latin is
    lowercased. Everything but Arabic letters, a-z and 0-9 separates tokens. No stemming.

    Args:
        text: Any text.

    Returns:
        The tokens, e.g. ``arabic_tokenize("إلى المدرسةِ ٢٠")`` is ``["الي", "المدرسه", "20"]``.
    """
    text = _DIACRITICS_RE.sub("", unicodedata.normalize("NFKC", text))
    text = text.translate(_ARABIC_FOLD).lower()
    return _NOT_TOKEN_RE.sub(" ", text).split()


class _ArabicTokenizer:
    """The ``.tokenize(text)`` object that ``RougeScorer(tokenizer=...)`` expects."""

    def tokenize(self, text: str) -> list[str]:
        return arabic_tokenize(text)


def join_sentences(sentences: Sequence[str]) -> str:
    """Join summary sentences one per line, the form ROUGE-Lsum expects.

    Args:
        sentences: The sentences in order.

    Returns:
        One string; whitespace inside a sentence (newlines too) becomes one space, so a
        sentence cannot split into two.

    Raises:
        InputError: ``sentences`` is a single string rather than a sequence of them.
    """
    if isinstance(sentences, str):
        raise InputError("join_sentences got a str; pass a list of sentences")
    return "\n".join(" ".join(s.split()) for s in sentences)


def rouge_many(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]], *, lang: str = "auto"
) -> list[RougeResult]:
    """Score each summary against its references with ROUGE-1/2/L/Lsum.

    Args:
        hypotheses: One summary per document, sentences separated by newlines.
        references: For each document, one or more reference summaries (newline-separated
            sentences). Per metric the best reference by F1 counts.
        lang: ``"ar"``, ``"en"`` or ``"auto"`` (Arabic when the references have more Arabic
            than Latin letters, decided per document).

    Returns:
        One ``RougeResult`` per document, in input order. An empty summary scores 0.

    Raises:
        InputError: ``lang`` is unknown, the two lists differ in length, a document has no
            references, or a string is passed where a list is expected.
    """
    if lang not in LANGUAGES:
        raise InputError(f"lang={lang!r} is unknown; use one of {', '.join(LANGUAGES)}")
    if isinstance(hypotheses, str):
        raise InputError("hypotheses is a str; pass a list with one summary per document")
    if len(hypotheses) != len(references):
        raise InputError(
            f"{len(hypotheses)} hypotheses but {len(references)} reference lists; "
            "pass one list of references per hypothesis"
        )
    tokenizers: dict[str, _Tokenizer] = {}
    results = []
    for i, (hypothesis, refs) in enumerate(zip(hypotheses, references, strict=True)):
        if isinstance(refs, str) or len(refs) == 0:
            raise InputError(f"document {i} has references={refs!r}; pass a non-empty list")
        hypothesis = text_arg(hypothesis, f"hypotheses[{i}]")
        refs = [text_arg(r, f"references[{i}][{k}]") for k, r in enumerate(refs)]
        doc_lang = detect_language("\n".join(refs), lang)
        if doc_lang not in tokenizers:
            tokenizers[doc_lang] = _tokenizer(doc_lang)
        scores = _best(tokenizers[doc_lang], list(refs), hypothesis)
        name = _TOKENIZER_NAMES[doc_lang]
        results.append(RougeResult(scores, name, len(refs), _signature(name, str(len(refs)))))
    return results


class _Tokenizer(Protocol):
    def tokenize(self, text: str) -> list[str]: ...


def _tokenizer(lang: str) -> _Tokenizer:
    """rouge-score's default tokenizer with the Porter stemmer for English; ours for Arabic."""
    if lang == "ar":
        return _ArabicTokenizer()
    from rouge_score.tokenizers import DefaultTokenizer

    return DefaultTokenizer(use_stemmer=True)


def _best(tokenizer: _Tokenizer, references: list[str], hypothesis: str) -> dict[str, Score]:
    """Per metric the score of the reference with the best F1 (the first on a tie), as
    rouge-score's ``RougeScorer.score_multi``; ROUGE-L and -Lsum in linear memory (`mtsum.lcs`).
    """
    hyp = _Tokens.of(tokenizer, hypothesis)
    best: dict[str, Score] = {}
    for reference in references:
        ref = _Tokens.of(tokenizer, reference)
        scores = {
            "rouge1": _ngrams(ref.tokens, hyp.tokens, 1),
            "rouge2": _ngrams(ref.tokens, hyp.tokens, 2),
            "rougeL": Score(*rouge_l(ref.tokens, hyp.tokens)),
            "rougeLsum": Score(*rouge_lsum(ref.sentences, hyp.sentences)),
        }
        for kind, score in scores.items():
            if kind not in best or score.fmeasure > best[kind].fmeasure:
                best[kind] = score
    return best


@dataclass(frozen=True)
class _Tokens:
    """A text's tokens, and its lines' tokens (ROUGE-Lsum's sentences: the non-empty lines)."""

    tokens: list[str]
    sentences: list[list[str]]

    @classmethod
    def of(cls, tokenizer: _Tokenizer, text: str) -> _Tokens:
        lines = [line for line in text.split("\n") if line]
        return cls(tokenizer.tokenize(text), [tokenizer.tokenize(line) for line in lines])


def _ngrams(target: list[str], prediction: list[str], n: int) -> Score:
    """ROUGE-N as rouge-score computes it: clipped n-gram matches over each side's count."""
    want = Counter(tuple(target[i : i + n]) for i in range(len(target) - n + 1))
    got = Counter(tuple(prediction[i : i + n]) for i in range(len(prediction) - n + 1))
    common = sum(min(count, got[gram]) for gram, count in want.items())
    precision = common / max(sum(got.values()), 1)
    recall = common / max(sum(want.values()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return Score(precision, recall, f1)


_LANGUAGE_NAMES = {"ar": "Arabic", "en": "English"}


def language_mismatch(hypothesis: str, references: Sequence[str]) -> str | None:
    """A warning when the summary and its references are in different languages (by script, as
    `mtsum.arabic.detect_language` decides), else None: ROUGE counts shared words, so an
    English summary scores 0 against Arabic references, and the score says nothing.

    Example:
        >>> language_mismatch("Rain fell.", ["هطلت الأمطار."])[:48]
        'the summary is English but the references are Ar'
        >>> language_mismatch("Rain fell.", ["Rain fell today."]) is None
        True
    """
    texts = [hypothesis, "\n".join(references)]
    if not all(any(ch.isalpha() for ch in text) for text in texts):
        return None  # no letters on one side: no language to compare
    mine, theirs = (detect_language(text) for text in texts)
    if mine == theirs:
        return None
    return (
        f"the summary is {_LANGUAGE_NAMES[mine]} but the references are "
        f"{_LANGUAGE_NAMES[theirs]}: ROUGE counts shared words, so the scores are near 0 and "
        "mean nothing; score against references in the summary's language"
    )


def rouge(hypothesis: str, references: Sequence[str], *, lang: str = "auto") -> RougeResult:
    """Score one summary; ``rouge_many`` for a single document (see there for Args/Raises)."""
    return rouge_many([hypothesis], [references], lang=lang)[0]


def rouge_corpus(
    results: Sequence[RougeResult], *, resamples: int = 1000, seed: int = 12345
) -> CorpusRouge:
    """Average document scores, with a 95% percentile-bootstrap confidence interval.

    Documents are resampled with replacement, ``default_rng(seed).integers(0, n, (resamples, n))``
    from numpy; the interval is the 2.5th-97.5th percentile (numpy's default linear method) of
    the resample means. sacrebleu bootstraps the same way; rouge-score's own aggregator is
    unseeded, hence not used.

    Args:
        results: Document scores from ``rouge_many``, all with the same tokenizer.
        resamples: Number of bootstrap resamples.
        seed: Seed of the resampling, so the interval is reproducible.

    Returns:
        A ``CorpusRouge``; its signature says ``refs:var`` if documents have different counts.

    Raises:
        InputError: ``results`` is empty, ``resamples`` < 1, or tokenizers differ.
    """
    if len(results) == 0:
        raise InputError("results is empty; score at least one document with rouge_many")
    if resamples < 1:
        raise InputError(f"resamples={resamples} must be at least 1")
    tokenizers = sorted({r.tokenizer for r in results})
    if len(tokenizers) > 1:
        raise InputError(
            f"documents use tokenizers {', '.join(tokenizers)}; rescore them with one lang="
        )
    import numpy as np

    n = len(results)
    # One index matrix for every metric, so all intervals come from the same resamples.
    index = np.random.default_rng(seed).integers(0, n, size=(resamples, n))

    def interval(values: list[float]) -> Interval:
        array = np.asarray(values, dtype=float)
        low, high = np.percentile(array[index].mean(axis=1), [2.5, 97.5])
        return Interval(float(array.mean()), float(low), float(high))

    fields = {
        field: {k: interval([getattr(r.scores[k], field) for r in results]) for k in ROUGE_TYPES}
        for field in ("precision", "recall", "fmeasure")
    }
    counts = {r.n_refs for r in results}
    refs = str(counts.pop()) if len(counts) == 1 else "var"
    return CorpusRouge(n, **fields, signature=_signature(tokenizers[0], refs, (resamples, seed)))


def translation_scores(hypotheses: Sequence[str], references: Sequence[str]) -> MTScore:
    """Corpus BLEU and chrF of translated paragraphs against reference paragraphs (sacrebleu).

    Args:
        hypotheses: The translated paragraphs.
        references: One reference translation per paragraph, aligned with ``hypotheses``.

    Returns:
        An ``MTScore`` with sacrebleu's default BLEU and chrF and their signatures.

    Raises:
        InputError: The lists differ in length, are empty, or a string is passed.
    """
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise InputError("translation_scores takes lists of paragraphs, not a str")
    if len(hypotheses) != len(references):
        raise InputError(
            f"{len(hypotheses)} hypothesis paragraphs but {len(references)} reference "
            "paragraphs; align them one to one"
        )
    if len(hypotheses) == 0:
        raise InputError("no paragraphs to score; pass at least one hypothesis and reference")
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(), CHRF()
    bleu_score = bleu.corpus_score(list(hypotheses), [list(references)]).score
    chrf_score = chrf.corpus_score(list(hypotheses), [list(references)]).score
    return MTScore(
        len(hypotheses),
        float(bleu_score),
        float(chrf_score),
        # sacrebleu prints its signatures in the same key:value|... form.
        Signature.parse(str(bleu.get_signature())),
        Signature.parse(str(chrf.get_signature())),
    )
