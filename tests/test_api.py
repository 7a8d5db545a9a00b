"""The public API is explicit: `mtsum.__all__` lists it, and every name in it exists."""

from __future__ import annotations

import dataclasses
import json

import pytest

import mtsum

EXPECTED = {
    "BatchReport",
    "BatchSettings",
    "lazy_summarizer",
    "lazy_translator",
    "run_batch",
    "Aligner",
    "Alignment",
    "Check",
    "CheckedSummary",
    "DocumentSummary",
    "LexicalAligner",
    "SentenceSupport",
    "SummarizeOptions",
    "Summary",
    "check",
    "check_document",
    "summarize_texts",
    "summary_sentences",
    "DEFAULT_MT_MODEL",
    "DEFAULT_SUM_MODEL",
    "BusyError",
    "CorpusRouge",
    "DocumentTranslation",
    "FunctionModel",
    "GenerateOptions",
    "InputError",
    "MTScore",
    "ModelError",
    "ModelInfo",
    "MtsumError",
    "RougeResult",
    "Segment",
    "Seq2Seq",
    "Signature",
    "Source",
    "TranslateOptions",
    "TranslatedSegment",
    "__version__",
    "arabic_share",
    "load_summarizer",
    "load_translator",
    "normalize",
    "read_document",
    "read_sources",
    "rouge",
    "rouge_corpus",
    "rouge_many",
    "segment",
    "translate",
    "translate_segments",
    "translation_scores",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(mtsum.__all__) == EXPECTED
    assert len(mtsum.__all__) == len(set(mtsum.__all__))
    for name in mtsum.__all__:
        assert hasattr(mtsum, name), name


def test_error_tree() -> None:
    for cls in (mtsum.InputError, mtsum.ModelError, mtsum.BusyError):
        assert issubclass(cls, mtsum.MtsumError)
    codes = [mtsum.InputError.exit_code, mtsum.ModelError.exit_code, mtsum.BusyError.exit_code]
    assert codes == [3, 4, 5]


def test_records_are_frozen_and_serialize_to_json() -> None:
    [doc] = mtsum.translate(["نص قصير."], mtsum.FunctionModel(lambda xs: ["short text."] * len(xs)))
    seg = doc.segments[0]
    assert dataclasses.is_dataclass(seg)
    with pytest.raises(dataclasses.FrozenInstanceError):
        seg.text = "changed"  # type: ignore[misc]
    data = json.loads(json.dumps(dataclasses.asdict(doc), ensure_ascii=False))
    assert data["segments"][0]["text"] == "short text."
