"""Tokenizers trained at run time, for the tiny test checkpoints and the bench's real-shape ones.

Shared by tests/conftest.py, tests/bart_fixture.py and bench/checkpoints.py, so the tests and
the benchmark build MarianMT and BART tokenizers the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

__all__ = ["marian_spm_pair", "train_byte_bpe", "train_spm"]


def train_spm(lines: Sequence[str], prefix: Path, vocab_size: int) -> None:
    """Train a unigram SentencePiece model into ``prefix.model`` / ``prefix.vocab``.

    Marian's ids: ``</s>`` 1 and ``<unk>`` 2 in the SentencePiece model, no BOS or pad.
    """
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        bos_id=-1,
        eos_id=1,
        unk_id=2,
        pad_id=-1,
        # A small corpus gets the vocabulary it supports instead of an error.
        hard_vocab_limit=False,
        minloglevel=2,
    )


def marian_spm_pair(
    out: Path,
    source: Sequence[str],
    target: Sequence[str],
    *,
    source_size: int,
    target_size: int,
) -> dict[str, int]:
    """Train Marian's ``source.spm`` and ``target.spm`` into `out` and return the shared vocab.

    The vocab starts ``{"</s>": 0, "<unk>": 1}``, then every source piece, then the target
    pieces not already in it; the caller adds ``<pad>`` (and any padding) and writes it.
    """
    import sentencepiece as spm

    train_spm(source, out / "source", source_size)
    train_spm(target, out / "target", target_size)
    vocab = {"</s>": 0, "<unk>": 1}
    for side in ("source", "target"):
        proc = spm.SentencePieceProcessor(model_file=str(out / f"{side}.model"))
        for i in range(proc.get_piece_size()):
            vocab.setdefault(proc.id_to_piece(i), len(vocab))
        (out / f"{side}.model").rename(out / f"{side}.spm")
        (out / f"{side}.vocab").unlink()
    return vocab


def train_byte_bpe(
    lines: Sequence[str], vocab_size: int, specials: Sequence[str]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE (BART's kind) and return its vocab and merges.

    Raises:
        RuntimeError: Training did not give `specials` the first ids, in order.
    """
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        list(lines),
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(specials),
        show_progress=False,
    )
    vocab = bpe.get_vocab()
    if [vocab[token] for token in specials] != list(range(len(specials))):
        raise RuntimeError(f"BPE training moved BART's special tokens: {vocab}")
    # The trained tokenizer's JSON holds the merges in the order they were learned.
    merges = json.loads(bpe.to_str())["model"]["merges"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]
    return vocab, merges
