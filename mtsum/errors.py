"""The exceptions mtsum raises.

Library code raises; only the CLI prints and exits. Each class maps to one documented exit code::

    MtsumError                 base of everything mtsum raises on purpose
     ├── InputError            a document or option value cannot be used   (exit 3)
     ├── ModelError            a model cannot be found, loaded or run      (exit 4)
     └── BusyError             another run holds the output folder's lock  (exit 5)

Messages name the value at fault and the fix, on one line.
"""

from __future__ import annotations

__all__ = ["BusyError", "InputError", "ModelError", "MtsumError"]


class MtsumError(Exception):
    """Base class of every error mtsum raises on purpose."""

    exit_code: int = 1


class InputError(MtsumError, ValueError):
    """A document, text or option value that cannot be used (bad encoding, empty, ...)."""

    exit_code = 3


class ModelError(MtsumError, RuntimeError):
    """A model that cannot be found, downloaded, loaded or run."""

    exit_code = 4


class BusyError(MtsumError, RuntimeError):
    """Another mtsum run holds the lock on an output folder."""

    exit_code = 5
