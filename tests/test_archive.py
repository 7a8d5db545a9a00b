"""`mtsum models export` and `mtsum models import`: carrying models to a machine without internet.

The commands run as a user runs them: `mtsum` in a subprocess, from a working folder, with relative
paths and the default model names, which resolve through a hub-layout Hugging Face cache
(``HF_HOME``, ``HF_HUB_OFFLINE=1``) holding the tiny test checkpoints. The "connected" machine and
the "offline" one are two such environments with their own ``HF_HOME`` and mtsum cache.
The archive checks (manifest fields, member paths) are also tried on small archives built here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hub_cache import REVISION, build_hub_cache, machine, user_run

from mtsum.backends.archive import MANIFEST, export_models, import_models
from mtsum.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "seeds" / "000_91e72526449f324a.txt"
MT, SUM = "Helsinki-NLP/opus-mt-ar-en", "sshleifer/distilbart-cnn-12-6"
MT_WEIGHTS = f"huggingface/Helsinki-NLP--opus-mt-ar-en/{REVISION}/model.safetensors"


def tree(root: Path) -> dict[str, tuple[bool, int, int, int]]:
    """Every path under `root` with what would show a change: link or not, inode, size, mtime."""
    found = {}
    for path in [root, *root.rglob("*")]:
        stat = path.lstat()
        found[str(path.relative_to(root))] = (
            path.is_symlink(),
            stat.st_ino,
            stat.st_size,
            stat.st_mtime_ns if not path.is_dir() else 0,
        )
    return found


@pytest.fixture(scope="module")
def connected(tmp_path_factory: pytest.TempPathFactory, marian_dir: Path, bart_dir: Path) -> Path:
    """The connected machine: both default models cached, the translator converted (int8) by a
    first translation, whose output is kept in ``before.txt``; ``models.tar`` exported."""
    root = tmp_path_factory.mktemp("connected")
    build_hub_cache(root / "hf-home", {MT: marian_dir, SUM: bart_dir})
    work = root / "work"
    work.mkdir()
    shutil.copy(ARTICLE, work / "article.txt")
    env = machine(root)
    first = user_run("mtsum translate article.txt -q", work, env)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    (work / "before.txt").write_text(first.stdout, encoding="utf-8")
    run = user_run(f"mtsum models export {MT} {SUM} -o models.tar -q", work, env)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        (f"{MT}@{REVISION}", "huggingface", "checkpoint", "models.tar"),
        (f"{MT}@{REVISION}", "ctranslate2", "int8", "models.tar"),
        (f"{SUM}@{REVISION}", "huggingface", "checkpoint", "models.tar"),
    ]
    return root


def offline(tmp_path: Path, connected: Path) -> Path:
    """A machine without the models: a working folder with the article and the archive."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ARTICLE, work / "article.txt")
    shutil.copy(connected / "work" / "models.tar", work / "models.tar")
    return work


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(MANIFEST)
        assert handle is not None
        return json.load(handle)


# --- the round trip ------------------------------------------------------------------------------


def test_manifest_lists_every_file_with_its_checksum(connected: Path) -> None:
    archive = connected / "work" / "models.tar"
    manifest = manifest_of(archive)
    assert manifest["format"] == "mtsum-models" and manifest["version"] == 1
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names[0] == MANIFEST  # first: an import checks each member as it reads it
        listed = {}
        for model in manifest["models"]:
            for file in model["files"]:
                folder = {
                    "huggingface": f"huggingface/{model['name'].replace('/', '--')}/{REVISION}",
                    "ctranslate2": "ctranslate2/Helsinki-NLP_opus-mt-ar-en--"
                    f"{REVISION}--{model['compute_type']}",
                }[model["kind"]]
                listed[f"{folder}/{file['path']}"] = file
        assert sorted(listed) == sorted(names[1:])
        for name, file in listed.items():
            handle = tar.extractfile(name)
            assert handle is not None
            data = handle.read()
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (file["sha256"], file["size"])
    assert {(m["name"], m["revision"], m["compute_type"]) for m in manifest["models"]} == {
        (MT, REVISION, ""),
        (MT, REVISION, "int8"),
        (SUM, REVISION, ""),
    }


def test_round_trip_then_offline_translate_with_the_default_name(
    connected: Path, tmp_path: Path
) -> None:
    work = offline(tmp_path, connected)
    env = machine(tmp_path)  # HF_HOME and the mtsum cache do not exist yet
    run = user_run("mtsum models import models.tar -q", work, env)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert [line.split("\t")[-1] for line in run.stdout.splitlines()] == ["added"] * 3

    hub = tmp_path / "hf-home" / "hub" / "models--Helsinki-NLP--opus-mt-ar-en"
    assert (hub / "refs" / "main").read_text(encoding="utf-8") == REVISION
    snapshot = hub / "snapshots" / REVISION
    assert all(p.is_symlink() for p in snapshot.iterdir())
    converted = sorted(os.listdir(tmp_path / "mtsum-cache" / "ct2"))
    assert converted == [f"Helsinki-NLP_opus-mt-ar-en--{REVISION}--int8"]

    translated = user_run("mtsum translate article.txt", work, env)
    assert translated.returncode == 0, translated.stderr
    assert translated.stdout == (connected / "work" / "before.txt").read_text(encoding="utf-8")
    # The imported CTranslate2 copy was used, not converted again.
    assert sorted(os.listdir(tmp_path / "mtsum-cache" / "ct2")) == converted

    listed = json.loads(user_run("mtsum models list --format json", work, env).stdout)
    assert {(m["name"], m["kind"]) for m in listed} == {
        (MT, "huggingface"),
        (MT, "ctranslate2"),
        (SUM, "huggingface"),
    }

    # Importing again changes nothing.
    before = tree(tmp_path / "hf-home") | tree(tmp_path / "mtsum-cache")
    again = user_run("mtsum models import models.tar -q", work, env)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert [line.split("\t")[-1] for line in again.stdout.splitlines()] == ["present"] * 3
    assert tree(tmp_path / "hf-home") | tree(tmp_path / "mtsum-cache") == before


def test_import_respects_cache_dir_and_hf_hub_cache(connected: Path, tmp_path: Path) -> None:
    work = offline(tmp_path, connected)
    env = machine(tmp_path) | {"HF_HUB_CACHE": str(tmp_path / "hub-cache")}
    run = user_run("mtsum models import models.tar --cache-dir my-cache -q", work, env)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert (work / "my-cache" / "ct2").is_dir() and not (tmp_path / "mtsum-cache").exists()
    assert (tmp_path / "hub-cache" / "models--Helsinki-NLP--opus-mt-ar-en").is_dir()
    assert not (tmp_path / "hf-home").exists()


def test_export_compute_type_chooses_the_converted_copies(connected: Path, tmp_path: Path) -> None:
    root = tmp_path / "connected"
    shutil.copytree(connected, root, symlinks=True)
    env, work = machine(root), root / "work"
    missing = user_run(f"mtsum models export {MT} --compute-type float32 -o f32.tar", work, env)
    assert missing.returncode == 4, missing.stderr
    assert missing.stderr.startswith("mtsum: error: model Helsinki-NLP/opus-mt-ar-en has no ")
    assert "mtsum models pull" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert not (work / "f32.tar").exists() and not list(work.glob(".f32.tar*"))

    pulled = user_run(f"mtsum models pull {MT} --compute-type float32 -q", work, env)
    assert pulled.returncode == 0, pulled.stderr
    for args, kinds in [
        ("", ["", "int8", "float32"]),
        ("--compute-type float32", ["", "float32"]),
        ("--compute-type int8 --compute-type float32", ["", "int8", "float32"]),
    ]:
        run = user_run(f"mtsum models export {MT} {args} -o out.tar.gz -q", work, env)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        models = manifest_of(work / "out.tar.gz")["models"]
        assert [m["compute_type"] for m in models] == kinds
    # A compressed archive imports as a plain one.
    run = user_run("mtsum models import out.tar.gz -q", work, machine(tmp_path / "offline"))
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert [line.split("\t")[2] for line in run.stdout.splitlines()] == [
        "checkpoint",
        "int8",
        "float32",
    ]


def test_a_local_checkpoint_round_trips(connected: Path, tmp_path: Path, marian_dir: Path) -> None:
    src = tmp_path / "connected"
    src.mkdir()
    work = src / "work"
    shutil.copytree(marian_dir, work / "models" / "opus-mt-ar-en")
    shutil.copy(ARTICLE, work / "article.txt")
    env = machine(src)
    local = "--mt-model models/opus-mt-ar-en"
    before = user_run(f"mtsum translate article.txt {local} -q", work, env)
    assert before.returncode == 0, before.stderr
    run = user_run("mtsum models export models/opus-mt-ar-en -o local.tar -q", work, env)
    assert run.returncode == 0 and run.stderr == "", run.stderr

    dst = tmp_path / "offline"
    dst.mkdir()
    shutil.copy(work / "local.tar", dst / "local.tar")
    shutil.copy(ARTICLE, dst / "article.txt")
    env = machine(dst)
    run = user_run("mtsum models import local.tar -q", dst, env)
    assert run.returncode == 0, run.stderr
    [checkpoint, converted] = [line.split("\t") for line in run.stdout.splitlines()]
    assert checkpoint[1] == "local" and converted[1:3] == ["ctranslate2", "int8"]
    revision = checkpoint[0].split("@")[1]
    assert checkpoint[4] == str(dst / "mtsum-cache" / "checkpoints" / revision / "opus-mt-ar-en")
    after = user_run(f"mtsum translate article.txt --mt-model {checkpoint[4]}", dst, env)
    assert after.returncode == 0 and after.stdout == before.stdout, after.stderr
    # The checkpoint hashes to the same revision there, so its converted copy is found.
    assert os.listdir(dst / "mtsum-cache" / "ct2") == [Path(converted[4]).name]


# --- refused archives ----------------------------------------------------------------------------


Members = list[tuple[tarfile.TarInfo, bytes | None]]


def rewrite(source: Path, target: Path, edit: Callable[[Members], Members]) -> None:
    """Copy an archive member by member through `edit`."""
    with tarfile.open(source) as tar:
        members: Members = []
        for info in tar.getmembers():
            handle = tar.extractfile(info) if info.isfile() else None
            members.append((info, handle.read() if handle is not None else None))
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for info, data in edit(members):
            out.addfile(info, io.BytesIO(data) if data is not None else None)


def member(name: str, data: bytes | None = b"evil", **fields: object) -> tuple:
    info = tarfile.TarInfo(name)
    info.size = len(data) if data is not None else 0
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def flip_a_byte(source: Path, target: Path) -> None:
    with tarfile.open(source) as tar:
        offset = tar.getmember(MT_WEIGHTS).offset_data + 1000
    data = bytearray(source.read_bytes())
    data[offset] ^= 0x01
    target.write_bytes(bytes(data))


def added(*extra: tuple) -> Callable[[Path, Path], None]:
    return lambda src, dst: rewrite(src, dst, lambda members: [*members[:3], *extra, *members[3:]])


def dropped(name: str) -> Callable[[Path, Path], None]:
    return lambda src, dst: rewrite(src, dst, lambda ms: [m for m in ms if m[0].name != name])


def truncated(source: Path, target: Path) -> None:
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])


OUTSIDE = "/tmp/mtsum-archive-test-evil.txt"
CT2 = f"ctranslate2/Helsinki-NLP_opus-mt-ar-en--{REVISION}--int8"

TAMPERED: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "a flipped byte": (flip_a_byte, f"{MT_WEIGHTS}' does not match its sha256"),
    "a ../ member": (added(member("../evil.txt")), "would land outside the destination"),
    "a nested ../ member": (
        added(member(f"{CT2}/../../../evil.txt")),
        "would land outside the destination",
    ),
    "an absolute member": (added(member(OUTSIDE)), "has an absolute path"),
    "a member not in the manifest": (added(member(f"{CT2}/extra.bin")), "is not in the manifest"),
    "a second manifest": (added(member(MANIFEST, b"{}")), f"member '{MANIFEST}' appears twice"),
    "a symlink": (
        added(member(f"{CT2}/link", None, type=tarfile.SYMTYPE, linkname="/etc/passwd")),
        "is a link",
    ),
    "a hard link": (
        added(member(f"{CT2}/hard", None, type=tarfile.LNKTYPE, linkname="/etc/passwd")),
        "is a link",
    ),
    "a device": (
        added(member(f"{CT2}/dev", None, type=tarfile.CHRTYPE, devmajor=1, devminor=3)),
        "is a device or FIFO",
    ),
    "a member the manifest lists missing": (dropped(MT_WEIGHTS), "not in the archive"),
    "no manifest": (dropped(MANIFEST), f"no {MANIFEST}"),
    "a cut-off archive": (truncated, "damaged archive"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_archive_is_refused_and_nothing_changes(
    case: str, connected: Path, tmp_path: Path
) -> None:
    work = offline(tmp_path, connected)
    make, message = TAMPERED[case]
    make(work / "models.tar", work / "bad.tar")
    env = machine(tmp_path)
    (tmp_path / "mtsum-cache" / "ct2").mkdir(parents=True)  # one destination exists, one not
    before = tree(tmp_path)
    run = user_run("mtsum models import bad.tar -q", work, env)
    assert run.returncode == 3, run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.startswith("mtsum: error: bad.tar: ") and len(run.stderr.splitlines()) == 1
    assert message in run.stderr
    assert tree(tmp_path) == before
    assert not Path(OUTSIDE).exists()


def test_import_of_a_missing_or_foreign_file_is_exit_3(connected: Path, tmp_path: Path) -> None:
    work = offline(tmp_path, connected)
    (work / "notes.txt").write_text("not an archive\n", encoding="utf-8")
    env = machine(tmp_path)
    for name, message in [
        ("nowhere.tar", "nowhere.tar: no such file"),
        (".", ".: is a folder"),
        ("notes.txt", "notes.txt: not a tar archive, or a damaged one"),
    ]:
        run = user_run(f"mtsum models import {name}", work, env)
        assert run.returncode == 3 and message in run.stderr, run.stderr
    assert not (tmp_path / "hf-home").exists() and not (tmp_path / "mtsum-cache").exists()


# --- the library on hand-made archives -----------------------------------------------------------


def small_archive(path: Path, models: list[dict], files: dict[str, bytes]) -> Path:
    manifest = {"format": "mtsum-models", "version": 1, "mtsum": "0", "models": models}
    with tarfile.open(path, "w") as tar:
        for name, data in [*files.items(), (MANIFEST, json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def one_model(**changes: object) -> dict:
    data = b"weights"
    file = {"path": "model.bin", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return {
        "kind": "ctranslate2",
        "name": "org/tiny",
        "revision": REVISION,
        "compute_type": "int8",
        "files": [file],
    } | changes


def test_import_places_replaces_and_keeps(tmp_path: Path) -> None:
    archive = small_archive(
        tmp_path / "a.tar",
        [one_model()],
        {f"ctranslate2/org_tiny--{REVISION}--int8/model.bin": b"weights"},
    )
    cache = tmp_path / "cache"
    # What an import killed mid-way leaves (its process is gone): removed by the next one.
    (cache / "ct2" / ".import.999999999.abcdefgh.tmp" / "x").mkdir(parents=True)
    [first] = import_models(archive, cache=cache, hub_cache=tmp_path / "hub")
    final = cache / "ct2" / f"org_tiny--{REVISION}--int8"
    assert first.status == "added" and first.path == str(final) and first.size_bytes == 7
    assert (final / "model.bin").read_bytes() == b"weights"
    [second] = import_models(archive, cache=cache, hub_cache=tmp_path / "hub")
    assert second.status == "present"
    (final / "model.bin").write_bytes(b"damaged")
    [third] = import_models(archive, cache=cache, hub_cache=tmp_path / "hub")
    assert third.status == "updated" and (final / "model.bin").read_bytes() == b"weights"
    assert sorted(p.name for p in (cache / "ct2").iterdir()) == [final.name]
    assert not (tmp_path / "hub").exists()


def test_import_moves_refs_main_to_the_archived_revision(tmp_path: Path) -> None:
    data = b"{}"
    file = {"path": "config.json", "sha256": hashlib.sha256(data).hexdigest(), "size": 2}
    model = one_model(kind="huggingface", compute_type="", files=[file])
    name = f"huggingface/org--tiny/{REVISION}/config.json"
    archive = small_archive(tmp_path / "a.tar", [model], {name: data})
    refs = tmp_path / "hub" / "models--org--tiny" / "refs" / "main"
    refs.parent.mkdir(parents=True)
    refs.write_text("f" * 40, encoding="utf-8")
    [placed] = import_models(archive, cache=tmp_path / "cache", hub_cache=tmp_path / "hub")
    assert placed.status == "added" and refs.read_text(encoding="utf-8") == REVISION
    assert (Path(placed.path) / "config.json").read_bytes() == data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"revision": "../../etc"}, "revision '../../etc'"),
        ({"name": "../x"}, "model name '../x'"),
        ({"name": "org/../x"}, "model name 'org/../x'"),
        ({"kind": "python"}, "model kind 'python'"),
        ({"compute_type": "int4"}, "compute type 'int4'"),
        ({"files": []}, "none, or one listed twice"),
        ({"files": [{"path": "../x", "sha256": "0" * 64, "size": 1}]}, "file path '../x'"),
        ({"files": [{"path": "/etc/x", "sha256": "0" * 64, "size": 1}]}, "file path '/etc/x'"),
        ({"files": [{"path": "a", "sha256": "0" * 64, "size": -1}]}, "sha256 or size of 'a'"),
        ({"files": [{"path": "a", "sha": "0"}]}, "unexpected keyword"),
    ],
)
def test_a_manifest_value_that_would_make_a_bad_path_is_refused(
    tmp_path: Path, changes: dict, message: str
) -> None:
    archive = small_archive(tmp_path / "a.tar", [one_model(**changes)], {})
    with pytest.raises(InputError, match=f"a.tar: {MANIFEST}: .*{message}"):
        import_models(archive, cache=tmp_path / "cache", hub_cache=tmp_path / "hub")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar"]


def test_a_model_listed_twice_is_refused(tmp_path: Path) -> None:
    archive = small_archive(tmp_path / "a.tar", [one_model(), one_model()], {})
    with pytest.raises(InputError, match="a model listed twice"):
        import_models(archive, cache=tmp_path / "cache", hub_cache=tmp_path / "hub")


def test_a_manifest_of_another_version_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    small_archive(archive, [], {})
    rewrite(
        archive,
        tmp_path / "b.tar",
        lambda ms: [member(MANIFEST, b'{"format": "mtsum-models", "version": 2, "models": []}')],
    )
    with pytest.raises(InputError, match="version 2, not 1: upgrade mtsum"):
        import_models(tmp_path / "b.tar", cache=tmp_path / "c", hub_cache=tmp_path / "h")


def test_export_refuses_an_output_that_is_a_folder(marian_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        export_models([str(marian_dir)], tmp_path, cache=tmp_path / "cache")


def test_export_of_a_snapshot_with_a_missing_blob_is_refused(
    marian_dir: Path, tmp_path: Path
) -> None:
    # A snapshot's files are links to blobs; one whose blob is gone used to be left out, and the
    # archive then passed its own checks with an incomplete checkpoint.
    build_hub_cache(tmp_path / "hf-home", {MT: marian_dir})
    weights = next((tmp_path / "hf-home" / "hub").rglob("snapshots/*/model.safetensors"))
    weights.resolve().unlink()
    run = user_run(f"mtsum models export {MT} -o models.tar -q", tmp_path, machine(tmp_path))
    assert run.returncode == 4, run.stderr
    assert "a link to a file that is gone" in run.stderr and "model.safetensors" in run.stderr
    assert not (tmp_path / "models.tar").exists()


def test_a_bare_hub_name_round_trips(tmp_path: Path, marian_dir: Path) -> None:
    # The hub's oldest models have no organization (t5-small): models--t5-small in the cache.
    connected, other = tmp_path / "a", tmp_path / "b"
    build_hub_cache(connected / "hf-home", {"tiny-marian": marian_dir})
    run = user_run("mtsum models export tiny-marian -o m.tar -q", tmp_path, machine(connected))
    assert run.returncode == 0, run.stderr
    run = user_run("mtsum models import m.tar -q", tmp_path, machine(other))
    assert run.returncode == 0, run.stderr
    assert (other / "hf-home" / "hub" / "models--tiny-marian" / "refs" / "main").is_file()


# --- bounded reading ----------------------------------------------------------------------------


def tar_member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + b"\0" * (-len(data) % 512)


def pax_header(size: int) -> Iterator[bytes]:
    """The blocks of a PAX extended header whose one record (a comment) is `size` bytes."""
    body = len(" comment=\n") + size
    length = body + len(str(body + len(str(body))))
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, length
    yield info.tobuf(tarfile.USTAR_FORMAT) + f"{length} comment=".encode()
    for _ in range(size >> 20):
        yield b"x" * (1 << 20)
    yield b"x" * (size % (1 << 20)) + b"\n" + b"\0" * (-length % 512)


@pytest.mark.parametrize("manifest_first", [True, False])
def test_a_huge_extended_header_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest_first: bool
) -> None:
    # A 16 MiB PAX header compresses to 16 KiB; tarfile used to read it whole (a 600 MB one took
    # 1.9 GB and 22 s) before the manifest check refused the member it belongs to.
    import gzip

    manifest = {"format": "mtsum-models", "version": 1, "mtsum": "0", "models": [one_model()]}
    listed = tar_member(MANIFEST, json.dumps(manifest).encode())
    head, tail = ([listed], []) if manifest_first else ([], [listed])
    archive = tmp_path / "bomb.tar.gz"
    with gzip.open(archive, "wb", compresslevel=1) as out:
        for block in [*head, *pax_header(16 << 20), tar_member("x.bin", b"x"), *tail]:
            out.write(block)
        out.write(b"\0" * 1024)
    read: list[int] = []
    real = gzip.GzipFile.read

    def counting(self: gzip.GzipFile, size: int = -1) -> bytes:
        data = real(self, size)
        read.append(len(data))
        return data

    monkeypatch.setattr(gzip.GzipFile, "read", counting)
    with pytest.raises(InputError, match=r"bomb.tar.gz: an extended tar header of 1677\d+ bytes"):
        import_models(archive, cache=tmp_path / "cache", hub_cache=tmp_path / "hub")
    assert sum(read) < 64 << 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tar.gz"]


def test_import_stops_at_the_first_member_the_manifest_does_not_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = f"ctranslate2/org_tiny--{REVISION}--int8"
    manifest = {"format": "mtsum-models", "version": 1, "mtsum": "0", "models": [one_model()]}
    archive = tmp_path / "a.tar"
    with archive.open("wb") as out:
        out.write(tar_member(MANIFEST, json.dumps(manifest).encode()))
        out.write(tar_member(f"{folder}/model.bin", b"weights"))
        out.write(tar_member(f"{folder}/evil.bin", b"evil"))
        for n in range(1000):
            out.write(tar_member(f"{folder}/more-{n}.bin", b"more"))
        out.write(b"\0" * 1024)
    headers: list[int] = []
    real = tarfile.TarInfo.frombuf.__func__  # type: ignore[attr-defined]

    def counting(cls: type, buf: bytes, encoding: str, errors: str) -> tarfile.TarInfo:
        headers.append(1)
        return real(cls, buf, encoding, errors)

    monkeypatch.setattr(tarfile.TarInfo, "frombuf", classmethod(counting))
    with pytest.raises(InputError, match=r"member '.*/evil.bin' is not in the manifest"):
        import_models(archive, cache=tmp_path / "cache", hub_cache=tmp_path / "hub")
    assert len(headers) == 3  # the manifest, the listed file, the one refused: none after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar"]
