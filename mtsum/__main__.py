"""``python -m mtsum``: the same as the ``mtsum`` command."""

from __future__ import annotations

from mtsum.cli import main

if __name__ == "__main__":
    main()
