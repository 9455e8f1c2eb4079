"""A request's headers must arrive within CATALOG_HEADER_TIMEOUT_MS: a client trickling them
a byte at a time, or connecting and sending nothing, is answered 408 / closed instead of
holding a connection forever. Raw sockets against a real server process."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, StartServer

pytestmark = pytest.mark.e2e

BOUND_MS = "1000"
QUERY = b'{"query": "{ products { totalCount } }"}'


@pytest.fixture
def server(start_server: StartServer, tmp_path_factory: pytest.TempPathFactory) -> Server:
    path = tmp_path_factory.mktemp("headers") / "catalog.db"  # the transport, not the data
    return start_server(f"sqlite+aiosqlite:///{path}", CATALOG_HEADER_TIMEOUT_MS=BOUND_MS)


@pytest.fixture
def connection(server: Server) -> Iterator[socket.socket]:
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    yield sock
    sock.close()


def trickle_until_closed(sock: socket.socket, seconds: float) -> tuple[bytes, bool]:
    """Send a header byte every 0.2 s for up to `seconds`; what came back, and whether the
    server closed the connection meanwhile."""
    sock.sendall(b"POST /graphql HTTP/1.1\r\n")
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"X")
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:  # reset: closed while we were still sending
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def test_slow_headers_get_a_408_and_the_connection_is_closed(connection: socket.socket) -> None:
    # Generous: the bound is 1 s; a loaded machine may take longer, never 30 s.
    received, closed = trickle_until_closed(connection, 30)

    assert closed
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"REQUEST_HEADERS_TIMEOUT"' in received
    assert b"within 1 s" in received  # the setting's bound, not the default


def test_a_connection_that_sends_nothing_is_closed(connection: socket.socket) -> None:
    connection.settimeout(30)

    assert connection.recv(4096) == b""


def test_a_kept_alive_connection_serves_requests_spaced_within_the_bound(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        statuses = []
        for _ in range(3):
            client.request(
                "POST", "/graphql", body=QUERY, headers={"content-type": "application/json"}
            )
            response = client.getresponse()
            response.read()
            statuses.append(response.status)
            time.sleep(0.5)
    finally:
        client.close()

    assert statuses == [200, 200, 200]


def test_a_slow_body_after_prompt_headers_is_not_cut_by_the_header_bound(
    connection: socket.socket,
) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(QUERY)).encode() + b"\r\n\r\n"
    )
    connection.sendall(head)
    for i in range(0, len(QUERY), 8):  # the body over about 2 s: twice the header bound
        connection.sendall(QUERY[i : i + 8])
        time.sleep(0.4)
    connection.settimeout(10)

    assert connection.recv(4096).startswith(b"HTTP/1.1 200 ")
