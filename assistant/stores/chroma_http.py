"""A Chroma server (`chroma run`), the store for several processes or machines."""

from __future__ import annotations

from typing import Any

from assistant.settings import Settings
from assistant.stores import STORES, IndexError_, StoreUnavailable
from assistant.stores._chroma import ChromaStore


class HttpChromaStore(ChromaStore):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.where = f"{settings.chroma_host}:{settings.chroma_port}"
        super().__init__(settings.collection, f"Chroma server at {self.where}")

    def _open_client(self) -> Any:
        import chromadb
        import httpx

        client = chromadb.HttpClient(
            host=self.settings.chroma_host or "localhost",  # this store is only chosen when a host is set
            port=self.settings.chroma_port,
            settings=chromadb.Settings(anonymized_telemetry=False),
        )
        # chromadb's HTTP session has no timeout and no setting for one: a frozen server would hang every turn.
        # `_server` is the client's private FastAPI binding, so it is reached without the public type's help.
        server: Any = getattr(client, "_server")  # noqa: B009
        server._session.timeout = httpx.Timeout(self.settings.chroma_timeout)
        return client

    def _failure(self, exc: Exception) -> IndexError_:
        return StoreUnavailable(
            f"The Chroma server at {self.where} is not answering ({type(exc).__name__}: {exc}). "
            "Start it (`chroma run --path DIR --port PORT`) or unset MENTOR_CHROMA_HOST to use the embedded index."
        )


@STORES.register("chroma-http")
def create(settings: Settings) -> HttpChromaStore:
    return HttpChromaStore(settings)
