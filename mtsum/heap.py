"""How much of the C heap stays resident: glibc's malloc, asked through ctypes.

CTranslate2 allocates its decoder caches and activations with the C allocator, from one worker
thread per batch it runs at once. glibc gives each such thread its own arena and keeps memory a
thread freed in its arena, so a run's resident memory grows past what it holds at any moment.
Both functions are no-ops where the C library is not glibc (macOS, Windows, musl).

`trim_heap` hands freed pages back once (a model loader calls it after loading); `one_arena`
makes every thread allocate from one arena. The latter changes the whole process, so only the
`mtsum` command calls it, at start, for its own process (so ``mtsum batch`` with the local
engine too; Ray's worker processes are Ray's). A program that imports mtsum can call
`one_arena` first thing, or be started with ``MALLOC_ARENA_MAX=1`` in its environment (glibc
reads it once, at start).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["one_arena", "trim_heap"]

# glibc's mallopt parameter for the most arenas (malloc.h).
_M_ARENA_MAX = -8


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return libc


def trim_heap() -> bool:
    """Hand memory the process has freed back to the operating system.

    CTranslate2 reads the model file into buffers it frees once the weights are built; after
    other native libraries (tokenizers) have started threads, glibc keeps those pages resident:
    distilbart at real shape was 626 MB resident after loading, 383 MB after the trim.

    Returns:
        True where glibc was asked (whether or not it found pages to release); False elsewhere.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def one_arena() -> bool:
    """Make every thread allocate from glibc's main arena.

    Call it before any thread allocates: arenas already made stay. With CTranslate2's two
    workers on 2 cores, ``mtsum summarize`` of the seed with random weights (every output runs
    to its bound) peaked at 924-961 MB instead of 1,049-1,077 MB, in the same time (two runs
    each; bench/README.md, Speed): the workers' freed decoder caches are reused by the next
    batch instead of staying in a worker's own arena. Lock contention is negligible: a worker
    allocates a few large tensors per decoding step.

    Returns:
        True where glibc took the setting; False elsewhere.
    """
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, 1))
