"""A translation cache on disk, and `CachingTranslator`, which makes it invisible to the stages.

One sqlite file, ``<cache_dir>/translations.sqlite3``, maps (model and revision, backend, compute
type, generation settings, per-text length bound, source text) to the model's output. Several
processes may share it: WAL mode lets readers run beside a writer, every write is one short
``BEGIN IMMEDIATE`` transaction, and a busy timeout makes a writer wait instead of failing.

It is only a cache, so once open it never fails a translation; opened with ``optional`` (as
`mtsum batch` does), a cache that cannot be opened at all is off from the start. A file found
damaged, when opened or in use (a bad header, or pages corrupted inside), is moved aside as
``translations.sqlite3.corrupt`` and rebuilt empty. A cache that cannot be read or written (a full
disk, an I/O error, locked by another process past the timeout) is left alone for the rest of the
process: every text is then a miss and nothing is stored. Each of these is reported once in
`TranslationCache.warnings` and logged; nothing is printed.

Example:
    Two runs on one cache folder (None: the default one); the second reads the translation back:

    >>> import tempfile
    >>> from mtsum import FunctionModel, translate
    >>> mt = FunctionModel(lambda xs: ["Welcome."] * len(xs))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for run in range(2):
    ...         with open_cache(folder) as cache:
    ...             [doc] = translate(["مرحبا بكم."], CachingTranslator(mt, cache))
    >>> mt.calls, doc.paragraphs
    (1, ['Welcome.'])
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from mtsum.backends.base import GenerateOptions, ModelInfo, Seq2Seq
from mtsum.errors import InputError, ModelError
from mtsum.paths import cache_dir as default_cache_dir

__all__ = [
    "CACHE_FILE",
    "CacheKey",
    "CachingTranslator",
    "TranslationCache",
    "cache_key",
    "open_cache",
]

CACHE_FILE = "translations.sqlite3"
BUSY_TIMEOUT_MS = 30_000
_CHUNK = 500  # rows per statement, well below sqlite's bound-variable limit
_LOG = logging.getLogger(__name__)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    digest TEXT PRIMARY KEY, model TEXT NOT NULL, backend TEXT NOT NULL,
    compute_type TEXT NOT NULL, settings TEXT NOT NULL, source TEXT NOT NULL,
    output TEXT NOT NULL, created REAL NOT NULL
)"""


@dataclass(frozen=True, kw_only=True)
class CacheKey:
    """Everything that decides one output; stored beside it so the file can be inspected."""

    model: str
    backend: str
    compute_type: str
    settings: str
    source: str

    @property
    def digest(self) -> str:
        """sha256 of all fields, the table's primary key."""
        fields = [self.model, self.backend, self.compute_type, self.settings, self.source]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def cache_key(info: ModelInfo, options: GenerateOptions, bound: int, text: str) -> CacheKey:
    """The key of one text's output under a model and decoding settings.

    ``options.max_new_tokens`` is the batch's cap (translate sets it to the longest bound in the
    batch), so keying on it would make a cached text miss whenever its batch neighbours change;
    the key holds the text's effective bound, ``min(bound, options.max_new_tokens)``, instead.

    Example:
        >>> from mtsum.backends.base import FunctionModel
        >>> m = FunctionModel(lambda xs: xs)
        >>> cache_key(m.info, m.defaults, 20, "a").settings.split("|")[0]
        'num_beams=4'
    """
    settings = [
        f"{f.name}={getattr(options, f.name)!r}"
        for f in dataclasses.fields(options)
        if f.name != "max_new_tokens"
    ]
    settings += [f"max_new_tokens={min(bound, options.max_new_tokens)}", f"prefix={info.prefix!r}"]
    return CacheKey(
        model=f"{info.name}@{info.revision}",
        backend=info.backend,
        compute_type=info.compute_type,
        settings="|".join(settings),
        source=text,
    )


class TranslationCache:
    """The sqlite cache file; one per process (connections are never shared across processes).

    Args:
        path: The sqlite file (created, with its folder, if missing).
        optional: A file that cannot be created or opened is no error: the cache is then off
            from the start (every text a miss, nothing stored), with one warning saying why.

    Raises:
        InputError: Without `optional`, the file cannot be created or opened (e.g. a read-only
            folder, a full disk).
    """

    def __init__(self, path: str | Path, *, optional: bool = False) -> None:
        self.path = Path(path)
        self.warnings: tuple[str, ...] = ()
        self._off = False  # set when it could not be used: no reads or writes from then on
        self._inode: int | None = None  # of the file opened
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open()
        except (OSError, sqlite3.Error) as exc:
            if optional:  # an empty table in memory stands in; `_off` keeps it unused
                self._db = _connect(Path(":memory:"))
                self._db.execute(_SCHEMA)
                self._give_up(str(exc))
                return
            raise InputError(
                f"cannot open translation cache {self.path} ({exc}): pass --cache-dir DIR or "
                "--no-cache"
            ) from exc

    def _open(self) -> sqlite3.Connection:
        """Connect (setting ``_inode``), moving a file found damaged aside first."""
        seen = self.path.stat().st_ino if self.path.exists() else None
        db = _connect(self.path)
        try:
            _init(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            # OperationalError (locked, read-only, ...) is not damage; plain DatabaseError is.
            if isinstance(exc, sqlite3.OperationalError):
                raise
            self._move_aside(seen, str(exc))
            db = _connect(self.path)
            _init(db)
        self._inode = self.path.stat().st_ino
        return db

    def _move_aside(self, inode: int | None, reason: str) -> None:
        """Move the damaged file aside as ``.corrupt`` and warn; only the file found damaged
        (`inode`): another process may have rebuilt it already."""
        aside = self.path.with_name(self.path.name + ".corrupt")
        if inode is None or not self.path.exists() or self.path.stat().st_ino != inode:
            return
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._warn(
            f"translation cache {self.path} was damaged ({reason}); moved to {aside} and started "
            "a new one"
        )

    def _warn(self, message: str) -> None:
        """Add `message` to `warnings` (once) and log it."""
        if message not in self.warnings:
            self.warnings = (*self.warnings, message)
            _LOG.warning("%s", message)

    def get_many(self, keys: Sequence[CacheKey]) -> list[str | None]:
        """Cached outputs for `keys`, in order; None where a key is not cached (every key, once
        the cache could not be used)."""
        digests = [k.digest for k in keys]
        found: dict[str, str] = {}

        def select() -> None:
            found.clear()  # nothing from a try that failed part way
            for start in range(0, len(digests), _CHUNK):
                chunk = digests[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT digest, output FROM translations WHERE digest IN ({marks})"
                found.update(self._db.execute(query, chunk).fetchall())

        if not self._use(select):
            found.clear()
        return [found.get(d) for d in digests]

    def put_many(self, items: Sequence[tuple[CacheKey, str]]) -> None:
        """Store (key, output) pairs in one short transaction; a key already stored is kept.
        Nothing is stored once the cache could not be used."""
        now = time.time()
        rows = [
            (k.digest, k.model, k.backend, k.compute_type, k.settings, k.source, out, now)
            for k, out in items
        ]

        def insert() -> None:
            # IMMEDIATE takes the write lock up front, so the busy timeout applies instead of a
            # deadlock error when two readers both try to upgrade to writers.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO translations VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", rows
                )
                self._db.execute("COMMIT")
            except BaseException:
                # sqlite has already rolled back after some errors ("database or disk is
                # full"): a second ROLLBACK would fail and hide why.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

        if rows:
            self._use(insert)

    def _use(self, step: Callable[[], None]) -> bool:
        """Run `step` on the database; whether it went through.

        A damaged file is moved aside and rebuilt, and `step` run once more on the new one; a
        cache that cannot be used (or is damaged again) is left alone from then on. Each is a
        warning, never an error: the caller goes on without the cache.
        """
        for attempt in range(2):
            if self._off:
                return False
            try:
                step()
                return True
            except sqlite3.OperationalError as exc:  # full disk, I/O error, locked too long
                why = str(exc)
                if "locked" in why or "busy" in why:
                    why = f"stayed locked for {BUSY_TIMEOUT_MS // 1000} s by another process"
                self._give_up(why)
            except sqlite3.DatabaseError as exc:  # damaged inside: "disk image is malformed"
                if attempt:
                    self._give_up(str(exc))
                    continue
                try:
                    self._db.close()
                    self._move_aside(self._inode, str(exc))
                    self._db = self._open()
                except (OSError, sqlite3.Error) as again:
                    self._give_up(str(again))
        return False

    def _give_up(self, why: str) -> None:
        self._off = True
        self._warn(f"translation cache {self.path} cannot be used ({why}); going on without it")

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0])

    def close(self) -> None:
        """Close the connection; the file stays."""
        self._db.close()

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; writes open their own, reads need none.
    # timeout= is sqlite's busy timeout: wait for another process's write instead of failing.
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)


def _init(db: sqlite3.Connection) -> None:
    # Two processes opening a new file at once can get "database is locked" from the switch to
    # WAL without sqlite's busy handler ever waiting (it refuses a lock upgrade that could
    # deadlock); wait and try again, for as long as the busy timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            # WAL stays consistent under NORMAL; a crash may lose the last transactions.
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(_SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def open_cache(cache_dir: str | Path | None = None, *, optional: bool = False) -> TranslationCache:
    """Open (creating if needed) the translation cache in `cache_dir`.

    Args:
        cache_dir: The folder; None means ``MTSUM_CACHE_DIR`` or the user cache folder
            (see `mtsum.paths.cache_dir`).
        optional: A cache that cannot be opened is a cache that is off, with one warning, not
            an error (`TranslationCache`'s ``optional``): what `mtsum batch` opens.

    Returns:
        The open cache; close it, or use it as a context manager.

    Raises:
        InputError: Without `optional`, the folder or file cannot be created or opened.
    """
    return TranslationCache(default_cache_dir(cache_dir) / CACHE_FILE, optional=optional)


@dataclass
class CachingTranslator:
    """A `Seq2Seq` that answers from `cache` and runs `model` only for texts not cached yet.

    `hits` and `misses` count texts. Misses go to the wrapped model in one call, in their order.

    Example:
        >>> import tempfile
        >>> from mtsum.backends.base import FunctionModel
        >>> inner = FunctionModel(lambda xs: [x.upper() for x in xs])
        >>> with tempfile.TemporaryDirectory() as tmp, TranslationCache(Path(tmp, "t.db")) as cache:
        ...     m = CachingTranslator(inner, cache)
        ...     m.generate(["a", "a"], m.defaults, max_new_tokens=[5, 5])
        ...     m.generate(["a", "b"], m.defaults, max_new_tokens=[5, 5])
        ['A', 'A']
        ['A', 'B']
        >>> inner.calls, m.hits, m.misses  # "a" generated once, then read from the cache
        (2, 1, 3)
    """

    model: Seq2Seq
    cache: TranslationCache
    hits: int = 0
    misses: int = 0
    info: ModelInfo = field(init=False)
    defaults: GenerateOptions = field(init=False)

    def __post_init__(self) -> None:
        self.info = self.model.info
        self.defaults = self.model.defaults
        # Offered only when the model runs whole workloads itself (CTranslate2); otherwise
        # `mtsum.generation` sends the batches one at a time through `generate`.
        if hasattr(self.model, "generate_batches"):
            self.generate_batches = self._generate_batches

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.model.count_tokens(texts)

    @property
    def workers(self) -> int:
        """The wrapped model's workers (`mtsum.generation.batches` evens batches out for them)."""
        return int(getattr(self.model, "workers", 1))

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        # One batch: the misses go to the model's own generate, which spreads a batch over its
        # workers (CTranslate2).
        return self._answer(texts, options, max_new_tokens, None, None)

    def _generate_batches(
        self,
        texts: Sequence[str],
        options: GenerateOptions,
        *,
        max_new_tokens: Sequence[int],
        batches: Sequence[Sequence[int]],
        done: Callable[[Sequence[int]], None] | None = None,
    ) -> list[str]:
        """`generate` for a workload cut into batches (see `mtsum.generation.generate`): the
        cached texts are answered at once, and the rest of each batch goes to the wrapped model,
        all batches in one call."""
        return self._answer(texts, options, max_new_tokens, batches, done)

    def _answer(
        self,
        texts: Sequence[str],
        options: GenerateOptions,
        max_new_tokens: Sequence[int],
        batches: Sequence[Sequence[int]] | None,
        done: Callable[[Sequence[int]], None] | None,
    ) -> list[str]:
        """Outputs from the cache, and from the model for the rest: by `batches`, or (None) in
        one plain ``generate`` call."""
        if len(max_new_tokens) != len(texts):
            raise InputError(f"{len(max_new_tokens)} length bounds for {len(texts)} texts")
        keys = [
            cache_key(self.model.info, options, b, t)
            for t, b in zip(texts, max_new_tokens, strict=True)
        ]
        cached = self.cache.get_many(keys)
        # A text repeated within the call is generated once.
        todo: dict[str, int] = {}
        for i, out in enumerate(cached):
            if out is None:
                todo.setdefault(keys[i].digest, i)
        misses = sum(out is None for out in cached)
        self.misses += misses
        self.hits += len(texts) - misses
        first = list(todo.values())
        asked = [texts[i] for i in first]
        bounds = [max_new_tokens[i] for i in first]
        if batches is None:
            outputs = self._checked(
                self.model.generate(asked, options, max_new_tokens=bounds) if asked else [], asked
            )
        else:
            position = {i: n for n, i in enumerate(first)}
            running = []
            for batch in batches:
                part = [position[i] for i in batch if i in position]
                if part:
                    running.append((batch, part))
                elif done is not None:
                    done(batch)  # answered from the cache alone
            outputs = self._batched(asked, options, bounds, running, done)
        self.cache.put_many([(keys[i], out) for i, out in zip(first, outputs, strict=True)])
        fresh = {keys[i].digest: out for i, out in zip(first, outputs, strict=True)}
        return [
            fresh[k.digest] if out is None else out for out, k in zip(cached, keys, strict=True)
        ]

    def _batched(
        self,
        texts: list[str],
        options: GenerateOptions,
        bounds: list[int],
        running: list[tuple[Sequence[int], list[int]]],
        done: Callable[[Sequence[int]], None] | None,
    ) -> list[str]:
        """The wrapped model's outputs for `texts`, by the batches in `running` (each an outer
        batch and its texts' positions here), in one ``generate_batches`` call; `done` hears of
        the outer batches."""
        if not texts:
            return []
        outer = {tuple(part): batch for batch, part in running}

        def finished(part: Sequence[int]) -> None:
            if done is not None:
                done(outer[tuple(part)])

        return self._checked(
            self.model.generate_batches(  # type: ignore[attr-defined]
                texts,
                options,
                max_new_tokens=bounds,
                batches=[part for _, part in running],
                done=finished,
            ),
            texts,
        )

    def _checked(self, outputs: Sequence[str], texts: Sequence[str]) -> list[str]:
        if len(outputs) != len(texts):
            raise ModelError(
                f"{self.info.name}: returned {len(outputs)} outputs for {len(texts)} inputs"
            )
        return list(outputs)
