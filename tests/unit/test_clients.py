"""Client settings that decide what a slow dependency costs (read from botocore, no calls made)."""

from __future__ import annotations

import pytest

from asg_lifecycle.adapters import clients


@pytest.fixture(autouse=True)
def _fresh() -> None:
    clients.reset()


def test_a_users_check_function_is_invoked_once_per_round_with_a_bounded_wait() -> None:
    """botocore would otherwise re-invoke a slow function on each read timeout (up to five times)
    until the function's own 90 s timeout ends the action with the safe result."""
    config = clients.client("lambda").meta.config
    assert config.retries["total_max_attempts"] == 1
    assert config.read_timeout == clients.LAMBDA_CHECK_READ_TIMEOUT < 90 / 2


def test_other_services_retry_throttling_and_transient_errors() -> None:
    config = clients.client("autoscaling").meta.config
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == clients.MAX_ATTEMPTS + 1  # first try + retries
