"""mtsum.backends.tokens rebuilds the checkpoints' tokenizers without transformers, token for token.

The reference is the transformers tokenizer of the same tiny checkpoint; the texts are the seed,
its English reference, FLORES-200 lines when ../shared/data is present, and awkward strings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bart_fixture import english_lines
from conftest import ENGLISH_TRAINING, ROOT, SHARED_DATA, seed_lines

from mtsum.backends import convert, ct2, tokens
from mtsum.backends.resolve import resolve_model
from mtsum.errors import ModelError

AWKWARD = [
    "",
    " ",
    "a </s> b",
    "</s>",
    "<unk><pad>",
    "قال:  «لن نفعل شيئاً»…   ثم غادر\t.",
    "emoji 🙂 and CJK 漢字 and a tab\there",
    "  leading and trailing spaces  ",
    "Mr. O'Neil didn't say 'yes' , did he ?",
    "1,000 km / 3.5% at 24:00 on 2022/11/10",
]


def _flores(name: str, count: int = 60) -> list[str]:
    path = SHARED_DATA / "flores200-devtest" / name
    if not path.is_file():  # the suite runs without ../shared/data too
        return []
    return path.read_text(encoding="utf-8").splitlines()[:count]


def _texts(kind: str) -> list[str]:
    if kind == "marian":
        return seed_lines() + _flores("arb_Arab.devtest") + AWKWARD
    return english_lines() + _flores("eng_Latn.devtest") + AWKWARD


def _hf_and_ours(path: Path, out: Path) -> tuple[Any, tokens.Tokens]:
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(path)
    out.mkdir()
    spec = tokens.describe(hf, path, out)
    # Through JSON, as a conversion stores it.
    spec = tokens.TokenizerSpec.from_json(json.loads(json.dumps(spec.to_json())))
    return hf, tokens.load(spec, out)


@pytest.fixture(scope="module")
def pairs(marian_dir: Path, bart_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tokens")
    return {
        "marian": _hf_and_ours(marian_dir, root / "marian"),
        "bart": _hf_and_ours(bart_dir, root / "bart"),
    }


@pytest.mark.parametrize("kind", ["marian", "bart"])
def test_encode_matches_transformers(pairs: dict, kind: str) -> None:
    hf, ours = pairs[kind]
    texts = _texts(kind)
    expected = [hf.convert_ids_to_tokens(row) for row in hf(texts, verbose=False)["input_ids"]]
    assert ours.encode(texts) == expected
    if kind == "marian":
        assert ours.encode(["a </s> b"])[0].count("</s>") == 2  # the written one stays whole


@pytest.mark.parametrize("kind", ["marian", "bart"])
def test_decode_matches_transformers(pairs: dict, kind: str) -> None:
    hf, ours = pairs[kind]
    # Token rows as a model might produce them: target-side pieces, specials mixed in.
    texts = ENGLISH_TRAINING + english_lines() + AWKWARD
    if kind == "marian":
        vocab = hf.get_vocab()
        pieces = [ours.target.encode(t, out_type=str) for t in texts]
        rows = [[p if p in vocab else hf.unk_token for p in row] + [hf.eos_token] for row in pieces]
    else:
        rows = [hf.convert_ids_to_tokens(ids) for ids in hf(texts, verbose=False)["input_ids"]]
    rows.append([hf.unk_token, *rows[0][:5], hf.eos_token, *rows[1][:3]])
    expected = hf.batch_decode(
        [hf.convert_tokens_to_ids(r) for r in rows], skip_special_tokens=True
    )
    decoded = ours.decode(rows)
    assert decoded == expected
    assert len(set(decoded)) > len(texts) // 2  # real, differing texts, not blanks
    if kind == "bart":  # byte-level BPE gives any text without special tokens back whole
        plain = [i for i, t in enumerate(texts) if "<" not in t]
        assert [decoded[i] for i in plain] == [texts[i] for i in plain]


def test_unknown_tokenizer_is_refused(tmp_path: Path) -> None:
    class Odd:
        all_special_tokens = ()
        is_fast = False

    with pytest.raises(ModelError, match="neither a fast tokenizer nor MarianMT's"):
        tokens.describe(Odd(), tmp_path, tmp_path)


def test_converted_model_runs_without_torch_or_transformers(
    marian_dir: Path, tmp_path: Path
) -> None:
    resolved = resolve_model(str(marian_dir), role="test", option="--model")
    convert.convert(resolved, compute_type="int8", cache=tmp_path)
    script = (
        "import sys\n"
        "from mtsum import load_translator, translate\n"
        f"model = load_translator({str(marian_dir)!r}, backend='ctranslate2', threads=1)\n"
        "result = translate(['قال الوزير إن المحادثات ستستمر.'], model=model)\n"
        "assert result[0].segments[0].text, result\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    env = {"MTSUM_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_conversion_from_an_older_mtsum_is_completed(marian_dir: Path, tmp_path: Path) -> None:
    resolved = resolve_model(str(marian_dir), role="test", option="--model")
    path = convert.convert(resolved, compute_type="int8", cache=tmp_path)
    record = json.loads((path / convert.METADATA).read_text(encoding="utf-8"))
    runtime = record.pop("runtime")
    (path / convert.METADATA).write_text(json.dumps(record), encoding="utf-8")
    copied = ["source.spm", "target.spm", "vocab.json"]  # what an older conversion lacks
    for name in copied:
        (path / name).unlink()
    model = ct2.load_ct2(
        resolved, task="translation", device="cpu", threads=1, compute_type="int8", cache=tmp_path
    )
    assert json.loads((path / convert.METADATA).read_text(encoding="utf-8"))["runtime"] == runtime
    assert model.count_tokens(["قال الوزير"]) == [len(model.tokenizer.encode(["قال الوزير"])[0])]
    assert all((path / name).is_file() for name in copied)
    assert not list(path.glob(".*"))  # no staging left behind


def test_marian_with_separate_vocabularies_stays_on_transformers(
    marian_dir: Path, tmp_path: Path
) -> None:
    import shutil

    copy = shutil.copytree(marian_dir, tmp_path / "separate")
    config = json.loads((copy / "tokenizer_config.json").read_text(encoding="utf-8"))
    (copy / "tokenizer_config.json").write_text(
        json.dumps({**config, "separate_vocabs": True}), encoding="utf-8"
    )
    assert convert.can_convert(resolve_model(str(marian_dir), role="test", option="--model"))
    assert not convert.can_convert(resolve_model(str(copy), role="test", option="--model"))
