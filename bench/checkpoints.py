"""Random checkpoints with the real shapes of opus-mt-ar-en and distilbart-cnn-12-6, built once.

No weights can be downloaded here, and speed does not depend on what the weights are, only on
their shapes. So the speed benchmark builds both models with the published configurations and
random weights, and trains their tokenizers at bench time on real text (the seed article and,
when ``../shared/data`` is present, FLORES-200 devtest):

- Marian: SentencePiece unigram models for Arabic and English (up to 8,000 pieces each), the
  joint vocabulary padded with ``<unused N>`` entries to the real 62,834, ``<pad>`` last (62,833).
- BART: a byte-level BPE (up to 8,000 entries) padded to the real 50,264.

The padding entries can never come out of the tokenizer; a final-logits bias of -20 keeps the
random decoder from choosing them (and Marian's Arabic pieces, BART's ``<s> <pad> <unk> <mask>``),
so outputs decode to English word pieces. Outputs are still gibberish, and a random decoder loops
on one piece and never ends early: this is for timing and memory only.

Each model is written with ``save_pretrained`` (safetensors) into a temporary folder and renamed
into place, so an interrupted build leaves nothing that looks finished.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tokenizer training is shared with the test fixtures.
sys.path.insert(0, str(ROOT / "tests"))
SEED = ROOT / "seeds" / "000_91e72526449f324a.txt"
SEED_ENGLISH = [
    ROOT / "seeds" / "000_91e72526449f324a.translation.ref.en.txt",
    ROOT / "seeds" / "000_91e72526449f324a.summary.ref1.en.txt",
    ROOT / "seeds" / "000_91e72526449f324a.summary.ref2.en.txt",
]
FLORES = ROOT.parent / "shared" / "data" / "flores200-devtest"

MARIAN_VOCAB = 62_834
BART_VOCAB = 50_264
TOKENIZER_PIECES = 8_000
# Bumped when the build changes, so an old folder is rebuilt instead of reused.
BUILD_VERSION = 2
MARKER = "bench-checkpoint.json"
UNLIKELY = -20.0  # final-logits bias of tokens a trained model would never emit

# sshleifer/distilbart-cnn-12-6 config.json: the summarization settings.
DISTILBART_SUMMARIZATION = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 142,
    "min_length": 56,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
}
BART_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def arabic_lines() -> list[str]:
    """Arabic training text: the seed's paragraphs, plus FLORES devtest when present."""
    lines = _lines(SEED)
    if (FLORES / "arb_Arab.devtest").is_file():
        lines += _lines(FLORES / "arb_Arab.devtest")
    return lines


def english_lines() -> list[str]:
    """English training text: the seed's references, plus FLORES devtest when present."""
    lines = [line for path in SEED_ENGLISH for line in _lines(path)]
    if (FLORES / "eng_Latn.devtest").is_file():
        lines += _lines(FLORES / "eng_Latn.devtest")
    return lines


def _padding(vocab: dict[str, int], size: int) -> None:
    """Add ``<unused N>`` entries until `vocab` has `size` ids (in place)."""
    n = 0
    while len(vocab) < size:
        token = f"<unused{n}>"
        n += 1
        if token not in vocab:
            vocab[token] = len(vocab)


def build_marian(out: Path) -> Path:
    """Save a random opus-mt-ar-en-shaped MarianMT checkpoint and its tokenizer to `out`."""
    import sentencepiece as spm
    import torch
    from tokenizer_training import marian_spm_pair
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out.mkdir(parents=True, exist_ok=True)
    vocab = marian_spm_pair(
        out,
        arabic_lines(),
        english_lines(),
        source_size=TOKENIZER_PIECES,
        target_size=TOKENIZER_PIECES,
    )
    target = spm.SentencePieceProcessor(model_file=str(out / "target.spm"))
    english = {vocab[target.id_to_piece(i)] for i in range(target.get_piece_size())}
    _padding(vocab, MARIAN_VOCAB - 1)
    pad = len(vocab)
    vocab["<pad>"] = pad
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(out / "source.spm"),
        target_spm=str(out / "target.spm"),
        vocab=str(out / "vocab.json"),
        source_lang="ar",
        target_lang="en",
    )
    tokenizer.save_pretrained(out)
    # Helsinki-NLP/opus-mt-ar-en's config.json, less the fields that only name things.
    config = MarianConfig(
        vocab_size=MARIAN_VOCAB,
        decoder_vocab_size=MARIAN_VOCAB,
        d_model=512,
        encoder_layers=6,
        decoder_layers=6,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
        activation_function="swish",
        max_position_embeddings=512,
        scale_embedding=True,
        static_position_embeddings=True,
        share_encoder_decoder_embeddings=True,
        pad_token_id=pad,
        decoder_start_token_id=pad,
        eos_token_id=0,
        bos_token_id=0,
        forced_eos_token_id=0,
    )
    torch.manual_seed(0)
    model = MarianMTModel(config)
    with torch.no_grad():
        # Only English pieces and </s>: a random decoder would otherwise emit Arabic pieces.
        unlikely = sorted(set(range(MARIAN_VOCAB)) - english - {0})
        model.final_logits_bias[:, unlikely] = UNLIKELY
    model.generation_config = GenerationConfig(
        num_beams=4,
        max_length=512,
        bos_token_id=0,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
        bad_words_ids=[[pad]],
    )
    model.save_pretrained(out, safe_serialization=True)
    return out


def build_bart(out: Path) -> Path:
    """Save a random distilbart-cnn-12-6-shaped BART checkpoint and its tokenizer to `out`."""
    import torch
    from tokenizer_training import train_byte_bpe
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BartTokenizer,
        GenerationConfig,
    )

    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = train_byte_bpe(english_lines(), TOKENIZER_PIECES, BART_SPECIALS)
    real = len(vocab)
    # Byte-level BPE maps every printable ASCII character to itself, so the padding decodes.
    _padding(vocab, BART_VOCAB)
    tokenizer = BartTokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    tokenizer.save_pretrained(out)
    # sshleifer/distilbart-cnn-12-6's config.json, less the fields that only name things.
    config = BartConfig(
        vocab_size=BART_VOCAB,
        d_model=1024,
        encoder_layers=12,
        decoder_layers=6,
        encoder_attention_heads=16,
        decoder_attention_heads=16,
        encoder_ffn_dim=4096,
        decoder_ffn_dim=4096,
        activation_function="gelu",
        max_position_embeddings=1024,
        scale_embedding=False,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=0,
        forced_eos_token_id=2,
        task_specific_params={"summarization": DISTILBART_SUMMARIZATION},
    )
    torch.manual_seed(0)
    model = BartForConditionalGeneration(config)
    with torch.no_grad():
        model.final_logits_bias[:, real:] = UNLIKELY
        for token in ("<s>", "<pad>", "<unk>", "<mask>"):
            model.final_logits_bias[:, vocab[token]] = UNLIKELY
    model.generation_config = GenerationConfig(
        **DISTILBART_SUMMARIZATION,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=0,
        forced_eos_token_id=2,
    )
    model.save_pretrained(out, safe_serialization=True)
    return out


BUILDERS = {"opus-mt-ar-en-random": build_marian, "distilbart-cnn-12-6-random": build_bart}
# The hub name each checkpoint stands in for, and the (fake) revision it gets in the bench's own
# Hugging Face cache: signatures read e.g. ``Helsinki-NLP/opus-mt-ar-en@bench-random-v2``.
HUB_NAMES = {
    "opus-mt-ar-en-random": "Helsinki-NLP/opus-mt-ar-en",
    "distilbart-cnn-12-6-random": "sshleifer/distilbart-cnn-12-6",
}
REVISION = f"bench-random-v{BUILD_VERSION}"


def link_hub_cache(models: Path, found: dict[str, Path]) -> Path:
    """A Hugging Face cache (``HF_HOME``) in which the hub names resolve to the random checkpoints.

    mtsum then runs exactly as a user's ``mtsum summarize article.txt`` does, default model names
    included, found in the cache without network (``refs/main`` -> ``snapshots/<revision>``).

    Returns:
        The folder to use as ``HF_HOME``.
    """
    home = models / "hf"
    for name, folder in found.items():
        repo = home / "hub" / ("models--" + HUB_NAMES[name].replace("/", "--"))
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "snapshots").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(REVISION, encoding="utf-8")
        snapshot = repo / "snapshots" / REVISION
        if not snapshot.is_symlink():
            snapshot.symlink_to(Path("..", "..", "..", "..", folder.name), target_is_directory=True)
    return home


def ensure_checkpoints(models: Path) -> dict[str, Path]:
    """Build both checkpoints under `models` unless a finished build of this version is there.

    Returns:
        The folder of each checkpoint, by its name in `BUILDERS`.
    """
    found = {}
    flores = (FLORES / "arb_Arab.devtest").is_file()
    for name, build in BUILDERS.items():
        final = models / name
        marker = final / MARKER
        expected = {"version": BUILD_VERSION, "flores": flores}
        if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == expected:
            found[name] = final
            continue
        work = models / f".{name}.tmp"
        shutil.rmtree(work, ignore_errors=True)
        build(work)
        (work / MARKER).write_text(json.dumps(expected), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
        found[name] = final
    return found
