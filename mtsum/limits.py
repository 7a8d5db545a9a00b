"""The largest value each numeric option accepts, and the one check of a value against its range.

A typo (``--beams 4294967296``, ``--threads 100000``) must be refused before anything runs, not
take the machine's memory or threads. The bounds are generous for real work and small enough
that no value within them can take a machine down:

* `MAX_BEAMS` 64 (``--beams``, ``--sum-beams``, ``num_beams``): neither CTranslate2 nor
  transformers bounds the beam size; decoding memory grows with beams times the batch's padded
  tokens, which both stages hold level by shrinking their batches as beams grow
  (`mtsum.translate`, `mtsum.summarize`), so 64 beams cost about one batch at 4 beams.
  Beam search gains nothing past a few beams on news translation and summarization.
* `MAX_THREADS` 256 (``--threads``): CTranslate2 starts a worker per thread or two, and 100,000
  threads abort it; 256 is more cores than most machines have.
* `MAX_WORKERS` 1,024 (``--workers``): Ray actors, each holding both models.
* `MAX_WORDS` 10,000 (``--max-words``, ``--min-words``): more than any summarizer can write
  (BART: 1,023 tokens, about 730 words; a longer request is lowered to the model's own limit).
* `MAX_TOP_K` 100 (``--top-k``): supporting paragraphs shown per summary sentence.
* `MAX_INPUT_BYTES` 1 GiB (``--max-bytes``): a file is read into memory whole.
"""

from __future__ import annotations

from mtsum.errors import OptionError

__all__ = [
    "MAX_BEAMS",
    "MAX_INPUT_BYTES",
    "MAX_THREADS",
    "MAX_TOP_K",
    "MAX_WORDS",
    "MAX_WORKERS",
    "check_range",
]

MAX_BEAMS = 64
MAX_THREADS = 256
MAX_WORKERS = 1024
MAX_WORDS = 10_000
MAX_TOP_K = 100
MAX_INPUT_BYTES = 1 << 30


def check_range(name: str, value: int | None, low: int, high: int) -> None:
    """Refuse a value outside ``[low, high]`` (None, an unset option, passes).

    Raises:
        OptionError: `value` is not an int in range; the message names it and the bound.

    Example:
        >>> check_range("beams", 4, 1, MAX_BEAMS)
        >>> check_range("beams", 10**20, 1, MAX_BEAMS)
        Traceback (most recent call last):
        ...
        mtsum.errors.OptionError: beams must be at most 64, got 100000000000000000000
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{name} must be a whole number, got {value!r}")
    if value < low:
        raise OptionError(f"{name} must be at least {low}, got {value}")
    if value > high:
        raise OptionError(f"{name} must be at most {high:,}, got {value}")
