"""mtsum.signature: fields that print themselves, read back, key a batch, and survive odd values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mtsum.signature import Signature, plain


def test_prints_fields_in_order_and_stages_joined() -> None:
    mt = Signature.of(("mt", "m@1"), ("beams", 4), ("len", "2.0x+10"))
    summary = Signature.of(("sum", "s@2"), ("skipped", None), ("beams", 1))
    both = mt + summary
    assert str(both) == "mt:m@1|beams:4|len:2.0x+10 || sum:s@2|beams:1"
    assert both["beams"] == "4"  # the first field of that name
    assert both.get("skipped") is None and list(summary) == [("sum", "s@2"), ("beams", "1")]
    with pytest.raises(KeyError):
        both["nothing"]


@pytest.mark.parametrize(
    "value", ["models/a|b@local-1", "100%", "%7C", "a || b", "x:y", "", "تجربة"]
)
def test_any_value_reads_back(value: str) -> None:
    signature = Signature.of(("mt", value), ("beams", 4)) + Signature.of(("align", value))
    printed = str(signature)
    assert printed.count(" || ") == 1 and printed.count("|") == 3  # only the separators
    assert Signature.parse(printed) == signature


def test_sacrebleu_signatures_parse() -> None:
    text = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1"
    assert str(Signature.parse(text)) == text


@pytest.mark.parametrize("text", ["rouge|r:1", "a:1|b", "no field"])
def test_parse_refuses_what_is_no_signature(text: str) -> None:
    with pytest.raises(ValueError, match="not a signature field"):
        Signature.parse(text)


def test_a_bad_key_is_a_bug_not_a_value() -> None:
    for key in ("", "a:b", "a|b", "a b"):
        with pytest.raises(ValueError, match="signature key"):
            Signature.of((key, 1))


def test_key_is_sorted_json_of_every_field() -> None:
    signature = Signature.of(("b", 2), ("a", 1))
    assert json.loads(signature.key()) == {"groups": [[["b", "2"], ["a", "1"]]]}
    assert signature.key() != Signature.of(("a", 1), ("b", 2)).key()  # order is part of it


def test_plain_prints_signatures_inside_records() -> None:
    record = {"rows": (Signature.of(("a", 1)), 2), "n": None}
    assert plain(record) == {"rows": ["a:1", 2], "n": None}


def test_a_model_folder_with_a_bar_in_its_name_translates(marian_dir: Path, tmp_path: Path) -> None:
    # A '|' in a value used to be refused by Signature, an internal error (exit 70).
    odd = tmp_path / "mt|model"
    odd.symlink_to(marian_dir, target_is_directory=True)
    doc = tmp_path / "doc.txt"
    doc.write_text("الفقرة الأولى.\n", encoding="utf-8")
    command = [sys.executable, "-m", "mtsum", "translate", "doc.txt", "-q", "--mt-model"]
    run = subprocess.run(
        [*command, "mt|model", "--beams", "1", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    [record] = json.loads(run.stdout)["documents"]
    assert Signature.parse(record["signature"])["mt"].startswith("mt|model@local-")
