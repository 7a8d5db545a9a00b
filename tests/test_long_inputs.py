"""Issue 10.5, "Nothing cut, after all": over-long tokens and over-long lengths never fail a run.

A run of 600 dashes, a 1,500-character URL or a base64 ``data:`` URI is one "word" longer than
the split limit; it used to reach the model whole (CTranslate2: "No position encodings are
defined for positions >= 512", exit 4; transformers: ``IndexError``, exit 70). A ``--max-words``
above what the summarizer can write did the same at the output end. Now a word is cut into
character windows measured in tokens (`mtsum.pieces`, shared by translate and summarize), both
backends hold every output bound to the decoder's positions, and summarize lowers a length it
cannot write with a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from conftest import seed_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtsum
from mtsum.backends.base import FunctionModel, GenerateOptions
from mtsum.errors import InputError
from mtsum.pieces import Piece, split_to_fit
from mtsum.summarize import SummarizeOptions, summarize
from mtsum.translate import TranslateOptions

LONG_LINE = (
    "انظر "
    + "-" * 600
    + " والرابط https://example.com/"
    + "a" * 1500
    + " ثم data:image/png;base64,"
    + "iVBORw0KGgo" * 150
)
BACKENDS = ["transformers", "ctranslate2"]


def words(texts: Sequence[str]) -> list[int]:
    """FunctionModel's count: a token per whitespace word, plus the end token."""
    return [len(t.split()) + 1 for t in texts]


def characters(texts: Sequence[str]) -> list[int]:
    """A token per character, plus the end token: every long word is long in tokens."""
    return [len(t) + 1 for t in texts]


def check_pieces(text: str, pieces: Sequence[Piece], count, limit: int) -> None:
    """The pieces cover the text in order: only whitespace between and around them, so every
    other character is in exactly one piece; each piece's text and tokens are what the model
    reads, within the limit."""
    at = 0
    rebuilt = []
    for piece in pieces:
        assert at <= piece.start < piece.end, "in order, not overlapping, not empty"
        gap = text[at : piece.start]
        assert gap.strip() == "", f"{gap!r} between pieces is not whitespace"
        rebuilt += [gap, text[piece.start : piece.end]]
        assert piece.text == " ".join(text[piece.start : piece.end].split())
        assert piece.tokens == count([piece.text])[0] <= limit
        at = piece.end
    assert text[at:].strip() == ""
    assert "".join(rebuilt) + text[at:] == text


# --- the splitter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "limit", "expected"),
    [
        ("short text.", words, 8, ["short text."]),
        ("   ", words, 8, []),
        ("one two, three four five six.", words, 4, ["one two,", "three four five", "six."]),
        # A word over the limit: windows of at most 4 characters (5 tokens with the end token).
        ("ab " + "x" * 10 + " cd", characters, 5, ["ab", "xxxx", "xxxx", "xx", "cd"]),
        ("x" * 9, characters, 5, ["xxxx", "xxxx", "x"]),
        # Spaces, tabs and line breaks between words are what separates pieces.
        ("a\tb  c\nd e", words, 3, ["a b", "c d", "e"]),
        # An Arabic vowel sign (a combining mark) stays with its letter.
        ("بَبَبَ", characters, 4, ["بَ", "بَ", "بَ"]),
    ],
)
def test_split_to_fit_table(text: str, count, limit: int, expected: list[str]) -> None:
    pieces = split_to_fit(text, count, limit)
    assert [p.text for p in pieces] == expected
    check_pieces(text, pieces, count, limit)


def test_split_to_fit_a_span_keeps_offsets_of_the_whole_text() -> None:
    text = "keep this. " + "x" * 12 + " end. not this"
    pieces = split_to_fit(text, characters, 6, start=11, end=len(text) - 9)
    assert [text[p.start : p.end] for p in pieces] == ["xxxxx", "xxxxx", "xx", "end."]


def test_a_character_over_the_limit_is_refused() -> None:
    with pytest.raises(InputError, match="over the limit of 3 tokens"):
        split_to_fit("abc", lambda texts: [3 * len(t) + 1 for t in texts], 3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=" \t\n،,:;-xبَa.", max_size=120),
    limit=st.integers(min_value=3, max_value=30),
    per_word=st.booleans(),
)
def test_split_to_fit_covers_everything_within_the_limit(
    text: str, limit: int, per_word: bool
) -> None:
    count = words if per_word else characters
    check_pieces(text, split_to_fit(text, count, limit), count, limit)


@pytest.fixture(scope="module")
def models(marian_dir: Path, bart_dir: Path, mtsum_cache: Path) -> dict[str, mtsum.Seq2Seq]:
    def load(loader, path: Path, backend: str) -> mtsum.Seq2Seq:
        # The cache folder by name: a module fixture is set up before the autouse one sets it.
        return loader(str(path), device="cpu", threads=1, backend=backend, cache_dir=mtsum_cache)

    return {
        f"{kind}-{backend}": load(loader, path, backend)
        for kind, loader, path in [
            ("marian", mtsum.load_translator, marian_dir),
            ("bart", mtsum.load_summarizer, bart_dir),
        ]
        for backend in BACKENDS
    }


@pytest.mark.parametrize("kind", ["marian", "bart"])
@pytest.mark.parametrize("limit", [200, 37])
def test_long_tokens_split_within_the_real_tokenizers(models: dict, kind: str, limit: int) -> None:
    model = models[f"{kind}-transformers"]
    assert model.count_tokens(["-" * 600])[0] > 512  # one "word", too long for the model
    pieces = split_to_fit(LONG_LINE, model.count_tokens, limit)
    check_pieces(LONG_LINE, pieces, model.count_tokens, limit)
    assert len(pieces) >= model.count_tokens([LONG_LINE])[0] // limit


# --- the backends: inputs and outputs within the positions -------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["marian", "bart"])
def test_output_bounds_held_to_the_decoder_positions(models: dict, kind: str, backend: str) -> None:
    model = models[f"{kind}-{backend}"]
    positions = 512 if kind == "marian" else 256
    assert model.info.max_output_tokens == positions - 1
    # Forced to the full length: one token past the positions used to fail.
    forced = replace(model.defaults, num_beams=1, min_new_tokens=positions + 100)
    [text] = model.generate(["short"], forced, max_new_tokens=[positions + 100])
    assert text


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_input_over_the_positions_is_an_input_error(models: dict, backend: str) -> None:
    model = models[f"marian-{backend}"]
    with pytest.raises(InputError, match="longer than the model's limit of 512; split it"):
        model.generate(["-" * 600], model.defaults, max_new_tokens=[10])


def test_a_conversion_without_the_output_limit_reads_it_from_the_checkpoint(
    marian_dir: Path, tmp_path: Path
) -> None:
    from mtsum.backends import convert, ct2
    from mtsum.backends.resolve import resolve_model

    resolved = resolve_model(str(marian_dir), role="test", option="--model")
    record = convert.convert(resolved, compute_type="int8", cache=tmp_path) / convert.METADATA
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["runtime"].pop("max_output_tokens") == 511
    record.write_text(json.dumps(data), encoding="utf-8")  # as converted by an older mtsum
    model = ct2.load_ct2(
        resolved, task="translation", device="cpu", threads=1, compute_type="int8", cache=tmp_path
    )
    assert model.info.max_output_tokens == 511


# --- translate: every piece of the long line goes to the model ---------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_long_tokens_translated_piece_by_piece(models: dict, backend: str) -> None:
    model = models[f"marian-{backend}"]
    seen: list[str] = []
    # CTranslate2 takes every batch in one generate_batches call, transformers a batch per
    # generate call: record whichever the stage uses.
    name = "generate_batches" if hasattr(model, "generate_batches") else "generate"
    original = getattr(model, name)

    def recording(texts, options, *, max_new_tokens, **batching):
        seen.extend(texts)
        assert max(max_new_tokens) <= model.info.max_output_tokens
        return original(texts, options, max_new_tokens=max_new_tokens, **batching)

    setattr(model, name, recording)
    try:
        options = TranslateOptions(num_beams=1, retry_no_repeat_ngram=0)
        [doc] = mtsum.translate([LONG_LINE], model, options=options)
    finally:
        delattr(model, name)
    [segment] = doc.segments
    expected = split_to_fit(LONG_LINE, model.count_tokens, 200)
    # Identical pieces (the runs of dashes) go to the model once.
    distinct = {p.text for p in expected}
    assert segment.pieces == len(expected) > len(seen) == len(distinct) > 3
    assert sorted(seen) == sorted(distinct)
    assert max(model.count_tokens(seen)) <= 200


# --- summarize: lengths the model cannot write ---------------------------------------------------


@dataclass
class Writing(FunctionModel):
    """A FunctionModel that writes `ratio` words per token of its bound: ratio 1 fills each
    bound; ratio 2 writes text that reads back twice as long (as a model's bytes can)."""

    ratio: int = 1
    bounds: list[int] | None = None

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        self.bounds = [*(self.bounds or []), *max_new_tokens]
        super().generate(texts, options, max_new_tokens=max_new_tokens)
        return [" ".join(["w"] * (self.ratio * b - 1)) + "." for b in max_new_tokens]


@pytest.mark.parametrize(
    ("options", "defaults", "low", "high", "warning"),
    [
        (
            SummarizeOptions(max_words=800),
            GenerateOptions(min_new_tokens=10, max_new_tokens=60),
            10,
            99,
            "max words 800 (~1120 tokens) is more than function can write: at most 99 tokens "
            "(~70 words), so summaries are held to 99 tokens",
        ),
        (
            SummarizeOptions(min_words=700, max_words=800),
            GenerateOptions(),
            99,
            99,
            "held to 99 tokens; min words 700 (~979 tokens) too",
        ),
        (
            SummarizeOptions(),
            GenerateOptions(max_new_tokens=300),
            0,
            99,
            "the model's maximum summary length of 300 tokens is more than function can write",
        ),
        (SummarizeOptions(max_words=70), GenerateOptions(), 0, 98, None),
    ],
)
def test_a_length_over_the_model_limit_is_lowered_with_a_warning(
    options: SummarizeOptions, defaults: GenerateOptions, low: int, high: int, warning: str | None
) -> None:
    model = Writing(lambda xs: xs, defaults=defaults, max_output_tokens=99)
    [summary] = summarize([["One short paragraph of text."]], model, options=options)
    [only] = summary.chunking.rounds
    assert (only.min_new_tokens, only.max_new_tokens) == (low, high)
    assert model.bounds == [high]
    assert f"|len:{low}-{high}tok|" in str(summary.signature)
    if warning is None:
        assert summary.warnings == ()
    else:
        [found] = summary.warnings
        assert warning in found
        assert summary.chunking.warnings == summary.warnings  # in the JSON's chunking record


def test_a_round_that_does_not_shrink_runs_again_at_half_the_bound() -> None:
    # A chunk of 20 tokens holds one 10-word paragraph (11 tokens with the end token); a map
    # summary gets (20 - 1) // 2 = 9 tokens, but this model's 9-token summaries read back as 17
    # words (18 tokens): 6 x 18 = 108 tokens, no fewer than the 6 x 11 = 66 they summarize. So
    # the round runs again at 4 tokens (7 words, 8 tokens), and two of those fit in a chunk.
    paragraphs = [" ".join([f"p{i}"] * 10) + "." for i in range(6)]
    model = Writing(lambda xs: xs, ratio=2)
    options = SummarizeOptions(max_input_tokens=20, margin=0, max_words=20)
    [summary] = summarize([paragraphs], model, options=options)
    first, *rest = summary.chunking.rounds
    assert len(first.chunks) == 6 and first.max_new_tokens == 4
    assert rest[-1].max_new_tokens == 28 and len(rest[-1].chunks) == 1
    [note] = summary.warnings
    assert note == (
        "round 1 chunk summaries of at most 9 tokens came to 108 tokens, not fewer than the 66 "
        "tokens they summarize; ran the round again at 4"
    )
    # This model's summaries depend only on their bound, so chunks of the same summaries are the
    # same text and go to the model once: round 2's three chunks (two summaries each) are one
    # call, round 3's two (two summaries, one) are two.
    assert model.bounds == [9] * 6 + [4] * 6 + [4] * 1 + [4] * 2 + [28]


# --- the command line, both backends -------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("long-inputs")
    lines = seed_lines()
    (root / "long.txt").write_text("\n".join([*lines[:2], LONG_LINE, lines[2]]) + "\n", "utf-8")
    return root


def run_mtsum(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mtsum ARGS` in `cwd`, caching there (the translation cache is shared: the
    summarize test finds the translate test's translations)."""
    env = {**os.environ, "MTSUM_CACHE_DIR": str(cwd), "HF_HUB_OFFLINE": "1"}
    # One thread and one beam: with other processes on two cores, this is what keeps it quick.
    fast = ["--threads", "1", "--beams", "1"]
    return subprocess.run(
        [sys.executable, "-m", "mtsum", *args, *fast],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_translates_the_long_token_article(
    workdir: Path, marian_dir: Path, models: dict, backend: str
) -> None:
    args = ["translate", "long.txt", "--mt-model", str(marian_dir), "--backend", backend]
    done = run_mtsum(workdir, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    [doc] = json.loads(done.stdout)["documents"]
    assert f"backend:{backend}" in doc["signature"]
    [long] = [s for s in doc["segments"] if s["source"] == LONG_LINE]
    count = models["marian-transformers"].count_tokens
    assert long["pieces"] == len(split_to_fit(LONG_LINE, count, 200)) > 3
    assert all(s["text"] for s in doc["segments"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_summarizes_it_with_max_words_above_the_model_limit(
    workdir: Path, marian_dir: Path, bart_dir: Path, backend: str
) -> None:
    models = ["--mt-model", str(marian_dir), "--sum-model", str(bart_dir), "--backend", backend]
    args = ["summarize", "long.txt", *models, "--source-lang", "ar", "--max-words", "800"]
    done = run_mtsum(workdir, *args, "--sum-beams", "1", "--format", "json")
    assert done.returncode == 0, done.stderr
    [doc] = json.loads(done.stdout)["documents"]
    assert doc["summary"].strip()
    [long] = [s for s in doc["translation"]["segments"] if s["source"] == LONG_LINE]
    assert long["pieces"] > 3
    # The tiny BART has 256 positions: at most 255 tokens, and the JSON says why.
    assert "|len:4-255tok|" in doc["signature"]
    lowered = doc["chunking"]["warnings"][0]
    assert lowered.startswith("max words 800 (~1120 tokens) is more than ")
    assert "at most 255 tokens (~182 words)" in lowered
    assert doc["chunking"]["rounds"][-1]["max_new_tokens"] == 255
    # ... and so does stderr, once, naming the document.
    assert f"mtsum: warning: long.txt: {lowered}\n" in done.stderr
    assert done.stderr.count(lowered) == 1
