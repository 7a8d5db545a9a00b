"""How well mtsum's support score tracks human factuality judgements on FRANK validation.

FRANK (Pagnoni et al., NAACL 2021) gives 671 system summaries of CNN/DailyMail and XSum articles
with the human share of factual sentences. As in FRANK, the figure is the partial correlation
between a metric and that share, controlling for the summarization system: both variables are
regressed on a one-hot encoding of the system and the residuals are correlated (Pearson on the raw
values; Spearman on ranks, partialled out the same way). mtsum's row sits beside every baseline
metric that the file carries.

Each article line (FRANK gives articles sentence by sentence) is one paragraph, so ``align`` also
tries every pair of adjacent lines. The ``unsupported`` threshold is calibrated here: the t whose
share of sentences with support >= t has the least squared error against the human factuality of
each summary; the result is hard-coded as ``mtsum.align.DEFAULT_THRESHOLD``.

Run from the repository root::

    .venv/bin/python bench/faithfulness.py

It prints the table and writes ``bench/results/faithfulness.json``; without the shared data it
prints a notice and exits 0.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mtsum  # noqa: E402
from mtsum.align import Check, LexicalAligner, SentenceSupport  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "frank" / "validation.jsonl"
RESULTS = ROOT / "bench" / "results" / "faithfulness.json"
COMMAND = ".venv/bin/python bench/faithfulness.py"


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank (as scipy.stats.rankdata does)."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    result = np.empty(len(values))
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            result[order[start:end]] = (start + end + 1) / 2  # mean of ranks start+1 .. end
            start = end
    return result


def partial_correlation(x: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> float:
    """Pearson correlation of x and y after regressing both on a one-hot encoding of groups."""
    names = sorted(set(groups))
    design = np.array([[float(g == name) for name in names] for g in groups])
    residuals = []
    for values in (x, y):
        coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
        residuals.append(values - design @ coefficients)
    return float(np.corrcoef(residuals[0], residuals[1])[0, 1])


def correlations(scores: Sequence[float | None], rows: Sequence[dict]) -> dict[str, float | int]:
    """Partial Pearson and Spearman against human factuality, over rows where a score exists."""
    keep = [i for i, score in enumerate(scores) if score is not None]
    x = np.array([scores[i] for i in keep], dtype=float)
    y = np.array([rows[i]["factuality"] for i in keep], dtype=float)
    systems = [rows[i]["model_name"] for i in keep]
    return {
        "pearson": partial_correlation(x, y, systems),
        "spearman": partial_correlation(ranks(x), ranks(y), systems),
        "n": len(keep),
    }


def calibrate_threshold(checks: Sequence[Check], rows: Sequence[dict]) -> tuple[float, float]:
    """The threshold t (step 0.01) whose share of sentences with support >= t best fits humans."""
    supports = [np.array([s.support for s in check.sentences]) for check in checks]
    human = np.array([row["factuality"] for row in rows])
    best = (1.0, float("inf"))
    for t in np.round(np.arange(0.0, 1.0001, 0.01), 2):
        shares = np.array([float(np.mean(s >= t)) for s in supports])
        error = float(np.mean((shares - human) ** 2))
        if error < best[1]:
            best = (float(t), error)
    return best


def flag_accuracy(
    checks: Sequence[Check], rows: Sequence[dict], threshold: float, dataset: str | None = None
) -> dict[str, float | int]:
    """How well the flag sorts sentences whose label is certain: those of summaries that humans
    judged wholly factual (factuality 1) or wholly unfactual (factuality 0)."""
    pairs = [
        (sentence.support < threshold, row["factuality"] == 0.0)
        for check, row in zip(checks, rows, strict=True)
        if row["factuality"] in (0.0, 1.0) and dataset in (None, row["dataset"])
        for sentence in check.sentences
    ]
    bad = [flag for flag, unfactual in pairs if unfactual]
    good = [not flag for flag, unfactual in pairs if not unfactual]
    caught, passed = sum(bad) / max(1, len(bad)), sum(good) / max(1, len(good))
    return {
        "sentences": len(pairs),
        "unfactual_flagged": caught,
        "factual_not_flagged": passed,
        "balanced_accuracy": (caught + passed) / 2,
    }


def share_supported(sentences: Sequence[SentenceSupport], threshold: float) -> float:
    """Share of sentences at or above the threshold: the bench's alternative document score."""
    return sum(s.support >= threshold for s in sentences) / len(sentences)


def run_checks(rows: Sequence[dict], aligner: LexicalAligner) -> list[Check]:
    """Check every FRANK summary (its non-blank lines) against its article lines."""
    checks = []
    for row in rows:
        sentences = [line for line in row["summary_lines"] if line.strip()]
        paragraphs = [line for line in row["article_lines"] if line.strip()]
        # The public entry point, as a user would call it: English source, given sentences.
        checks.append(mtsum.check(paragraphs, sentences, aligner=aligner, source_lang="en"))
    return checks


def main() -> int:
    """Print the correlation table and write the JSON results."""
    if not DATA.exists():
        print(f"notice: {DATA} is absent; skipping the faithfulness benchmark")
        return 0
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    began = time.perf_counter()
    checks = run_checks(rows, LexicalAligner())
    seconds = time.perf_counter() - began
    threshold, error = calibrate_threshold(checks, rows)
    human = np.array([row["factuality"] for row in rows])
    constant_error = float(np.mean((human - human.mean()) ** 2))
    flagged = float(np.mean([s.support < threshold for c in checks for s in c.sentences]))
    accuracy = {name: flag_accuracy(checks, rows, threshold, name) for name in ("cnndm", "bbc")}
    accuracy["all"] = flag_accuracy(checks, rows, threshold)

    def supports_with(aligner: LexicalAligner) -> list[float]:
        return [check.support for check in run_checks(rows, aligner)]

    variants: dict[str, Callable[[], list[float]]] = {
        "mtsum support": lambda: [check.support for check in checks],
        "  ablation: plain mean of sentence supports": lambda: [
            float(np.mean([s.support for s in check.sentences])) for check in checks
        ],
        "  ablation: share of sentences >= threshold": lambda: [
            share_supported(check.sentences, threshold) for check in checks
        ],
        "  ablation: wrong-figure sentences not zeroed": lambda: [
            float(np.mean([s.support**2 for s in check.sentences])) for check in checks
        ],
        "  ablation: no bigrams": lambda: supports_with(LexicalAligner(bigram_weight=0.0)),
        "  ablation: names weigh 2x": lambda: supports_with(LexicalAligner(name_weight=2.0)),
        "  ablation: numbers weigh 1x": lambda: supports_with(LexicalAligner(number_weight=1.0)),
        "  ablation: no idf": lambda: supports_with(LexicalAligner(idf=False)),
    }
    table = {name: correlations(compute(), rows) for name, compute in variants.items()}
    for metric in sorted(rows[0]["baselines"]):
        table[metric] = correlations([row["baselines"].get(metric) for row in rows], rows)
    # CNN/DM summaries resemble what mtsum's distilbart-cnn writes; XSum's are far more abstract.
    by_dataset = {}
    for dataset in ("cnndm", "bbc"):
        keep = [i for i, row in enumerate(rows) if row["dataset"] == dataset]
        subset = [rows[i] for i in keep]
        by_dataset[dataset] = {
            "mtsum support": correlations([checks[i].support for i in keep], subset),
            **{
                metric: correlations([row["baselines"].get(metric) for row in subset], subset)
                for metric in sorted(rows[0]["baselines"])
            },
        }

    systems = len({row["model_name"] for row in rows})
    print(f"FRANK validation: {len(rows)} summaries, {systems} systems")
    print(f"mtsum: {checks[0].aligner}; paragraphs = article lines; {seconds:.1f} s")
    print(
        f"calibrated unsupported threshold: {threshold:.2f} (mean squared error {error:.4f}; "
        f"{constant_error:.4f} predicting the mean); flags {flagged:.0%} of summary sentences"
    )
    for name, figures in accuracy.items():
        print(
            f"  {name}: of {figures['sentences']} sentences in wholly (un)factual summaries the "
            f"flag catches {figures['unfactual_flagged']:.0%} of unfactual ones and passes "
            f"{figures['factual_not_flagged']:.0%} of factual ones "
            f"(balanced accuracy {figures['balanced_accuracy']:.3f})"
        )
    print()
    print(f"| {'metric':<45} | partial Pearson | partial Spearman |   n |")
    print(f"| {'-' * 45} | --------------: | ---------------: | --: |")
    for name, figures in table.items():
        print(
            f"| {name:<45} | {figures['pearson']:15.3f} | {figures['spearman']:16.3f} "
            f"| {figures['n']:3d} |"
        )
    print("\nby dataset (partial Pearson / Spearman):")
    for dataset, figures in by_dataset.items():
        best = max(
            (m for m in figures if m != "mtsum support"), key=lambda m: figures[m]["pearson"]
        )
        print(
            f"  {dataset}: mtsum {figures['mtsum support']['pearson']:.3f} / "
            f"{figures['mtsum support']['spearman']:.3f}; best baseline {best} "
            f"{figures[best]['pearson']:.3f} / {figures[best]['spearman']:.3f}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": COMMAND,
                "data": "../shared/data/frank/validation.jsonl",
                "summaries": len(rows),
                "aligner": checks[0].aligner,
                "paragraphs": "one per article line; adjacent pairs also scored",
                "document_score": "mean squared sentence support; wrong-figure sentences count 0",
                "threshold": {
                    "value": threshold,
                    "method": "least squared error of share(support >= t) vs human factuality",
                    "mean_squared_error": error,
                    "mean_squared_error_of_constant": constant_error,
                    "share_of_sentences_flagged": flagged,
                    "flag_accuracy": accuracy,
                },
                "correlations": table,
                "correlations_by_dataset": by_dataset,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
