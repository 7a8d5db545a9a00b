"""The whole job for a document: translate (when Arabic), summarize, align, flag.

`summarize_texts` and `check` are what `mtsum summarize` and `mtsum check` call; they only
compose the stages (translate, summarize, align) and keep the Arabic and English paragraphs
paired by index, so an alignment to English paragraph i is also one to Arabic paragraph i.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mtsum._version import __version__
from mtsum.align import DEFAULT_THRESHOLD, Aligner, Check, LexicalAligner, check_english
from mtsum.arabic import detect_language, text_arabic_share
from mtsum.backends import load_translator
from mtsum.backends.base import Seq2Seq
from mtsum.errors import InputError, text_arg, texts_arg
from mtsum.signature import Signature
from mtsum.summarize import SummarizeOptions, Summary
from mtsum.summarize import summarize as summarize_stage
from mtsum.textprep import paragraphs, segment, split_sentences
from mtsum.translate import DocumentTranslation, TranslateOptions, translate

__all__ = [
    "CheckedSummary",
    "DocumentSummary",
    "PreparedSource",
    "align_signature",
    "check",
    "check_document",
    "language_warnings",
    "prepare",
    "summarize_texts",
    "summary_sentences",
]


@dataclass(frozen=True, kw_only=True)
class PreparedSource:
    """A document ready to summarize: English paragraphs, paired by index with the originals."""

    lang: str
    english: tuple[str, ...]
    original: tuple[str, ...]
    translation: DocumentTranslation | None
    arabic_share: float = 0.0  # of the letters, markup left out: what decided ``lang``
    warnings: tuple[str, ...] = ()  # about the language decision


@dataclass(frozen=True, kw_only=True)
class DocumentSummary:
    """Everything `mtsum summarize` reports for one document."""

    source: PreparedSource
    summary: Summary
    check: Check
    signature: Signature


# Below this share of Arabic letters a document read as English is not worth a warning.
ARABIC_WARN_SHARE = 0.1


def language_warnings(text: str, lang: str) -> tuple[str, ...]:
    """A warning when a document read as English (not translated) has Arabic letters in it."""
    share = text_arabic_share(text)
    if lang != "en" or share < ARABIC_WARN_SHARE:
        return ()
    return (
        f"{share:.0%} of the letters are Arabic but the document was read as English and not "
        "translated; pass --source-lang ar to translate it",
    )


def prepare(
    texts: Sequence[str],
    *,
    translator: Seq2Seq | Callable[[], Seq2Seq] | None,
    source_lang: str = "auto",
    translate_options: TranslateOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[PreparedSource]:
    """Translate the Arabic documents (all in one batched run) and pair paragraphs by index.

    Args:
        texts: Document texts.
        translator: A translation model, or a function that loads one (called only when some
            document is Arabic), or None to load the default model when needed.
        source_lang: ``auto`` (per document, by script), ``ar`` or ``en``.
        translate_options: Settings for the translation stage.
        progress: Passed to `mtsum.translate`.
    """
    texts = texts_arg(texts, "texts")
    langs = [detect_language(text, source_lang) for text in texts]
    arabic = [text for text, lang in zip(texts, langs, strict=True) if lang == "ar"]
    translations: list[DocumentTranslation] = []
    if arabic:
        model = _model(translator)
        translations = translate(arabic, model, options=translate_options, progress=progress)
    found = iter(translations)
    sources = []
    for index, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        if lang == "ar":
            doc = next(found)
            sources.append(
                PreparedSource(
                    lang="ar",
                    english=tuple(doc.paragraphs),
                    original=tuple(doc.source_paragraphs),
                    translation=doc,
                    arabic_share=text_arabic_share(text),
                )
            )
            continue
        english = paragraphs(segment(text))
        if not english:
            raise InputError(f"document {index} has no text to summarize")
        sources.append(
            PreparedSource(
                lang="en",
                english=tuple(english),
                original=tuple(english),
                translation=None,
                arabic_share=text_arabic_share(text),
                warnings=language_warnings(text, "en"),
            )
        )
    return sources


def _model(model: Seq2Seq | Callable[[], Seq2Seq] | None) -> Seq2Seq:
    """A model as given, or loaded by its loader (None: the default translator)."""
    if model is None:
        return load_translator()
    if callable(model) and not hasattr(model, "generate"):
        return model()
    return model  # type: ignore[return-value]


def summarize_texts(
    texts: Sequence[str],
    *,
    summarizer: Seq2Seq | Callable[[], Seq2Seq],
    translator: Seq2Seq | Callable[[], Seq2Seq] | None = None,
    source_lang: str = "auto",
    translate_options: TranslateOptions | None = None,
    summarize_options: SummarizeOptions | None = None,
    aligner: Aligner | None = None,
    top_k: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int, int], None] | None = None,
) -> list[DocumentSummary]:
    """Translate (Arabic), summarize, and align every summary sentence to its source paragraphs.

    Args:
        texts: Document texts, Arabic or English.
        summarizer: A summarization model (`mtsum.load_summarizer`), or a loader called after
            translation, when the translator is no longer held, so the two models are never in
            memory together.
        translator: A translation model, a loader called only when needed, or None (default).
        source_lang: ``auto``, ``ar`` or ``en``.
        translate_options, summarize_options: Stage settings.
        aligner: Scores summary sentences against paragraphs; `LexicalAligner` by default.
        top_k: Alignments kept per summary sentence.
        threshold: Support below which a sentence is flagged ``unsupported``.
        progress: Translation progress, as in `mtsum.translate`.

    Returns:
        One `DocumentSummary` per text, in order.

    Raises:
        TypeError: `texts` is a single str (pass ``[text]``), or not a sequence.
        InputError: A document is not a str or is empty, or an option is out of range.
        ModelError: A model cannot be loaded or misbehaves (an output that is not a str, an
            empty summary).

    Example:
        Plain functions stand in for `load_translator()` and `load_summarizer()`:

        >>> from mtsum.backends.base import FunctionModel
        >>> english = {"ارتفع النهر مترين.": "The river rose two metres.",
        ...            "أغلقت المدارس.": "Schools closed."}
        >>> mt = FunctionModel(lambda xs: [english[x] for x in xs])
        >>> sm = FunctionModel(lambda xs: ["Schools closed."] * len(xs))
        >>> [doc] = summarize_texts(["ارتفع النهر مترين.\\n\\nأغلقت المدارس."],
        ...                         translator=mt, summarizer=sm)
        >>> [(s.text, s.alignments[0].paragraphs) for s in doc.check.sentences]
        [('Schools closed.', (1,))]
    """
    sources = prepare(
        texts,
        translator=translator,
        source_lang=source_lang,
        translate_options=translate_options,
        progress=progress,
    )
    summaries = summarize_stage(
        [list(s.english) for s in sources], _model(summarizer), options=summarize_options
    )
    aligner = aligner if aligner is not None else LexicalAligner()
    results = []
    for source, summary in zip(sources, summaries, strict=True):
        checked = _check_and_flag(source, list(summary.sentences), aligner, top_k, threshold)
        signature = summary.signature + align_signature(aligner, top_k, threshold)
        if source.translation is not None:
            signature = source.translation.signature + signature
        results.append(
            DocumentSummary(source=source, summary=summary, check=checked, signature=signature)
        )
    return results


def align_signature(aligner: Aligner, top_k: int, threshold: float) -> Signature:
    """The `Signature` of how a summary was checked: aligner, top-k and support threshold."""
    return Signature.of(
        ("align", aligner.name), ("top", top_k), ("thr", threshold), ("mtsum", __version__)
    )


def _check_and_flag(
    source: PreparedSource, sentences: list[str], aligner: Aligner, top_k: int, threshold: float
) -> Check:
    """Align, then add the translation flags of the paragraphs each sentence leans on."""
    if not sentences:
        return Check(support=0.0, sentences=(), aligner=aligner.name, threshold=threshold)
    checked = check_english(
        list(source.english), sentences, aligner=aligner, top_k=top_k, threshold=threshold
    )
    if source.translation is None:
        return checked
    flags_by_paragraph: dict[int, set[str]] = {}
    for seg in source.translation.segments:
        flags_by_paragraph.setdefault(seg.paragraph, set()).update(seg.flags)
    sentences_out = []
    for sentence in checked.sentences:
        leaned = sentence.alignments[0].paragraphs if sentence.alignments else ()
        inherited = sorted({f"source_{f}" for p in leaned for f in flags_by_paragraph.get(p, ())})
        sentences_out.append(replace(sentence, flags=(*sentence.flags, *inherited)))
    return replace(checked, sentences=tuple(sentences_out))


@dataclass(frozen=True, kw_only=True)
class CheckedSummary:
    """A summary checked against its (prepared) source, with the signature of how."""

    source: PreparedSource
    check: Check
    signature: Signature


def check_document(
    source: str,
    sentences: Sequence[str],
    *,
    translator: Seq2Seq | Callable[[], Seq2Seq] | None = None,
    source_lang: str = "auto",
    aligner: Aligner | None = None,
    top_k: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int, int], None] | None = None,
) -> CheckedSummary:
    """`check`, keeping the prepared source (paragraphs, translation) and a signature.

    Raises:
        TypeError: `sentences` is a single str (pass ``summary_sentences(text)``).
        InputError: `source` or a sentence is not a str, or either is empty.
    """
    source = text_arg(source, "source")
    sentences = texts_arg(sentences, "sentences")
    if not sentences:
        raise InputError("the summary has no sentences to check")
    [prepared] = prepare(
        [source], translator=translator, source_lang=source_lang, progress=progress
    )
    aligner = aligner if aligner is not None else LexicalAligner()
    checked = _check_and_flag(prepared, list(sentences), aligner, top_k, threshold)
    signature = align_signature(aligner, top_k, threshold)
    if prepared.translation is not None:
        signature = prepared.translation.signature + signature
    return CheckedSummary(source=prepared, check=checked, signature=signature)


def check(
    source: str | Sequence[str],
    summary: str | Sequence[str],
    *,
    translator: Seq2Seq | Callable[[], Seq2Seq] | None = None,
    source_lang: str = "auto",
    aligner: Aligner | None = None,
    top_k: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
) -> Check:
    """Check a summary written anywhere against its source article.

    Args:
        source: The article text, or its paragraphs. Arabic is translated first (with
            `translator`, or the default model loaded on demand); English is used as is.
        summary: The summary text (split into sentences here), or its sentences.
        translator, source_lang, aligner, top_k, threshold: As in `summarize_texts`.

    Returns:
        A `Check`: ``support`` in [0, 1] for the whole summary, and per sentence its support,
        top-k paragraph alignments and flags (``unsupported``, ``number_not_in_source``, and
        ``source_*`` translation flags of the paragraphs it leans on).

    Raises:
        InputError: The source or the summary is empty.

    Example:
        >>> check("Rain fell in Cairo on Monday.\\nMarkets closed.", "Rain fell in Cairo.").support
        1.0
    """
    text = source if isinstance(source, str) else "\n".join(texts_arg(source, "source"))
    if isinstance(summary, str):
        sentences = summary_sentences(summary)
    else:
        sentences = texts_arg(summary, "summary")
    return check_document(
        text,
        [s.strip() for s in sentences if s.strip()],
        translator=translator,
        source_lang=source_lang,
        aligner=aligner,
        top_k=top_k,
        threshold=threshold,
    ).check


def summary_sentences(summary: str) -> list[str]:
    """Split a summary into sentences: at line ends and sentence punctuation.

    Raises:
        InputError: `summary` is not a str.
    """
    found = []
    for line in text_arg(summary, "summary").splitlines():
        found.extend(line[a:b].strip() for a, b in split_sentences(line))
    return [s for s in found if s]
