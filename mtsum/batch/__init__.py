"""`mtsum batch`: every document of a folder, one at a time or on Ray, resumable, with a run report.

Layout (see seeds/README.md for the inputs)::

    INPUT_DIR/<id>.txt                       OUT_DIR/<id>/translation.txt  English paragraphs
    INPUT_DIR/<id>.summary.ref<N>.en.txt     OUT_DIR/<id>/summary.txt      one sentence a line
    INPUT_DIR/<id>.translation.ref.en.txt    OUT_DIR/<id>/result.json      everything
                                             OUT_DIR/<id>/report.md, report.html
                                             OUT_DIR/report.json, report.csv, report.md,
                                                     index.html
                                             OUT_DIR/.mtsum-state.sqlite3, .mtsum.lock(.json)

Modules, each importing only those above it::

    outputs    where files go in OUT_DIR: only its own folders, written through the folder checked
    state      the resume state: what is finished, by input hash, settings and output sha256
    lock       one batch at a time per OUT_DIR
    records    result.json records, a document's row, the run report (data)
    report     report.json, report.csv, report.md (and `mtsum score`'s text)
    inputs     the input folder: documents and their references
    scoring    scores against the references, per document and over the corpus
    settings   options, models (loaded lazily) and the settings signature
    document   one document: `document_result` (every engine's), `record_document` (writes it)
    ray_engine the Ray engine: a pool of Ray Data actors running `document_result`
    run        `run_batch`, step by step, with either engine
"""

from __future__ import annotations

from mtsum.batch.outputs import OUTPUT_FILES
from mtsum.batch.ray_engine import RayEngine
from mtsum.batch.records import BatchReport
from mtsum.batch.run import run_batch
from mtsum.batch.settings import (
    BatchSettings,
    LazyModel,
    lazy_summarizer,
    lazy_translator,
    settings_signature,
)
from mtsum.sources import MAX_BYTES

__all__ = [
    "MAX_BYTES",
    "OUTPUT_FILES",
    "BatchReport",
    "BatchSettings",
    "LazyModel",
    "RayEngine",
    "lazy_summarizer",
    "lazy_translator",
    "run_batch",
    "settings_signature",
]
