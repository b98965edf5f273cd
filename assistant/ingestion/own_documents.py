"""The documents users add themselves: list them, remove one (its chunks and its uploaded copy), recognise an upload
whose content is already indexed under another name, and drop uploaded copies that never made it into the index.

Curated guidance (knowledge/) is not removed here: it comes back at the next ingest, so the way to drop a curated
document is to delete its file and run `mentor ingest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import InputError

if TYPE_CHECKING:
    from assistant.knowledge import Ingestor


class RemovalError(InputError):
    """A document that cannot be removed; the message says why and what to do instead."""


@dataclass(frozen=True)
class OwnDocument:
    source: str
    title: str
    chunk_ids: tuple[str, ...]


@dataclass(frozen=True)
class Removed:
    source: str
    title: str
    chunks: int
    upload_deleted: bool


def _documents(ingestor: Ingestor) -> tuple[dict[str, OwnDocument], dict[str, str]]:
    """(the user's documents by source, the title of every curated document by source)."""
    chunks, _, _ = ingestor.store.all_records()
    ids: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    curated: dict[str, str] = {}
    for chunk in chunks:
        if chunk.user_source:
            ids.setdefault(chunk.source, []).append(chunk.id)
            titles.setdefault(chunk.source, chunk.title)
        else:
            curated.setdefault(chunk.source, chunk.title)
    own = {s: OwnDocument(s, titles[s], tuple(sorted(i))) for s, i in ids.items()}
    return own, curated


def own_documents(ingestor: Ingestor) -> list[OwnDocument]:
    """The user's documents in the index, by title."""
    own, _ = _documents(ingestor)
    return sorted(own.values(), key=lambda d: (d.title.lower(), d.source))


def _matches(name: str, source: str, title: str) -> bool:
    wanted = name.strip().lower()
    path = Path(source)
    return wanted in (source.lower(), path.name.lower(), path.stem.lower(), title.strip().lower())


def find_own_document(ingestor: Ingestor, name: str) -> OwnDocument:
    """The user's document called `name` (its source, file name, file name without suffix, or title)."""
    if not (name or "").strip():
        raise RemovalError("Name the document to remove: its title or its file name.")
    own, curated = _documents(ingestor)
    found = [d for d in own.values() if _matches(name, d.source, d.title)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        listed = "; ".join(f"{d.title} ({d.source})" for d in found)
        raise RemovalError(f"{len(found)} of your documents match {name!r}: {listed}. Use the file name instead.")
    if any(_matches(name, source, title) for source, title in curated.items()):
        raise RemovalError(
            f"{name!r} is part of the curated guidance in knowledge/, not a document you added. "
            "To drop it, delete its file there and run `mentor ingest`."
        )
    raise RemovalError(f"None of your documents is called {name!r}. `mentor knowledge list` shows them.")


def remove_document(ingestor: Ingestor, name: str) -> Removed:
    """Delete the document's chunks from the index, then its copy in the uploads folder (files elsewhere are the
    user's own and are left alone; without chunks in the index they are not read again at a rebuild)."""
    with ingestor.store.write_lock():
        doc = find_own_document(ingestor, name)
        ingestor.store.delete(list(doc.chunk_ids))
    path = ingestor.source_path(doc.source)
    deleted = _is_upload(ingestor, path) and path.exists()
    if deleted:
        path.unlink()
    return Removed(doc.source, doc.title, len(doc.chunk_ids), deleted)


def _is_upload(ingestor: Ingestor, path: Path) -> bool:
    return path.resolve().is_relative_to(ingestor.settings.uploads_dir.resolve())


def same_content_as(ingestor: Ingestor, path: Path, stored_as: Path) -> str | None:
    """The title of an indexed document, other than the one at `stored_as` (where this file will be kept), whose
    text is exactly this file's; None when there is none."""
    from assistant.knowledge import DocumentError, load_document, source_name

    try:
        doc = load_document(path, ingestor.settings, user_source=True)
    except (DocumentError, OSError):
        return None  # ingestion reports why it cannot read the file
    own_source = source_name(stored_as, ingestor.settings)
    chunks, metas, _ = ingestor.store.all_records()
    for chunk, meta in zip(chunks, metas, strict=True):
        if meta.get("file_hash") == doc.content_hash and chunk.source != own_source:
            return chunk.title
    return None


def indexed_ids(ingestor: Ingestor) -> dict[str, set[str]]:
    """source → chunk ids: what the index holds now (to tell added, updated and unchanged files apart)."""
    chunks, _, _ = ingestor.store.all_records()
    ids: dict[str, set[str]] = {}
    for chunk in chunks:
        ids.setdefault(chunk.source, set()).add(chunk.id)
    return ids


def upload_outcomes(
    ingestor: Ingestor, stored: list[Path], before: dict[str, set[str]], skipped: list[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """(lines for files now in the index, lines for files that are not), one per uploaded file, in plain words."""
    from assistant.knowledge import source_name

    after = indexed_ids(ingestor)
    titles = {c.source: c.title for c in ingestor.store.all_records()[0] if c.source in after}
    reasons = {Path(p).name: why for p, why in skipped}
    kept: list[str] = []
    refused: list[str] = []
    for path in stored:
        source = source_name(path, ingestor.settings)
        if source not in after:
            refused.append(f"{path.name}: {reasons.get(path.name, 'could not be indexed')}")
            continue
        passages = f"{len(after[source])} passage{'s' if len(after[source]) != 1 else ''}"
        change = (
            "already indexed, unchanged"
            if before.get(source) == after[source]
            else "updated"
            if source in before
            else "added"
        )
        kept.append(f"{titles.get(source, path.name)} ({path.name}): {change}, {passages}")
    return kept, refused


def drop_unindexed_uploads(ingestor: Ingestor, paths: list[Path]) -> list[Path]:
    """Delete the uploaded copies among `paths` that are not in the index after ingestion (refused, empty,
    duplicates), so they are neither kept nor reported again at the next rebuild. Returns what was deleted."""
    from assistant.knowledge import source_name

    chunks, _, _ = ingestor.store.all_records()
    indexed = {c.source for c in chunks}
    dropped = []
    for path in paths:
        if _is_upload(ingestor, path) and path.exists() and source_name(path, ingestor.settings) not in indexed:
            path.unlink()
            dropped.append(path)
    return dropped


def listing(ingestor: Ingestor) -> list[dict[str, Any]]:
    """Rows for `mentor knowledge list --json`."""
    return [{"title": d.title, "source": d.source, "chunks": len(d.chunk_ids)} for d in own_documents(ingestor)]
