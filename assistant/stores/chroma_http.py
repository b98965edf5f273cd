"""A Chroma server (`chroma run`), the store for several processes or machines."""

from __future__ import annotations

from assistant.settings import Settings
from assistant.stores import STORES, StoreUnavailable
from assistant.stores._chroma import ChromaStore


class HttpChromaStore(ChromaStore):
    def __init__(self, settings: Settings) -> None:
        import chromadb

        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                settings=chromadb.Settings(anonymized_telemetry=False),
            )
        except Exception as exc:
            raise StoreUnavailable(
                f"Cannot reach the Chroma server at {where} ({exc}). Start it or unset MENTOR_CHROMA_HOST."
            ) from exc
        super().__init__(client, settings.collection, f"Chroma server at {where}")


@STORES.register("chroma-http")
def create(settings: Settings) -> HttpChromaStore:
    return HttpChromaStore(settings)
