"""A Hugging Face cache in which the default model names are tiny test checkpoints.

`build_hub_cache` lays checkpoints out the way ``huggingface_hub`` stores downloads
(``HF_HOME/hub/models--ORG--NAME/{blobs,refs/main,snapshots/<revision>}``, each snapshot file a
relative symlink to its blob named by its sha256), so that a subprocess run with ``HF_HOME`` set to
that folder and ``HF_HUB_OFFLINE=1`` resolves ``Helsinki-NLP/opus-mt-ar-en`` and
``sshleifer/distilbart-cnn-12-6`` exactly as a user's machine resolves the real ones. `machine`
is the environment of such a machine, `user_run` runs a command there as a user would.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# A fixed, well-formed commit hash: the revision every test output records.
REVISION = "0123456789abcdef0123456789abcdef01234567"


def build_hub_cache(hf_home: Path, checkpoints: Mapping[str, Path]) -> Path:
    """Store each checkpoint folder under its hub name in a cache at `hf_home`.

    Args:
        hf_home: The folder to use as ``HF_HOME`` (created).
        checkpoints: Hub name (``org/name``) -> a folder written by ``save_pretrained``.

    Returns:
        `hf_home`.
    """
    for name, source in checkpoints.items():
        repo = hf_home / "hub" / f"models--{name.replace('/', '--')}"
        snapshot = repo / "snapshots" / REVISION
        (repo / "blobs").mkdir(parents=True, exist_ok=True)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        snapshot.mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(REVISION, encoding="utf-8")
        for file in sorted(p for p in source.iterdir() if p.is_file()):
            data = file.read_bytes()
            blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
            blob.write_bytes(data)
            link = snapshot / file.name
            link.unlink(missing_ok=True)
            link.symlink_to(os.path.relpath(blob, snapshot))
    return hf_home


Run = subprocess.CompletedProcess[str]


def machine(root: Path, hf_home: Path | None = None) -> dict[str, str]:
    """The environment of one machine: its own Hugging Face cache and mtsum cache, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HF_HOME"] = str(hf_home or root / "hf-home")
    env["HF_HUB_OFFLINE"] = "1"
    env["MTSUM_CACHE_DIR"] = str(root / "mtsum-cache")
    return env


def user_run(command: str, cwd: Path, env: dict[str, str]) -> Run:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
