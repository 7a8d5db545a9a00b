"""Send a stage's model inputs to its model: longest first, in batches under a token budget.

Translation and summarization both come here once their inputs fit the model (`mtsum.pieces`
cuts those that do not). Each input is a `Request`: its text, its length in the model's tokens,
and the most tokens its output may have.

**A token budget counts padded tokens**: a batch's longest input times its number of inputs,
which is what the batch holds once its rows are padded to one length. ``batch_tokens`` means this
in `mtsum.TranslateOptions` and `mtsum.SummarizeOptions` alike, and so does CTranslate2's
``batch_type="tokens"``. `batches` sorts the inputs longest first (ties keep their order), so a
batch's first input sets its width; an input longer than the budget goes alone. It makes as few
batches as the budget needs (rounded up to a multiple of the model's workers), as even as the
order allows: the widest as narrow as it can be.

A model runs the batches one of two ways:

- one batch per ``generate`` call (transformers, a plain function);
- all of them in one ``generate_batches`` call, for a backend that runs ``workers`` batches at
  once (CTranslate2): it gets the whole workload, cut into batches evened out over its workers,
  and queues them all, so no worker waits for another's batch to end before taking the next.

Either way output i has at most ``bound`` tokens of request i, and never depends on its batch
neighbours. Greedy decoding is prefix-stable, so a batch decodes to its longest bound and each
row is cut to its own. Beam search is not: a longer limit lets another hypothesis win. So with
beams a batch only holds requests of one bound, and translation, whose bounds follow each
text's length, rounds them up to a multiple of `BOUND_STEP` (`beam_bound`), so that texts of
similar length still share batches; a text's output then depends on it alone, whichever texts
share its batch (the cache, `--threads` and the batch engine may all change those). Each bound's
requests are batched on their own (`batches`), the largest bound's first.

**Identical requests go to the model once**: the same text with the same bound has the same
output, whatever shares its batch, so each distinct request is generated once and its output
given to every copy, in order (40 copies of one article in a call are one article's work).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mtsum.errors import InputError, ModelError

if TYPE_CHECKING:  # types only: backends import this module, so it imports none of them
    from mtsum.backends.base import GenerateOptions, Seq2Seq

__all__ = ["BOUND_STEP", "Request", "batches", "beam_bound", "generate"]

# With beam search, output bounds are multiples of this (see `beam_bound`).
BOUND_STEP = 64

Progress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class Request:
    """One model input: its text, its length in the model's tokens, and its output bound."""

    text: str
    tokens: int
    bound: int


def batches(
    tokens: Sequence[int], budget: int, *, size: int | None = None, workers: int = 1
) -> list[list[int]]:
    """Indices of the inputs, longest first, cut into batches within a padded-token budget.

    Args:
        tokens: Each input's length in the model's tokens.
        budget: The most padded tokens (longest input times inputs) a batch may hold; an input
            longer than that goes alone.
        size: The most inputs a batch may hold (None: as many as the budget allows).
        workers: Batches that run at once: up to as many batches as the budget needs rounded up
            to a multiple of `workers`, so that no worker is left idle while another runs a
            batch twice as wide (fewer where more would make the widest no narrower).

    Returns:
        The batches in order: each a run of the longest-first order, the widest of them (an
        input over the budget aside) as narrow as that many batches allow.

    Raises:
        InputError: The budget, size or workers is below 1.

    Example:
        Two batches are needed; widths 180 and 210, not 270 (90, 80, 70) and 120 (60, 10):

        >>> batches([60, 90, 10, 80, 70], 300)
        [[1, 3], [4, 0, 2]]
        >>> batches([60, 90, 10, 80, 70], 300, workers=3)  # three, for three workers
        [[1], [3, 4], [0, 2]]
    """
    for name, value in (("budget", budget), ("size", size), ("workers", workers)):
        if value is not None and value < 1:
            raise InputError(f"batch {name} must be at least 1, got {value}")
    order = sorted(range(len(tokens)), key=lambda i: -tokens[i])
    if not order:
        return []
    wanted = workers * math.ceil(len(_fill(order, tokens, budget, size)) / workers)
    # The narrowest width that still needs no more than `wanted` batches (a wider one never
    # needs more batches, so a binary search finds it); none is narrower than the longest input
    # within the budget.
    low = max((tokens[i] for i in order if tokens[i] <= budget), default=budget)
    high = budget
    while low < high:
        middle = (low + high) // 2
        if len(_fill(order, tokens, middle, size)) <= wanted:
            high = middle
        else:
            low = middle + 1
    return _fill(order, tokens, high, size)


def _fill(
    order: Sequence[int], tokens: Sequence[int], budget: int, size: int | None
) -> list[list[int]]:
    """Consecutive runs of `order` (longest first) within `budget` padded tokens and `size`."""
    found: list[list[int]] = []
    for i in order:
        if found:
            last = found[-1]
            # Longest first: the batch's first input sets its width.
            fits = tokens[last[0]] * (len(last) + 1) <= budget
            if fits and (size is None or len(last) < size):
                last.append(i)
                continue
        found.append([i])
    return found


def generate(
    model: Seq2Seq,
    requests: Sequence[Request],
    options: GenerateOptions,
    *,
    batch_tokens: int,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """One output per request, in order, from batches of at most `batch_tokens` padded tokens.

    Args:
        model: The stage's model; one with ``generate_batches`` gets every batch in one call
            (see the module docstring).
        requests: The inputs, each within the model's input limit, with their output bounds.
        options: Decoding settings; ``max_new_tokens`` becomes each call's longest bound.
        batch_tokens: The padded-token budget of a batch (see `batches`).
        batch_size: The most inputs a batch may hold (None: as many as the budget allows).
        progress: Called as batches finish, with (input tokens done, input tokens in all).

    Returns:
        The outputs, in the order of `requests`; identical requests (text and bound) are
        generated once and share the output.

    Raises:
        ModelError: The model returned another number of outputs than it was given inputs, or
            an output that is not a str.

    Example:
        >>> from mtsum.backends.base import FunctionModel
        >>> model = FunctionModel(lambda texts: [t.upper() for t in texts])
        >>> asks = [Request(text=t, tokens=len(t.split()) + 1, bound=8) for t in ["a b", "c", "c"]]
        >>> generate(model, asks, model.defaults, batch_tokens=3), model.calls
        (['A B', 'C', 'C'], 2)
    """
    index: dict[tuple[str, int], int] = {}
    distinct: list[Request] = []
    slots = []  # the distinct request that each request is
    for r in requests:
        key = (r.text, r.bound)
        if key not in index:
            index[key] = len(distinct)
            distinct.append(r)
        slots.append(index[key])
    outputs = _generate(model, distinct, options, batch_tokens, batch_size, progress)
    return [outputs[j] for j in slots]


def _generate(
    model: Seq2Seq,
    requests: Sequence[Request],
    options: GenerateOptions,
    batch_tokens: int,
    batch_size: int | None,
    progress: Progress | None,
) -> list[str]:
    """`generate` of requests that are all distinct."""
    outputs = [""] * len(requests)
    if not requests:
        return outputs
    total = sum(r.tokens for r in requests)
    done = 0

    def finished(batch: Sequence[int]) -> None:
        nonlocal done
        done += sum(requests[i].tokens for i in batch)
        if progress is not None:
            progress(done, total)

    run_all = getattr(model, "generate_batches", None)
    if run_all is not None:
        workers = getattr(model, "workers", 1)
        texts = run_all(
            [r.text for r in requests],
            _capped(options, requests),
            max_new_tokens=[r.bound for r in requests],
            batches=_by_bound(requests, options, batch_tokens, size=batch_size, workers=workers),
            done=finished,
        )
        _check(model, texts, requests)
        return list(texts)
    for batch in _by_bound(requests, options, batch_tokens, size=batch_size, workers=1):
        chosen = [requests[i] for i in batch]
        texts = model.generate(
            [r.text for r in chosen],
            _capped(options, chosen),
            max_new_tokens=[r.bound for r in chosen],
        )
        _check(model, texts, chosen)
        for i, text in zip(batch, texts, strict=True):
            outputs[i] = text
        finished(batch)
    return outputs


def beam_bound(bound: int, options: GenerateOptions) -> int:
    """The output bound a stage asks for: with beam search rounded up to a multiple of
    `BOUND_STEP`, so that texts of similar length share a bound and so a batch (see the module
    docstring); greedy, as it is.

    A bound only stops an output that runs on (a loop), so a larger one changes no output that
    ends by itself. The step weighs two costs. Each bound is a group of its own, and every group
    needs a batch: finer steps make more, smaller batches (``bench/speed.py``'s 64 segments fall
    into bounds 64, 128 and 192, 4 batches, level with raw CTranslate2 at its best batch of 16;
    powers of two from 16 made 6 batches of 6 to 17, 0.94 of it). Coarser steps make a runaway
    batch decode further, holding a decoder cache that grows with its bound: steps of 64 rather
    than doubling above 128 put the seed's 13 longest sentences (2 x 60-84 + 10 tokens) at 192
    instead of 256, and ``mtsum summarize`` of the seed with random weights (every output runs
    on) took 40 s instead of 57.

    Example:
        >>> from mtsum.backends.base import GenerateOptions
        >>> [beam_bound(b, GenerateOptions(num_beams=4)) for b in (5, 64, 65, 129, 193)]
        [64, 64, 128, 192, 256]
        >>> beam_bound(19, GenerateOptions(num_beams=1))
        19
    """
    if options.num_beams <= 1:
        return bound
    return max(1, -(-bound // BOUND_STEP)) * BOUND_STEP


def _by_bound(
    requests: Sequence[Request],
    options: GenerateOptions,
    budget: int,
    *,
    size: int | None,
    workers: int,
) -> list[list[int]]:
    """`batches` of the requests; with beam search none mixes two bounds (see the module
    docstring), and the groups of larger bounds come first.

    Example:
        >>> from mtsum.backends.base import GenerateOptions
        >>> asks = [Request(text="", tokens=n, bound=b) for n, b in [(5, 16), (9, 32), (7, 16)]]
        >>> _by_bound(asks, GenerateOptions(num_beams=4), 100, size=None, workers=1)
        [[1], [2, 0]]
        >>> _by_bound(asks, GenerateOptions(num_beams=1), 100, size=None, workers=1)
        [[1, 2, 0]]
    """
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(requests):
        groups.setdefault(r.bound if options.num_beams > 1 else 0, []).append(i)
    # Several groups are queued together, and the workers take their batches in turn: rounding
    # each group's batches up to the workers would only make more, narrower batches.
    workers = workers if len(groups) == 1 else 1
    found = []
    for bound in sorted(groups, reverse=True):
        members = groups[bound]
        tokens = [requests[i].tokens for i in members]
        for batch in batches(tokens, budget, size=size, workers=workers):
            found.append([members[j] for j in batch])
    return found


def _capped(options: GenerateOptions, requests: Sequence[Request]) -> GenerateOptions:
    return replace(options, max_new_tokens=max(r.bound for r in requests))


def _check(model: Seq2Seq, texts: Sequence[str], requests: Sequence[Request]) -> None:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ModelError(
            f"{model.info.name}: returned {type(texts).__name__}, not a list of outputs; "
            "check the model"
        )
    if len(texts) != len(requests):
        raise ModelError(f"{model.info.name}: {len(texts)} outputs for {len(requests)} inputs")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ModelError(
                f"{model.info.name}: output {i} of a batch is {type(text).__name__}, not a str; "
                "check the model"
            )
