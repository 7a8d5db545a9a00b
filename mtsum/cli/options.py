"""Every option and argument the `mtsum` commands share, as `Annotated` aliases, and their choices.

A command's signature reads ``mt_model: MtModel = DEFAULT_MT_MODEL``: the alias carries the flag
and its help, the default stays in the signature where Typer shows it. Each idea has one alias
here, so ``--compute-type`` offers the same choices on every command and a typo in it is a usage
error (exit 2) everywhere; so is a number outside its range (`mtsum.limits`: ``--beams`` 1-64,
``--threads`` 1-256, ...), refused before anything is read or loaded.

This module imports Typer and mtsum's light modules only; the model libraries (torch,
transformers, ctranslate2) are imported by the loaders, never by ``mtsum --help``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from mtsum.arabic import LANGUAGES
from mtsum.backends import BACKENDS, DEVICES
from mtsum.backends.base import DEFAULT_MT_MODEL, DEFAULT_SUM_MODEL
from mtsum.backends.convert import COMPUTE_TYPES
from mtsum.limits import (
    MAX_BEAMS,
    MAX_INPUT_BYTES,
    MAX_THREADS,
    MAX_TOP_K,
    MAX_WORDS,
    MAX_WORKERS,
)
from mtsum.summarize import PRESETS

__all__ = [
    "DEFAULT_MT_MODEL",
    "DEFAULT_SUM_MODEL",
    "Backend",
    "BackendOpt",
    "BatchCacheDir",
    "BatchThreads",
    "Beams",
    "CacheDir",
    "ComputeType",
    "ComputeTypeOpt",
    "ConvertComputeType",
    "Device",
    "DeviceOpt",
    "Encoding",
    "Engine",
    "EngineOpt",
    "Inputs",
    "Lang",
    "LengthPreset",
    "MaxBytes",
    "MaxWords",
    "MinWords",
    "ModelsQuiet",
    "MtModel",
    "Output",
    "Preset",
    "Quiet",
    "RayAddress",
    "SourceLang",
    "SumBeams",
    "SumModel",
    "SummaryFormat",
    "SummaryFormatOpt",
    "TextFormat",
    "TextFormatOpt",
    "Threads",
    "TopK",
    "Workers",
]


def _choices(name: str, values: Iterable[str]) -> Any:
    """A ``str`` Enum of the library's own choices: --help lists them, a typo is exit 2."""
    return Enum(name, {value: value for value in values}, type=str)


# The choices the library validates are taken from it, so the two cannot drift apart.
Lang = _choices("Lang", LANGUAGES)
Backend = _choices("Backend", BACKENDS)
Preset = _choices("Preset", PRESETS)
ComputeType = _choices("ComputeType", COMPUTE_TYPES)  # CTranslate2's weight types


Device = _choices("Device", DEVICES)


class Engine(str, Enum):
    local = "local"
    ray = "ray"


class TextFormat(str, Enum):
    text = "text"
    json = "json"


class SummaryFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


TextFormatOpt = Annotated[TextFormat, typer.Option("--format", help="text or json.")]
SummaryFormatOpt = Annotated[
    SummaryFormat,
    typer.Option(
        "--format",
        help="text, json, markdown or html (a self-contained page; with several inputs, "
        "-o FOLDER gets one page each and an index.html).",
    ),
]
Inputs = Annotated[
    list[str],
    typer.Argument(help="Files, directories of *.txt, or - for stdin.", show_default=False),
]
Output = Annotated[
    str | None,
    typer.Option(
        "-o", "--output", help="Write here instead of stdout (- is stdout).", show_default=False
    ),
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Input encoding, any Python codec (cp1256, utf-16-le ...); default UTF-8.",
        show_default=False,
    ),
]
MaxBytes = Annotated[
    int,
    typer.Option(
        "--max-bytes",
        min=1,
        max=MAX_INPUT_BYTES,
        help="Refuse any input file larger than this many bytes.",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option("-q", "--quiet", help="Nothing on stderr but errors: no progress, no warnings."),
]
# `mtsum models` shows no progress bar, so its -q has only warnings to hide.
ModelsQuiet = Annotated[
    bool, typer.Option("-q", "--quiet", help="Nothing on stderr but errors (no warnings).")
]
MtModel = Annotated[
    str, typer.Option("--mt-model", help="Translation model: hub name or local directory.")
]
SumModel = Annotated[
    str, typer.Option("--sum-model", help="Summarization model: hub name or local directory.")
]
DeviceOpt = Annotated[Device, typer.Option("--device", help="Where models run.")]
Beams = Annotated[
    int | None,
    typer.Option("--beams", min=1, max=MAX_BEAMS, help="Beam size (default: the model's own)."),
]
Threads = Annotated[
    int | None,
    typer.Option("--threads", min=1, max=MAX_THREADS, help="CPU threads (default: all cores)."),
]
# batch's, which with --engine ray are each actor's.
BatchThreads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        max=MAX_THREADS,
        help="CPU threads (default: all cores); with --engine ray, each actor's (default 1).",
    ),
]
BackendOpt = Annotated[
    Backend,
    typer.Option(
        "--backend", help="auto: CTranslate2 where it runs the model (fast), else transformers."
    ),
]
ComputeTypeOpt = Annotated[
    ComputeType | None,
    typer.Option(
        "--compute-type",
        help="CTranslate2 weights (default: int8 on CPU, int8_float16 on CUDA).",
    ),
]
ConvertComputeType = Annotated[
    ComputeType,
    typer.Option("--compute-type", help="Weight quantization of the converted copy."),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="mtsum cache folder (default: MTSUM_CACHE_DIR or the user cache)."
    ),
]
# batch keeps its translation cache in the same folder as the converted models.
BatchCacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="mtsum cache folder, for converted models and translations "
        "(default: MTSUM_CACHE_DIR or the user cache).",
    ),
]
SourceLang = Annotated[
    Lang, typer.Option("--source-lang", help="Source language (auto: by script).")
]
TopK = Annotated[
    int, typer.Option("--top-k", min=1, max=MAX_TOP_K, help="Supporting paragraphs per sentence.")
]
MaxWords = Annotated[
    int | None,
    typer.Option("--max-words", min=1, max=MAX_WORDS, help="Longest summary, in words (approx.)."),
]
MinWords = Annotated[
    int | None,
    typer.Option("--min-words", min=0, max=MAX_WORDS, help="Shortest summary, in words (approx.)."),
]
SumBeams = Annotated[
    int | None,
    typer.Option(
        "--sum-beams",
        min=1,
        max=MAX_BEAMS,
        help="Summary beam size (default: the model's own).",
    ),
]
LengthPreset = Annotated[
    Preset | None, typer.Option("--length", help="Length preset (default: the model's own).")
]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="local: one document at a time here; ray: a pool of Ray actors, on this machine or "
        'a cluster (pip install "mtsum[ray]").',
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="Ray cluster to join with --engine ray (auto, HOST:PORT, ray://HOST:PORT); default: "
        "auto when RAY_ADDRESS is set, else a local Ray started for the run.",
        show_default=False,
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=MAX_WORKERS,
        help="Ray actors with --engine ray, each holding both models (default: one per free CPU, "
        "given --threads each).",
        show_default=False,
    ),
]
