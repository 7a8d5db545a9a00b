"""Where mtsum keeps its caches: converted models and translations.

Order: an explicit folder (``--cache-dir``), then ``MTSUM_CACHE_DIR``, then the platform's user
cache folder (``~/.cache/mtsum`` on Linux). Nothing is created until a cache is written.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(override: str | Path | None = None) -> Path:
    """The mtsum cache folder (not created here).

    Example:
        >>> str(cache_dir("/tmp/x"))
        '/tmp/x'
    """
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get("MTSUM_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mtsum", appauthor=False))
