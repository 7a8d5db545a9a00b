"""Translation cache: hits and misses, what the key covers, two processes, a damaged file."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import mtsum
from mtsum.backends.base import FunctionModel, GenerateOptions
from mtsum.backends.cache import (
    CACHE_FILE,
    CachingTranslator,
    TranslationCache,
    cache_key,
    open_cache,
)
from mtsum.errors import InputError, MtsumError
from mtsum.generation import Request, generate

OPTIONS = GenerateOptions(num_beams=2, max_new_tokens=50)


def upper_model(seen: list[str] | None = None, **kwargs: str) -> FunctionModel:
    """A model that upper-cases its inputs and records every text it is asked for."""

    def fn(texts: list[str]) -> list[str]:
        if seen is not None:
            seen.extend(texts)
        return [t.upper() for t in texts]

    return FunctionModel(fn, **kwargs)


def test_miss_then_hit(tmp_path: Path) -> None:
    inner = upper_model()
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        model = CachingTranslator(inner, cache)
        assert model.generate(["a", "b"], OPTIONS, max_new_tokens=[5, 5]) == ["A", "B"]
        assert (model.hits, model.misses, inner.calls) == (0, 2, 1)
        assert model.generate(["a", "b"], OPTIONS, max_new_tokens=[5, 5]) == ["A", "B"]
        assert (model.hits, model.misses, inner.calls) == (2, 2, 1)


def test_second_model_over_same_file_makes_no_calls(tmp_path: Path) -> None:
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        CachingTranslator(upper_model(), cache).generate(["x y"], OPTIONS, max_new_tokens=[9])
    inner = upper_model()
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        model = CachingTranslator(inner, cache)
        assert model.generate(["x y"], OPTIONS, max_new_tokens=[9]) == ["X Y"]
    assert (inner.calls, model.hits, model.misses) == (0, 1, 0)


@pytest.mark.parametrize("batch_tokens", [4096, 200])
def test_rerun_of_translate_generates_nothing(
    tmp_path: Path, seed_text: str, batch_tokens: int
) -> None:
    first = upper_model()
    with open_cache(tmp_path) as cache:
        [doc1] = mtsum.translate([seed_text], CachingTranslator(first, cache))
    second = upper_model()
    # Other batches mean other batch caps; the cached outputs must still be found.
    options = mtsum.TranslateOptions(batch_tokens=batch_tokens)
    with open_cache(tmp_path) as cache:
        cached = CachingTranslator(second, cache)
        [doc2] = mtsum.translate([seed_text], cached, options=options)
    assert first.calls > 0
    assert second.calls == 0
    assert cached.misses == 0 and cached.hits == len(doc1.segments)
    assert doc2 == doc1


@pytest.mark.parametrize(
    ("change", "hit"),
    [
        ({}, True),
        ({"num_beams": 4}, False),
        ({"length_penalty": 2.0}, False),
        ({"no_repeat_ngram_size": 3}, False),
        ({"repetition_penalty": 1.2}, False),
        ({"min_new_tokens": 1}, False),
        # The batch cap is not the text's bound: a larger cap must not cost a retranslation.
        ({"max_new_tokens": 500}, True),
        # A cap below the text's bound does change what the model may write.
        ({"max_new_tokens": 4}, False),
        ({"bound": 6}, False),
        ({"revision": "r2"}, False),
        ({"name": "other"}, False),
        ({"backend": "ctranslate2"}, False),
        ({"compute_type": "int8"}, False),
        ({"prefix": "summarize: "}, False),
        ({"text": "a "}, False),
    ],
)
def test_key_covers_everything_that_changes_the_output(
    tmp_path: Path, change: dict[str, object], hit: bool
) -> None:
    base = upper_model()
    info_fields = {"revision", "name", "backend", "compute_type", "prefix"}
    changed = upper_model()
    changed.info = dataclasses.replace(
        base.info, **{k: v for k, v in change.items() if k in info_fields}
    )
    options = dataclasses.replace(
        OPTIONS,
        **{k: v for k, v in change.items() if k in {f.name for f in dataclasses.fields(OPTIONS)}},
    )
    bound = int(change.get("bound", 5))
    text = str(change.get("text", "a"))
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        CachingTranslator(base, cache).generate(["a"], OPTIONS, max_new_tokens=[5])
        model = CachingTranslator(changed, cache)
        model.generate([text], options, max_new_tokens=[bound])
    assert (model.hits, changed.calls) == ((1, 0) if hit else (0, 1))


def test_order_kept_with_mixed_hits_and_misses(tmp_path: Path) -> None:
    seen: list[str] = []
    inner = upper_model(seen)
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        model = CachingTranslator(inner, cache)
        model.generate(["b", "d"], OPTIONS, max_new_tokens=[5, 5])
        seen.clear()
        out = model.generate(["a", "b", "c", "d", "e", "c"], OPTIONS, max_new_tokens=[5] * 6)
    assert out == ["A", "B", "C", "D", "E", "C"]
    # One call for all misses, in order, a repeated text only once.
    assert seen == ["a", "c", "e"]
    assert inner.calls == 2
    assert (model.hits, model.misses) == (2, 6)


def test_key_records_its_fields() -> None:
    info = upper_model(name="m").info
    key = cache_key(info, OPTIONS, 7, "نص")
    assert key.model == "m@none"
    assert (key.backend, key.compute_type, key.source) == ("function", "none", "نص")
    assert key.settings == (
        "num_beams=2|length_penalty=1.0|no_repeat_ngram_size=0|repetition_penalty=1.0"
        "|min_new_tokens=0|max_new_tokens=7|prefix=''"
    )
    assert len(key.digest) == 64
    assert key.digest == cache_key(info, OPTIONS, 7, "نص").digest


def test_open_cache_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTSUM_CACHE_DIR", str(tmp_path / "env"))
    with open_cache(None) as cache:
        assert cache.path == tmp_path / "env" / CACHE_FILE
    with open_cache(tmp_path / "flag") as cache:
        assert cache.path == tmp_path / "flag" / CACHE_FILE
    assert (tmp_path / "flag" / CACHE_FILE).is_file()


def test_unusable_folder_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError, match=r"cannot open translation cache .*--cache-dir"):
        open_cache(tmp_path / "file")


def test_an_optional_cache_that_cannot_be_opened_is_off_with_one_warning(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    inner = FunctionModel(lambda xs: [x.upper() for x in xs])
    folder = tmp_path / "file" / "cache"
    with open_cache(folder, optional=True) as cache:
        assert cache.warnings == (
            f"translation cache {folder / CACHE_FILE} cannot be used ([Errno 20] Not a "
            f"directory: '{folder}'); going on without it",
        )
        cached = CachingTranslator(inner, cache)
        for _ in range(2):
            assert cached.generate(["a"], cached.defaults, max_new_tokens=[5]) == ["A"]
        assert (inner.calls, cached.hits, cached.misses, len(cache)) == (2, 0, 2, 0)
        assert len(cache.warnings) == 1
    assert (tmp_path / "file").read_text() == "not a folder"


def _writer(path: str, worker: int, count: int) -> None:
    with TranslationCache(path) as cache:
        info = FunctionModel(str.upper).info
        for i in range(count):
            text = f"w{worker} t{i}"
            cache.put_many([(cache_key(info, OPTIONS, 5, text), text.upper())])


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / CACHE_FILE)
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_writer, args=(path, w, 200)) for w in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    info = FunctionModel(str.upper).info
    texts = [f"w{w} t{i}" for w in range(2) for i in range(200)]
    with TranslationCache(path) as cache:
        outputs = cache.get_many([cache_key(info, OPTIONS, 5, t) for t in texts])
        assert len(cache) == 400
    assert outputs == [t.upper() for t in texts]


def test_damaged_file_is_moved_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / CACHE_FILE
    garbage = b"this is not sqlite at all\x00\xff" * 200
    path.write_bytes(garbage)
    with TranslationCache(path) as cache:
        assert len(cache.warnings) == 1
        assert "damaged" in cache.warnings[0] and ".corrupt" in cache.warnings[0]
        model = CachingTranslator(upper_model(), cache)
        assert model.generate(["a"], OPTIONS, max_new_tokens=[5]) == ["A"]
    assert (tmp_path / (CACHE_FILE + ".corrupt")).read_bytes() == garbage
    assert "damaged" in caplog.text
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT source, output FROM translations").fetchall() == [("a", "A")]
    with TranslationCache(path) as cache:
        assert cache.warnings == ()


def _open_and_close(path: str) -> str:
    try:
        TranslationCache(path).close()
    except MtsumError as exc:
        return str(exc)
    return ""


def test_processes_opening_a_new_cache_at_once_all_get_it(tmp_path: Path) -> None:
    # The switch to WAL of a new file can answer "database is locked" at once, without waiting.
    spawn = multiprocessing.get_context("spawn")
    paths = [str(tmp_path / f"c{n}" / CACHE_FILE) for n in range(15) for _ in range(4)]
    with spawn.Pool(4) as pool:
        errors = [e for e in pool.map(_open_and_close, paths, chunksize=1) if e]
    assert errors == []


@dataclasses.dataclass
class BatchesModel:
    """An upper-casing model that, like CTranslate2's, takes a whole workload's batches at once."""

    inner: FunctionModel = dataclasses.field(default_factory=upper_model)
    workers: int = 2
    calls: list[list[list[str]]] = dataclasses.field(default_factory=list)

    @property
    def info(self) -> mtsum.ModelInfo:
        return self.inner.info

    @property
    def defaults(self) -> GenerateOptions:
        return self.inner.defaults

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def generate(
        self, texts: list[str], options: GenerateOptions, *, max_new_tokens: list[int]
    ) -> list[str]:
        raise AssertionError("a model with generate_batches gets the whole workload")

    def generate_batches(
        self,
        texts: list[str],
        options: GenerateOptions,
        *,
        max_new_tokens: list[int],
        batches: list[list[int]],
        done: object = None,
    ) -> list[str]:
        self.calls.append([[texts[i] for i in batch] for batch in batches])
        for batch in batches:
            done(batch)  # type: ignore[operator]
        return [t.upper() for t in texts]


def test_whole_workload_reaches_a_batching_model_less_the_cached_texts(tmp_path: Path) -> None:
    model = BatchesModel()
    finished: list[list[int]] = []
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        cached = CachingTranslator(model, cache)  # type: ignore[arg-type]
        assert cached.workers == 2
        cached.generate_batches(["b"], OPTIONS, max_new_tokens=[9], batches=[[0]])
        texts = ["a", "b", "c", "a", "d"]
        outputs = cached.generate_batches(
            texts,
            OPTIONS,
            max_new_tokens=[9] * 5,
            batches=[[0, 1], [2, 3], [4]],
            done=lambda batch: finished.append(list(batch)),
        )
    assert outputs == ["A", "B", "C", "A", "D"]
    # One call for the whole workload: "b" came from the cache, the repeated "a" runs once, and
    # each batch keeps what is left of it.
    assert model.calls[1] == [["a"], ["c"], ["d"]]
    assert sorted(finished) == [[0, 1], [2, 3], [4]]  # every outer batch reported done once
    assert (cached.hits, cached.misses) == (1, 5)  # "b" once; "b", then a, c, a, d


def test_a_fully_cached_workload_makes_no_model_call(tmp_path: Path) -> None:
    model = BatchesModel()
    finished: list[list[int]] = []
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        cached = CachingTranslator(model, cache)  # type: ignore[arg-type]
        cached.generate_batches(["x", "y"], OPTIONS, max_new_tokens=[9, 9], batches=[[0, 1]])
        again = cached.generate_batches(
            ["y", "x"], OPTIONS, max_new_tokens=[9, 9], batches=[[0], [1]], done=finished.append
        )
    assert again == ["Y", "X"] and len(model.calls) == 1 and finished == [[0], [1]]


def test_batch_through_the_cache_hands_the_model_whole_workloads(tmp_path: Path) -> None:
    # mtsum batch times each model and puts the translator behind the cache; neither wrapper
    # may hide generate_batches, or CTranslate2 runs each batch on one worker.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("زار الوزير القاهرة.\n\nوقال إن المحادثات مثمرة.\n", "utf-8")
    model = BatchesModel()
    summarizer = FunctionModel(lambda texts: [t.split(".")[0] + "." for t in texts])
    with open_cache(tmp_path / "cache") as cache:
        report = mtsum.run_batch(
            folder, tmp_path / "out", translator=model, summarizer=summarizer, cache=cache
        )  # type: ignore[arg-type]
    assert report.failed == 0 and len(model.calls) >= 1  # generate would have raised
    assert sorted(t for call in model.calls for batch in call for t in batch) == [
        "زار الوزير القاهرة.",
        "وقال إن المحادثات مثمرة.",
    ]


def test_a_model_without_whole_workloads_gets_its_batches_one_at_a_time(tmp_path: Path) -> None:
    seen: list[str] = []
    inner = upper_model(seen)
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        cached = CachingTranslator(inner, cache)
        assert not hasattr(cached, "generate_batches")  # generation sends batch by batch
        asks = [Request(text=t, tokens=len(t) + 1, bound=9) for t in ["aaaa", "b", "aaaa"]]
        assert generate(cached, asks, OPTIONS, batch_tokens=5) == ["AAAA", "B", "AAAA"]
    assert inner.calls == 2 and seen == ["aaaa", "b"]  # two batches; the repeat from the cache


def _damage_inside(path: Path) -> None:
    """Corrupt every page but the first: the header reads, the rows do not."""
    data = path.read_bytes()
    path.write_bytes(data[:4096] + b"\xa5" * (len(data) - 4096))


def _filled(path: Path) -> list[str]:
    texts = [f"text {n} " * 40 for n in range(100)]  # rows over many pages
    with TranslationCache(path) as cache:
        CachingTranslator(upper_model(), cache).generate(texts, OPTIONS, max_new_tokens=[5] * 100)
    return texts


def test_file_damaged_inside_is_moved_aside_and_rebuilt_in_use(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    texts = _filled(path)
    _damage_inside(path)
    damaged = path.read_bytes()
    seen: list[str] = []
    with TranslationCache(path) as cache:
        model = CachingTranslator(upper_model(seen), cache)
        for _ in range(2):  # the second call is answered by the rebuilt cache
            assert model.generate(texts, OPTIONS, max_new_tokens=[5] * 100) == [
                t.upper() for t in texts
            ]
        assert cache.warnings == (
            f"translation cache {path} was damaged (database disk image is malformed); moved to "
            f"{path}.corrupt and started a new one",
        )
        assert len(seen) == 100 and len(cache) == 100
    assert (tmp_path / (CACHE_FILE + ".corrupt")).read_bytes() == damaged


def test_batch_over_a_cache_damaged_inside_warns_once(tmp_path: Path) -> None:
    from batch_runs import write_docs

    from mtsum.batch import run_batch

    arabic = "زار وزير الخارجية القاهرة يوم الأربعاء.\n\nوقال إن المحادثات كانت مثمرة.\n"
    inp = write_docs(tmp_path / "in", {f"{n}.txt": arabic * (i + 1) for i, n in enumerate("abc")})
    _filled(tmp_path / "cache" / CACHE_FILE)
    _damage_inside(tmp_path / "cache" / CACHE_FILE)
    summarizer = FunctionModel(lambda xs: [" ".join(x.split()[:5]) + "." for x in xs])
    with open_cache(tmp_path / "cache") as cache:
        report = run_batch(
            inp, tmp_path / "out", translator=upper_model(), summarizer=summarizer, cache=cache
        )
    assert [row.status for row in report.documents] == ["ok", "ok", "ok"]
    [warning] = report.warnings
    assert "was damaged (database disk image is malformed); moved to" in warning
