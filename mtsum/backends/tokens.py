"""Tokenizers for the CTranslate2 backend that need neither transformers nor torch.

Importing transformers' tokenizer or config classes imports torch (about 280 MB and 3 s), which
the CTranslate2 path otherwise never needs. So a conversion (which loads the model with
transformers anyway) records what the runtime needs in a plain `TokenizerSpec` and copies the
tokenizer's files beside the converted model; later runs tokenize with `sentencepiece` (Marian)
or `tokenizers` (fast tokenizers such as BART's) directly. The tests check both against the
transformers tokenizers token for token and text for text.

Tokens, not ids, are what CTranslate2 takes and returns, so that is what these speak.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from mtsum.errors import ModelError

__all__ = ["FastTokens", "SentencePieceTokens", "TokenizerSpec", "Tokens", "describe", "load"]

_SPM_FILES = ("source.spm", "target.spm", "vocab.json")
_FAST_FILE = "tokenizer.json"


class Tokens(Protocol):
    """What `mtsum.backends.ct2.CT2Seq2Seq` needs from a tokenizer."""

    def encode(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's input tokens, special tokens included (as the model is fed)."""
        ...

    def decode(self, rows: Sequence[Sequence[str]]) -> list[str]:
        """Each row of generated tokens as text, special tokens dropped."""
        ...


@dataclass(frozen=True, kw_only=True)
class TokenizerSpec:
    """Everything needed to rebuild a checkpoint's tokenizer without transformers.

    ``kind`` is ``sentencepiece`` (Marian: source/target SentencePiece models and a shared
    vocab.json) or ``tokenizers`` (a fast tokenizer saved as tokenizer.json).
    """

    kind: str
    special_tokens: tuple[str, ...]  # skipped when decoding
    clean_up_spaces: bool  # transformers' clean_up_tokenization on decoded text
    unk_token: str = "<unk>"
    eos_token: str = "</s>"
    separate_vocabs: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenizerSpec:
        return cls(**{**data, "special_tokens": tuple(data["special_tokens"])})


def describe(tokenizer: Any, source: Path, out: Path) -> TokenizerSpec:
    """Record a transformers tokenizer's behaviour and copy its files into `out`.

    Called at conversion time, where transformers is loaded anyway.

    Args:
        tokenizer: The checkpoint's transformers tokenizer (``AutoTokenizer``).
        source: The checkpoint folder (Marian's SentencePiece files are copied from it).
        out: Where `load` will find the files.

    Returns:
        The spec to store (``to_json``) and later hand to `load`.

    Raises:
        ModelError: A tokenizer that is neither fast nor Marian's SentencePiece one, or a Marian
            tokenizer with separate source and target vocabularies.

    Example::

        # ckpt: the folder of a hub BART checkpoint (distilbart-cnn-12-6); out: an empty folder
        spec = describe(AutoTokenizer.from_pretrained(ckpt), ckpt, out)
        load(spec, out).encode(["Hello"])  # [['<s>', 'Hello', '</s>']]
    """
    special = tuple(str(t) for t in tokenizer.all_special_tokens)
    if getattr(tokenizer, "is_fast", False):
        tokenizer.backend_tokenizer.save(str(out / _FAST_FILE))
        clean = bool(tokenizer.clean_up_tokenization_spaces)
        # transformers 5 ignores the clean-up for BPE models unless told otherwise.
        override = "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output"
        if clean and hasattr(tokenizer, override):
            bpe = type(tokenizer.backend_tokenizer.model).__name__ == "BPE"
            clean = not bpe or bool(getattr(tokenizer, override))
        return TokenizerSpec(kind="tokenizers", special_tokens=special, clean_up_spaces=clean)
    if type(tokenizer).__name__ == "MarianTokenizer":
        separate = bool(getattr(tokenizer, "separate_vocabs", False))
        if separate:
            raise ModelError(
                f"the tokenizer at {source} has separate source and target vocabularies, which "
                "mtsum's CTranslate2 path does not read yet: use the transformers backend"
            )
        for name in _SPM_FILES:
            shutil.copyfile(source / name, out / name)
        return TokenizerSpec(
            kind="sentencepiece",
            special_tokens=special,
            clean_up_spaces=bool(tokenizer.clean_up_tokenization_spaces),
            unk_token=str(tokenizer.unk_token),
            eos_token=str(tokenizer.eos_token),
        )
    raise ModelError(
        f"the tokenizer at {source} ({type(tokenizer).__name__}) is neither a fast tokenizer nor "
        "MarianMT's: use the transformers backend"
    )


def load(spec: TokenizerSpec, folder: Path) -> Tokens:
    """The tokenizer described by `spec`, from the files `describe` copied into `folder`.

    Raises:
        ModelError: An unknown kind (a record written by a newer mtsum).
    """
    if spec.kind == "sentencepiece":
        return SentencePieceTokens(spec, folder)
    if spec.kind == "tokenizers":
        return FastTokens(spec, folder)
    raise ModelError(f"unknown tokenizer kind {spec.kind!r} in {folder}: convert the model again")


def _clean_up(text: str) -> str:
    # transformers' PreTrainedTokenizerBase.clean_up_tokenization, verbatim.
    return (
        text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
    )


class SentencePieceTokens:
    """MarianTokenizer's behaviour: source pieces mapped through vocab.json, then ``</s>``.

    Special tokens written in the text stay single tokens, as transformers' added-token split
    does; pieces missing from vocab.json become ``<unk>``. Decoding joins the non-special pieces
    with the target SentencePiece model.
    """

    def __init__(self, spec: TokenizerSpec, folder: Path) -> None:
        import sentencepiece

        self.spec = spec
        self.source = sentencepiece.SentencePieceProcessor(model_file=str(folder / "source.spm"))
        self.target = sentencepiece.SentencePieceProcessor(model_file=str(folder / "target.spm"))
        self.vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        self.special = set(spec.special_tokens)
        longest_first = sorted(self.special, key=len, reverse=True)
        self._split = re.compile("(" + "|".join(re.escape(t) for t in longest_first) + ")")

    def encode(self, texts: Sequence[str]) -> list[list[str]]:
        return [self._encode(text) for text in texts]

    def _encode(self, text: str) -> list[str]:
        tokens: list[str] = []
        for part in self._split.split(text) if self.special else [text]:
            if part in self.special:
                tokens.append(part)
            elif part:
                pieces = self.source.encode(part, out_type=str)
                tokens.extend(p if p in self.vocab else self.spec.unk_token for p in pieces)
        return [*tokens, self.spec.eos_token]

    def decode(self, rows: Sequence[Sequence[str]]) -> list[str]:
        texts = []
        for row in rows:
            pieces = [t for t in row if t not in self.special]
            text = self.target.decode_pieces(pieces).replace("▁", " ").strip()
            texts.append(_clean_up(text) if self.spec.clean_up_spaces else text)
        return texts


class FastTokens:
    """A transformers fast tokenizer's saved ``tokenizer.json``, run by `tokenizers`.

    Raises:
        ModelError: The file is missing or damaged.
    """

    def __init__(self, spec: TokenizerSpec, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.spec = spec
        file = folder / _FAST_FILE
        try:
            self.tokenizer = Tokenizer.from_file(str(file))
        except Exception as exc:  # tokenizers raises a bare Exception for a missing or bad file
            raise ModelError(f"{file.name} cannot be read ({exc})") from exc
        # transformers sets these per call; a saved file may carry whatever was set last.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def encode(self, texts: Sequence[str]) -> list[list[str]]:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        return [e.tokens for e in encodings]

    def decode(self, rows: Sequence[Sequence[str]]) -> list[str]:
        ids = [[self._id(t) for t in row] for row in rows]
        texts = self.tokenizer.decode_batch(ids, skip_special_tokens=True)
        return [_clean_up(t) for t in texts] if self.spec.clean_up_spaces else texts

    def _id(self, token: str) -> int:
        found = self.tokenizer.token_to_id(token)
        if found is None:
            found = self.tokenizer.token_to_id(self.spec.unk_token)
        if found is None:
            raise ModelError(f"token {token!r} is not in the tokenizer's vocabulary")
        return found
