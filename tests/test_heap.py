"""mtsum.heap: glibc's arenas, counted by glibc itself (``malloc_info``) in a fresh process.

Each check runs in its own interpreter: the arena limit is process-wide and only holds for
threads that allocate after it is set.
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from conftest import ROOT

from mtsum.heap import trim_heap

# What is tested is glibc's own behaviour; elsewhere both functions are documented no-ops.
pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")

# Three threads each hold a malloc'd block at once, then the script prints how many heaps
# (arenas) glibc reports. SETUP runs first.
ARENAS = """
import ctypes, tempfile, threading
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
SETUP
together = threading.Barrier(3)
def work():
    block = libc.malloc(4096)
    together.wait()
    libc.free(block)
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with tempfile.NamedTemporaryFile("r", suffix=".xml") as report:
    fp = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(report.read().count("<heap nr="))
"""


def arenas(setup: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", ARENAS.replace("SETUP", setup)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(done.stdout.split()[-1])


def test_threads_get_arenas_of_their_own_by_default() -> None:
    # The control: without the setting, the count above does see the threads' arenas.
    assert arenas("") > 1


def test_one_arena_makes_every_thread_allocate_from_the_main_arena() -> None:
    assert arenas("from mtsum.heap import one_arena\nassert one_arena()") == 1


def test_the_mtsum_command_sets_one_arena_before_it_runs() -> None:
    setup = (
        "import sys\nfrom mtsum.cli import main\nsys.argv = ['mtsum', '--version']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0\n"
    )
    assert arenas(setup) == 1


def test_trim_heap_asks_glibc() -> None:
    assert trim_heap() is True
