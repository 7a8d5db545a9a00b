"""The systems `bench/speed.py` times, one per process, and the workload they share.

Every system reads the same workload, loads its model, runs one untimed warm-up call, then times
`passes` full passes over the workload and returns a JSON-ready dict. Output lengths are forced:
every output is exactly `new_tokens` decoder steps (min = max new tokens), so every system does the
same work and tokens per second compare like with like.

- Naive transformers: what ``pipeline("translation")`` / ``pipeline("summarization")`` did in
  transformers 4.x (those pipelines are gone in transformers 5): for each text, tokenize it alone,
  ``model.generate`` with the model's own generation config under ``torch.no_grad``, decode.
- mtsum: `mtsum.translate_segments` / `mtsum.summarize` on a model from `load_translator` /
  `load_summarizer`, wrapped in `ForcedLength`, which sets min = max new tokens on every generate
  call mtsum makes (``generate_batches`` too, where CTranslate2 takes every batch of a workload at
  once: `ForcedLengthAll`). Batching, sorting, splitting and chunking are mtsum's own.
  Translation runs with ``retry_no_repeat_ngram=0``: a random decoder loops, and mtsum would
  translate every segment a second time, which a trained model rarely needs.
- Raw CTranslate2: `ctranslate2.Translator.translate_batch` on the very folder mtsum converted,
  with the same HF tokenizer, text in and text out, at given thread and batch settings.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from checkpoints import FLORES, ROOT, SEED

from mtsum.backends.base import GenerateOptions, Seq2Seq
from mtsum.textprep import Segment, segment

SEED_ENGLISH = ROOT / "seeds" / "000_91e72526449f324a.translation.ref.en.txt"
FLORES_ARTICLES = 20  # FLORES articles read for the translation and batch workloads


# --- workload ---------------------------------------------------------------------------------


def flores_articles(language: str, count: int) -> list[list[str]]:
    """The first `count` FLORES devtest articles (consecutive lines with one URL), as lines.

    Returns [] when ``../shared/data`` is absent.
    """
    meta = FLORES / "metadata_devtest.tsv"
    text = FLORES / f"{language}.devtest"
    if not (meta.is_file() and text.is_file()):
        return []
    urls = [row.split("\t")[0] for row in meta.read_text(encoding="utf-8").splitlines()[1:]]
    lines = text.read_text(encoding="utf-8").splitlines()
    articles: list[list[str]] = []
    previous = None
    for url, line in zip(urls, lines, strict=True):
        if url != previous:
            if len(articles) == count:
                break
            articles.append([])
            previous = url
        articles[-1].append(line.strip())
    return articles


def arabic_documents() -> list[str]:
    """The seed article, then FLORES articles (each one paragraph), as document texts."""
    docs = [SEED.read_text(encoding="utf-8")]
    docs += [" ".join(lines) for lines in flores_articles("arb_Arab", FLORES_ARTICLES)]
    return docs


def translation_workload(sentences: int) -> list[list[Segment]]:
    """The first `sentences` segments of `arabic_documents`, as mtsum segments them, by document."""
    out: list[list[Segment]] = []
    left = sentences
    for text in arabic_documents():
        if left == 0:
            break
        segments = segment(text)[:left]
        out.append(segments)
        left -= len(segments)
    return out


def summarization_workload(documents: int, words: int) -> list[list[str]]:
    """English documents of about `words` words each, as paragraphs: the seed's reference
    translation cut at paragraph boundaries, then consecutive FLORES articles packed together.

    Every document stays well inside distilbart's 1,024 input positions, so mtsum summarizes each
    in one chunk and the naive pipeline can take it whole: both do the same work.
    """
    paragraphs = [p.strip() for p in SEED_ENGLISH.read_text(encoding="utf-8").splitlines()]
    units = [p for p in paragraphs if p]
    units += [" ".join(lines) for lines in flores_articles("eng_Latn", 200)]
    docs: list[list[str]] = [[]]
    for unit in units:
        if sum(len(p.split()) for p in docs[-1]) + len(unit.split()) > words and docs[-1]:
            if len(docs) == documents:
                break
            docs.append([])
        docs[-1].append(unit)
    return docs[:documents]


# --- measurement ------------------------------------------------------------------------------


class ForcedLength:
    """A `Seq2Seq` whose every output is exactly `tokens` decoder steps (min = max new tokens).

    mtsum bounds each output by its input length and never sets a minimum for translation; this
    replaces both on the way into the model, after mtsum has batched, and counts what it sent.
    """

    def __init__(self, model: Seq2Seq, tokens: int) -> None:
        self.model = model
        self.info = model.info
        self.defaults = model.defaults
        self.tokens = tokens
        self.calls = 0
        self.rows = 0
        self.batch_sizes: list[int] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.model.count_tokens(texts)

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        self.calls += 1
        self.rows += len(texts)
        self.batch_sizes.append(len(texts))
        forced = replace(options, min_new_tokens=self.tokens, max_new_tokens=self.tokens)
        return self.model.generate(texts, forced, max_new_tokens=[self.tokens] * len(texts))


class ForcedLengthAll(ForcedLength):
    """`ForcedLength` over a model that runs several batches at once (CTranslate2's
    ``generate_batches``): the stage hands it every batch in one call, each recorded as it ends."""

    def __init__(self, model: Seq2Seq, tokens: int) -> None:
        super().__init__(model, tokens)
        self.workers = model.workers  # type: ignore[attr-defined]

    def generate_batches(
        self,
        texts: Sequence[str],
        options: GenerateOptions,
        *,
        max_new_tokens: Sequence[int],
        batches: Sequence[Sequence[int]],
        done: Callable[[Sequence[int]], None] | None = None,
    ) -> list[str]:
        self.calls += 1
        self.rows += len(texts)

        def finished(batch: Sequence[int]) -> None:
            self.batch_sizes.append(len(batch))
            if done is not None:
                done(batch)

        forced = replace(options, min_new_tokens=self.tokens, max_new_tokens=self.tokens)
        return self.model.generate_batches(  # type: ignore[attr-defined]
            texts,
            forced,
            max_new_tokens=[self.tokens] * len(texts),
            batches=batches,
            done=finished,
        )


def forced_length(model: Seq2Seq, tokens: int) -> ForcedLength:
    """`model` with every output forced to `tokens` steps, batching as `model` does."""
    if hasattr(model, "generate_batches"):
        return ForcedLengthAll(model, tokens)
    return ForcedLength(model, tokens)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(run: Callable[[], int], *, passes: int) -> dict[str, Any]:
    """Time `passes` calls of `run` (which returns the output tokens it produced).

    Returns:
        Wall seconds and CPU seconds of each pass, the output tokens of the last, and the median
        wall time (the figure reported).
    """
    walls, cpus, tokens = [], [], 0
    for _ in range(passes):
        cpu, start = _cpu_seconds(), time.perf_counter()
        tokens = run()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_seconds() - cpu)
    median = sorted(walls)[len(walls) // 2]
    return {
        "output_tokens": tokens,
        "seconds": median,
        "tokens_per_s": tokens / median,
        "pass_seconds": [round(w, 3) for w in walls],
        "cpu_seconds": [round(c, 3) for c in cpus],
        "cores_busy": round(sum(cpus) / sum(walls), 2),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _result(system: str, load_s: float, measured: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "system": system,
        "load_seconds": round(load_s, 2),
        **measured,
        **extra,
        "process_peak_rss_mb": round(_peak_rss_mb(), 1),
    }


# --- naive transformers -----------------------------------------------------------------------


def naive_hf(
    task: str,
    name: str,
    texts: Sequence[str],
    *,
    new_tokens: int,
    beams: int | None,
    passes: int,
) -> dict[str, Any]:
    """One text per ``generate`` call, the model's generation config, fp32: the 4.x pipeline."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from mtsum.backends.resolve import resolve_model

    model_dir = resolve_model(name, role=task, option="-").path
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
    load_s = time.perf_counter() - start
    kwargs: dict[str, Any] = {"num_beams": beams} if beams is not None else {}

    def one(text: str, tokens: int) -> int:
        # TranslationPipeline/SummarizationPipeline in transformers 4.x: preprocess, _forward
        # under no_grad, postprocess; batch_size 1.
        inputs = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, min_new_tokens=tokens, max_new_tokens=tokens, **kwargs)
        tokenizer.decode(out[0], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return out.shape[1] - 1  # less the decoder start token

    one(texts[0], 4)

    def run() -> int:
        return sum(one(text, new_tokens) for text in texts)

    settings = {
        "beams": beams or model.generation_config.num_beams,
        "threads": torch.get_num_threads(),
    }
    measured = measure(run, passes=passes)
    return _result(f"{task}: naive transformers", load_s, measured, settings=settings)


# --- mtsum ------------------------------------------------------------------------------------


def mtsum_translate(
    name: str,
    documents: Sequence[Sequence[Segment]],
    *,
    backend: str,
    new_tokens: int,
    beams: int | None,
    passes: int,
) -> dict[str, Any]:
    """`mtsum.translate_segments` with default options (less the repetition retry)."""
    from mtsum import load_translator
    from mtsum.translate import TranslateOptions, translate_segments

    start = time.perf_counter()
    model = load_translator(name, backend=backend)
    load_s = time.perf_counter() - start
    options = TranslateOptions(num_beams=beams, retry_no_repeat_ngram=0)
    forced = forced_length(model, new_tokens)
    translate_segments([documents[0][:2]], forced_length(model, 4), options=options)

    def run() -> int:
        before = forced.rows
        forced.batch_sizes.clear()
        translate_segments(documents, forced, options=options)
        return (forced.rows - before) * new_tokens

    measured = measure(run, passes=passes)
    settings = {
        "backend": model.info.backend,
        "compute_type": model.info.compute_type,
        "beams": beams or model.defaults.num_beams,
        "batches": list(forced.batch_sizes),
        **_ct2_threads(model),
    }
    return _result(f"translation: mtsum {backend}", load_s, measured, settings=settings)


def mtsum_summarize(
    name: str,
    documents: Sequence[Sequence[str]],
    *,
    backend: str,
    new_tokens: int,
    passes: int,
) -> dict[str, Any]:
    """`mtsum.summarize` with default options; every document must fit one chunk."""
    from mtsum import load_summarizer
    from mtsum.summarize import SummarizeOptions, summarize

    start = time.perf_counter()
    model = load_summarizer(name, backend=backend)
    load_s = time.perf_counter() - start
    options = SummarizeOptions()
    forced = forced_length(model, new_tokens)
    summarize([[documents[0][0]]], forced_length(model, 4), options=options)

    def run() -> int:
        before = forced.rows
        forced.batch_sizes.clear()
        summaries = summarize(documents, forced, options=options)
        rounds = [len(s.chunking.rounds) for s in summaries]
        if rounds != [1] * len(documents):
            raise RuntimeError(f"documents took {rounds} rounds: the workload must fit one chunk")
        return (forced.rows - before) * new_tokens

    measured = measure(run, passes=passes)
    settings = {
        "backend": model.info.backend,
        "compute_type": model.info.compute_type,
        "beams": model.defaults.num_beams,
        "batches": list(forced.batch_sizes),
        **_ct2_threads(model),
    }
    return _result(f"summarization: mtsum {backend}", load_s, measured, settings=settings)


def _ct2_threads(model: Any) -> dict[str, Any]:
    translator = getattr(model, "translator", None)
    if translator is None:
        import torch

        return {"torch_threads": torch.get_num_threads()}
    from mtsum.backends.ct2 import thread_split

    # CTranslate2 does not report intra threads; mtsum picks them with thread_split.
    inter, intra = thread_split(len(os.sched_getaffinity(0)))
    if translator.num_translators != inter:
        raise RuntimeError(f"{translator.num_translators} workers, thread_split says {inter}")
    return {"inter_threads": inter, "intra_threads": intra}


# --- raw CTranslate2 --------------------------------------------------------------------------


class _RawCT2:
    """Text in, text out through `translate_batch`, with the checkpoint's HF tokenizer."""

    def __init__(self, translator: Any, tokenizer: Any, *, summarizing: bool) -> None:
        self.translator = translator
        self.tokenizer = tokenizer
        # distilbart forces <s> as the first generated token; CTranslate2 takes it as a prefix.
        self.prefix = ["<s>"] if summarizing else None
        self.decode = {
            "length_penalty": 2.0 if summarizing else 1.0,
            "no_repeat_ngram_size": 3 if summarizing else 0,
            "patience": 1.0,  # stop when `beams` hypotheses are finished, as transformers does
            "return_scores": False,
        }

    def __call__(self, texts: Sequence[str], tokens: int, *, batch: int, beams: int) -> int:
        ids = self.tokenizer(list(texts))["input_ids"]
        source = [self.tokenizer.convert_ids_to_tokens(row) for row in ids]
        out = self.translator.translate_batch(
            source,
            [self.prefix] * len(source) if self.prefix else None,
            max_batch_size=batch,
            beam_size=beams,
            min_decoding_length=tokens,
            max_decoding_length=tokens,
            **self.decode,
        )
        hyps = [r.hypotheses[0] for r in out]
        self.tokenizer.batch_decode([self.tokenizer.convert_tokens_to_ids(h) for h in hyps])
        return sum(len(h) for h in hyps)


def ct2_raw(
    task: str,
    name: str,
    texts: Sequence[str],
    *,
    new_tokens: int,
    configs: Sequence[dict[str, int]],
    passes: int,
) -> dict[str, Any]:
    """`translate_batch` at each config ({inter, intra, batch, beams}); one result per config.

    The model is the folder mtsum converted `name` into (int8), in the same mtsum cache. Output
    tokens are counted from the hypotheses, so the forced length is checked, not assumed.
    """
    import ctranslate2
    from transformers import AutoTokenizer

    from mtsum.backends.convert import convert
    from mtsum.backends.resolve import resolve_model
    from mtsum.paths import cache_dir

    resolved = resolve_model(name, role=task, option="-")
    path = convert(resolved, compute_type="int8", cache=cache_dir())
    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    results = []
    for config in configs:
        start = time.perf_counter()
        translator = ctranslate2.Translator(
            str(path),
            device="cpu",
            compute_type="int8",
            inter_threads=config["inter"],
            intra_threads=config["intra"],
        )
        load_s = time.perf_counter() - start
        run = _RawCT2(translator, tokenizer, summarizing=task == "summarization")
        size = {"batch": config["batch"], "beams": config["beams"]}
        run(texts[:2], 4, **size)
        measured = measure(lambda run=run, size=size: run(texts, new_tokens, **size), passes=passes)
        results.append(_result(f"{task}: raw CTranslate2", load_s, measured, settings=config))
        del run, translator
    return {"system": f"{task}: raw CTranslate2", "configs": results}


def env_summary() -> dict[str, Any]:
    """Environment variables that change CPU inference speed."""
    names = (
        "CT2_USE_MKL",
        "CT2_FORCE_CPU_ISA",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "PYTHONDONTWRITEBYTECODE",
    )
    return {n: os.environ.get(n) for n in names}
