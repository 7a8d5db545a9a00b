"""mtsum: translate Arabic news to English, summarize it, tie each summary sentence to its source.

Example:
    ``mtsum.load_translator()`` loads Helsinki-NLP/opus-mt-ar-en; here a plain function stands in
    for it, as in the tests:

    >>> import mtsum
    >>> mt = mtsum.FunctionModel(lambda xs: ["Welcome."] * len(xs))
    >>> [doc] = mtsum.translate(["مرحبا بكم."], mt)
    >>> print("\\n\\n".join(doc.paragraphs))
    Welcome.

Importing mtsum loads no model library: torch and transformers are imported by the loaders.
"""

from __future__ import annotations

from mtsum._version import __version__
from mtsum.align import Aligner, Alignment, Check, LexicalAligner, SentenceSupport
from mtsum.arabic import arabic_share
from mtsum.backends import load_summarizer, load_translator
from mtsum.backends.base import (
    DEFAULT_MT_MODEL,
    DEFAULT_SUM_MODEL,
    FunctionModel,
    GenerateOptions,
    ModelInfo,
    Seq2Seq,
)
from mtsum.batch import BatchReport, BatchSettings, lazy_summarizer, lazy_translator, run_batch
from mtsum.errors import BusyError, InputError, ModelError, MtsumError, OptionError
from mtsum.pipeline import (
    CheckedSummary,
    DocumentSummary,
    check,
    check_document,
    summarize_texts,
    summary_sentences,
)
from mtsum.score import (
    CorpusRouge,
    MTScore,
    RougeResult,
    rouge,
    rouge_corpus,
    rouge_many,
    translation_scores,
)
from mtsum.signature import Signature
from mtsum.sources import Source, read_document, read_sources
from mtsum.summarize import SummarizeOptions, Summary
from mtsum.textprep import Segment, normalize, segment
from mtsum.translate import (
    DocumentTranslation,
    TranslatedSegment,
    TranslateOptions,
    translate,
    translate_segments,
)

__all__ = [
    "DEFAULT_MT_MODEL",
    "DEFAULT_SUM_MODEL",
    "Aligner",
    "Alignment",
    "BatchReport",
    "BatchSettings",
    "BusyError",
    "Check",
    "CheckedSummary",
    "CorpusRouge",
    "DocumentSummary",
    "DocumentTranslation",
    "FunctionModel",
    "GenerateOptions",
    "InputError",
    "LexicalAligner",
    "MTScore",
    "ModelError",
    "ModelInfo",
    "MtsumError",
    "OptionError",
    "RougeResult",
    "Segment",
    "SentenceSupport",
    "Seq2Seq",
    "Signature",
    "Source",
    "SummarizeOptions",
    "Summary",
    "TranslateOptions",
    "TranslatedSegment",
    "__version__",
    "arabic_share",
    "check",
    "check_document",
    "lazy_summarizer",
    "lazy_translator",
    "load_summarizer",
    "load_translator",
    "normalize",
    "read_document",
    "read_sources",
    "rouge",
    "rouge_corpus",
    "rouge_many",
    "run_batch",
    "segment",
    "summarize_texts",
    "summary_sentences",
    "translate",
    "translate_segments",
    "translation_scores",
]
