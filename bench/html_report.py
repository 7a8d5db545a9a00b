"""Size and rendering time of the HTML report for a 30-paragraph article (issue 12).

Run from the repository root::

    .venv/bin/python bench/html_report.py   # ~10 s; writes bench/results/html_report.json

The article: 30 paragraphs of two lines of the seed article each (about 320 characters of
Arabic), "translated" by a function that returns lines of the seed's English reference (about
400 characters a paragraph), summarized into the first 10 sentences of that reference (a
`FunctionModel`), aligned with the default aligner, top 3. The page is rendered by
`mtsum.htmlpage.document_html` from the JSON record, as `mtsum summarize --format html` does.

Measured: the page's size; the time Python takes to render it (median of 20); and in the
system's Chromium (Playwright, as tests/browser.py), for 10 loads each in a fresh page, the
time from navigation to the load event and to the first contentful paint, from the page's own
performance timeline, and the time a click on a sentence takes to highlight its paragraphs.
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_91e72526449f324a.txt"
REFERENCE = ROOT / "seeds" / "000_91e72526449f324a.translation.ref.en.txt"
RESULTS = ROOT / "bench" / "results" / "html_report.json"
PARAGRAPHS = 30


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_record() -> dict:
    """The JSON record of the 30-paragraph article, as `mtsum summarize --format json` has it."""
    from mtsum.backends.base import FunctionModel
    from mtsum.pipeline import summarize_texts
    from mtsum.render import dumps, summary_record
    from mtsum.textprep import split_sentences

    arabic, english = _lines(SEED), _lines(REFERENCE)
    article = [
        f"{arabic[(2 * i) % len(arabic)]} {arabic[(2 * i + 1) % len(arabic)]}"
        for i in range(PARAGRAPHS)
    ]
    reference = " ".join(english)
    summary = " ".join(reference[a:b] for a, b in split_sentences(reference)[:10])

    def translate(texts: list[str]) -> list[str]:
        return [english[len(t) % len(english)] for t in texts]

    [result] = summarize_texts(
        ["\n".join(article)],
        summarizer=FunctionModel(
            lambda xs: [summary] * len(xs), name="bench-sum", max_input_tokens=100_000
        ),
        translator=FunctionModel(translate, name="bench-mt"),
    )
    return json.loads(dumps(summary_record("bench", "bench/article.txt", result)))


def main() -> int:
    from mtsum.htmlpage import document_html

    record = build_record()
    page = document_html(record)
    renders = []
    for _ in range(20):
        start = time.perf_counter()
        document_html(record)
        renders.append(time.perf_counter() - start)
    figures = {
        "paragraphs": len(record["paragraphs"]),
        "summary_sentences": len(record["check"]["sentences"]),
        "bytes": len(page.encode("utf-8")),
        "python_render_s": statistics.median(renders),
    }
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium on PATH: browser timings left out", file=sys.stderr)
    else:
        figures.update(_browser_timings(browser, page))
    figures["machine"] = {"python": platform.python_version(), "machine": platform.machine()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for key, value in figures.items():
        print(f"{key}: {value}")
    return 0


def _browser_timings(executable: str, page: str) -> dict:
    from playwright.sync_api import sync_playwright

    loads, paints, clicks = [], [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        path = Path(tmp) / "report.html"
        path.write_text(page, encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            for _ in range(10):
                context = browser.new_context(reduced_motion="reduce")
                tab = context.new_page()
                tab.goto(path.as_uri())
                # The paint entry comes after the load event: wait for it (at most a second).
                timing = tab.evaluate(
                    "() => new Promise(done => {"
                    " const n = performance.getEntriesByType('navigation')[0];"
                    " const seen = p => done([n.loadEventEnd, p ? p.startTime : null]);"
                    " new PerformanceObserver(list => seen(list.getEntriesByName("
                    "'first-contentful-paint')[0])).observe({type: 'paint', buffered: true});"
                    " setTimeout(() => seen(null), 1000); })"
                )
                loads.append(timing[0] / 1000)
                if timing[1] is not None:
                    paints.append(timing[1] / 1000)
                clicks.append(
                    tab.evaluate(
                        "() => { const t = performance.now();"
                        " document.querySelector('#s3').click();"
                        " return (performance.now() - t) / 1000; }"
                    )
                )
                context.close()
        finally:
            browser.close()
    return {
        "chromium": executable,
        "load_event_s": statistics.median(loads),
        "load_event_max_s": max(loads),
        "first_contentful_paint_s": statistics.median(paints) if paints else None,
        "loads_with_a_paint_entry": len(paints),
        "highlight_click_s": statistics.median(clicks),
    }


if __name__ == "__main__":
    sys.exit(main())
