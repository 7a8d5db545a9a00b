"""Scores against the references beside a document: a summary's ROUGE, a translation's
BLEU/chrF, and the corpus figures of a batch.

`score_summary` is what `mtsum score` and `mtsum batch` both compute for a summary, so a batch's
ROUGE can be reproduced from its summary.txt. A reference that cannot be used is a score's
``*_error``, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from mtsum.batch.inputs import Document
from mtsum.batch.records import CorpusScores, DocRow, DocScores
from mtsum.errors import InputError
from mtsum.pipeline import summary_sentences
from mtsum.score import RougeResult, join_sentences, rouge, rouge_corpus, translation_scores

__all__ = ["corpus_scores", "score_document", "score_summary"]


def score_summary(hypothesis: str, references: Sequence[str], *, lang: str = "auto") -> RougeResult:
    """ROUGE of a summary text against reference texts, as `mtsum score` and `mtsum batch` score.

    Every text is split into sentences (at line ends and sentence punctuation, see
    `mtsum.pipeline.summary_sentences`) and written one per line, the form ROUGE-Lsum expects.

    Args:
        hypothesis: The summary.
        references: One or more reference summaries; per metric the best counts.
        lang: ``auto``, ``ar`` or ``en``, as in `mtsum.rouge_many`.

    Returns:
        The `RougeResult`, with its signature.

    Raises:
        InputError: No references, a single string instead of a list, or an unknown lang.

    Example:
        >>> score_summary("Rain fell. Cairo flooded.", ["Rain fell in Cairo."]).n_refs
        1
    """
    if isinstance(references, str):
        raise InputError("references is a str; pass a list of reference summaries")
    refs = [join_sentences(summary_sentences(r)) for r in references]
    return rouge(join_sentences(summary_sentences(hypothesis)), refs, lang=lang)


def score_document(doc: Document, english: Sequence[str], sentences: Sequence[str]) -> DocScores:
    """Score a document's summary and translation against the references found beside it.

    Args:
        doc: The document, with its references.
        english: Its English paragraphs (the translation, for an Arabic document).
        sentences: Its summary sentences.

    Returns:
        ROUGE when it has reference summaries; BLEU/chrF when it is Arabic and has a reference
        translation. A reference that cannot be used is an ``*_error``, never an exception.
    """
    rouge_result = rouge_error = None
    bad = [r.error for r in doc.summary_refs if r.error is not None]
    if bad:
        rouge_error = bad[0]
    elif doc.summary_refs:
        refs = [r.text or "" for r in doc.summary_refs]
        rouge_result = score_summary("\n".join(sentences), refs, lang="en")
    mt = mt_error = None
    ref = doc.translation_ref
    if ref is not None:
        if doc.lang != "ar":
            mt_error = "the document is not Arabic; nothing was translated"
        elif ref.error is not None:
            mt_error = ref.error
        else:
            try:
                mt = translation_scores(list(english), ref.lines)
            except InputError as exc:
                mt_error = f"{ref.name}: {exc}"
    return DocScores(
        references=tuple(r.name for r in doc.summary_refs),
        rouge=rouge_result,
        rouge_error=rouge_error,
        translation_reference=None if ref is None else ref.name,
        translation=mt,
        translation_error=mt_error,
    )


def corpus_scores(
    docs: Sequence[Document], rows: Sequence[DocRow], english: Sequence[Sequence[str]]
) -> CorpusScores:
    """Corpus ROUGE over the rows with one, and BLEU/chrF over every paragraph of the documents
    whose translation was scored (``english[i]`` are document i's English paragraphs)."""
    rouges = [row.scores.rouge for row in rows if row.scores and row.scores.rouge]
    hypotheses: list[str] = []
    references: list[str] = []
    n_docs = 0
    for doc, row, paragraphs in zip(docs, rows, english, strict=True):
        if row.scores is not None and row.scores.translation is not None and doc.translation_ref:
            hypotheses += paragraphs
            references += doc.translation_ref.lines
            n_docs += 1
    return CorpusScores(
        rouge=rouge_corpus(rouges) if rouges else None,
        translation=translation_scores(hypotheses, references) if hypotheses else None,
        translation_docs=n_docs,
    )
