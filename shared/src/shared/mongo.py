"""MongoDB through PyMongo's native async API, and the embedded wire server for development.

`MONGO_URL` may point at a real mongod or replica set; `embedded` starts SecantusDB
(MongoDB's wire protocol over WiredTiger) inside this process.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient


def open_mongo(url: str) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5000, uuidRepresentation="standard"
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

        self._server = SecantusDBServer(storage_path=storage_path)

    def start(self) -> str:
        self._server.start()
        uri: str = self._server.uri
        return uri

    def stop(self) -> None:
        self._server.stop()
