"""MongoDB through PyMongo's native async API, and the embedded wire server for development.

`MONGO_URL` may point at a real mongod or replica set; `embedded` starts SecantusDB
(MongoDB's wire protocol over WiredTiger) inside this process.

Every client writes with `w: "majority", j: true` unless its URL names a write concern of
its own: a write we acknowledge (an account created, a code issued) has reached the journal
of a majority of the replica set, so neither a kill -9 nor a failover takes it back. A
server that is not a replica set (a standalone mongod, SecantusDB) counts as a majority of
one, and the journal flag still makes it fsync before it answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import AsyncMongoClient

# The URL options that make up a write concern; a URL naming any of them keeps its own.
_W_OPTIONS = frozenset({"w"})
_JOURNAL_OPTIONS = frozenset({"j", "journal", "fsync"})  # pymongo refuses j with fsync


def durable_write_concern(url: str) -> dict[str, Any]:
    """The write concern options to add to `url`'s own: majority and journaled."""
    named = {key.lower() for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    options: dict[str, Any] = {}
    if not named & _W_OPTIONS:
        options["w"] = "majority"
    if not named & _JOURNAL_OPTIONS:
        options["journal"] = True
    return options


# Seconds to find a server, connect, or get an answer (MongoSettings.mongo_timeout).
DEFAULT_TIMEOUT = 2.0


def open_mongo(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> AsyncMongoClient[dict[str, Any]]:
    """A client for `url` whose every operation, PyMongo's one retry included, gives up after
    `timeout` seconds on a server that is down or paused (a NetworkTimeout or
    ServerSelectionTimeoutError: a 503 for the request). `timeoutMS` bounds the whole
    operation; a socket timeout alone let a paused server hold a read for 6.2 s of 2 s
    timeouts (the operation, a new connection's handshake, the retry)."""
    ms = int(timeout * 1000)
    return AsyncMongoClient(
        url,
        tz_aware=True,
        timeoutMS=ms,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        uuidRepresentation="standard",
        **durable_write_concern(url),
    )


class EmbeddedMongo:
    """SecantusDB running in this process on an OS-assigned port."""

    def __init__(self, storage_path: str = ":memory:") -> None:
        try:
            from secantus import SecantusDBServer  # only the embedded default and tests need it
        except ImportError as exc:  # a production image: no development packages in it
            raise RuntimeError(
                "the embedded MongoDB wire server needs shared[embedded]; "
                "or point MONGO_URL at a MongoDB server"
            ) from exc

        # Every commit fsyncs its journal record before the answer, as `j: true` asks, for
        # writers that do not ask (a developer's mongosh): without it the last 20-40 ms of
        # acknowledged writes are gone after a crash.
        self._server = SecantusDBServer(storage_path=storage_path, sync_on_commit=True)

    def start(self) -> str:
        self._server.start()
        uri: str = self._server.uri
        return uri

    def stop(self) -> None:
        self._server.stop()
