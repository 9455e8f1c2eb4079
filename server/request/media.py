"""Which media type a GraphQL response is written in: content negotiation on `Accept`.

GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/) defines two:

- `application/graphql-response+json`, whose status codes carry meaning: a request error
  (the document does not parse or validate, the variables do not coerce, a limit refuses
  it) is HTTP 400 and its body has no `data` entry.
- `application/json`, for clients older than that media type: every GraphQL response to a
  well-formed request is HTTP 200, whatever errors it holds.

The first is chosen whenever the client names it at least as highly as `application/json`;
a client that sends no `Accept`, or only wildcards, gets `application/json` (as the spec asks
during its transition). An `Accept` naming neither and no wildcard for them is answered 406.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class _Range:
    type: str
    subtype: str
    quality: float


@lru_cache(maxsize=64)
def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, or None when the client accepts neither of ours (clients
    send a handful of distinct Accept headers: each is decided once)."""
    if accept is None or not accept.strip():
        return JSON
    ranges = _parse(accept)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for media_type in (GRAPHQL_RESPONSE_JSON, JSON):
        quality, specificity = _match(media_type, ranges)
        if quality <= 0:
            continue
        # Named outright, the newer type wins a tie; reached only by a wildcard, the older.
        newer = media_type == GRAPHQL_RESPONSE_JSON
        preferred = int(newer) if specificity == 2 else int(not newer)
        key = (quality, specificity, preferred)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def request_error_status(media_type: str) -> int:
    """The HTTP status of a GraphQL request error (nothing was executed)."""
    return 400 if media_type == GRAPHQL_RESPONSE_JSON else 200


def _parse(accept: str) -> list[_Range]:
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        kind, _, subtype = fields[0].lower().partition("/")
        if not kind or not subtype:
            continue
        quality = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append(_Range(kind, subtype, quality))
    return ranges


def _match(media_type: str, ranges: list[_Range]) -> tuple[float, int]:
    """The quality of the most specific range that covers the type, and how specific it is
    (2: the type itself, 1: `type/*`, 0: `*/*`); (0, -1) when none covers it."""
    kind, _, subtype = media_type.partition("/")
    best = (0.0, -1)
    for r in ranges:
        if r.type == kind and r.subtype == subtype:
            specificity = 2
        elif r.type == kind and r.subtype == "*":
            specificity = 1
        elif r.type == "*" and r.subtype == "*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (r.quality, specificity)
    return best
