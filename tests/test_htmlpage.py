"""The HTML report as text: escaping, the content policy, the embedded data, what each part
shows. What it does in a browser is tests/test_browser.py."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from bart_fixture import english_lines
from conftest import ROOT, seed_lines
from test_align import ARTICLE, COPIED, FUSED, INVENTED, WRONG_NUMBER
from test_pipeline import ARABIC, fake_translator

from mtsum.backends.base import FunctionModel
from mtsum.errors import InputError
from mtsum.htmlpage import (
    INDEX_NAME,
    PAGE_NAME,
    checked_html,
    document_html,
    index_html,
    index_row,
    page_files,
    write_pages,
)
from mtsum.pipeline import check_document, summarize_texts
from mtsum.render import dumps, summary_record
from mtsum.score import rouge, translation_scores
from mtsum.signature import Signature, plain
from mtsum.written import RECORD

SUMMARY = [COPIED, FUSED, INVENTED, WRONG_NUMBER]
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</script>"]


def _record(summary: list[str], *, arabic: bool = True, doc_id: str = "doc") -> dict[str, Any]:
    text = "\n".join(ARABIC) if arabic else "\n\n".join(ARTICLE)
    summarizer = FunctionModel(lambda xs: [" ".join(summary)] * len(xs), name="fake-sum")
    [result] = summarize_texts([text], summarizer=summarizer, translator=fake_translator())
    return json.loads(dumps(summary_record(doc_id, f"in/{doc_id}.txt", result)))


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    return _record(SUMMARY)


@pytest.fixture(scope="module")
def page(record: dict[str, Any]) -> str:
    return document_html(record)


def _policy(page: str) -> dict[str, list[str]]:
    [content] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    directives = [d.split() for d in html.unescape(content).split(";")]
    return {d[0]: d[1:] for d in directives}


def _escape(text: str) -> str:
    """`text` as Jinja2 writes it in a page."""
    return str(markupsafe.escape(text))


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_policy_allows_only_the_inline_style_and_script(page: str) -> None:
    policy = _policy(page)
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    [script] = re.findall(r'<script id="mtsum-script">(.*?)</script>', page, re.S)
    assert policy["default-src"] == ["'none'"]
    assert policy["style-src"] == [_sha256(style)]
    assert policy["script-src"] == [_sha256(script)]
    assert "'unsafe-inline'" not in page
    # The policy comes before anything it governs.
    assert page.index("Content-Security-Policy") < page.index("<style>")


def test_the_index_allows_no_script() -> None:
    page = index_html([], title="Run")
    assert _policy(page)["script-src"] == ["'none'"]
    assert "<script" not in page


def test_nothing_is_loaded_from_anywhere(page: str) -> None:
    assert not re.search(r"\s(src|srcset|action|poster|data)=", page)
    assert not re.search(r"url\(|@import|@font-face|https?:", page)
    assert set(re.findall(r'href="([^"#]*)#?', page)) == {""}  # in-page links only


def test_text_from_documents_is_escaped() -> None:
    article = [f"{HOSTILE[i]} {ARTICLE[i]}" for i in range(len(HOSTILE))]
    summarizer = FunctionModel(lambda xs: [" ".join(HOSTILE) + " " + COPIED] * len(xs))
    [result] = summarize_texts(["\n\n".join(article)], summarizer=summarizer)
    name = "".join(HOSTILE)
    page = document_html(json.loads(dumps(summary_record(name, name, result))))
    assert "<img" not in page and "alert(1)</script>" not in page
    assert page.count("<script") == 2  # the data and the page's own script
    assert _escape(HOSTILE[1]) in page
    assert f"<title>Summary of {_escape(name)} · mtsum</title>" in page


def test_embedded_data_cannot_end_its_script_element() -> None:
    record = _record([f"{COPIED} {HOSTILE[2]}<!-- {HOSTILE[0]}"])
    page = document_html(record)
    [data] = re.findall(r'<script type="application/json" id="mtsum-data">(.*?)</script>', page)
    assert "<" not in data and ">" not in data
    sentences = record["check"]["sentences"]
    assert json.loads(data) == {
        "sentences": [
            {
                "text": s["text"],
                "alignments": [
                    {"paragraphs": a["paragraphs"], "score": a["score"]} for a in s["alignments"]
                ],
            }
            for s in sentences
        ]
    }
    assert HOSTILE[2] in json.loads(data)["sentences"][-1]["text"]


def test_signature_fields_in_a_collapsible_block(record: dict[str, Any]) -> None:
    signature = Signature.parse(record["signature"])
    assert len(signature.groups) == 3  # translation, summary, alignment
    as_text = document_html(record)
    as_object = document_html({**record, "signature": signature})
    assert as_text == as_object
    block = re.search(r'<details class="signature">(.*?)</details>', as_text, re.S)
    assert block is not None
    assert block.group(1).count("<table") == len(signature.groups)
    for key, value in signature:
        row = f'<tr><th scope="row">{_escape(key)}</th><td><bdi>{_escape(value)}</bdi>'
        assert row in block.group(1)
    assert _escape(str(signature)) in block.group(1)


def test_a_signature_that_does_not_parse_is_shown_as_text(record: dict[str, Any]) -> None:
    page = document_html({**record, "signature": "not a signature"})
    block = re.search(r'<details class="signature">(.*?)</details>', page, re.S)
    assert block is not None and "<table" not in block.group(1)
    assert "<code><bdi>not a signature</bdi></code>" in block.group(1)


@pytest.mark.parametrize(
    ("summary", "reading"),
    [
        (SUMMARY, "2 of 4 sentences need checking"),
        ([COPIED, INVENTED], "1 of 2 sentences needs checking"),
        ([COPIED, FUSED], "all 2 sentences are supported by the article"),
        ([INVENTED], "its one sentence needs checking"),
        ([COPIED], "its one sentence is supported"),
    ],
)
def test_support_in_plain_words(summary: list[str], reading: str) -> None:
    page = document_html(_record(summary))
    assert f'<span class="reading">{reading}</span>' in page


@pytest.mark.parametrize(
    ("flag", "label"),
    [
        ("unsupported", "unsupported"),
        ("number_not_in_source", "number not in source: 9 billion"),
        ("source_untranslated", "source untranslated"),
        ("source_repetition", "source repetition, retried"),
        ("source_repetition_after_retry", "source still repetitive after the retry"),
    ],
)
def test_flags_as_readable_labels(record: dict[str, Any], flag: str, label: str) -> None:
    sentence = {**record["check"]["sentences"][3], "flags": [flag]}
    assert sentence["missing_numbers"] == ["9 billion"]
    check = {**record["check"], "sentences": [sentence]}
    page = document_html({**record, "check": check})
    assert f'<li class="flag" data-flag="{flag}">{label}</li>' in page


def test_arabic_rows_beside_english_and_english_alone() -> None:
    arabic, english = _record(SUMMARY), _record(SUMMARY, arabic=False)
    for record, cells in ((arabic, 2), (english, 1)):
        page = document_html(record)
        assert page.count('<tr id="p') == len(ARTICLE)
        assert page.count('<td class="text ') == cells * len(ARTICLE)
    page = document_html(arabic)
    assert f'<td class="text ar" lang="ar" dir="rtl">{ARABIC[7]}</td>' in page
    assert 'lang="ar"' not in document_html(english)


def test_each_sentence_links_its_paragraphs_with_scores(record: dict[str, Any]) -> None:
    page = document_html(record)
    for n, sentence in enumerate(record["check"]["sentences"], 1):
        item = re.search(rf'<li id="s{n}" .*?</li>\n(?=<li id="s|</ol>)', page, re.S)
        assert item is not None
        links = re.findall(
            r'<a href="#p(\d+)"[^>]*>¶([\d+]+)</a> <span class="ref-score">([^<]*)', item.group(0)
        )
        expected = [
            (
                str(a["paragraphs"][0] + 1),
                "+".join(str(p + 1) for p in a["paragraphs"]),
                f"{a['score']:.2f}",
            )
            for a in sentence["alignments"]
        ]
        assert links == expected


def _scores() -> dict[str, Any]:
    result = rouge(COPIED, [COPIED + " Rain fell."], lang="en")
    mt = translation_scores(ARTICLE[:2], ARTICLE[:2])
    return plain(
        {
            "references": ["doc.summary.ref1.en.txt"],
            "rouge": result,
            "rouge_error": None,
            "translation_reference": "doc.translation.ref.en.txt",
            "translation": mt,
            "translation_error": None,
        }
    )


def test_scores_against_references(record: dict[str, Any]) -> None:
    scores = _scores()
    page = document_html({**record, "scores": scores})
    assert '<section id="scores"' in page
    for metric, s in scores["rouge"]["scores"].items():
        cells = [f"<td>{s[k]:.4f}</td>" for k in ("precision", "recall", "fmeasure")]
        assert f'<tr><th scope="row">{metric}</th>{"".join(cells)}</tr>' in page
    assert f'<tr><th scope="row">BLEU</th><td>{scores["translation"]["bleu"]:.2f}</td></tr>' in page
    assert _escape(scores["rouge"]["signature"]) in page
    assert _escape(scores["translation"]["chrf_signature"]) in page
    assert '<section id="scores"' not in document_html(record)
    failed = {"references": ["r"], "rouge_error": "r: not UTF-8", "translation_error": "no lines"}
    page = document_html({**record, "scores": failed})
    assert "No ROUGE: r: not UTF-8" in page and "No BLEU/chrF: no lines" in page


def test_check_page_shows_the_whole_article() -> None:
    result = check_document("\n".join(ARABIC), [COPIED, INVENTED], translator=fake_translator())
    page = checked_html("doc", "in/doc.txt", "their <summary>.txt", result)
    assert "<h1>Check of their &lt;summary&gt;.txt</h1>" in page
    assert page.count('<tr id="p') == len(ARTICLE)
    assert _escape(ARTICLE[0]) in page and ARABIC[0] in page
    assert page.count('<li id="s') == 2
    assert "1 of 2 sentences needs checking" in page


def test_index_rows_link_to_the_pages(record: dict[str, Any]) -> None:
    ok = index_row(_record(SUMMARY, doc_id="a b/c"))
    assert ok["n_paragraphs"] == len(ARTICLE) and ok["n_summary_sentences"] == 4
    assert ok["flagged"] == 2
    failed = {"id": "bad", "path": "in/bad.txt", "status": "failed", "error": "<empty>"}
    skipped = {**index_row(record), "status": "skipped"}
    page = index_html([ok, failed, skipped], title="Run <1>", details=[("input", "in/")])
    assert f'<a href="a%20b%2Fc/{PAGE_NAME}">' in page
    assert f'<a href="doc/{PAGE_NAME}">' in page  # skipped: its page is there from before
    bad = re.search(r'<tr class="doc failed" data-id="bad">(.*?)</tr>', page, re.S)
    assert bad is not None and "<a " not in bad.group(1) and "&lt;empty&gt;" in bad.group(1)
    assert "<h1>Run &lt;1&gt;</h1>" in page
    assert "3 documents: 1 ok, 1 skipped (done by an earlier run), 1 failed." in page
    assert "ROUGE-1" not in page
    scored = {**ok, "scores": _scores()}
    page = index_html([scored, failed])
    f1 = scored["scores"]["rouge"]["scores"]["rouge1"]["fmeasure"]
    assert "ROUGE-1 F1" in page and f'<td class="n">{f1:.4f}</td>' in page
    assert f'<td class="n">{scored["scores"]["translation"]["bleu"]:.2f}</td>' in page


def test_page_files_lay_out_a_folder_like_a_batch() -> None:
    records = [_record(SUMMARY, doc_id="a"), _record(SUMMARY[:2], arabic=False, doc_id="b")]
    files = page_files(records, title="Two")
    assert [name for name, _ in files] == [f"a/{PAGE_NAME}", f"b/{PAGE_NAME}", INDEX_NAME]
    assert files[0][1] == document_html(records[0])
    assert files[2][1] == index_html([index_row(r) for r in records], title="Two")


@pytest.mark.parametrize(("ids", "message"), [(["a", "a"], "two documents"), (["..", "b"], "..")])
def test_page_files_refuse_ids_that_clash_or_climb(ids: list[str], message: str) -> None:
    records = [_record(SUMMARY[:1], doc_id=i) for i in ids]
    with pytest.raises(InputError, match=re.escape(message)):
        page_files(records, title="x")


def test_write_pages_replaces_its_own_pages_but_never_writes_through_a_link(
    tmp_path: Path,
) -> None:
    records = [_record(SUMMARY, doc_id="a")]
    out = tmp_path / "out"
    write_pages(out, records, title="Run")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        RECORD,
        "a",
        f"a/{PAGE_NAME}",
        INDEX_NAME,
    ]
    write_pages(out, [_record(SUMMARY[:1], doc_id="a")], title="Run")  # its own: replaced
    assert (out / "a" / PAGE_NAME).read_text(encoding="utf-8") != document_html(records[0])
    (out / "a" / PAGE_NAME).write_text("edited", encoding="utf-8")
    with pytest.raises(
        InputError, match=re.escape("a/report.html was changed since mtsum wrote it")
    ):
        write_pages(out, records, title="Run")
    assert (out / "a" / PAGE_NAME).read_text(encoding="utf-8") == "edited"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "b").symlink_to(elsewhere)
    with pytest.raises(InputError, match="is a symlink"):
        write_pages(out, [_record(SUMMARY, doc_id="b")], title="Run")
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(InputError, match="is not a folder"):
        write_pages(out / INDEX_NAME, records, title="Run")


def test_templates_ship_as_package_data() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["mtsum"]
    templates = sorted((ROOT / "mtsum" / "templates").iterdir())
    assert templates
    for path in templates:
        relative = path.relative_to(ROOT / "mtsum").as_posix()
        assert any(Path(relative).match(p) for p in patterns), relative
    assert any(d.startswith("jinja2") for d in config["project"]["dependencies"])


def test_a_30_paragraph_page_stays_small() -> None:
    arabic, english = seed_lines()[:30], english_lines()

    def translate(texts: list[str]) -> list[str]:
        return [english[(len(t) + i) % len(english)] for i, t in enumerate(texts)]

    summary = FunctionModel(lambda xs: [" ".join(english[:8])] * len(xs))
    [result] = summarize_texts(
        ["\n".join(arabic)], summarizer=summary, translator=FunctionModel(translate)
    )
    record = json.loads(dumps(summary_record("doc", "doc.txt", result)))
    sentences = len(record["check"]["sentences"])
    assert len(record["paragraphs"]) == 30 and sentences >= 4
    size = len(document_html(record).encode("utf-8"))
    assert size < 300_000, size


def test_importing_the_module_loads_no_template_engine() -> None:
    code = "import sys, mtsum.htmlpage; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
