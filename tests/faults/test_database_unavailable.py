"""A database that cannot be reached answers 503 SERVICE_UNAVAILABLE with Retry-After,
never an internal error, and the same app recovers on its own once the database is back.
(The restart under load, with a cluster of the test's own, is in test_restart.py.)
"""

from __future__ import annotations

import asyncio
import socket

from sqlalchemy import make_url

from tests.faults.conftest import MakeClient
from tests.hardening.api import WRITE, codes, post

COUNT = "{ products { totalCount } }"
CREATE_TAG = 'mutation { createTag(input: {name: "Sale"}) { tag { name } } }'


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_database_answers_service_unavailable_with_retry_after(
    make_client: MakeClient, database_url: str
) -> None:
    nowhere = make_url(database_url).set(host="127.0.0.1", port=unused_port())
    client = make_client(database_url=nowhere.render_as_string(hide_password=False))
    async with asyncio.timeout(60):
        for query, headers in ((COUNT, None), (CREATE_TAG, WRITE)):
            response = await post(client, query, headers=headers)
            assert response.status_code == 503, response.text
            assert codes(response.json()) == ["SERVICE_UNAVAILABLE"], response.text
            assert response.headers["retry-after"] == "1"
            assert response.headers["x-request-id"]


async def test_the_response_cache_reads_through_an_unreachable_database_as_503(
    make_client: MakeClient, database_url: str
) -> None:
    """The cached path reads the data version before GraphQL runs: same answer."""
    nowhere = make_url(database_url).set(host="127.0.0.1", port=unused_port())
    client = make_client(
        database_url=nowhere.render_as_string(hide_password=False), response_cache="memory"
    )
    async with asyncio.timeout(60):
        response = await post(client, COUNT)
    assert response.status_code == 503, response.text
    assert codes(response.json()) == ["SERVICE_UNAVAILABLE"], response.text
    assert response.headers["retry-after"] == "1"
