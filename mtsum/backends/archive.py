"""Model archives: checkpoints and their converted copies, carried to machines without internet.

`export_models` writes one tar file: first `MANIFEST`, which lists each model (kind, name,
revision, compute type) with the sha256 and size of every file, then every file of each model's
checkpoint (the Hugging Face snapshot a hub name resolves to, or a local checkpoint folder) and
every file of its converted CTranslate2 copies in the mtsum cache::

    mtsum-manifest.json
    huggingface/<org>--<name>/<revision>/<file>     a hub checkpoint
    local/<folder name>/<revision>/<file>           a local checkpoint folder
    ctranslate2/<converted folder>/<file>           a converted copy (`convert.converted_path`)

`import_models` trusts nothing in an archive until it is checked:

- every member must be a regular file (or a folder) at a plain relative path that the manifest
  lists: an absolute path, ``..``, a link or a device is refused, and so is a member the manifest
  does not list, a member listed twice, a size that differs from the manifest's and a listed file
  the archive lacks. Members are read one at a time, each checked before it is extracted, and the
  first one refused ends the import: a huge member after it is never read. An extended (PAX or
  GNU long-name) header over 64 KiB is refused before it is read. Archives of older mtsum
  versions, with the manifest last, are still read: their headers first (at most 100,000
  members), then each listed file;
- files are extracted (tarfile's ``data`` filter) into a staging folder inside each destination
  and their sha256 compared with the manifest; only when every file of every model matches is
  anything moved, by renames. A refused archive leaves the destinations as they were;
- hub checkpoints go into the Hugging Face cache in its own layout (blobs named by sha256, a
  snapshot of relative symlinks, ``refs/main`` set to the revision), so the hub name resolves
  offline; local checkpoints to ``<cache>/checkpoints/<revision>/<folder name>``; converted
  copies to ``<cache>/ct2/`` under the name a conversion gives them, so they load as converted;
- a model already there with the same files is left alone: importing twice changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from mtsum._version import __version__
from mtsum.atomic import output_target, write_text
from mtsum.backends.convert import COMPUTE_TYPES, converted_path, remove_orphans
from mtsum.backends.resolve import ResolvedModel
from mtsum.backends.store import StoredModel
from mtsum.errors import InputError, ModelError
from mtsum.paths import cache_dir

__all__ = [
    "MANIFEST",
    "ArchivedFile",
    "ArchivedModel",
    "ImportedModel",
    "export_models",
    "import_models",
]

MANIFEST = "mtsum-manifest.json"
_FORMAT, _VERSION = "mtsum-models", 1
_MANIFEST_LIMIT = 64 << 20
# An extended header holds a member's long path and times: a few hundred bytes as export writes
# them, never near 64 KiB. Old archives (manifest last) are listed before they are checked.
_HEADER_LIMIT = 64 << 10
_EXTENDED = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)
_MEMBER_LIMIT = 100_000
_KINDS = ("huggingface", "local", "ctranslate2")
# ORG/NAME, or a bare NAME as the hub's oldest models have (t5-small).
_HUB_NAME = re.compile(r"(?!.*(\.\.|--))([A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*", re.ASCII)
_REVISION = {"huggingface": re.compile("[0-9a-f]{40}"), "local": re.compile("local-[0-9a-f]{12}")}
_SHA256 = re.compile("[0-9a-f]{64}")
# Python 3.10.12+, 3.11.4+, 3.12+: tarfile's extraction filters.
_DATA_FILTER = hasattr(tarfile, "data_filter")
# Damage a tar or compressed stream shows when read (a gzip CRC error is an OSError).
_DAMAGE = (tarfile.TarError, EOFError, zlib.error, OSError)


@dataclass(frozen=True, kw_only=True)
class ArchivedFile:
    """One file of a model: its path inside the model's folder (POSIX), sha256 and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, kw_only=True)
class ArchivedModel:
    """One model in an archive. ``kind`` is ``huggingface`` (a hub checkpoint), ``local`` (a
    checkpoint folder; `name` is the folder's name) or ``ctranslate2`` (a converted copy of
    either); ``compute_type`` is empty for checkpoints."""

    kind: str
    name: str
    revision: str
    compute_type: str
    files: tuple[ArchivedFile, ...]

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, kw_only=True)
class ImportedModel(StoredModel):
    """A model `import_models` put in place; ``status`` is ``added``, ``updated`` (a copy with
    other files was replaced, or ``refs/main`` moved) or ``present`` (nothing changed)."""

    status: str


def export_models(
    names: Sequence[str],
    output: str | Path,
    *,
    compute_types: Sequence[str] | None = None,
    cache: str | Path | None = None,
) -> list[ArchivedModel]:
    """Write one archive of the checkpoints `names` resolve to and their converted copies.

    Args:
        names: Hub names (resolved as every command resolves them: a local folder of that name,
            the Hugging Face cache, the hub) or checkpoint folders.
        output: The archive to write (replaced atomically); ``.tar.gz``/``.tgz`` compresses.
        compute_types: The converted copies to include; default: every one in the cache.
        cache: The mtsum cache folder (default: `mtsum.paths.cache_dir`).

    Returns:
        The models written, as the manifest lists them.

    Raises:
        InputError: `output` cannot be written, or an unknown compute type.
        ModelError: A model cannot be found, or a compute type asked for was never converted.

    Example::

        export_models(["Helsinki-NLP/opus-mt-ar-en"], "models.tar")
    """
    target = output_target(output)
    if target.exists() and not target.is_file():
        raise InputError(f"{output}: not a regular file; pass a file name for the archive")
    root = cache_dir(cache)
    sources: dict[str, tuple[ArchivedModel, Path]] = {}
    for name in dict.fromkeys(names):
        for model, path in _sources(name, compute_types, root):
            sources.setdefault(_folder(model, root), (model, path))
    mode = "w:gz" if target.name.endswith((".tar.gz", ".tgz")) else "w"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{output}: cannot be written ({exc.strerror or exc})") from None
    try:
        # mkstemp makes the file owner-only; give it the mode a plain open() would.
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with os.fdopen(handle, "wb") as raw:
            # The manifest goes first, so an import checks each member as it reads it.
            models = [_listed(m, p) for m, p in sources.values()]
            try:
                _check_models(models)
            except ValueError as exc:
                raise InputError(f"cannot archive {', '.join(names)}: {exc}") from None
            manifest = {"format": _FORMAT, "version": _VERSION, "mtsum": __version__}
            data = json.dumps({**manifest, "models": [asdict(m) for m in models]}, indent=1)
            with tarfile.open(fileobj=raw, mode=mode, format=tarfile.PAX_FORMAT) as tar:
                _add_bytes(tar, MANIFEST, data.encode("utf-8"))
                for model, (_, source) in zip(models, sources.values(), strict=True):
                    _add_model(tar, model, source, _folder(model, root))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"{output}: cannot be written ({exc.strerror or exc})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return models


def _sources(
    name: str, compute_types: Sequence[str] | None, cache: Path
) -> list[tuple[ArchivedModel, Path]]:
    """The checkpoint `name` resolves to, then its converted copies, each with its folder."""
    from mtsum.backends.resolve import resolve_model

    resolved = resolve_model(name, role="hub", option="`mtsum models export`", cache=cache)
    local = resolved.revision.startswith("local-")
    short = Path(resolved.name).name if local else resolved.name
    kind = "local" if local else "huggingface"
    base = ArchivedModel(
        kind=kind, name=short, revision=resolved.revision, compute_type="", files=()
    )
    try:
        _check_identity(base)
    except ValueError as exc:
        raise InputError(f"{name}: cannot be archived: {exc}") from None
    found = [(base, resolved.path)]
    for compute_type in compute_types or COMPUTE_TYPES:
        path = converted_path(resolved, compute_type=compute_type, cache=cache)
        if path.is_dir():
            found.append((replace(base, kind="ctranslate2", compute_type=compute_type), path))
        elif compute_types:
            raise ModelError(
                f"model {name} has no {compute_type} CTranslate2 copy in {cache / 'ct2'}: run "
                f"`mtsum models pull {name} --compute-type {compute_type}` first"
            )
    return found


def _listed(model: ArchivedModel, source: Path) -> ArchivedModel:
    """`model` with every file under `source`, hashed."""
    files = []
    for rel, path in _walk(source):
        with _open_source(path) as handle:
            size, sha256 = os.fstat(handle.fileno()).st_size, _sha256(handle)
        files.append(ArchivedFile(path=rel, sha256=sha256, size=size))
    return replace(model, files=tuple(files))


def _add_model(tar: tarfile.TarFile, model: ArchivedModel, source: Path, folder: str) -> None:
    """Add the files `_listed` hashed, hashed again as they are copied: one that changed in
    between would make an archive its own import refuses."""
    for file in model.files:
        path = source / file.path
        with _open_source(path) as handle:
            stat = os.fstat(handle.fileno())
            info = tarfile.TarInfo(f"{folder}/{file.path}")
            info.size, info.mtime, info.mode = file.size, int(stat.st_mtime), 0o644
            hashing = _Hashing(handle)
            changed = stat.st_size != file.size
            if not changed:
                tar.addfile(info, hashing)
        if changed or hashing.digest.hexdigest() != file.sha256:
            raise ModelError(f"{path}: changed while it was archived; export again")


def _walk(root: Path) -> list[tuple[str, Path]]:
    """Every file under `root` (symlinks to files followed, as a hub snapshot's are), by its
    POSIX path; folders whose names start with a dot (``.git``, staging) are left out.

    Raises:
        ModelError: A link points at nothing (a snapshot whose blob is gone): the checkpoint
            is incomplete, and an archive of it would be too.
    """
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(folder, name)
            if path.is_symlink() and not path.exists():
                raise ModelError(
                    f"{path}: a link to a file that is gone; the checkpoint is incomplete "
                    "(download it again)"
                )
            if path.is_file():
                found.append(path)
    return sorted((p.relative_to(root).as_posix(), p) for p in found)


def _open_source(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror or exc})") from None


class _Hashing:
    """A file read through once: what tarfile copies into the archive is what gets hashed."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def import_models(
    archive: str | Path, *, cache: str | Path | None = None, hub_cache: str | Path | None = None
) -> list[ImportedModel]:
    """Check an archive from `export_models` completely, then move its models into place.

    Args:
        archive: The tar file (plain or compressed).
        cache: The mtsum cache folder, for converted copies and local checkpoints (default:
            `mtsum.paths.cache_dir`).
        hub_cache: The Hugging Face hub cache (default: huggingface_hub's: ``HF_HUB_CACHE``, or
            ``HF_HOME/hub``).

    Returns:
        Each model of the archive, where it now is and whether it was added.

    Raises:
        InputError: The archive is missing, no tar file, damaged or tampered with (a checksum,
            size or member the manifest does not vouch for, a path that would escape), or a
            destination cannot be written. Nothing is moved then.

    Example::

        [m.status for m in import_models("models.tar")]  # ['added', 'added']
    """
    path = Path(archive)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "no such file"
        raise InputError(f"{archive}: {what}; pass an archive written by `mtsum models export`")
    root = cache_dir(cache)
    hub = Path(hub_cache) if hub_cache is not None else _default_hub_cache()
    roots = {"huggingface": hub, "local": root / "checkpoints", "ctranslate2": root / "ct2"}
    staging = _Staging()
    try:
        with _open(path, archive) as tar:
            tar.errorlevel = 2
            models = _import_members(tar, archive, root, roots, staging)
    except BaseException as exc:
        staging.close(keep_created=False)
        if isinstance(exc, _Oversized):
            raise InputError(f"{archive}: {exc}") from None
        if isinstance(exc, _DAMAGE) and not isinstance(exc, InputError):
            raise InputError(f"{archive}: damaged archive ({exc})") from None
        raise
    try:
        return [
            _place(model, staging.folder(roots[model.kind]) / _folder(model, root), roots, root)
            for model in models
        ]
    except OSError as exc:
        raise InputError(f"cannot move the models of {archive} into place ({exc})") from None
    finally:
        staging.close(keep_created=True)


def _import_members(
    tar: tarfile.TarFile,
    archive: str | Path,
    root: Path,
    roots: dict[str, Path],
    staging: _Staging,
) -> list[ArchivedModel]:
    """Check every member against the manifest and extract it into staging, verified.

    An archive that begins with its manifest (as `export_models` writes them) is read in one
    pass that stops at the first member the manifest does not vouch for; one that ends with it
    (mtsum before 2026-12) is read twice: its headers (bounded, see `_BoundedInfo`), then the
    listed files.
    """
    first = tar.next()
    if first is not None and first.name == MANIFEST:
        models = _read_manifest(tar, [first], archive)
        checker = _Members(models, archive, root)
        checker.check(first)
        for member in iter(tar.next, None):
            if checker.check(member) is not None:
                _extract_verified(tar, member, checker, staging, roots, archive)
        checker.finish()
        return models
    members = [] if first is None else [first]
    for member in iter(tar.next, None):
        if len(members) >= _MEMBER_LIMIT:
            raise InputError(f"{archive}: more than {_MEMBER_LIMIT} members; refused")
        members.append(member)
    models = _read_manifest(tar, members, archive)
    checker = _Members(models, archive, root)
    for member in members:
        checker.check(member)
    checker.finish()
    for member in members:
        if member.name in checker.wanted:
            _extract_verified(tar, member, checker, staging, roots, archive)
    return models


def _extract_verified(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    checker: _Members,
    staging: _Staging,
    roots: dict[str, Path],
    archive: str | Path,
) -> None:
    model, file = checker.wanted[member.name]
    into = staging.folder(roots[model.kind])
    _extract(tar, member, into, archive)
    _verify(into / member.name, file, archive, member.name)


class _Oversized(Exception):
    """An extended header over `_HEADER_LIMIT` (the message lacks the archive's name)."""


class _BoundedInfo(tarfile.TarInfo):
    """A tar header that refuses an extended header (PAX or GNU long name) over
    `_HEADER_LIMIT` before tarfile reads it whole into memory: one 600 MB PAX header took 1.9 GB
    and 22 s to reach the manifest check."""

    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        if self.type in _EXTENDED and self.size > _HEADER_LIMIT:
            raise _Oversized(
                f"an extended tar header of {self.size} bytes at byte {self.offset}, over the "
                f"{_HEADER_LIMIT} an archive of `mtsum models export` ever needs; refused"
            )
        return super()._proc_member(tarfile)  # type: ignore[misc]


def _open(path: Path, archive: str | Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*", tarinfo=_BoundedInfo)
    except tarfile.ReadError:
        raise InputError(f"{archive}: not a tar archive, or a damaged one") from None
    except OSError as exc:
        raise InputError(f"{archive}: cannot be read ({exc.strerror or exc})") from None


def _default_hub_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _folder(model: ArchivedModel, cache: Path) -> str:
    """Where a model's files lie in the archive."""
    if model.kind == "huggingface":
        return f"huggingface/{model.name.replace('/', '--')}/{model.revision}"
    if model.kind == "local":
        return f"local/{model.name}/{model.revision}"
    return f"ctranslate2/{_converted(model, cache).name}"


def _converted(model: ArchivedModel, cache: Path) -> Path:
    resolved = ResolvedModel(name=model.name, path=Path(), revision=model.revision)
    return converted_path(resolved, compute_type=model.compute_type, cache=cache)


def _read_manifest(
    tar: tarfile.TarFile, members: list[tarfile.TarInfo], archive: str | Path
) -> list[ArchivedModel]:
    found = [m for m in members if m.name == MANIFEST]
    if not found:
        raise InputError(f"{archive}: no {MANIFEST}: not an archive of `mtsum models export`")
    if len(found) > 1 or not found[0].isfile() or found[0].size > _MANIFEST_LIMIT:
        raise InputError(f"{archive}: {MANIFEST} is not one plain file of a sane size")
    handle = tar.extractfile(found[0])
    try:
        record = json.loads(handle.read() if handle is not None else b"")
        if not isinstance(record, dict) or record.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} manifest")
        if record.get("version") != _VERSION:
            raise ValueError(f"version {record.get('version')!r}, not {_VERSION}: upgrade mtsum")
        models = [_model(item) for item in record["models"]]
        _check_models(models)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"{archive}: {MANIFEST}: {exc}") from None
    return models


def _model(item: dict[str, Any]) -> ArchivedModel:
    files = tuple(ArchivedFile(**f) for f in item["files"])
    return ArchivedModel(**{**item, "files": files})


def _check_models(models: Sequence[ArchivedModel]) -> None:
    """Every value the import turns into a path, checked.

    Raises:
        ValueError: The first value that is not what `export_models` writes.
    """
    identities = [(m.kind, m.name, m.revision, m.compute_type) for m in models]
    if len(set(identities)) < len(identities):
        raise ValueError("a model listed twice")
    for model in models:
        _check_identity(model)
        paths = [_checked_file(f) for f in model.files]
        if not paths or len(set(paths)) < len(paths):
            raise ValueError(f"the files of {model.name!r}: none, or one listed twice")
        listed = set(paths)
        if any(str(parent) in listed for p in paths for parent in PurePosixPath(p).parents):
            raise ValueError(f"the files of {model.name!r}: a file where a folder is")


def _check_identity(model: ArchivedModel) -> None:
    """The kind, name, revision and compute type of `model`, as `export_models` writes them.

    Raises:
        ValueError: The first value that is not.
    """
    kind = "local" if model.revision.startswith("local-") else "huggingface"
    if model.kind not in _KINDS or (model.kind != "ctranslate2" and model.kind != kind):
        raise ValueError(f"model kind {model.kind!r} with revision {model.revision!r}")
    if not _REVISION[kind].fullmatch(model.revision):
        raise ValueError(f"revision {model.revision!r} of {model.name!r}")
    plain = model.name not in (".", "..") and not re.search(r"[/\\\0]|^\.", model.name)
    if not (_HUB_NAME.fullmatch(model.name) if kind == "huggingface" else plain):
        raise ValueError(f"model name {model.name!r}")
    if (model.kind == "ctranslate2") != (model.compute_type in COMPUTE_TYPES):
        raise ValueError(f"compute type {model.compute_type!r} of {model.name!r}")


def _checked_file(file: ArchivedFile) -> str:
    parts = file.path.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in file.path or "\0" in file.path:
        raise ValueError(f"file path {file.path!r}")
    if not _SHA256.fullmatch(file.sha256) or type(file.size) is not int or file.size < 0:
        raise ValueError(f"sha256 or size of {file.path!r}")
    return file.path


class _Members:
    """The archive's members against its manifest, one at a time, before each is extracted.

    ``wanted`` maps each file member's name to its model and manifest entry.
    """

    def __init__(self, models: list[ArchivedModel], archive: str | Path, root: Path) -> None:
        self.archive, self.root = archive, root
        self.wanted = {f"{_folder(m, root)}/{f.path}": (m, f) for m in models for f in m.files}
        self.folders = {str(p) for name in self.wanted for p in PurePosixPath(name).parents}
        self.seen: set[str] = set()

    def check(self, member: tarfile.TarInfo) -> ArchivedFile | None:
        """The manifest entry of a file member (None for a folder or the manifest itself).

        Raises:
            InputError: The member is not one the manifest vouches for.
        """
        archive, name = self.archive, member.name
        if name.startswith("/") or PurePosixPath(name).is_absolute() or re.match(r"\w:", name):
            raise InputError(f"{archive}: member {name!r} has an absolute path; refused")
        if ".." in name.split("/") or "\\" in name:
            raise InputError(f"{archive}: member {name!r} would land outside the destination")
        if not (member.isfile() or member.isdir()):
            what = "a link" if member.issym() or member.islnk() else "a device or FIFO"
            raise InputError(f"{archive}: member {name!r} is {what}; only plain files are taken")
        if _DATA_FILTER:
            try:
                tarfile.data_filter(member, str(self.root))
            except tarfile.FilterError as exc:
                raise InputError(f"{archive}: member {name!r} refused ({exc})") from None
        if member.isdir() and name in self.folders:
            return None
        if name != MANIFEST and (name not in self.wanted or member.isdir()):
            raise InputError(f"{archive}: member {name!r} is not in the manifest; refused")
        if name in self.seen:
            raise InputError(f"{archive}: member {name!r} appears twice; refused")
        self.seen.add(name)
        if name == MANIFEST:
            return None
        file = self.wanted[name][1]
        if member.size != file.size:
            raise InputError(
                f"{archive}: member {name!r} is {member.size} bytes, the manifest says "
                f"{file.size} (damaged or tampered with)"
            )
        return file

    def finish(self) -> None:
        """Raises InputError when a file the manifest lists was not among the members."""
        missing = sorted(set(self.wanted) - self.seen - {MANIFEST})
        if missing:
            raise InputError(
                f"{self.archive}: {missing[0]!r} is in the manifest but not in the archive"
            )


def _extract(
    tar: tarfile.TarFile, member: tarfile.TarInfo, into: Path, archive: str | Path
) -> None:
    # The checks above already refused what the data filter refuses; it stays as a second guard.
    options = {"filter": "data"} if _DATA_FILTER else {}
    try:
        tar.extract(member, into, **options)  # type: ignore[arg-type]
    except OSError as exc:
        raise InputError(
            f"{archive}: cannot extract {member.name!r} into {into.parent} ({exc})"
        ) from None


def _verify(path: Path, file: ArchivedFile, archive: str | Path, name: str) -> None:
    if not _same(path, file):
        raise InputError(
            f"{archive}: member {name!r} does not match its sha256 in the manifest (damaged or "
            "tampered with); nothing was imported"
        )


def _same(path: Path, file: ArchivedFile) -> bool:
    """True when `path` is a file (through links) with the size and sha256 of `file`."""
    try:
        if not path.is_file() or path.stat().st_size != file.size:
            return False
        with path.open("rb") as handle:
            return _sha256(handle) == file.sha256
    except OSError:
        return False


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


class _Staging:
    """One staging folder per destination root, and the folders made to hold them."""

    def __init__(self) -> None:
        self.created: list[Path] = []
        self.folders: dict[Path, Path] = {}

    def folder(self, root: Path) -> Path:
        if root not in self.folders:
            try:
                for folder in reversed([root, *root.parents]):
                    if not folder.exists():
                        folder.mkdir()
                        self.created.append(folder)
                # Named as convert's staging folders, and cleaned up the same way after a crash.
                remove_orphans(root)
                made = tempfile.mkdtemp(dir=root, prefix=f".import.{os.getpid()}.", suffix=".tmp")
            except OSError as exc:
                raise InputError(f"{root}: cannot be written ({exc.strerror or exc})") from None
            self.folders[root] = Path(made)
        return self.folders[root]

    def close(self, *, keep_created: bool) -> None:
        for folder in self.folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        if not keep_created:
            for folder in reversed(self.created):
                try:
                    folder.rmdir()
                except OSError:
                    break


def _place(
    model: ArchivedModel, staged: Path, roots: dict[str, Path], cache: Path
) -> ImportedModel:
    if model.kind == "huggingface":
        final = roots["huggingface"] / f"models--{model.name.replace('/', '--')}"
        status, final = _place_hub(model, staged, final)
    elif model.kind == "local":
        final = roots["local"] / model.revision / model.name
        status = _place_folder(model, staged, final)
    else:
        final = _converted(model, cache)
        status = _place_folder(model, staged, final)
    fields = {k: v for k, v in asdict(model).items() if k != "files"}
    return ImportedModel(**fields, size_bytes=model.size_bytes, path=str(final), status=status)


def _place_folder(model: ArchivedModel, staged: Path, final: Path) -> str:
    """One rename; a folder already there is kept if it has the files, else swapped out."""
    if final.is_dir() and all(_same(final / f.path, f) for f in model.files):
        return "present"
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.is_dir():
        try:
            os.rename(staged, final)
        except OSError:
            # Another import (or a conversion) put the same model there first: keep it.
            if not all(_same(final / f.path, f) for f in model.files):
                raise
            return "present"
        return "added"
    old = Path(
        tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp")
    )
    os.rename(final, old / "model")
    os.rename(staged, final)
    shutil.rmtree(old, ignore_errors=True)
    return "updated"


def _place_hub(model: ArchivedModel, staged: Path, repo: Path) -> tuple[str, Path]:
    """Blobs first, then the snapshot's links (one rename for a new snapshot), then refs/main,
    so no reader ever follows the ref into a snapshot that is not all there."""
    snapshot = repo / "snapshots" / model.revision
    todo = [f for f in model.files if not _same(snapshot / f.path, f)]
    for file in todo:
        blob = repo / "blobs" / file.sha256
        if not _same(blob, file):
            blob.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / file.path, blob)
    new = not snapshot.exists()
    links = staged.with_name(staged.name + ".links") if new else snapshot
    for file in todo:
        link = links / file.path
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.path.relpath(repo / "blobs" / file.sha256, (snapshot / file.path).parent))
        os.replace(tmp, link)
    if new:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(links, snapshot)
        except OSError:  # another import made the snapshot first
            if not all(_same(snapshot / f.path, f) for f in model.files):
                raise
    ref = repo / "refs" / "main"
    moved = not ref.is_file() or ref.read_bytes().strip() != model.revision.encode()
    if moved:
        write_text(ref, model.revision)
    status = "added" if new else "updated" if todo or moved else "present"
    return status, snapshot
