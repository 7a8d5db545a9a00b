"""The generation core: padded-token batches, longest first, and the one generate call."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from recorders import Recording

from mtsum.backends.base import FunctionModel, GenerateOptions
from mtsum.errors import InputError, ModelError
from mtsum.generation import BOUND_STEP, Request, batches, beam_bound, generate

GREEDY = GenerateOptions(num_beams=1)


@pytest.mark.parametrize(
    ("tokens", "budget", "size", "expected"),
    [
        # Longest first; the first input sets the width: 50 * 2 = 100 fits, 50 * 3 does not.
        ([10, 50, 40, 30], 100, None, [[1, 2], [3, 0]]),
        # Padded, not summed: 40 + 10 + 10 = 60 would fit 100, but 40 * 3 = 120 does not; of
        # the two batches, the widest is as narrow as it can be (40, then 20; not 80, then 10).
        ([40, 10, 10], 100, None, [[0], [1, 2]]),
        # An input over the budget goes alone, and the rest batch as usual.
        ([150, 20, 20, 20], 100, None, [[0], [1, 2, 3]]),
        # Ties keep their order.
        ([5, 5, 5, 5, 5], 10, None, [[0, 1], [2, 3], [4]]),
        # At most `size` inputs, however much budget is left.
        ([5, 5, 5, 5, 5], 1000, 2, [[0, 1], [2, 3], [4]]),
        ([], 100, None, []),
    ],
)
def test_batches_within_padded_budget(
    tokens: list[int], budget: int, size: int | None, expected: list[list[int]]
) -> None:
    assert batches(tokens, budget, size=size) == expected


@pytest.mark.parametrize(
    ("tokens", "budget", "workers", "expected"),
    [
        # Two batches of widths 270 and 120 become 180 and 210.
        ([60, 90, 10, 80, 70], 300, 2, [[1, 3], [4, 0, 2]]),
        # Three batches (widths 270, 240, 20) are rounded up to four of at most 180.
        ([90, 90, 90, 80, 80, 80, 10, 10], 300, 2, [[0, 1], [2, 3], [4, 5], [6, 7]]),
        # Already as many as the workers: as even as the order allows.
        ([100, 10, 10, 10, 10, 10, 10, 10], 400, 2, [[0], [1, 2, 3, 4, 5, 6, 7]]),
        # One input: nothing to even out.
        ([7], 100, 2, [[0]]),
        # The budget stays the most: three inputs of 100 make three batches, not four.
        ([100, 100, 100], 100, 4, [[0], [1], [2]]),
    ],
)
def test_batches_even_out_over_workers(
    tokens: list[int], budget: int, workers: int, expected: list[list[int]]
) -> None:
    found = batches(tokens, budget, workers=workers)
    assert found == expected
    assert all(tokens[b[0]] * len(b) <= budget or len(b) == 1 for b in found)


def test_batches_even_out_within_the_size() -> None:
    # 12 equal inputs, 8 at most a batch: 8 + 4 become 6 + 6.
    found = batches([10] * 12, 1000, size=8, workers=2)
    assert [len(b) for b in found] == [6, 6]


def _widest(tokens: Sequence[int], runs: Sequence[Sequence[int]], budget: int) -> int:
    """The widest batch's padded tokens, an input over the budget (alone) aside."""
    return max((tokens[run[0]] * len(run) for run in runs if tokens[run[0]] <= budget), default=0)


@given(
    tokens=st.lists(st.integers(1, 200), min_size=1, max_size=9),
    budget=st.integers(40, 160),
    size=st.sampled_from([None, 2, 3]),
    workers=st.integers(1, 3),
)
def test_batches_are_the_fewest_and_their_widest_the_narrowest(
    tokens: list[int], budget: int, size: int | None, workers: int
) -> None:
    # Every cut of the longest-first order into runs within the budget and size (an input over
    # the budget alone), brute force.
    order = sorted(range(len(tokens)), key=lambda i: -tokens[i])
    cuts = [
        [order[a:b] for a, b in itertools.pairwise((0, *ends, len(order)))]
        for k in range(len(order))
        for ends in itertools.combinations(range(1, len(order)), k)
    ]
    valid = [
        runs
        for runs in cuts
        if all(
            len(r) == 1 or (tokens[r[0]] * len(r) <= budget and len(r) <= (size or len(r)))
            for r in runs
        )
    ]
    fewest = min(len(runs) for runs in valid)
    wanted = workers * math.ceil(fewest / workers)
    found = batches(tokens, budget, size=size, workers=workers)
    assert found in valid and len(found) <= wanted
    narrowest = min(_widest(tokens, runs, budget) for runs in valid if len(runs) <= wanted)
    assert _widest(tokens, found, budget) == narrowest


def test_batches_refuse_values_below_one() -> None:
    for call, name in [
        (lambda: batches([1, 2], 0), "budget"),
        (lambda: batches([1, 2], 10, size=0), "size"),
        (lambda: batches([1, 2], 10, workers=0), "workers"),
    ]:
        with pytest.raises(InputError, match=f"batch {name} must be at least 1, got 0"):
            call()


def _requests(words: Sequence[int]) -> list[Request]:
    """Texts of `n` words (n + 1 tokens for a FunctionModel), each bounded at 2n."""
    return [Request(text=" ".join(["w"] * n), tokens=n + 1, bound=2 * n) for n in words]


def _count(texts: list[str]) -> list[str]:
    return [str(len(t.split())) for t in texts]


def test_generate_batches_longest_first_and_answers_in_order() -> None:
    model = Recording(_count)
    requests = _requests([2, 5, 3, 1])  # tokens 3, 6, 4, 2
    progress: list[tuple[int, int]] = []
    out = generate(
        model,
        requests,
        GREEDY,  # greedy batches mix bounds; beam search does not (below)
        batch_tokens=12,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert out == ["2", "5", "3", "1"]
    # Widths: 6 * 2 = 12 fits, 6 * 3 does not; then 3 * 2.
    assert [(texts, bounds) for texts, _, bounds in model.seen] == [
        (["w w w w w", "w w w"], [10, 6]),
        (["w w", "w"], [4, 2]),
    ]
    # Each call's cap is its own longest bound.
    assert [o.max_new_tokens for _, o, _ in model.seen] == [10, 4]
    assert progress == [(10, 15), (15, 15)]


def test_generate_nothing_calls_nothing() -> None:
    model = Recording(_count)
    assert generate(model, [], model.defaults, batch_tokens=10) == []
    assert model.seen == []


class Losing(FunctionModel):
    """A model that drops its last output."""

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        return list(texts)[:-1]


def test_a_model_that_loses_outputs_is_a_model_error() -> None:
    model = Losing(_count)
    with pytest.raises(ModelError, match="function: 1 outputs for 2 inputs"):
        generate(model, _requests([1, 2]), GREEDY, batch_tokens=100)


@dataclass
class Batching(FunctionModel):
    """A FunctionModel that runs several batches at once, as CTranslate2 does."""

    workers: int = 2
    workloads: list[dict[str, object]] = field(default_factory=list)
    lose: bool = False

    def generate_batches(
        self,
        texts: Sequence[str],
        options: GenerateOptions,
        *,
        max_new_tokens: Sequence[int],
        batches: Sequence[Sequence[int]],
        done: Callable[[Sequence[int]], None] | None = None,
    ) -> list[str]:
        self.workloads.append(
            {"batches": [list(b) for b in batches], "cap": options.max_new_tokens}
        )
        outputs = [""] * len(texts)
        for batch in batches:
            for i, out in zip(batch, self.fn([texts[i] for i in batch]), strict=True):
                outputs[i] = out
            if done is not None:
                done(batch)
        return outputs[:-1] if self.lose else outputs


def test_a_model_with_workers_gets_every_batch_at_once_evened_out() -> None:
    model = Batching(_count)
    progress: list[tuple[int, int]] = []
    out = generate(
        model,
        _requests([2, 5, 3, 1]),  # tokens 3, 6, 4, 2
        GREEDY,
        batch_tokens=18,
        batch_size=8,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert out == ["2", "5", "3", "1"]
    assert model.calls == 0  # never one batch at a time
    # Within 18 padded tokens: 6 * 3 | 2; evened out over two workers: 6 * 2 | 3 * 2.
    assert model.workloads == [{"batches": [[1, 2], [0, 3]], "cap": 10}]
    assert progress == [(10, 15), (15, 15)]
    model.lose = True
    with pytest.raises(ModelError, match="3 outputs for 4 inputs"):
        generate(model, _requests([2, 5, 3, 1]), model.defaults, batch_tokens=18)


@pytest.mark.parametrize("model", [Recording(_count), Batching(_count)], ids=["calls", "workload"])
def test_identical_requests_go_to_the_model_once(model: Recording | Batching) -> None:
    # Same text and bound: one input, its output fanned back to every copy, in order. The same
    # text under another bound is another request.
    requests = [*_requests([2, 3, 2, 2, 3]), Request(text="w w", tokens=3, bound=9)]
    out = generate(model, requests, GREEDY, batch_tokens=100)
    assert out == ["2", "3", "2", "2", "3", "2"]
    if isinstance(model, Recording):
        given = [
            (t, b) for texts, _, bounds in model.seen for t, b in zip(texts, bounds, strict=True)
        ]
        assert sorted(given) == [("w w", 4), ("w w", 9), ("w w w", 6)]
    else:  # the whole workload in one call, of the three distinct requests
        [workload] = model.workloads
        assert sorted(i for batch in workload["batches"] for i in batch) == [0, 1, 2]


def test_beam_search_batches_only_requests_of_one_bound() -> None:
    # With beams a longer limit can let another hypothesis win, so a batch that decoded to its
    # longest bound and cut each row to its own would make a row depend on its neighbours.
    model = Recording(_count)
    requests = [
        Request(text="w " * n, tokens=n + 1, bound=bound)
        for n, bound in [(2, 16), (5, 32), (3, 16), (1, 32)]
    ]
    out = generate(model, requests, replace(GREEDY, num_beams=4), batch_tokens=100)
    assert out == ["2", "5", "3", "1"]
    assert [(bounds, o.max_new_tokens) for _, o, bounds in model.seen] == [
        ([32, 32], 32),
        ([16, 16], 16),
    ]


def test_beam_bounds_round_up_to_a_multiple_of_64() -> None:
    beams = replace(GREEDY, num_beams=4)
    found = [beam_bound(b, beams) for b in (1, 17, 64, 65, 100, 128, 129, 192, 193, 410)]
    assert found == [64, 64, 64, 128, 128, 128, 192, 192, 256, 448]
    assert [beam_bound(b, GREEDY) for b in (1, 17, 65)] == [1, 17, 65]
    assert BOUND_STEP == 64
