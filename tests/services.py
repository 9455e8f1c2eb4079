"""The services a test needs besides the database (which tests/conftest.py provides)."""

from __future__ import annotations

import os

import pytest


def redis_url() -> str:
    """The test Redis (CATALOG_TEST_REDIS_URL): a skip without one, a failure under CI."""
    url = os.environ.get("CATALOG_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("CATALOG_TEST_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true":
            pytest.fail("CI must run the Redis tests: set CATALOG_TEST_REDIS_URL")
        pytest.skip("CATALOG_TEST_REDIS_URL is not set")
    return url
