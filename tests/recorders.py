"""Test doubles that record what they were given: a model's generate calls, a logger's messages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from mtsum.backends.base import FunctionModel, GenerateOptions


@dataclass
class Recording(FunctionModel):
    """A FunctionModel that keeps every generate call's texts, options and bounds."""

    seen: list[tuple[list[str], GenerateOptions, list[int]]] = field(default_factory=list)

    def generate(
        self, texts: Sequence[str], options: GenerateOptions, *, max_new_tokens: Sequence[int]
    ) -> list[str]:
        self.seen.append((list(texts), options, list(max_new_tokens)))
        return super().generate(texts, options, max_new_tokens=max_new_tokens)


class LogRecords(logging.Handler):
    """A logging handler that keeps every message, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
