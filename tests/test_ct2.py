"""The CTranslate2 backend: same greedy tokens as transformers, one atomic cached conversion.

Checkpoints are tiny random models built at test time (see conftest and bart_fixture); variants
with a bias on the EOS logit make some outputs end before their bound, so the length bookkeeping
of both backends (EOS, decoder start, forced BOS) is compared too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bart_fixture import build_bart, english_lines
from conftest import ROOT, seed_lines

from mtsum.backends import convert, ct2
from mtsum.backends.base import GenerateOptions
from mtsum.backends.resolve import ResolvedModel, resolve_model
from mtsum.errors import InputError, ModelError

BOUNDS = [3, 12, 7, 20, 30, 9, 16, 25]
GREEDY = GenerateOptions(num_beams=1, max_new_tokens=30)
CONSTRAINED = GenerateOptions(num_beams=1, min_new_tokens=4, no_repeat_ngram_size=3)
PENALIZED = GenerateOptions(num_beams=1, repetition_penalty=1.3)
OPTIONS = {"greedy": GREEDY, "constrained": CONSTRAINED, "penalized": PENALIZED}
CASES = [
    pytest.param(kind, options, id=f"{kind}-{name}")
    for kind in ["marian", "marian-eos", "bart", "bart-forced-bos"]
    for name, options in OPTIONS.items()
    # transformers also penalizes the decoder start token, which for BART is EOS; CTranslate2
    # does not, so a repetition penalty only matches where the start token is never generated.
    if not (options is PENALIZED and kind.startswith("bart"))
]


def _variant(source: Path, out: Path, *, eos_bias: float, **generation: Any) -> Path:
    """A copy of `source` with `eos_bias` added to the EOS logit and generation settings changed."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    model = AutoModelForSeq2SeqLM.from_pretrained(source)
    eos = model.generation_config.eos_token_id
    model.final_logits_bias[0, eos] += eos_bias
    for key, value in generation.items():
        setattr(model.generation_config, key, value)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(source).save_pretrained(out)
    return out


def _favourites(source: Path, texts: list[str]) -> list[list[int]]:
    """Ban lists that change greedy outputs: the model's favourite piece, and its runner-up
    when it follows itself (a two-token sequence)."""
    from collections import Counter

    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSeq2SeqLM.from_pretrained(source)
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    rows = model.generate(**batch, num_beams=1, max_new_tokens=20).tolist()
    counts = Counter(t for row in rows for t in row if t not in tokenizer.all_special_ids)
    (first, _), (second, _) = counts.most_common(2)
    return [[first], [second, second]]


@pytest.fixture(scope="module")
def checkpoints(marian_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ct2-checkpoints")
    bart = build_bart(root / "bart")
    return {
        "marian": marian_dir,
        "marian-eos": _variant(marian_dir, root / "marian-eos", eos_bias=3.0),
        "bart": bart,
        # distilbart-cnn style: BOS forced as the first generated token (a CT2 target prefix).
        "bart-forced-bos": _variant(
            bart,
            root / "bart-bos",
            eos_bias=6.0,
            forced_bos_token_id=0,
            bad_words_ids=[[1], [3], *_favourites(bart, english_lines()[:8])],
        ),
    }


def _task(kind: str) -> str:
    return "translation" if kind.startswith("marian") else "summarization"


def _texts(kind: str) -> list[str]:
    return seed_lines()[1:9] if kind.startswith("marian") else english_lines()[:8]


def _resolved(path: Path) -> ResolvedModel:
    return resolve_model(str(path), role="test", option="--model")


def _load(path: Path, kind: str, cache: Path, compute_type: str = "float32") -> ct2.CT2Seq2Seq:
    return ct2.load_ct2(
        _resolved(path),
        task=_task(kind),
        device="cpu",
        threads=None,
        compute_type=compute_type,
        cache=cache,
    )


class _RecordingTokenizer:
    """Delegates to the backend's tokenizer and records the token rows handed to decode."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.rows: list[list[str]] = []

    def encode(self, texts: list[str]) -> list[list[str]]:
        return self.inner.encode(texts)

    def decode(self, rows: list[list[str]]) -> list[str]:
        self.rows.extend(list(r) for r in rows)
        return self.inner.decode(rows)


@pytest.mark.parametrize(("kind", "options"), CASES)
def test_float32_greedy_equals_transformers(
    checkpoints: dict[str, Path], tmp_path: Path, kind: str, options: GenerateOptions
) -> None:
    from mtsum.backends.hf import load_hf

    path = checkpoints[kind]
    texts = _texts(kind)
    hf = load_hf(_resolved(path), task=_task(kind), device="cpu", threads=None)
    fast = _load(path, kind, tmp_path)
    fast.tokenizer = recorder = _RecordingTokenizer(fast.tokenizer)
    assert fast.count_tokens(texts) == hf.count_tokens(texts)
    assert fast.defaults == hf.defaults

    expected = hf.generate(texts, options, max_new_tokens=BOUNDS)
    assert fast.generate(texts, options, max_new_tokens=BOUNDS) == expected
    # A whole workload in batches of two, all queued at once, each decoding to its own bound.
    finished: list[int] = []
    pairs = [[6, 0], [3, 5], [1, 7], [2, 4]]
    whole = fast.generate_batches(
        texts, options, max_new_tokens=BOUNDS, batches=pairs, done=finished.extend
    )
    assert whole == expected
    assert finished == [i for pair in pairs for i in pair]
    # Batching changes nothing: each row alone, under its own bound, gives the same text.
    alone = [
        fast.generate([t], options, max_new_tokens=[b])[0]
        for t, b in zip(texts, BOUNDS, strict=True)
    ]
    assert alone == expected
    lengths = [len(row) for row in recorder.rows[: len(texts)]]
    assert all(n <= b for n, b in zip(lengths, BOUNDS, strict=True))
    assert [len(row) for row in recorder.rows[len(texts) : 2 * len(texts)]] == lengths
    if kind.endswith(("-eos", "-bos")):
        # The comparison covered outputs that stop at an EOS before their bound.
        assert any(n < b for n, b in zip(lengths, BOUNDS, strict=True)), lengths


@pytest.mark.parametrize("kind", ["marian", "bart"])
def test_int8_output_is_well_formed(
    checkpoints: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    texts = _texts(kind)
    runs = {}
    for compute_type in ("float32", "int8"):
        model = _load(checkpoints[kind], kind, tmp_path, compute_type)
        assert model.info.compute_type == compute_type
        model.tokenizer = recorder = _RecordingTokenizer(model.tokenizer)
        outputs = model.generate(texts, GREEDY, max_new_tokens=BOUNDS)
        assert len(outputs) == len(texts) and all(o.strip() for o in outputs)
        runs[compute_type] = [len(row) for row in recorder.rows]
    # These random models never emit EOS: both precisions run every row to exactly its bound.
    assert runs["int8"] == runs["float32"] == BOUNDS


def test_info_defaults_and_prefix(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    from transformers import AutoTokenizer, GenerationConfig

    resolved = _resolved(checkpoints["bart-forced-bos"])
    model = _load(checkpoints["bart-forced-bos"], "bart", tmp_path, "int8")
    assert model.info.backend == "ctranslate2"
    assert model.info.compute_type == "int8"
    assert model.info.revision == resolved.revision and model.info.name == resolved.name
    assert model.info.max_input_tokens == 256
    assert model.target_prefix == ["<s>"]
    banned = GenerationConfig.from_pretrained(checkpoints["bart-forced-bos"]).bad_words_ids
    assert len(banned) == 4 and [1] in banned
    tokenizer = AutoTokenizer.from_pretrained(checkpoints["bart-forced-bos"])
    assert model.suppress == [tokenizer.convert_ids_to_tokens(ids) for ids in banned]
    # bart_fixture's task_specific_params: 4 beams, length penalty 2, no repeated trigram.
    assert (model.defaults.num_beams, model.defaults.length_penalty) == (4, 2.0)
    assert model.defaults.no_repeat_ngram_size == 3
    assert model.defaults.max_new_tokens == 29 and model.defaults.min_new_tokens == 4


def test_marian_pad_is_not_suppressed_twice(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    # Marian bans <pad>, which the converter removed from the vocabulary: nothing to suppress.
    model = _load(checkpoints["marian"], "marian", tmp_path)
    assert model.suppress == [] and model.target_prefix == []


def test_generate_checks_bounds_and_handles_empty(
    checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    model = _load(checkpoints["marian"], "marian", tmp_path)
    assert model.generate([], GREEDY, max_new_tokens=[]) == []
    with pytest.raises(InputError, match="2 texts but 1 length bounds"):
        model.generate(["a", "b"], GREEDY, max_new_tokens=[5])
    with pytest.raises(InputError, match="at least 1, got 0"):
        model.generate(["a", "b"], GREEDY, max_new_tokens=[5, 0])
    assert model.generate_batches([], GREEDY, max_new_tokens=[], batches=[]) == []
    with pytest.raises(InputError, match="2 texts but 1 length bounds"):
        model.generate_batches(["a", "b"], GREEDY, max_new_tokens=[5], batches=[[0, 1]])


class _Words:
    """A tokenizer of words, for a fake translator."""

    def encode(self, texts: list[str]) -> list[list[str]]:
        return [t.split() for t in texts]

    def decode(self, rows: list[list[str]]) -> list[str]:
        return [" ".join(row) for row in rows]


class _Queued:
    """What ``translate_batch(asynchronous=True)`` returns per text."""

    def __init__(self, hypothesis: list[str]) -> None:
        self.hypotheses = [hypothesis]

    def result(self) -> _Queued:
        return self


class _Echo:
    """A fake `ctranslate2.Translator` that records each call and echoes the source, looping it
    up to max_decoding_length as a random decoder would."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[list[str]], dict[str, Any]]] = []

    def translate_batch(self, source: list[list[str]], prefix: Any, **kwargs: Any) -> list[Any]:
        self.calls.append((source, kwargs))
        length = kwargs["max_decoding_length"]
        return [_Queued((row * length)[:length]) for row in source]


def test_batches_are_queued_at_once_each_to_its_own_bound() -> None:
    from mtsum.backends.base import ModelInfo

    info = ModelInfo(
        name="echo", revision="r", path="", backend="ctranslate2", compute_type="int8",
        max_input_tokens=512, max_output_tokens=511,
    )  # fmt: skip
    echo = _Echo()
    model = ct2.CT2Seq2Seq(echo, _Words(), info=info, defaults=GREEDY, workers=2)
    texts = ["a " * n for n in (6, 9, 1, 8, 7)]
    bounds = [2 * n for n in (6, 9, 1, 8, 7)]
    finished: list[list[int]] = []
    out = model.generate_batches(
        texts, GREEDY, max_new_tokens=bounds, batches=[[1, 3], [4, 0, 2]], done=finished.append
    )
    assert finished == [[1, 3], [4, 0, 2]]
    assert [len(source) for source, _ in echo.calls] == [2, 3]
    assert all(kw["asynchronous"] for _, kw in echo.calls)
    # Each batch decodes to its own longest bound, and each row is cut to its own.
    assert [kw["max_decoding_length"] for _, kw in echo.calls] == [18, 14]
    assert [len(o.split()) for o in out] == bounds
    with pytest.raises(InputError, match="each of the 5 texts once"):
        model.generate_batches(texts, GREEDY, max_new_tokens=bounds, batches=[[1, 3], [4, 0]])
    # One batch through generate: one part per worker, longest first.
    echo.calls.clear()
    assert model.generate(texts, GREEDY, max_new_tokens=bounds) == out
    assert [[len(row) for row in source] for source, _ in echo.calls] == [[9, 8, 7], [6, 1]]


def test_beam_search_runs_with_model_defaults(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    model = _load(checkpoints["bart"], "bart", tmp_path)
    texts = _texts("bart")[:3]
    outputs = model.generate(texts, model.defaults, max_new_tokens=[10, 20, 29])
    assert len(outputs) == 3 and all(isinstance(o, str) and o for o in outputs)


# --- conversion cache -------------------------------------------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = convert._convert_into

    def counted(source: Path, out: Path, compute_type: str) -> None:
        calls.append(out)
        real(source, out, compute_type)

    monkeypatch.setattr(convert, "_convert_into", counted)
    return calls


def test_conversion_is_cached(
    checkpoints: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    first = _load(checkpoints["marian"], "marian", tmp_path, "int8")
    second = _load(checkpoints["marian"], "marian", tmp_path, "int8")
    _load(checkpoints["marian"], "marian", tmp_path, "float32")
    assert len(calls) == 2  # int8 once, float32 once
    folders = sorted(p.name for p in (tmp_path / "ct2").iterdir())
    assert [f.rsplit("--", 1)[1] for f in folders] == ["float32", "int8"]
    text = _texts("marian")[:2]
    assert first.generate(text, GREEDY, max_new_tokens=[5, 5]) == second.generate(
        text, GREEDY, max_new_tokens=[5, 5]
    )


def test_crash_mid_conversion_leaves_nothing(
    checkpoints: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(source: Path, out: Path, compute_type: str) -> None:
        out.mkdir()
        (out / "model.bin").write_bytes(b"half a model")
        raise RuntimeError("disk full")

    monkeypatch.setattr(convert, "_convert_into", crash)
    resolved = _resolved(checkpoints["marian"])
    with pytest.raises(ModelError, match=r"could not be converted.*disk full"):
        convert.convert(resolved, compute_type="int8", cache=tmp_path)
    assert not convert.converted_path(resolved, compute_type="int8", cache=tmp_path).exists()
    assert list((tmp_path / "ct2").iterdir()) == []


def test_damaged_copy_says_how_to_recover(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    resolved = _resolved(checkpoints["marian"])
    path = convert.convert(resolved, compute_type="int8", cache=tmp_path)
    (path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="delete that folder to convert again"):
        _load(checkpoints["marian"], "marian", tmp_path, "int8")


@pytest.fixture(scope="module")
def converted(
    checkpoints: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """A cache with an int8 conversion of each of Marian and BART."""
    caches = {}
    for kind in ("marian", "bart"):
        caches[kind] = tmp_path_factory.mktemp(f"converted-{kind}")
        convert.convert(_resolved(checkpoints[kind]), compute_type="int8", cache=caches[kind])
    return caches


@pytest.mark.parametrize("damage", ["missing", "truncated"])
@pytest.mark.parametrize("kind", ["marian", "bart"])
def test_every_damaged_file_of_a_converted_copy_says_how_to_recover(
    checkpoints: dict[str, Path], converted: dict[str, Path], tmp_path: Path, kind: str, damage: str
) -> None:
    # Every file the conversion wrote, one at a time: a missing or cut tokenizer.json used to
    # escape as tokenizers' bare Exception (exit 70).
    [template] = (converted[kind] / "ct2").iterdir()
    names = sorted(p.name for p in template.iterdir())
    assert {"model.bin", convert.METADATA} <= set(names)
    outcomes = {}
    for name in names:
        cache = tmp_path / name
        shutil.copytree(converted[kind], cache)
        file = cache / "ct2" / template.name / name
        if damage == "missing":
            file.unlink()
        else:
            file.write_bytes(file.read_bytes()[:20])
        try:
            _load(checkpoints[kind], kind, cache, "int8")
            outcomes[name] = "loaded"
        except ModelError as exc:
            message = str(exc)
            assert "\n" not in message and str(file.parent) in message
            advice = "delete that folder to convert again"
            outcomes[name] = "delete" if advice in message else message
    # The record is rebuilt from the checkpoint (as for a conversion by an older mtsum).
    assert outcomes == {n: "loaded" if n == convert.METADATA else "delete" for n in names}
    # The advice works: without the folder, the model is converted again and loads.
    shutil.rmtree(file.parent)
    assert _load(checkpoints[kind], kind, cache, "int8").generate(
        _texts(kind)[:1], GREEDY, max_new_tokens=[3]
    )


_CHILD = """
import os, shutil, sys, time
from pathlib import Path
from mtsum.backends import convert, ct2
from mtsum.backends.resolve import resolve_model

source, cache, template, barrier, mode = sys.argv[1:6]

def fake(src, out, compute_type):
    out.mkdir()
    (out / "model.bin").write_bytes(b"half a model")
    if mode == "crash":
        os._exit(3)  # as a kill would: no cleanup runs
    Path(barrier, str(os.getpid())).touch()
    deadline = time.monotonic() + 30
    while len(os.listdir(barrier)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    shutil.rmtree(out)
    shutil.copytree(template, out)

convert._convert_into = fake
resolved = resolve_model(source, role="test", option="--model")
print(convert.convert(resolved, compute_type="float32", cache=Path(cache)))
"""


def _child(*args: Path | str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def template(checkpoints: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real float32 conversion of the Marian fixture, for fake converters to copy."""
    cache = tmp_path_factory.mktemp("template-cache")
    return convert.convert(_resolved(checkpoints["marian"]), compute_type="float32", cache=cache)


def test_two_processes_converting_at_once_leave_one_good_copy(
    checkpoints: dict[str, Path], template: Path, tmp_path: Path
) -> None:
    cache, barrier = tmp_path / "cache", tmp_path / "barrier"
    barrier.mkdir()
    source = checkpoints["marian"]
    children = [_child(source, cache, template, barrier, "race") for _ in range(2)]
    results = [c.communicate(timeout=60) for c in children]
    assert [c.returncode for c in children] == [0, 0], results
    # Both really converted (each reached the barrier), and both got the same folder back.
    assert len(os.listdir(barrier)) == 2
    paths = {out.strip() for out, _ in results}
    [final] = paths
    assert [p.name for p in (cache / "ct2").iterdir()] == [Path(final).name]
    model = _load(source, "marian", cache)
    reference = _load(source, "marian", template.parents[1])
    texts = _texts("marian")[:3]
    got = model.generate(texts, GREEDY, max_new_tokens=[6, 6, 6])
    assert got == reference.generate(texts, GREEDY, max_new_tokens=[6, 6, 6])


def test_killed_conversion_is_cleaned_up_by_the_next(
    checkpoints: dict[str, Path], template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, barrier = tmp_path / "cache", tmp_path / "barrier"
    barrier.mkdir()
    source = checkpoints["marian"]
    child = _child(source, cache, template, barrier, "crash")
    child.communicate(timeout=60)
    assert child.returncode == 3
    resolved = _resolved(source)
    final = convert.converted_path(resolved, compute_type="float32", cache=cache)
    [orphan] = (cache / "ct2").iterdir()
    assert orphan.name.startswith(f".{final.name}.") and not final.exists()

    calls = _counting(monkeypatch)
    assert convert.convert(resolved, compute_type="float32", cache=cache) == final
    assert len(calls) == 1
    assert [p.name for p in (cache / "ct2").iterdir()] == [final.name]


# --- support rules and small helpers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model_type", "supported"),
    [("marian", True), ("bart", True), ("t5", False), ("pegasus", False), (None, False)],
)
def test_can_convert_by_model_type(tmp_path: Path, model_type: str | None, supported: bool) -> None:
    config = "{}" if model_type is None else f'{{"model_type": "{model_type}"}}'
    (tmp_path / "config.json").write_text(config, encoding="utf-8")
    resolved = ResolvedModel(name="x/y", path=tmp_path, revision="r1")
    assert convert.can_convert(resolved) is supported
    if not supported:
        with pytest.raises(ModelError, match=f"type {model_type or 'unknown'}.*transformers"):
            convert.convert(resolved, compute_type="int8", cache=tmp_path / "cache")


@pytest.mark.parametrize(
    ("name", "revision", "folder"),
    [
        ("Helsinki-NLP/opus-mt-ar-en", "abc123", "Helsinki-NLP_opus-mt-ar-en--abc123--int8"),
        ("sshleifer/distilbart-cnn-12-6", "r", "sshleifer_distilbart-cnn-12-6--r--int8"),
        ("/data/models/my marian", "local-0123456789ab", "my_marian--local-0123456789ab--int8"),
    ],
)
def test_converted_path_names(name: str, revision: str, folder: str) -> None:
    resolved = ResolvedModel(name=name, path=Path("/m"), revision=revision)
    path = convert.converted_path(resolved, compute_type="int8", cache=Path("/c"))
    assert path == Path("/c/ct2") / folder


def test_unknown_compute_type_is_an_input_error(checkpoints: dict[str, Path]) -> None:
    resolved = _resolved(checkpoints["marian"])
    with pytest.raises(InputError, match=r"'int4'.*int8"):
        convert.convert(resolved, compute_type="int4", cache=Path("/nonexistent"))


def test_compute_type_the_device_lacks_fails_before_converting(
    checkpoints: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_supported_compute_types", lambda d: {"int8", "float32"})
    with pytest.raises(
        InputError, match="float16 is not supported on cpu: use one of float32, int8"
    ):
        _load(checkpoints["marian"], "marian", tmp_path, "float16")
    assert not (tmp_path / "ct2").exists()
    # No choice made: the device's preferred type.
    model = ct2.load_ct2(
        _resolved(checkpoints["marian"]),
        task="translation",
        device="cpu",
        threads=None,
        compute_type=None,
        cache=tmp_path,
    )
    assert model.info.compute_type == "int8"


@pytest.mark.parametrize(
    ("total", "split"), [(1, (1, 1)), (2, (2, 1)), (4, (4, 1)), (8, (4, 2)), (16, (8, 2))]
)
def test_thread_split(total: int, split: tuple[int, int]) -> None:
    assert ct2.thread_split(total) == split


def test_threads_option_sets_workers(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    resolved = _resolved(checkpoints["marian"])
    one = ct2.load_ct2(
        resolved, task="translation", device="cpu", threads=1, compute_type="int8", cache=tmp_path
    )
    two = ct2.load_ct2(
        resolved, task="translation", device="cpu", threads=2, compute_type="int8", cache=tmp_path
    )
    assert (one.workers, two.workers) == (1, 2)
    texts = _texts("marian")[:5]
    bounds = [8] * 5
    assert one.generate(texts, GREEDY, max_new_tokens=bounds) == two.generate(
        texts, GREEDY, max_new_tokens=bounds
    )
    with pytest.raises(InputError, match="threads"):
        ct2.thread_split(0)


def test_no_model_library_imported_by_the_module() -> None:
    code = (
        "import sys, mtsum.backends.ct2, mtsum.backends.store, mtsum.cli.models; "
        "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
