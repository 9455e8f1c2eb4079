"""Operations the server does not offer: a subscription is refused for what it is, whoever
sends it and however, never with a message about tokens or methods."""

from __future__ import annotations

import httpx
import pytest

from db.statements import record_statements
from tests.hardening.api import READ, READ_TOKEN, WRITE, codes
from tests.hardening.conftest import MakeClient

SUBSCRIPTION = "subscription OnProducts { products { totalCount } }"


async def send(client: httpx.AsyncClient, method: str, headers: dict[str, str]) -> httpx.Response:
    if method == "GET":
        return await client.get("/graphql", params={"query": SUBSCRIPTION}, headers=headers)
    return await client.post("/graphql", json={"query": SUBSCRIPTION}, headers=headers)


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    ("caller", "headers"), [("anonymous", {}), ("read token", READ), ("write token", WRITE)]
)
async def test_a_subscription_is_refused_as_not_supported(
    make_client: MakeClient, method: str, caller: str, headers: dict[str, str]
) -> None:
    # Reads are open to anonymous callers here; the read token is a configured one.
    client = make_client(read_tokens=(READ_TOKEN,) if caller == "read token" else ())

    with record_statements() as statements:
        response = await send(client, method, headers)

    body = response.json()
    assert response.status_code == 400, body
    assert codes(body) == ["OPERATION_NOT_SUPPORTED"]
    message = body["errors"][0]["message"]
    assert "subscription" in message
    assert "token" not in message.lower()
    assert "data" not in body
    assert statements.count == 0
