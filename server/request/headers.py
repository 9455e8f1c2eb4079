"""A request header, read straight from the ASGI scope.

ASGI gives header names in lower case, in the order the client sent them. Starlette's
`Headers` looks a name up by lower-casing and encoding it, and answers a missing one by
raising and catching a KeyError inside `Mapping.get`; a /graphql request asks for five
headers, two of which (authorization, the consistency token) are usually absent.
"""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case), as Starlette's `Headers.get`
    gives it; None when the request has none."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
