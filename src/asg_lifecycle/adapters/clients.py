"""boto3 clients, created lazily once per Lambda container, with botocore's standard retries.

Standard retry mode retries throttling (``Throttling``, "Rate exceeded") and transient errors with
exponential backoff and jitter, so the adapters do not retry by hand. Importing boto3 is the largest
part of a cold start: it happens on the first client, not at import time of this module.
"""

from __future__ import annotations

from functools import cache
from typing import Any

MAX_ATTEMPTS = 5
# A user's check function is invoked once per round and must answer within this; a slower answer
# is a read timeout (the round waits and asks again) instead of botocore invoking it again up to
# MAX_ATTEMPTS times until the checks' own function times out (and the round is tried again).
# Keep it well under CheckFunction's Timeout in template.yaml (90 s).
LAMBDA_CHECK_READ_TIMEOUT = 25
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20


@cache
def client(service: str) -> Any:
    import boto3  # noqa: PLC0415 - deferred: only paths that call AWS pay for it
    from botocore.config import Config  # noqa: PLC0415

    if service == "lambda":
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=LAMBDA_CHECK_READ_TIMEOUT,
        )
    else:
        config = Config(
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
    make: Any = boto3.client  # the service name is a runtime value: no typed overload applies
    return make(service, config=config)


def reset() -> None:
    """Forget cached clients (the local emulator and tests switch endpoints between runs)."""
    client.cache_clear()
