"""What `bench/speed.py` needs to know about the machine: the CPU, its instruction sets, its load.

Rules:

- The CPU's model name and flags come from ``/proc/cpuinfo`` (the first processor's ``model
  name`` and ``flags`` lines; ARM kernels write ``Features``). Elsewhere the model name is
  `platform.processor` and the flags are unknown.
- CTranslate2 accepts ``CT2_FORCE_CPU_ISA`` values GENERIC, AVX, AVX2 and AVX512, and raises
  "The CPU does not support AVX512" when forced to one the CPU lacks. An ISA is swept only when
  every flag its own ``cpu_info.cc`` checks is present (AVX512: F, CD, VL, DQ and BW); GENERIC
  always is. With unknown flags that leaves GENERIC alone, beside the unforced default.
- Load is the 1-minute load average, which on a machine other processes share is the first sign
  that a figure is slow for reasons of its own.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# CT2_FORCE_CPU_ISA values, best first, and the flags CTranslate2 requires for each.
CT2_ISA_FLAGS: dict[str, tuple[str, ...]] = {
    "AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
    "AVX2": ("avx2",),
    "AVX": ("avx",),
}
# Flags recorded with the results: those the ISAs rest on, and the int8 extensions beyond them.
RECORDED_FLAGS = frozenset(
    {f for flags in CT2_ISA_FLAGS.values() for f in flags} | {"avx512_vnni", "avx_vnni", "amx_int8"}
)
LOAD_WARNING = 0.5  # a 1-minute load average above this, before or after a system, is reported


@dataclass(frozen=True, kw_only=True)
class Cpu:
    """A CPU as the benchmark records it.

    Attributes:
        model: the model name, e.g. ``"AMD EPYC 7B13"``; ``""`` when unknown.
        flags: every flag the kernel lists; empty when unknown.
        source: where they were read: ``"/proc/cpuinfo"`` or ``"platform"``.
    """

    model: str
    flags: frozenset[str]
    source: str


def read_cpu(cpuinfo: Path = CPUINFO) -> Cpu:
    """The first processor's model name and flags.

    Example: ``read_cpu().model`` -> ``"AMD EPYC"``.
    """
    if not cpuinfo.is_file():
        return Cpu(model=platform.processor(), flags=frozenset(), source="platform")
    model, flags = "", frozenset[str]()
    for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
    return Cpu(model=model or platform.processor(), flags=flags, source=str(cpuinfo))


def ct2_isas(flags: Iterable[str]) -> list[str]:
    """The ``CT2_FORCE_CPU_ISA`` values a CPU with these flags supports, best first.

    Example: ``ct2_isas({"avx", "avx2"})`` -> ``["AVX2", "AVX", "GENERIC"]``.
    """
    have = set(flags)
    return [isa for isa, need in CT2_ISA_FLAGS.items() if have.issuperset(need)] + ["GENERIC"]


def recorded_flags(flags: Iterable[str]) -> list[str]:
    """The flags among `RECORDED_FLAGS` that the CPU has, sorted."""
    return sorted(RECORDED_FLAGS.intersection(flags))


def load_average() -> float | None:
    """The 1-minute load average, to 2 decimals; None where the OS has none (Windows)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def load_warning(load: float | None, when: str, system: str) -> str | None:
    """The warning line for a load above `LOAD_WARNING`, else None.

    Example: ``load_warning(1.8, "before", "translate-naive")`` ->
    ``"load average 1.80 before translate-naive: figures may be slow"``.
    """
    if load is None or load <= LOAD_WARNING:
        return None
    return f"load average {load:.2f} {when} {system}: figures may be slow"
