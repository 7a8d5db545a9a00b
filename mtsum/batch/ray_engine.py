"""The Ray engine of `mtsum batch` (``--engine ray``): the documents to run, through a pool of
Ray Data actors, on one machine or a cluster.

The driver (`mtsum.batch.run.run_batch`) scans, signs, locks and plans exactly as the local
engine does, and hands `ray_results` only the documents that need the models. They become a Ray
dataset of one document per block, mapped with ``map_batches`` over a pool of `DocumentWorker`
actors: each loads the translator and the summarizer once, through the same `LazyModel` (so
`load_translator` / `load_summarizer`, the same backend and compute type, that machine's mtsum
cache), and runs `mtsum.batch.document.document_result` on each document, the function the local
engine runs. The results stream back to the driver, which alone writes the files and the resume
state, as each arrives.

What can go wrong, and what it does:

- A document that fails (its input, a model error on it, a bug) comes back as a failed result,
  like any other; the actor goes on.
- An actor whose process dies (``kill -9``, out of memory, a lost node) is restarted by Ray,
  loading the models again, and the document it was running is tried again (Ray Data's
  defaults: actors restarted and their tasks retried without end). mtsum bounds the tries
  itself: each actor counts every start of a document in `TryCounter`, one small actor beside
  the driver, and a document started more than `RETRIES` more times fails alone
  (`died_result`) without running again; the others go on.
- Every actor runs with ``MALLOC_ARENA_MAX=1`` (`ACTOR_ENV`, set through its runtime_env, as
  glibc reads it only at start): one C heap arena, so CTranslate2's threads do not each grow
  their own (see `mtsum.heap`).
- An actor that cannot load a model, or finds another revision of it than the driver planned
  with, or another mtsum version, sends that error back and the driver raises it
  (`mtsum.errors.ModelError`, exit 4): the resume keys and signatures would not be the driver's.

``ray`` is imported only here, and only when a run needs it: ``mtsum --help`` and the local engine
never import it.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from mtsum._version import __version__
from mtsum.backends.base import Seq2Seq
from mtsum.backends.cache import CachingTranslator, open_cache
from mtsum.batch.document import DocResult, Models, document_result, failed_result
from mtsum.batch.inputs import Document
from mtsum.batch.settings import BatchSettings, LazyModel, identity, load
from mtsum.errors import InputError, ModelError, MtsumError
from mtsum.limits import MAX_THREADS, MAX_WORKERS, check_range
from mtsum.signature import Signature

__all__ = [
    "ACTOR_ENV",
    "INSTALL",
    "RETRIES",
    "DocumentWorker",
    "RayEngine",
    "TryCounter",
    "WorkerResult",
    "died_result",
    "ray_available",
    "ray_results",
]

INSTALL = 'pip install "mtsum[ray]"'
RETRIES = 3  # more tries of a document whose actor died while running it
ACTOR_ENV = {"MALLOC_ARENA_MAX": "1"}  # each actor's environment, on top of its node's


@dataclass(frozen=True, kw_only=True)
class RayEngine:
    """Where and how wide a batch runs on Ray.

    ``address``: a Ray cluster to join (``auto``, ``ray://host:10001``, ``host:6379``), or
    ``local`` to start a Ray on this machine for the run and stop it after; None is ``auto`` when
    ``RAY_ADDRESS`` is set, else ``local``. A Ray this process has already joined (``ray.init``)
    is used as it is.
    ``workers``: actors, each holding both models; None: one per CPU slot free in the cluster,
    given ``threads`` each (at most one per document to run).
    ``threads``: CPU threads of each actor's models, and the CPUs Ray reserves for it.
    ``cache``: whether actors cache translations, each in its own machine's translation cache
    (in ``cache_dir``, else that machine's ``MTSUM_CACHE_DIR`` or user cache).

    Example:
        >>> RayEngine(workers=2).threads
        1
        >>> RayEngine(workers=0)
        Traceback (most recent call last):
        mtsum.errors.OptionError: workers must be at least 1, got 0

    With the default models (a plain example: it starts Ray and loads real models)::

        report = run_batch("seeds", "outputs", translator=lazy_translator(),
                           summarizer=lazy_summarizer(), engine=RayEngine())
    """

    address: str | None = None
    workers: int | None = None
    threads: int = 1
    cache: bool = True
    cache_dir: str | Path | None = None

    def __post_init__(self) -> None:
        check_range("workers", self.workers, 1, MAX_WORKERS)
        check_range("threads", self.threads, 1, MAX_THREADS)


@dataclass(frozen=True)
class WorkerResult:
    """One document back from an actor: its result, the translation cache's hits and misses on
    it and the cache's warnings; or, instead, the error that kept the actor from loading its
    models or opening its cache."""

    doc_id: str
    result: DocResult | None
    cache_hits: int = 0
    cache_misses: int = 0
    warnings: tuple[str, ...] = ()
    error: MtsumError | None = None


@dataclass(frozen=True, kw_only=True)
class _Job:
    """What every actor is given: the models as the driver signed them, and the settings."""

    translator: Seq2Seq | LazyModel | None  # None: no Arabic document to run
    summarizer: Seq2Seq | LazyModel
    identities: tuple[str | None, str]  # name@revision[runtime] of each, as the driver resolved
    settings: BatchSettings
    threads: int
    cache: bool
    cache_dir: str | Path | None
    version: str = __version__


def ray_available() -> bool:
    """Whether Ray (with Ray Data) can be imported here."""
    return find_spec("ray") is not None and find_spec("ray.data") is not None


def _ray() -> Any:
    """The ``ray`` module, Ray Data loaded.

    Raises:
        InputError: Ray is not installed.
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise InputError(f"the ray engine needs Ray: {INSTALL}") from None
    return ray


class TryCounter:
    """How many times each document was started, across actors and their restarts: a Ray
    actor beside the driver (`ray_results` starts one a run), asked by each `DocumentWorker`
    before it runs a document."""

    def __init__(self) -> None:
        self.tries: dict[str, int] = {}

    def start(self, doc_id: str) -> int:
        """Count one more start of `doc_id`; the number of starts, this one included."""
        self.tries[doc_id] = self.tries.get(doc_id, 0) + 1
        return self.tries[doc_id]


class DocumentWorker:
    """A Ray Data actor: the models, loaded once, and `document_result` on each document.

    Never raises for a document: a row in is a row out, a `WorkerResult` pickled in column
    ``result``. A load error is kept and sent back for each document instead of a result.
    `tries`, a `TryCounter` actor (None without Ray: every document runs), fails a document
    started more than `RETRIES` more times, its earlier actors having died on it.
    """

    def __init__(self, job: _Job, tries: Any = None) -> None:
        self.job = job
        self.tries = tries
        self.models: Models | None = None
        self.error: MtsumError | None = None
        try:
            self.models = self._load(job)
        except MtsumError as exc:
            self.error = type(exc)(f"on {socket.gethostname()}: {exc}")
        except Exception as exc:  # a bug or a library's own error: the driver says exit 4
            self.error = ModelError(
                f"on {socket.gethostname()}: loading the models failed: {type(exc).__name__}: {exc}"
            )

    def _load(self, job: _Job) -> Models:
        here = socket.gethostname()
        if job.version != __version__:
            raise ModelError(
                f"mtsum {__version__} is installed here and the driver runs {job.version}: "
                "install the same mtsum on every node"
            )
        roles = (("translation", job.translator), ("summarization", job.summarizer))
        loaded: list[Seq2Seq | None] = []
        for (role, model), expected in zip(roles, job.identities, strict=True):
            if model is None:
                loaded.append(None)
                continue
            if isinstance(model, LazyModel):
                model = model.for_worker(threads=job.threads)
            found = identity(model)
            if found != expected:
                raise ModelError(
                    f"the {role} model here is {found}, but the run was planned with {expected} "
                    f"on the driver: give every node the same revision ({here}: mtsum models "
                    "import, from an archive made by mtsum models export)"
                )
            loaded.append(load(model))
        mt, sm = loaded
        if sm is None:
            raise ModelError("no summarization model was given")  # the driver always gives one
        return Models(translator=mt, summarizer=sm)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        out = []
        for payload in batch["task"]:
            doc, signature, note = pickle.loads(payload)
            if self.tries is not None and _ray().get(self.tries.start.remote(doc.id)) > RETRIES + 1:
                result = WorkerResult(doc.id, died_result(doc, signature))
            else:
                result = self._run(doc, signature, note)
            out.append(pickle.dumps(result))
        return {"result": out}

    def _run(self, doc: Document, signature: Signature | None, note: str | None) -> WorkerResult:
        if self.error is not None or self.models is None:
            return WorkerResult(doc.id, None, error=self.error)
        settings, mt = self.job.settings, self.models.translator
        if mt is None or not self.job.cache:
            result = document_result(doc, signature, self.models, settings, note=note)
            return WorkerResult(doc.id, result)
        # Opened for each document: an SQLite connection is used only in the thread that opened
        # it, and Ray calls an actor from more than one.
        try:
            cache = open_cache(self.job.cache_dir, optional=True)  # a warning, if it cannot
        except MtsumError as exc:
            return WorkerResult(doc.id, None, error=type(exc)(f"on {socket.gethostname()}: {exc}"))
        with cache:
            cached = CachingTranslator(mt, cache)
            models = Models(translator=cached, summarizer=self.models.summarizer, cached=cached)
            result = document_result(doc, signature, models, settings, note=note)
        return WorkerResult(
            doc.id, result, cached.hits, cached.misses, warnings=tuple(cache.warnings)
        )


def died_result(doc: Document, signature: Signature | None) -> DocResult:
    """The failed result of a document whose actor died on every try."""
    error = (
        f"its Ray worker died on each of {RETRIES + 1} tries (killed, out of memory, or its "
        "node lost); rerun to try again"
    )
    return failed_result(doc, signature, error)


def ray_results(
    work: Sequence[tuple[Document, Signature | None, str | None]],
    *,
    translator: Seq2Seq | LazyModel | None,
    summarizer: Seq2Seq | LazyModel,
    settings: BatchSettings,
    engine: RayEngine,
) -> Generator[WorkerResult, None, None]:
    """Run each document of `work` (doc, signature, note) on a pool of `DocumentWorker` actors;
    yield each result as it arrives, in no set order.

    Ray is joined or started at the first ``next()`` (never for empty `work`) and, when started
    here, stopped when the iterator ends or is closed. A document missing at the end had its
    actor die on every try: the caller fails it (`died_result`).

    Args:
        work: The documents that need the models, with their signatures and notes.
        translator: The translation model (None when no document is Arabic): a `LazyModel`,
            loaded by each actor, or a model that pickles, sent to each.
        summarizer: The summarization model, likewise.
        settings: Options of every stage.
        engine: Where and how wide.

    Raises:
        InputError: Ray is not installed, or the cluster cannot be joined.
        ModelError: A model that some document needs is unavailable.

    Example (plain code: it starts Ray and loads real models)::

        mt, sm = lazy_translator(), lazy_summarizer()
        for item in ray_results(work, translator=mt, summarizer=sm,
                                settings=BatchSettings(), engine=RayEngine()):
            print(item.doc_id, item.result.ok)  # flores000 True
    """
    if not work:
        return
    identities = (identity(translator) if translator is not None else None, identity(summarizer))
    job = _Job(
        translator=translator,
        summarizer=summarizer,
        identities=identities,
        settings=settings,
        threads=engine.threads,
        cache=engine.cache,
        cache_dir=engine.cache_dir,
    )
    ray = _ray()
    started = _join(ray, engine.address)
    context = ray.data.DataContext.get_current()
    saved = {name: getattr(context, name) for name in _QUIET if hasattr(context, name)}
    try:
        for name, value in _QUIET.items():
            if name in saved:
                setattr(context, name, value)
        workers = engine.workers or _free_slots(ray, engine.threads)
        rows = [{"task": pickle.dumps((doc, sig, note))} for doc, sig, note in work]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        results = dataset.map_batches(
            DocumentWorker,
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(rows))),
            fn_constructor_kwargs={"job": job, "tries": _try_counter(ray)},
            num_cpus=engine.threads,
            runtime_env={"env_vars": ACTOR_ENV},
        )
        # A block is a document: each is handed over as soon as it is ready (iter_rows, which
        # prefetches, would hold every result back until the next one is done).
        for batch in results.iter_batches(batch_size=None, prefetch_batches=0):
            for payload in batch["result"]:
                yield pickle.loads(payload)
    finally:
        for name, value in saved.items():
            setattr(context, name, value)
        if started:
            ray.shutdown()


# Ray Data settings for the run, set back after: no progress bars or banners (mtsum has its own
# progress), and a document whose actor died on every try is left out rather than failing the
# whole dataset (`died_result` fails it alone).
_QUIET: dict[str, Any] = {
    "enable_progress_bars": False,
    "print_on_execution_start": False,
    "max_errored_blocks": -1,
}


def _try_counter(ray: Any) -> Any:
    """A new `TryCounter` actor, on the driver's node where it can (that node outlives the run;
    a counter restarted elsewhere starts its counts again, which only allows more tries)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
    counter = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(TryCounter)
    return counter.options(scheduling_strategy=here).remote()


def _join(ray: Any, address: str | None) -> bool:
    """Join the Ray cluster at `address` (see `RayEngine`); whether a Ray was started here.

    Raises:
        InputError: The cluster cannot be joined.
    """
    if ray.is_initialized():
        return False
    if address is None:
        # "local": a new Ray, even where `ray start` left one running that Ray would join.
        address = "auto" if os.environ.get("RAY_ADDRESS") else "local"
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    # ray.init sets its own SIGTERM handler (sys.exit) in the main thread: the caller's is put
    # back, so that SIGTERM ends a batch as the caller meant (the CLI: as Ctrl-C does).
    main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if main else None
    try:
        ray.init(address=address, configure_logging=False, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "a local Ray" if address == "local" else f"Ray at {address}"
        raise InputError(
            f"cannot start or join {where} ({exc}): start the cluster with `ray start --head`, "
            "or pass its address with --ray-address"
        ) from None
    finally:
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)
    return address == "local"


def _free_slots(ray: Any, threads: int) -> int:
    """Actors of `threads` CPUs each that the cluster's free CPUs hold (at least one)."""
    # Right after start-up a local Ray may not report its CPUs yet.
    deadline = time.monotonic() + 5.0
    cpus = float(ray.available_resources().get("CPU", 0))
    while cpus < threads and time.monotonic() < deadline:
        time.sleep(0.1)
        cpus = float(ray.available_resources().get("CPU", 0))
    return max(1, int(cpus // threads))
