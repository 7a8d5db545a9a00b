"""The HTML report in a real Chromium (Playwright, the system's browser; see tests/browser.py).

Each page is compared with the JSON record it was rendered from: what a click highlights, the
scores shown, the flags. The known document is the pipeline tests' article with a fixed summary
(`FunctionModel`) and a translator whose output we choose, so every alignment is known; the seed
page uses the tiny random checkpoints. Without a browser these tests skip, and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Opened, launch, open_page
from conftest import SEED
from test_align import ARTICLE, COPIED, FUSED, INVENTED, WRONG_NUMBER
from test_pipeline import ARABIC, TRANSLATIONS

from mtsum.backends.base import FunctionModel
from mtsum.batch import run_batch
from mtsum.htmlpage import PAGE_NAME, document_html, index_html, index_row
from mtsum.pipeline import summarize_texts
from mtsum.render import dumps, summary_record

# The known summary: copied from ¶8, fused from ¶4+5, invented, a wrong figure (¶7), and a
# sentence copied from ¶3, whose translation repeated itself and was retried.
SUMMARY = [COPIED, FUSED, INVENTED, WRONG_NUMBER, ARTICLE[2]]
LOOP = "the vote passed " * 12
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script>",
    "\u202eevil\u202c and \u2067isolated\u2069",
]
# Elements that text turned into markup would add.
INJECTED = (
    "img, iframe, object, embed, svg, [onerror], [onload],"
    " script:not(#mtsum-data):not(#mtsum-script)"
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # Closed with this module: Playwright's event loop must not outlive the browser tests.
    with launch() as browser:
        yield browser


def _translator() -> FunctionModel:
    """The fake translator, except ¶1 comes back in Arabic and ¶3 loops on its first try."""
    tried: set[str] = set()

    def translate(texts: list[str]) -> list[str]:
        out = []
        for text in texts:
            if text == ARABIC[0]:
                out.append(text)
            elif text == ARABIC[2] and text not in tried:
                tried.add(text)
                out.append(LOOP)
            else:
                out.append(TRANSLATIONS[text])
        return out

    return FunctionModel(translate, name="fake-mt")


def _record(texts: list[str], summary: list[str], **kwargs: Any) -> dict[str, Any]:
    summarizer = FunctionModel(lambda xs: [" ".join(summary)] * len(xs), name="fake-sum")
    [result] = summarize_texts(texts, summarizer=summarizer, **kwargs)
    # Through JSON, as a reader of the JSON output sees it.
    return json.loads(dumps(summary_record("known", "articles/known.txt", result)))


def _write(folder: Path, record: dict[str, Any]) -> Path:
    page = folder / record["id"] / PAGE_NAME
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(document_html(record), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    record = _record(["\n".join(ARABIC)], SUMMARY, translator=_translator())
    return _write(tmp_path_factory.mktemp("known"), record), record


@pytest.fixture
def known_page(chromium: Any, known: tuple[Path, dict[str, Any]]) -> Iterator[Opened]:
    with open_page(chromium, known[0]) as opened:
        yield opened


def _highlighted(page: Any) -> set[tuple[str, str]]:
    """(row id, column) of every highlighted article cell."""
    cells = page.eval_on_selector_all(
        "#article .hit",
        "cells => cells.map(c => [c.closest('tr').id, c.classList.contains('ar') ? 'ar' : 'en'])",
    )
    return {(row, column) for row, column in cells}


def _expected(sentence: dict[str, Any], columns: tuple[str, ...]) -> set[tuple[str, str]]:
    """The cells that the JSON alignments of `sentence` name."""
    return {
        (f"p{p + 1}", column)
        for alignment in sentence["alignments"]
        for p in alignment["paragraphs"]
        for column in columns
    }


def _badges(page: Any) -> dict[str, str]:
    """{row id: score badge} of the rows whose badge shows a score."""
    pairs = page.eval_on_selector_all(
        "#article tr.para", "rows => rows.map(r => [r.id, r.querySelector('.score').textContent])"
    )
    return {row: text for row, text in pairs if text}


def _best_scores(sentence: dict[str, Any]) -> dict[str, str]:
    best: dict[int, float] = {}
    for alignment in sentence["alignments"]:
        for p in alignment["paragraphs"]:
            best[p] = max(best.get(p, 0.0), alignment["score"])
    return {f"p{p + 1}": f"{score:.2f}" for p, score in best.items()}


def _in_viewport(page: Any, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return r.bottom > 0 && r.top < window.innerHeight; }",
    )


def test_page_loads_offline_without_errors(known_page: Opened) -> None:
    assert known_page.requests == [known_page.url]
    assert known_page.errors == []
    assert known_page.console_errors == []
    policy = known_page.page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    assert "default-src 'none'" in policy


def test_arabic_cells_compute_right_to_left(
    known_page: Opened, known: tuple[Path, dict[str, Any]]
) -> None:
    page = known_page.page
    styles = page.eval_on_selector_all(
        "#article td.text",
        "cells => cells.map(c => [c.className, c.lang, getComputedStyle(c).direction,"
        " getComputedStyle(c).textAlign, c.textContent.trim().slice(0, 20)])",
    )
    arabic = [s for s in styles if "ar" in s[0].split()]
    english = [s for s in styles if "en" in s[0].split()]
    assert len(arabic) == len(english) == len(known[1]["paragraphs"])
    assert {(lang, direction, align) for _, lang, direction, align, _ in arabic} == {
        ("ar", "rtl", "right")
    }
    assert {(lang, direction) for _, lang, direction, _, _ in english} == {("en", "ltr")}
    font = page.eval_on_selector("#article td.ar", "c => getComputedStyle(c).fontFamily")
    assert "Arabic" in font


def test_click_highlights_exactly_the_aligned_paragraphs(
    known_page: Opened, known: tuple[Path, dict[str, Any]]
) -> None:
    page = known_page.page
    sentences = known[1]["check"]["sentences"]
    assert page.locator("#summary .sentence").count() == len(sentences) == len(SUMMARY)
    assert _highlighted(page) == set()
    plain = page.eval_on_selector("#p1 td.en", "c => getComputedStyle(c).backgroundColor")
    for n, sentence in enumerate(sentences, 1):
        page.click(f"#s{n} .text")
        assert _highlighted(page) == _expected(sentence, ("ar", "en")), f"sentence {n}"
        assert _badges(page) == _best_scores(sentence), f"sentence {n}"
        assert page.get_attribute(f"#s{n}", "aria-current") == "true"
        best = f"p{sentence['alignments'][0]['paragraphs'][0] + 1}"
        assert _in_viewport(page, f"#{best}")
        lit = page.eval_on_selector(f"#{best} td.en", "c => getComputedStyle(c).backgroundColor")
        assert lit != plain
    # The fused sentence lights both paragraphs of the pair, in both columns.
    page.click("#s2 .text")
    assert {("p4", "ar"), ("p5", "ar"), ("p4", "en"), ("p5", "en")} <= _highlighted(page)
    assert known_page.console_errors == [] and known_page.errors == []


def test_keyboard_focus_does_what_a_click_does(
    known_page: Opened, known: tuple[Path, dict[str, Any]]
) -> None:
    page = known_page.page
    sentence = known[1]["check"]["sentences"][1]
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "s2":
            break
    else:
        pytest.fail("Tab never reached summary sentence 2")
    assert _highlighted(page) == _expected(sentence, ("ar", "en"))
    assert _badges(page) == _best_scores(sentence)
    assert "¶4+5" in page.text_content("#selection")


def test_flags_shown_equal_the_json_flags(
    known_page: Opened, known: tuple[Path, dict[str, Any]]
) -> None:
    page = known_page.page
    record = known[1]
    for n, sentence in enumerate(record["check"]["sentences"], 1):
        shown = page.eval_on_selector_all(f"#s{n} .flag", "flags => flags.map(f => f.dataset.flag)")
        assert shown == sentence["flags"], f"sentence {n}"
    wrong = record["check"]["sentences"][3]
    assert wrong["missing_numbers"] and "number_not_in_source" in wrong["flags"]
    label = page.text_content('#s4 .flag[data-flag="number_not_in_source"]')
    assert label == f"number not in source: {', '.join(wrong['missing_numbers'])}"
    assert "source_repetition" in record["check"]["sentences"][4]["flags"]
    # Translation flags on their rows: ¶1 untranslated, ¶3 looped and was retried.
    by_paragraph: dict[int, list[str]] = {}
    for seg in record["translation"]["segments"]:
        by_paragraph.setdefault(seg["paragraph"], []).extend(seg["flags"])
    for p in range(len(record["paragraphs"])):
        shown = page.eval_on_selector_all(
            f"#p{p + 1} .flag", "flags => flags.map(f => f.dataset.flag)"
        )
        assert shown == by_paragraph.get(p, []), f"paragraph {p + 1}"
    assert by_paragraph[0] == ["untranslated"] and by_paragraph[2] == ["repetition"]
    assert LOOP.strip() in page.text_content("#p3 .first-output")


def test_paragraphs_name_the_sentences_that_lean_on_them(
    known_page: Opened, known: tuple[Path, dict[str, Any]]
) -> None:
    leaning: dict[int, set[str]] = {}
    for n, sentence in enumerate(known[1]["check"]["sentences"], 1):
        for alignment in sentence["alignments"]:
            for p in alignment["paragraphs"]:
                leaning.setdefault(p + 1, set()).add(f"#s{n}")
    for p in range(1, len(ARTICLE) + 1):
        links = known_page.page.eval_on_selector_all(
            f"#p{p} .used-by a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert set(links) == leaning.get(p, set()), f"paragraph {p}"


def test_readable_with_javascript_off(chromium: Any, known: tuple[Path, dict[str, Any]]) -> None:
    with open_page(chromium, known[0], javascript=False) as opened:
        page = opened.page
        assert page.locator("#summary .sentence").count() == len(SUMMARY)
        assert page.is_visible("#s1 .text") and page.is_visible("#p8 td.ar")
        plain = page.eval_on_selector("#p8 td.en", "c => getComputedStyle(c).backgroundColor")
        page.click('#s1 a[href="#p8"]')
        assert page.evaluate("location.hash") == "#p8"
        target = page.eval_on_selector("#p8 td.en", "c => getComputedStyle(c).backgroundColor")
        assert target != plain  # :target marks the paragraph without the script
        assert _highlighted(page) == set()
        assert opened.console_errors == [] and opened.errors == []


def test_english_source_has_one_column(chromium: Any, tmp_path: Path) -> None:
    record = _record(["\n\n".join(ARTICLE)], SUMMARY[:2])
    assert record["lang"] == "en"
    with open_page(chromium, _write(tmp_path, record)) as opened:
        page = opened.page
        assert page.locator("#article td.ar").count() == 0
        assert page.locator("#article td.en").count() == len(ARTICLE)
        assert page.locator("#article thead th").count() == 2
        page.click("#s2 .text")
        assert _highlighted(page) == _expected(record["check"]["sentences"][1], ("en",))
        assert opened.console_errors == [] and opened.errors == []


def _luminance(rgb: str) -> float:
    channels = [int(c) for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    return sum(channels) / (3 * 255)


def test_dark_scheme_and_print_styles(chromium: Any, known: tuple[Path, dict[str, Any]]) -> None:
    background = "getComputedStyle(document.documentElement).backgroundColor"
    with open_page(chromium, known[0], color_scheme="dark") as opened:
        assert _luminance(opened.page.evaluate(background)) < 0.2
        opened.page.emulate_media(media="print")
        assert opened.page.is_hidden(".hint")
        assert _luminance(opened.page.evaluate(background)) > 0.9
    with open_page(chromium, known[0]) as opened:
        assert _luminance(opened.page.evaluate(background)) > 0.9
        assert opened.page.is_visible(".hint")


def test_index_links_open_the_document_pages(
    chromium: Any, tmp_path: Path, known: tuple[Path, dict[str, Any]]
) -> None:
    english = _record(["\n\n".join(ARTICLE)], SUMMARY[:2])
    english["id"] = "second doc"  # a space: the link must be encoded
    records = [known[1], english]
    for record in records:
        _write(tmp_path, record)
    failed = {"id": "broken", "path": "in/broken.txt", "status": "failed", "error": "empty file"}
    rows = [*(index_row(r) for r in records), failed]
    (tmp_path / "index.html").write_text(index_html(rows, title="Run"), encoding="utf-8")
    with open_page(chromium, tmp_path / "index.html") as opened:
        page = opened.page
        assert opened.console_errors == [] and opened.errors == []
        assert page.locator("table.index tbody tr").count() == 3
        assert page.locator('tr[data-id="broken"] a').count() == 0
        assert "empty file" in page.text_content('tr[data-id="broken"] .status')
        for record in records:
            page.click(f'tr[data-id="{record["id"]}"] a')
            page.wait_for_load_state("load")
            assert page.text_content(".doc-id") == record["id"]
            assert page.locator("#summary .sentence").count() == len(record["check"]["sentences"])
            page.go_back()
            page.wait_for_load_state("load")
        assert opened.console_errors == [] and opened.errors == []


def test_batch_index_opens_every_finished_page(chromium: Any, tmp_path: Path) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "known.txt").write_text("\n".join(ARABIC), encoding="utf-8")
    (inp / "english.txt").write_text("\n\n".join(ARTICLE), encoding="utf-8")
    (inp / "broken.txt").write_bytes(b"\xd9\x86\xd8\xb5 \xff")  # not UTF-8: a failed row
    summary = FunctionModel(lambda xs: [" ".join(SUMMARY)] * len(xs), name="fake-sum")
    report = run_batch(inp, tmp_path / "out", translator=_translator(), summarizer=summary)
    assert {row.id: row.status for row in report.documents} == {
        "broken": "failed",
        "english": "ok",
        "known": "ok",
    }
    with open_page(chromium, tmp_path / "out" / "index.html") as opened:
        page = opened.page
        assert opened.console_errors == [] and opened.errors == []
        assert page.locator('tr[data-id="broken"] a').count() == 0
        assert "not valid UTF-8" in page.text_content('tr[data-id="broken"] .status')
        for doc_id in ("english", "known"):
            page.click(f'tr[data-id="{doc_id}"] a')
            page.wait_for_load_state("load")
            assert page.url.endswith(f"/out/{doc_id}/{PAGE_NAME}")
            assert page.text_content(".doc-id") == doc_id
            page.click("#s1 .text")
            assert _highlighted(page), doc_id
            page.go_back()
            page.wait_for_load_state("load")
        assert opened.console_errors == [] and opened.errors == []
        assert all(url.startswith(tmp_path.as_uri()) for url in opened.requests)


def test_hostile_text_stays_text(chromium: Any, tmp_path: Path) -> None:
    article = [f"{text} {ARTICLE[i]}" for i, text in enumerate(HOSTILE)]
    summary = [f"{HOSTILE[0]} {ARTICLE[0]}", f"{HOSTILE[2]} {HOSTILE[1]} {ARTICLE[1]}"]
    summarizer = FunctionModel(lambda xs: [" ".join(summary)] * len(xs), name=HOSTILE[1])
    [result] = summarize_texts(["\n\n".join(article)], summarizer=summarizer)
    name = "".join(HOSTILE)
    record = json.loads(dumps(summary_record(name, f"in/{name}.txt", result)))
    page_file = tmp_path / "hostile.html"
    page_file.write_text(document_html(record), encoding="utf-8")
    index_file = tmp_path / "index.html"
    index_file.write_text(index_html([index_row(record)], title=name), encoding="utf-8")
    for path in (page_file, index_file):
        with open_page(chromium, path) as opened:
            page = opened.page
            assert page.locator(INJECTED).count() == 0
            assert opened.requests == [opened.url]
            assert opened.errors == []
            assert name in page.text_content("h1")
            if path == page_file:
                assert page.text_content(".doc-path") == f"in/{name}.txt"
                assert HOSTILE[0] in page.text_content("#p1 td.en")
                assert HOSTILE[1] in page.text_content("#p2 td.en")
                assert page.text_content("#s2 .text").startswith(f"{HOSTILE[2]} {HOSTILE[1]}")
                assert HOSTILE[1] in page.text_content("details.signature")
                page.click("#s2 .text")  # the data script survived its "</script>"
                assert _highlighted(page) == _expected(record["check"]["sentences"][1], ("en",))
                assert opened.console_errors == []
            page.wait_for_timeout(200)
            assert opened.dialogs == []


def test_hostile_file_name_in_a_batch(chromium: Any, tmp_path: Path) -> None:
    # A file name can hold all of it but "/": quotes, angle brackets, a bidi override.
    name = '"><img src=x onerror=alert(1)><script>alert(1)<\u202eevil.txt'
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / name).write_text(f"{HOSTILE[2]} {HOSTILE[0]}\n\n" + "\n\n".join(ARTICLE), "utf-8")
    summary = FunctionModel(lambda xs: [f"{HOSTILE[2]} {COPIED}"] * len(xs), name=HOSTILE[1])
    report = run_batch(inp, tmp_path / "out", translator=_translator(), summarizer=summary)
    [row] = report.documents
    assert row.status == "ok" and "<" not in row.id  # ids are made safe; the path is not
    for path in (tmp_path / "out" / "index.html", tmp_path / "out" / row.id / PAGE_NAME):
        with open_page(chromium, path) as opened:
            page = opened.page
            assert page.locator(INJECTED).count() == 0
            assert opened.errors == [] and opened.console_errors == []
            assert name in page.text_content("body")
            page.wait_for_timeout(200)
            assert opened.dialogs == []


def test_seed_page_with_tiny_models(chromium: Any, marian: Any, bart: Any, tmp_path: Path) -> None:
    [result] = summarize_texts(
        [SEED.read_text(encoding="utf-8")], summarizer=bart, translator=marian
    )
    record = json.loads(dumps(summary_record(SEED.stem, f"seeds/{SEED.name}", result)))
    page_file = _write(tmp_path, record)
    shots = []
    for width, height in ((1280, 900), (400, 800)):
        with open_page(chromium, page_file, width=width, height=height) as opened:
            page = opened.page
            assert opened.requests == [opened.url]
            assert opened.console_errors == [] and opened.errors == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.locator("#article td.ar").count() == len(record["paragraphs"])
            for n, sentence in enumerate(record["check"]["sentences"], 1):
                page.click(f"#s{n} .text")
                assert _highlighted(page) == _expected(sentence, ("ar", "en")), f"sentence {n}"
            page.click("#s1 .text")
            page.evaluate("window.scrollTo(0, 0)")
            shot = tmp_path / f"seed-{width}.png"
            page.screenshot(path=str(shot))
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            shots.append(shot)
    # MTSUM_SCREENSHOTS=docs refreshes the README's screenshots from this run.
    keep = os.environ.get("MTSUM_SCREENSHOTS")
    if keep:
        for shot in shots:
            shutil.copyfile(shot, Path(keep) / f"report-{shot.stem}.png")
