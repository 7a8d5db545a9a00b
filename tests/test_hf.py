"""mtsum.backends.hf: loading the tiny Marian and BART checkpoints, their limits and defaults as
the fixtures set them, token counts, decoding arguments, and what loading leaves alone."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from recorders import LogRecords

from mtsum.backends.base import GenerateOptions, ModelInfo
from mtsum.backends.hf import (
    HFSeq2Seq,
    count_tokens,
    generate_kwargs,
    input_limit,
    load_hf,
    model_defaults,
    output_limit,
    sacremoses_notice_hidden,
    task_prefix,
)
from mtsum.backends.resolve import ResolvedModel
from mtsum.errors import InputError, ModelError

TEXTS = ["", "Rain fell in Cairo.", "مرحبا بكم", "The talks went well, officials said on Monday."]
GREEDY = GenerateOptions(num_beams=1)


def load(path: Path, task: str, threads: int | None = None) -> HFSeq2Seq:
    resolved = ResolvedModel(name=f"tiny-{task}", path=path, revision="rev1")
    return load_hf(resolved, task=task, device="cpu", threads=threads)


# One thread, as conftest's models: other processes share the cores.
@pytest.fixture(scope="module")
def marian_hf(marian_dir: Path) -> HFSeq2Seq:
    return load(marian_dir, "translation", threads=1)


@pytest.fixture(scope="module")
def bart_hf(bart_dir: Path) -> HFSeq2Seq:
    return load(bart_dir, "summarization", threads=1)


# --- what load_hf records --------------------------------------------------------------------


def test_marian_info_and_defaults(marian_hf: HFSeq2Seq, marian_dir: Path) -> None:
    # build_marian: 512 positions (and MarianTokenizer's model_max_length 512); generation
    # config of 4 beams and max_length 512, which counts the decoder start token.
    assert marian_hf.info == ModelInfo(
        name="tiny-translation",
        revision="rev1",
        path=str(marian_dir),
        backend="transformers",
        compute_type="float32",
        max_input_tokens=512,
        prefix="",
        max_output_tokens=511,
    )
    assert marian_hf.defaults == GenerateOptions(
        num_beams=4,
        length_penalty=1.0,
        no_repeat_ngram_size=0,
        repetition_penalty=1.0,
        min_new_tokens=0,
        max_new_tokens=511,
    )


def test_bart_info_and_task_defaults(bart_hf: HFSeq2Seq, bart_dir: Path) -> None:
    # build_bart: 256 positions; summarization settings 4 beams, length penalty 2.0, no repeated
    # trigram, 5-30 tokens counting the start token.
    assert bart_hf.info == ModelInfo(
        name="tiny-summarization",
        revision="rev1",
        path=str(bart_dir),
        backend="transformers",
        compute_type="float32",
        max_input_tokens=256,
        prefix="",
        max_output_tokens=255,
    )
    assert bart_hf.defaults == GenerateOptions(
        num_beams=4,
        length_penalty=2.0,
        no_repeat_ngram_size=3,
        repetition_penalty=1.0,
        min_new_tokens=4,
        max_new_tokens=29,
    )


def test_loading_clears_the_checkpoints_own_lengths(marian_hf: HFSeq2Seq) -> None:
    config = marian_hf.model.generation_config
    assert (config.max_length, config.min_length, config.forced_eos_token_id) == (None, None, None)
    assert not marian_hf.model.training


# --- token counts ------------------------------------------------------------------------------


def test_counts_equal_the_tokenizers_own(marian_hf: HFSeq2Seq, bart_hf: HFSeq2Seq) -> None:
    from transformers import AutoTokenizer

    for model, specials in ((marian_hf, 1), (bart_hf, 2)):
        with sacremoses_notice_hidden():
            tokenizer = AutoTokenizer.from_pretrained(model.info.path)
        counts = model.count_tokens(TEXTS)
        assert counts == [len(tokenizer(t)["input_ids"]) for t in TEXTS]
        # Marian appends </s>; BART wraps in <s> ... </s>.
        assert counts == [len(tokenizer.tokenize(t)) + specials for t in TEXTS]
    assert marian_hf.count_tokens([""]) == [1] and bart_hf.count_tokens([""]) == [2]


def test_counts_include_the_prefix(bart_hf: HFSeq2Seq) -> None:
    tokenizer = bart_hf.tokenizer
    counts = count_tokens(tokenizer, TEXTS, prefix="summarize: ")
    assert counts == [len(tokenizer("summarize: " + t)["input_ids"]) for t in TEXTS]
    assert all(c > p for c, p in zip(counts, bart_hf.count_tokens(TEXTS), strict=True))


def test_counting_an_over_long_text_says_nothing(marian_hf: HFSeq2Seq) -> None:
    records = LogRecords()
    logger = logging.getLogger("transformers")  # does not propagate: no caplog
    logger.addHandler(records)
    try:
        [count] = marian_hf.count_tokens(["word " * 600])
    finally:
        logger.removeHandler(records)
    assert count > marian_hf.info.max_input_tokens
    assert records.messages == []


# --- decoding arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "bound", "expected"),
    [
        (
            GenerateOptions(num_beams=1, length_penalty=2.0),
            9,
            # Greedy: no beam-only settings, which transformers warns about on every batch.
            {"num_beams": 1, "no_repeat_ngram_size": 0, "repetition_penalty": 1.0},
        ),
        (
            GenerateOptions(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3),
            9,
            {
                "num_beams": 4,
                "no_repeat_ngram_size": 3,
                "repetition_penalty": 1.0,
                "length_penalty": 2.0,
                "early_stopping": True,
            },
        ),
    ],
)
def test_generate_kwargs_map_the_options(
    options: GenerateOptions, bound: int, expected: dict[str, Any]
) -> None:
    assert generate_kwargs(options, max_new_tokens=bound) == {
        **expected,
        "min_new_tokens": 0,
        "max_new_tokens": bound,
        "do_sample": False,
    }


@pytest.mark.parametrize(("minimum", "bound", "expected"), [(5, 20, 5), (50, 10, 10), (0, 1, 0)])
def test_generate_kwargs_bound_wins_over_options(minimum: int, bound: int, expected: int) -> None:
    # The call's bound replaces options.max_new_tokens, and a minimum never passes it.
    options = GenerateOptions(min_new_tokens=minimum, max_new_tokens=300)
    kwargs = generate_kwargs(options, max_new_tokens=bound)
    assert (kwargs["min_new_tokens"], kwargs["max_new_tokens"]) == (expected, bound)
    assert not {"min_length", "max_length"} & set(kwargs)


# --- config readers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positions", "tokenizer_max", "expected"),
    [
        (1024, 512, 512),
        (512, 1024, 512),
        (1024, int(1e30), 1024),  # transformers' "unknown" model_max_length
        (None, 512, 512),
    ],
)
def test_input_limit(positions: int | None, tokenizer_max: int, expected: int) -> None:
    config = SimpleNamespace(max_position_embeddings=positions)
    tokenizer = SimpleNamespace(model_max_length=tokenizer_max)
    assert input_limit(config, tokenizer) == expected


@pytest.mark.parametrize(("positions", "expected"), [(512, 511), (2, 1), (1, None), (None, None)])
def test_output_limit(positions: int | None, expected: int | None) -> None:
    assert output_limit(SimpleNamespace(max_position_embeddings=positions)) == expected


def test_task_prefix() -> None:
    t5 = SimpleNamespace(task_specific_params={"summarization": {"prefix": "summarize: "}})
    assert task_prefix(t5, "summarization") == "summarize: "
    assert task_prefix(t5, "translation") == ""
    assert task_prefix(SimpleNamespace(task_specific_params=None), "summarization") == ""
    assert task_prefix(SimpleNamespace(), "summarization") == ""


def test_model_defaults_prefer_the_task_settings() -> None:
    config = SimpleNamespace(
        task_specific_params={"summarization": {"num_beams": 2, "min_length": 10}}
    )
    generation = SimpleNamespace(num_beams=6, max_length=100, length_penalty=None)
    assert model_defaults(config, generation, task="summarization") == GenerateOptions(
        num_beams=2, min_new_tokens=9, max_new_tokens=99
    )
    # Nothing set: 4 beams, and 512 (translation) or 142 (summarization) tokens with the start.
    empty = SimpleNamespace()
    assert model_defaults(empty, empty, task="translation").max_new_tokens == 511
    assert model_defaults(empty, empty, task="summarization") == GenerateOptions(max_new_tokens=141)


# --- generation --------------------------------------------------------------------------------


class _RecordingTokenizer:
    """The model's tokenizer, recording the token rows handed to batch_decode."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.rows: list[list[int]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner(*args, **kwargs)

    def batch_decode(self, rows: list[list[int]], **kwargs: Any) -> list[str]:
        self.rows.extend(rows)
        return self.inner.batch_decode(rows, **kwargs)


def test_each_row_is_cut_to_its_own_bound(marian_hf: HFSeq2Seq, seed_text: str) -> None:
    texts = [line for line in seed_text.splitlines() if line.strip()][4:7]
    bounds = [2, 7, 4]
    recorder = _RecordingTokenizer(marian_hf.tokenizer)
    model = HFSeq2Seq(marian_hf.model, recorder, info=marian_hf.info, defaults=marian_hf.defaults)
    batched = model.generate(texts, GREEDY, max_new_tokens=bounds)
    assert all(len(row) <= b for row, b in zip(recorder.rows, bounds, strict=True))
    # The same outputs as one at a time: a row never depends on its batch neighbours.
    alone = [
        model.generate([t], GREEDY, max_new_tokens=[b])[0]
        for t, b in zip(texts, bounds, strict=True)
    ]
    assert batched == alone


def test_generate_nothing_and_too_long(marian_hf: HFSeq2Seq) -> None:
    assert marian_hf.generate([], GREEDY, max_new_tokens=[]) == []
    with pytest.raises(InputError, match="longer than the model's limit of 512"):
        marian_hf.generate(["word " * 600], GREEDY, max_new_tokens=[5])


# --- loading errors and process-wide state -------------------------------------------------------


def test_a_broken_checkpoint_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    match = f"translation model tiny-translation: the weights are missing .* in {tmp_path}"
    with pytest.raises(ModelError, match=match):
        load(tmp_path, "translation")


def test_cuda_without_cuda_is_a_model_error(marian_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    resolved = ResolvedModel(name="tiny", path=marian_dir, revision="rev1")
    with pytest.raises(ModelError, match="--device cuda, but PyTorch sees no CUDA device"):
        load_hf(resolved, task="translation", device="cuda", threads=None)


def _process_state() -> dict[str, object]:
    """What a library call must leave as it found it."""
    import torch
    from transformers.utils import logging as hf_logging

    hub = importlib.import_module("huggingface_hub.utils")
    hub_tqdm = importlib.import_module("huggingface_hub.utils.tqdm")
    return {
        "torch threads": torch.get_num_threads(),
        "torch interop threads": torch.get_num_interop_threads(),
        "grad enabled": torch.is_grad_enabled(),
        "default dtype": torch.get_default_dtype(),
        "transformers verbosity": hf_logging.get_verbosity(),
        "transformers progress bars": hf_logging.is_progress_bar_enabled(),
        "hub progress bars disabled": hub.are_progress_bars_disabled(),
        "hub progress bar states": dict(hub_tqdm.progress_bar_states),
        "warnings filters": list(warnings.filters),
        "logging disabled": logging.root.manager.disable,
        "environment": dict(os.environ),
        "stdout": sys.stdout,
        "stderr": sys.stderr,
    }


def test_loading_changes_no_process_state_but_threads(marian_dir: Path, bart_dir: Path) -> None:
    import torch

    threads = torch.get_num_threads()
    # A value no fixture sets, so that a load which set threads anyway would show.
    torch.set_num_threads(3)
    try:
        before = _process_state()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load(marian_dir, "translation")
            load(bart_dir, "summarization")
        assert _process_state() == before
        assert not [w for w in caught if "sacremoses" in str(w.message)]
        load(marian_dir, "translation", threads=1)
        assert _process_state() == {**before, "torch threads": 1}
    finally:
        torch.set_num_threads(threads)
