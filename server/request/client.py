"""Who is calling, for the rate limits: the bearer token when there is one, else the
client's address.

The address is the peer's, unless the peer is a trusted proxy (CATALOG_TRUSTED_PROXIES):
then X-Forwarded-For (or Forwarded) is read from the right, skipping trusted proxies, and
the first address that is not one is the client. A header from any other peer is ignored:
anyone can write one. A token is kept only as a digest, never as itself.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import Scope

from server.request.headers import header

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_FOR = re.compile(r'(?:^|[;,\s])for=("?)([^";,]+)\1', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Client:
    """A caller as the rate limits count it."""

    key: str  # "token:<digest>" or "address:<ip>"
    kind: str  # "token" or "anonymous": a metrics label that names no one


class Clients:
    """Tells callers apart, trusting forwarding headers from `trusted` peers only."""

    def __init__(self, trusted: Sequence[Network] = ()) -> None:
        self._trusted = tuple(trusted)

    def of(self, scope: Scope, authorization: str | None) -> Client:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            digest = hashlib.sha256(token.encode()).hexdigest()[:32]
            return Client(f"token:{digest}", "token")
        return Client(f"address:{self.address(scope)}", "anonymous")

    def address(self, scope: Scope) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self._is_trusted(peer):
            return peer
        hops = _forwarded(scope)
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _is_trusted(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self._trusted)


def _forwarded(scope: Scope) -> list[str]:
    """The addresses the forwarding headers list, nearest last (unparsable ones dropped):
    Forwarded (RFC 7239) when present, else X-Forwarded-For."""
    forwarded = header(scope, b"forwarded")
    if forwarded:
        hops = [_strip(m.group(2)) for m in _FOR.finditer(forwarded)]
    else:
        hops = [_strip(h) for h in (header(scope, b"x-forwarded-for") or "").split(",")]
    return [str(parsed) for hop in hops if (parsed := _address(hop)) is not None]


def _strip(hop: str) -> str:
    """An address without brackets or a port: [2001:db8::1]:443 and 192.0.2.1:80 alike."""
    hop = hop.strip()
    if hop.startswith("["):
        return hop[1 : hop.find("]")] if "]" in hop else hop
    if hop.count(":") == 1:
        return hop.partition(":")[0]
    return hop


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
