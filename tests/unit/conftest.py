"""What the handler tests share: a Lambda context double and the functions' log lines."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass
class Context:
    """The fields Powertools' ``inject_lambda_context`` reads."""

    function_name: str = "fn"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    aws_request_id: str = "req"
    remaining_ms: int = 90_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the functions' Powertools logger writes (its handler's stream, swapped)."""
    from handlers.observability import logger  # noqa: PLC0415

    stream = io.StringIO()
    handlers = [h for h in logging.getLogger(logger.service).handlers if hasattr(h, "setStream")]
    saved = [h.setStream(stream) for h in handlers]
    yield stream
    for handler, old in zip(handlers, saved, strict=True):
        handler.setStream(old)
