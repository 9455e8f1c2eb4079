"""What the server needs from uvicorn beyond its documented options, fenced in one place.

uvicorn bounds the idle time between requests (`timeout_keep_alive`) but not the time a
request's headers take to arrive: a client sending a byte every few seconds holds a
connection, and its slot, forever. HeaderTimeoutProtocol is the httptools protocol that
`uvicorn[standard]` runs, given through uvicorn's documented `http=` option, plus one timer:
the headers of a request must be complete within the bound, counted from the connection's
start or from a request's first byte. Otherwise the connection gets a 408 (when a request
had begun) and is closed. Bodies are bounded elsewhere (the request's time budget).

The subclass leans on uvicorn internals: the module and class of that protocol, its parser
callbacks `on_message_begin` and `on_headers_complete`, and its `transport` and `loop`.
When they are not found (an upgrade moved them, or httptools is not installed),
`http_protocol()` says why and returns "auto": the server runs as uvicorn does by itself,
without the bound, and never fails to start because of it.

On SIGTERM, uvicorn asks each connection's protocol to `shutdown()` before it waits for
them: its WebSocket protocol closes at once with 1012, and an event stream would hold the
process until the grace ends. The app's lifespan hears of the shutdown only afterwards. So
both protocols here first call the app's `CLOSE_LIVE` (from the lifespan's state, which
uvicorn hands every protocol as `app_state`): every subscription ends after the events
handed to it, an event stream sends `complete`, a WebSocket closes with 1001. The
WebSocket protocol (`ws=`, uvicorn's websockets-sansio one, as "auto" picks it) falls back
to its own shutdown if the socket is still open CLOSE_WAIT_S later. When it is not found,
`ws_protocol()` says why and returns "auto": sockets close with 1012, as uvicorn does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from server.live.shutdown import CLOSE_LIVE

log = logging.getLogger("catalog.server")

DEFAULT_HEADER_TIMEOUT_S = 5.0
_CALLBACKS = ("connection_made", "connection_lost", "on_message_begin", "on_headers_complete")
CLOSE_WAIT_S = 5.0  # how long the app has to close its sockets before uvicorn does (1012)

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    _FOUND: str | None = None
except ImportError as error:  # httptools missing, or uvicorn moved its protocol
    _FOUND = f"uvicorn's httptools protocol is not importable ({error})"
    HttpToolsProtocol = asyncio.Protocol  # type: ignore[misc,assignment]

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    _WS_FOUND: str | None = None
except ImportError as error:  # websockets missing, or uvicorn moved its protocol
    _WS_FOUND = f"uvicorn's websockets-sansio protocol is not importable ({error})"
    WebSocketsSansIOProtocol = asyncio.Protocol  # type: ignore[misc,assignment]


def http_protocol() -> tuple[type[asyncio.Protocol] | str, str | None]:
    """The protocol for uvicorn's `http=` option, and why the header bound is off (or None)."""
    missing = [name for name in _CALLBACKS if not hasattr(HttpToolsProtocol, name)]
    problem = _FOUND or (
        f"uvicorn's httptools protocol has no {', '.join(missing)}" if missing else None
    )
    if problem is not None:
        return "auto", f"{problem}: request headers are not time-bounded"
    return HeaderTimeoutProtocol, None


def ws_protocol() -> tuple[type[asyncio.Protocol] | str, str | None]:
    """The protocol for uvicorn's `ws=` option, and why sockets close with 1012 (or None)."""
    problem = _WS_FOUND or (
        None
        if hasattr(WebSocketsSansIOProtocol, "shutdown")
        else "uvicorn's websockets-sansio protocol has no shutdown"
    )
    if problem is not None:
        return "auto", f"{problem}: on shutdown, WebSockets close with 1012, not 1001"
    return LiveClosingProtocol, None


def _close_live(app_state: dict[str, Any]) -> None:
    """Let the app end its live connections itself (idempotent), if it offers to."""
    close = app_state.get(CLOSE_LIVE)
    if callable(close):
        close()


def bound_request_headers(seconds: float) -> None:
    """Set this process's bound on the time to receive a request's headers.

    uvicorn builds a protocol per connection from the class alone (and pickles the class,
    by name, to its worker processes), so the bound is the class's: the process entry
    point (server.process.main) sets it from the settings before the first connection.
    """
    HeaderTimeoutProtocol.header_timeout_s = seconds


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose headers come too slowly."""

    header_timeout_s = DEFAULT_HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_s = self.header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None
        self._request_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()  # a connection that never sends a request is closed too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
        self._start_header_timer()

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        self._request_begun = False
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        _close_live(getattr(self, "app_state", {}))  # an event stream ends with `complete`
        super().shutdown()

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(
                self._header_timeout_s, self._headers_too_slow
            )

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        log.debug("closing a connection: request headers too slow")
        if self._request_begun:
            self.transport.write(_request_timeout(self._header_timeout_s))
        self.transport.close()


def _request_timeout(seconds: float) -> bytes:
    message = f"The request headers did not arrive within {seconds:g} s"
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": "REQUEST_HEADERS_TIMEOUT"}}]}
    )
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class LiveClosingProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, letting the app close its sockets with 1001
    on shutdown (see the module's docstring)."""

    def shutdown(self) -> None:
        # Its per-connection state, read defensively: if uvicorn renames it, its own shutdown.
        state = getattr(self, "app_state", None)
        open_socket = getattr(self, "handshake_complete", False) and not getattr(
            self, "close_sent", True
        )
        if not open_socket or not isinstance(state, dict) or CLOSE_LIVE not in state:
            super().shutdown()
            return
        _close_live(state)
        asyncio.get_running_loop().call_later(CLOSE_WAIT_S, self._shutdown_if_open)

    def _shutdown_if_open(self) -> None:
        if not self.transport.is_closing():
            log.warning("a WebSocket was still open %g s into the shutdown", CLOSE_WAIT_S)
            super().shutdown()
