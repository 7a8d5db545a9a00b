"""Session fixtures: tiny random checkpoints of the real classes, built offline at test time.

The weights are random, so outputs are gibberish; what the tests check is the plumbing: loading
through the public path, batching, ordering, splitting, flags and formats.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_91e72526449f324a.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"


def missing(message: str) -> NoReturn:
    """Skip a test whose tool is missing, or fail it when ``CI`` is set: CI must run them all."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


ENGLISH_TRAINING = [
    "The Russian Security Council secretary began a visit to Tehran on Wednesday.",
    "Iran and Russia face a campaign of Western pressure and sanctions.",
    "Officials said drones and ballistic missiles were used in Ukraine.",
    "The two countries pledged to expand economic relations and fight interference.",
    "Saudi Arabia was reassured that the alliance would not harm it.",
]


def seed_lines() -> list[str]:
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_marian(out: Path, *, d_model: int = 32, layers: int = 2) -> Path:
    """Save a random MarianMT checkpoint, SentencePiece models trained on the seed, to `out`."""
    import torch
    from tokenizer_training import marian_spm_pair
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out.mkdir(parents=True, exist_ok=True)
    source_lines = seed_lines()
    target_lines = ENGLISH_TRAINING * 4 + source_lines[:2]
    vocab = marian_spm_pair(out, source_lines, target_lines, source_size=400, target_size=200)
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(out / "source.spm"),
        target_spm=str(out / "target.spm"),
        vocab=str(out / "vocab.json"),
        source_lang="ar",
        target_lang="en",
    )
    tokenizer.save_pretrained(out)
    pad = len(vocab) - 1
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_position_embeddings=512,
        pad_token_id=pad,
        decoder_start_token_id=pad,
        eos_token_id=0,
        scale_embedding=True,
        # Wider than the default 0.02 so that random outputs depend on the input.
        init_std=0.3,
    )
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(
        num_beams=4,
        max_length=512,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
        bad_words_ids=[[pad]],
    )
    model.save_pretrained(out, safe_serialization=True)
    return out


@pytest.fixture(scope="session")
def mtsum_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mtsum-cache")


@pytest.fixture(autouse=True)
def _private_cache(mtsum_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Converted models and cached translations go to a per-session folder, never the user's;
    # tests that check the cache itself set their own.
    monkeypatch.setenv("MTSUM_CACHE_DIR", str(mtsum_cache))


@pytest.fixture(scope="session")
def marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_marian(tmp_path_factory.mktemp("marian"))


@pytest.fixture(scope="session")
def marian(marian_dir: Path, mtsum_cache: Path):
    from mtsum import load_translator

    # One thread: with other processes on the two cores, OpenMP oversubscription made tests ~20x
    # slower. The cache is named: a session fixture runs before the per-test MTSUM_CACHE_DIR, and
    # would otherwise remember the checkpoint's hash in the user's own cache.
    return load_translator(
        str(marian_dir), device="cpu", threads=1, backend="transformers", cache_dir=mtsum_cache
    )


@pytest.fixture(scope="session")
def bart_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bart_fixture import build_bart

    return build_bart(tmp_path_factory.mktemp("bart"))


@pytest.fixture(scope="session")
def bart(bart_dir: Path, mtsum_cache: Path):
    from mtsum import load_summarizer

    return load_summarizer(
        str(bart_dir), device="cpu", threads=1, backend="transformers", cache_dir=mtsum_cache
    )


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")
