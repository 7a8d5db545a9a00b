"""The ``models`` command group under its old name; it lives in `mtsum.cli.models`.

Kept only for callers that import ``mtsum.cli_models.app`` (tests/test_modelstore.py,
tests/test_ct2.py); new code imports `mtsum.cli.models`.
"""

from __future__ import annotations

from mtsum.cli.models import app

__all__ = ["app"]
