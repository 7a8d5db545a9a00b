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
    "OptionError",
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
    # An option out of range is a usage error; a program catching InputError still catches it.
    assert issubclass(mtsum.OptionError, mtsum.InputError) and mtsum.OptionError.exit_code == 2


def _echo(texts: list[str]) -> list[str]:
    return ["Some words here." for _ in texts]


MT = mtsum.FunctionModel(_echo)


# Every public function that takes texts: a str where a sequence of texts belongs would be read
# one character a text ("مرحبا" made five documents), so it is a TypeError naming the fix.
@pytest.mark.parametrize(
    "call",
    [
        lambda: mtsum.translate("مرحبا", MT),
        lambda: mtsum.summarize_texts("Russia", summarizer=MT),
        lambda: mtsum.translate_segments("Russia", MT),
        lambda: mtsum.check_document("Rain fell.", "Rain fell."),
    ],
)
def test_a_str_for_a_sequence_of_texts_is_a_type_error(call: object) -> None:
    with pytest.raises(TypeError, match=r"is a str.*pass a list"):
        call()  # type: ignore[operator]


# None, bytes or a number where a text belongs: mtsum's InputError, naming which one.
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mtsum.translate(["نص.", None], MT), r"texts\[1\] is None, not a str"),
        (lambda: mtsum.translate([b"x"], MT), r"texts\[0\] is bytes, not a str; decode it"),
        (lambda: mtsum.translate([3.5], MT), r"texts\[0\] is of type float \(3.5\)"),
        (lambda: mtsum.summarize_texts(["A b.", 7], summarizer=MT), r"texts\[1\] is of type"),
        (lambda: mtsum.check("Rain fell.", ["Rain.", None]), r"summary\[1\] is None"),
        (lambda: mtsum.check(None, "Rain."), r"source is NoneType"),
        (lambda: mtsum.check_document(b"Rain fell.", ["Rain."]), r"source is bytes"),
        (lambda: mtsum.segment(None), r"text is None"),
        (lambda: mtsum.normalize(5), r"text is of type int"),
        (lambda: mtsum.arabic_share(None), r"text is None"),
        (lambda: mtsum.summary_sentences(None), r"summary is None"),
        (lambda: mtsum.rouge("a", ["b", None]), r"references\[0\]\[1\] is None"),
        (lambda: mtsum.rouge_many([None], [["b"]]), r"hypotheses\[0\] is None"),
    ],
)
def test_a_text_that_is_not_a_str_is_an_input_error(call: object, message: str) -> None:
    with pytest.raises((mtsum.InputError, TypeError), match=message) as caught:
        call()  # type: ignore[operator]
    if "NoneType" not in message:  # check(None, ...): None for the whole sequence
        assert isinstance(caught.value, mtsum.InputError)


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (lambda xs: [None] * len(xs), "output 0 of a batch is NoneType, not a str"),
        (lambda xs: None, "returned NoneType, not a list of outputs"),
        (lambda xs: [*xs, "one too many"], "2 outputs for 1 inputs"),
    ],
)
def test_a_model_returning_no_text_is_a_model_error(outputs: object, message: str) -> None:
    model = mtsum.FunctionModel(outputs)  # type: ignore[arg-type]
    with pytest.raises(mtsum.ModelError, match=message):
        mtsum.translate(["نص قصير."], model)
    with pytest.raises(mtsum.ModelError, match=message):
        mtsum.summarize_texts(["A short text."], summarizer=model)


@pytest.mark.parametrize("empty", ["", "   ", "\n"])
def test_an_empty_summary_is_refused_as_check_refuses_one(empty: str) -> None:
    with pytest.raises(mtsum.InputError, match="the summary has no sentences"):
        mtsum.check("Rain fell in Cairo.", empty)
    summarizer = mtsum.FunctionModel(lambda xs: [empty] * len(xs))
    with pytest.raises(mtsum.ModelError, match="document 0: the model returned an empty summary"):
        mtsum.summarize_texts(["Rain fell in Cairo."], summarizer=summarizer)


def test_records_are_frozen_and_serialize_to_json() -> None:
    [doc] = mtsum.translate(["نص قصير."], mtsum.FunctionModel(lambda xs: ["short text."] * len(xs)))
    seg = doc.segments[0]
    assert dataclasses.is_dataclass(seg)
    with pytest.raises(dataclasses.FrozenInstanceError):
        seg.text = "changed"  # type: ignore[misc]
    data = json.loads(json.dumps(dataclasses.asdict(doc), ensure_ascii=False))
    assert data["segments"][0]["text"] == "short text."
