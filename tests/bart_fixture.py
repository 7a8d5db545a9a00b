"""A tiny random BART summarizer, built offline at test time in about a second.

The real classes (`BartForConditionalGeneration`, the byte-level BPE `BartTokenizer`) with
distilbart-cnn's generation settings scaled down, and only 256 input positions so that the seed
article needs several chunks. The weights are random: summaries are gibberish, the plumbing is real.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGLISH_REFERENCE = ROOT / "seeds" / "000_91e72526449f324a.translation.ref.en.txt"

# distilbart-cnn-12-6 uses 4 beams, length penalty 2.0, no repeated trigram, 56-142 tokens.
SUMMARIZATION = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 30,
    "min_length": 5,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
}
# BART's special tokens and the ids its config refers to.
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
BOS, PAD, EOS = 0, 1, 2


def english_lines() -> list[str]:
    """The seed article's English reference translation, one paragraph per item."""
    text = ENGLISH_REFERENCE.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def build_bart(
    out: Path,
    *,
    max_positions: int = 256,
    vocab_size: int = 600,
    prefix: str | None = None,
) -> Path:
    """Save a random BART summarizer and its trained byte-level BPE tokenizer to `out`.

    Args:
        out: Directory to write (created if missing).
        max_positions: Input (and output) positions; the model's input limit.
        vocab_size: BPE vocabulary size, specials included.
        prefix: A T5-style ``task_specific_params.summarization.prefix``, if any.

    Returns:
        `out`, loadable with ``mtsum.load_summarizer(str(out), device="cpu")``.
    """
    import torch
    from tokenizer_training import train_byte_bpe
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BartTokenizer,
        GenerationConfig,
    )

    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = train_byte_bpe(english_lines(), vocab_size, SPECIALS)
    tokenizer = BartTokenizer(vocab=vocab, merges=merges, model_max_length=max_positions)
    tokenizer.save_pretrained(out)

    summarization = dict(SUMMARIZATION)
    if prefix is not None:
        summarization["prefix"] = prefix
    config = BartConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=max_positions,
        bos_token_id=BOS,
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=EOS,
        # Wider than the default 0.02 so that random outputs depend on the input.
        init_std=0.3,
        task_specific_params={"summarization": summarization},
    )
    torch.manual_seed(0)
    model = BartForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        bos_token_id=BOS,
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=EOS,
        forced_eos_token_id=EOS,
        # A random model favours specials, which decode to nothing; keep summaries non-empty.
        bad_words_ids=[[BOS], [PAD], [3], [4]],
    )
    model.save_pretrained(out, safe_serialization=True)
    return out
