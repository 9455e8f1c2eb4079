"""Documents named by their hash: automatic persisted queries and trusted documents.

The rules this module owns:

- An operation names a stored document by `extensions.persistedQuery.sha256Hash` (Apollo's
  automatic persisted queries, version 1) or by `documentId` (`sha256:<hash>` or the bare
  hash), or sends the document itself as `query`. The hash is the SHA-256 of the document's
  text, in lowercase hex.
- Automatic persisted queries (the default): a hash alone runs the document registered
  under it; an unknown hash is PERSISTED_QUERY_NOT_FOUND, to which the client answers with
  the hash and the query together, which registers the query once its SHA-256 is the hash
  (PERSISTED_QUERY_HASH_MISMATCH otherwise). Registering only saves the client from
  resending what it may send anyway, so anyone may register.
- Trusted documents (CATALOG_TRUSTED_DOCUMENTS): only the listed documents run, mutations
  included. A hash or a `documentId` runs its document; a full query runs when its SHA-256
  is listed; anything else is PERSISTED_QUERY_NOT_ALLOWED. Nothing registers.
- Documents live in a bounded LRU in this process, or in the response cache's Redis when
  it uses one (with the response cache's expiry). A Redis that fails is a miss, never a
  failed request: the client registers again and its query runs.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson
from graphql import GraphQLError, parse

from server.caches.responses import ResponseStore

MEMORY_ENTRIES = 2048
MEMORY_CHARACTERS = 16 * 1024 * 1024  # the documents' total size, whatever their number
_KEY = "catalog:apq:"  # documents' keys in the response cache's store
_SHA256 = re.compile(r"[0-9a-f]{64}")


class DocumentRefused(Exception):
    """The operation does not name a document this server will run."""

    code = "PERSISTED_QUERY_INVALID"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DocumentRefused):
    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        # Apollo's clients also recognise this exact message.
        super().__init__("PersistedQueryNotFound")


class HashMismatch(DocumentRefused):
    code = "PERSISTED_QUERY_HASH_MISMATCH"

    def __init__(self) -> None:
        super().__init__("The query's SHA-256 is not the hash sent with it")


class NotAllowed(DocumentRefused):
    code = "PERSISTED_QUERY_NOT_ALLOWED"

    def __init__(self) -> None:
        super().__init__(
            "This server runs trusted documents only: send the hash of one "
            "(extensions.persistedQuery.sha256Hash or documentId)"
        )


class Malformed(DocumentRefused):
    """The request's persisted-query fields are not of the protocol's shape."""

    code = "BAD_REQUEST"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class DocumentStore(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...

    async def close(self) -> None: ...


class MemoryDocuments:
    """A bounded LRU of documents in this process: at most `entries` documents and
    `characters` characters in all, the least recently used evicted first."""

    def __init__(self, entries: int = MEMORY_ENTRIES, characters: int = MEMORY_CHARACTERS) -> None:
        self._entries = entries
        self._characters = characters
        self._size = 0
        self._documents: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    async def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        if len(document) > self._characters:
            return
        previous = self._documents.pop(sha256, None)
        if previous is not None:
            self._size -= len(previous)
        self._documents[sha256] = document
        self._size += len(document)
        while len(self._documents) > self._entries or self._size > self._characters:
            _, evicted = self._documents.popitem(last=False)
            self._size -= len(evicted)

    async def close(self) -> None:
        self._documents.clear()
        self._size = 0


class CachedDocuments:
    """Documents in the response cache's store (its Redis), shared by every process that
    uses it. That store answers a failure of Redis with a miss and skips Redis for a while
    (server.caches.responses.BestEffortStore): the client registers again and its request runs."""

    def __init__(self, store: ResponseStore) -> None:
        self._store = store

    async def get(self, sha256: str) -> str | None:
        body = await self._store.get(_KEY + sha256)
        return body.decode() if body is not None else None

    async def put(self, sha256: str, document: str) -> None:
        await self._store.put(_KEY + sha256, document.encode())

    async def close(self) -> None:
        return None  # the response cache closes its own store


class Documents(Protocol):
    async def document(self, operation: Mapping[str, Any]) -> str | None:
        """The document to run for one operation of a request (None: it names none)."""
        ...

    async def close(self) -> None: ...


class AutomaticPersistedQueries:
    """Apollo's automatic persisted queries over a document store."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def document(self, operation: Mapping[str, Any]) -> str | None:
        """The query sent, or the one registered under the hash sent instead.

        Hash and query together register the query (after checking the hash)."""
        query = operation.get("query")
        sha256 = _named_hash(operation)
        if sha256 is None:
            return query if isinstance(query, str) else None
        if isinstance(query, str):
            if sha256_hex(query) != sha256:
                raise HashMismatch()
            await self._store.put(sha256, query)
            return query
        stored = await self._store.get(sha256)
        if stored is None:
            raise NotFound()
        return stored

    async def close(self) -> None:
        await self._store.close()


class TrustedDocuments:
    """Only the documents of a fixed list run (CATALOG_TRUSTED_DOCUMENTS)."""

    def __init__(self, documents: Mapping[str, str]) -> None:
        self._documents = dict(documents)

    async def document(self, operation: Mapping[str, Any]) -> str | None:
        """The listed document the operation names by hash, or the query it sends when that
        query is listed; anything else is refused."""
        query = operation.get("query")
        sha256 = _named_hash(operation)
        if sha256 is None:
            if not isinstance(query, str):
                return None  # no document at all: the view says so
            sha256 = sha256_hex(query)
        elif isinstance(query, str) and sha256_hex(query) != sha256:
            raise HashMismatch()
        document = self._documents.get(sha256)
        if document is None:
            raise NotAllowed()
        return document

    async def close(self) -> None:
        return None


def _named_hash(operation: Mapping[str, Any]) -> str | None:
    """The SHA-256 an operation names its document by, if any."""
    extensions = operation.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    document_id = operation.get("documentId")
    if persisted is not None:
        if not isinstance(persisted, dict):
            raise Malformed("`extensions.persistedQuery` must be an object")
        if persisted.get("version", 1) != 1:
            raise Malformed("Only version 1 of persisted queries is supported")
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise Malformed("`extensions.persistedQuery.sha256Hash` must be a SHA-256 in hex")
        return sha256
    if document_id is not None:
        if not isinstance(document_id, str):
            raise Malformed("`documentId` must be a string")
        sha256 = document_id.removeprefix("sha256:")
        if not _SHA256.fullmatch(sha256):
            raise Malformed("`documentId` must be sha256:<hash> (a SHA-256 in lowercase hex)")
        return sha256
    return None


async def expand_documents(documents: Documents, payload: Any) -> Any:
    """A request's operation(s) with the documents they name by hash filled in as `query`,
    raising DocumentRefused for what must not run. The payload itself when nothing changes,
    or when it is not of a shape the view accepts (the view then says why)."""
    operations = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(operation, dict) for operation in operations):
        return payload
    expanded = []
    for operation in operations:
        document = await documents.document(operation)
        if document is not None and document != operation.get("query"):
            operation = {**operation, "query": document}
        expanded.append(operation)
    if all(a is b for a, b in zip(expanded, operations, strict=True)):
        return payload
    return expanded if isinstance(payload, list) else expanded[0]


def open_documents(
    trusted: Mapping[str, str] | None, response_cache: str, store: ResponseStore | None
) -> Documents:
    """Trusted documents when a list is configured, else automatic persisted queries in
    the response cache's store when that is Redis, or in memory."""
    if trusted is not None:
        return TrustedDocuments(trusted)
    if store is not None and response_cache.startswith(("redis://", "rediss://")):
        return AutomaticPersistedQueries(CachedDocuments(store))
    return AutomaticPersistedQueries(MemoryDocuments())


def load_trusted_documents(path: Path) -> dict[str, str]:
    """The trusted documents of a JSON file mapping each document's SHA-256 to its text (as
    GraphQL Code Generator's client preset writes persisted-documents.json).

    Raises ValueError with a one-line reason: unreadable, not such a map, a key that is not
    the SHA-256 of its document, or a document that does not parse."""
    try:
        raw = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror or error})") from None
    except orjson.JSONDecodeError:
        raise ValueError("is not JSON") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError("must be a non-empty JSON object mapping SHA-256 hashes to documents")
    documents: dict[str, str] = {}
    for key, document in raw.items():
        if not isinstance(document, str):
            raise ValueError(f"maps {key[:16]!r}... to something that is not a document")
        sha256 = key.removeprefix("sha256:")
        if sha256 != sha256_hex(document):
            raise ValueError(f"has key {key[:16]!r}... which is not the SHA-256 of its document")
        try:
            parse(document)
        except GraphQLError as error:
            raise ValueError(f"has a document that does not parse ({error.message})") from None
        documents[sha256] = document
    return documents
